"""Reads and validates the parameter YAML files.

YAML floats are read straight into Decimal from their text, so a figure such as 4393.2 never passes through a
binary float. Duplicate keys are an error (plain YAML silently keeps the last one, which would hide a clash of
two values for the same date).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from portal.policy.dates import parse_month
from portal.policy.errors import ParameterFileError
from portal.policy.parameters._model import CONFIDENCE_LEVELS, Parameter, ParameterSet, Value, next_year

TYPES = ("decimal", "integer", "string", "month", "mapping", "list")
TOP_KEYS = {
    "description", "unit", "type", "series", "source", "confidence", "note", "values", "regions", "default_region",
}
VALUE_KEYS = {"value", "source", "confidence", "note"}


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader that turns YAML floats into Decimal and refuses duplicate mapping keys."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node)
    try:
        number = Decimal(str(text))
    except InvalidOperation:
        raise ParameterFileError(f"line {node.start_mark.line + 1}: not a decimal number: {text!r}") from None
    if not number.is_finite():
        raise ParameterFileError(f"line {node.start_mark.line + 1}: infinite or NaN values are not allowed")
    return number


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ParameterFileError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_DecimalLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _freeze(value: Any) -> Any:
    # Parameter values are shared by every caller, so they are made read-only.
    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


def _check_type(kind: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ParameterFileError(f"{where}: expected a number, got {value!r}")
        return Decimal(value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterFileError(f"{where}: expected a whole number, got {value!r}")
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise ParameterFileError(f"{where}: expected text, got {value!r}")
        return value
    if kind == "month":
        try:
            return parse_month(value)
        except ValueError:
            raise ParameterFileError(f"{where}: expected a month \"YYYY-MM\", got {value!r}") from None
    if kind == "mapping":
        if not isinstance(value, dict):
            raise ParameterFileError(f"{where}: expected a mapping, got {value!r}")
        return _freeze(value)
    if not isinstance(value, list):
        raise ParameterFileError(f"{where}: expected a list, got {value!r}")
    return _freeze(value)


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ParameterFileError(f"{where}: `{key}` is required and must be non-empty text")
    return value.strip()


def _confidence(value: Any, where: str) -> str:
    if value not in CONFIDENCE_LEVELS:
        raise ParameterFileError(f"{where}: confidence must be one of {', '.join(CONFIDENCE_LEVELS)}; got {value!r}")
    return value


def _series(raw: Any, kind: str, annual: bool, source: str, confidence: str, where: str) -> tuple[Value, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ParameterFileError(f"{where}: `values` must be a non-empty mapping of dates to values")
    values: list[Value] = []
    for key, entry in raw.items():
        if not isinstance(key, date) or isinstance(key, datetime):
            raise ParameterFileError(f"{where}: value key {key!r} is not a date (YYYY-MM-DD)")
        at = f"{where} {key.isoformat()}"
        if not isinstance(entry, dict) or "value" not in entry:
            raise ParameterFileError(f"{at}: each entry must be a mapping with a `value`")
        unknown = set(entry) - VALUE_KEYS
        if unknown:
            raise ParameterFileError(f"{at}: unknown keys {sorted(unknown)}")
        entry_source = _text(entry, "source", at) if "source" in entry else source
        entry_confidence = _confidence(entry["confidence"], at) if "confidence" in entry else confidence
        values.append(Value(key, _check_type(kind, entry["value"], at), entry_source, entry_confidence))
    values.sort(key=lambda value: value.effective_from)
    if values[0].value is None:
        raise ParameterFileError(f"{where}: the first value cannot be an end (null)")
    for previous, current in zip(values, values[1:], strict=False):
        if previous.value is None and current.value is None:
            raise ParameterFileError(f"{where}: two ends (null) in a row at {current.effective_from}")
        # Annual series must be continuous: a missing year would silently reuse the year before.
        if annual and current.effective_from != next_year(previous.effective_from):
            raise ParameterFileError(
                f"{where}: annual values must be one year apart; gap or overlap between "
                f"{previous.effective_from} and {current.effective_from}"
            )
    return tuple(values)


def load_file(path: Path) -> Parameter:
    """Loads and validates one parameter file."""
    where = path.name
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_DecimalLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as error:
        raise ParameterFileError(f"{where}: invalid YAML: {error}") from None
    except ParameterFileError as error:
        raise ParameterFileError(f"{where}: {error}") from None
    if not isinstance(data, dict):
        raise ParameterFileError(f"{where}: must be a mapping")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ParameterFileError(f"{where}: unknown keys {sorted(unknown)}")
    description = data.get("description")
    if not isinstance(description, dict):
        raise ParameterFileError(f"{where}: `description` with `zh` and `en` is required")
    description_zh = _text(description, "zh", f"{where} description")
    description_en = _text(description, "en", f"{where} description")
    unit = _text(data, "unit", where)
    source = _text(data, "source", where)
    confidence = _confidence(data.get("confidence"), where)
    kind = data.get("type")
    if kind not in TYPES:
        raise ParameterFileError(f"{where}: type must be one of {', '.join(TYPES)}; got {kind!r}")
    series_kind = data.get("series")
    if series_kind not in (None, "annual"):
        raise ParameterFileError(f"{where}: series must be `annual` or absent; got {series_kind!r}")
    annual = series_kind == "annual"
    if ("values" in data) == ("regions" in data):
        raise ParameterFileError(f"{where}: give exactly one of `values` or `regions`")
    default_region = None
    if "values" in data:
        series = {None: _series(data["values"], kind, annual, source, confidence, where)}
    else:
        regions = data["regions"]
        if not isinstance(regions, dict) or not regions:
            raise ParameterFileError(f"{where}: `regions` must map region codes to `values`")
        series = {}
        for code, block in regions.items():
            if not isinstance(block, dict) or set(block) != {"values"}:
                raise ParameterFileError(f"{where} region {code}: must hold only `values`")
            series[str(code)] = _series(block["values"], kind, annual, source, confidence, f"{where} region {code}")
        default_region = str(data.get("default_region", ""))
        if default_region not in series:
            raise ParameterFileError(f"{where}: `default_region` must name one of the regions {sorted(series)}")
    return Parameter(
        name=path.stem,
        description_zh=description_zh,
        description_en=description_en,
        unit=unit,
        type=kind,
        source=source,
        confidence=confidence,
        note=str(data.get("note") or "").strip(),
        annual=annual,
        default_region=default_region,
        series=MappingProxyType(series),
    )


def load_directory(directory: Path) -> ParameterSet:
    """Loads every ``*.yaml`` file in ``directory``; the file name (without .yaml) is the parameter name."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ParameterFileError(f"no parameter files in {directory}")
    return ParameterSet({path.stem: load_file(path) for path in files})
