"""In-memory model of the parameter files: dated values, and the ``Used`` record a rule keeps of each lookup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from portal.policy.errors import ParameterNotDefined

CONFIDENCE_LEVELS = ("high", "medium-high", "medium", "low-medium", "low", "unsourced")
# A result built on any of these is provisional: the figure may change when the official text is confirmed.
PROVISIONAL_CONFIDENCE = frozenset({"low-medium", "low", "unsourced"})


def jsonable(value: Any) -> Any:
    """Renders a parameter value for JSON: Decimal and dates as strings, mappings and tuples as dict and list."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [jsonable(item) for item in value]
    return value


@dataclass(frozen=True)
class Value:
    """One dated value of a parameter; it holds until the next one. ``value is None`` marks an explicit end."""

    effective_from: date
    value: Any
    source: str
    confidence: str


@dataclass(frozen=True)
class Used:
    """What a rule used: the parameter, the value in force, when it took effect, its source and confidence."""

    name: str
    value: Any
    effective_from: date
    source: str
    confidence: str
    region: str | None = None
    carried_forward: bool = False

    @property
    def provisional(self) -> bool:
        return self.confidence in PROVISIONAL_CONFIDENCE or self.carried_forward

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": jsonable(self.value),
            "effective_from": self.effective_from.isoformat(),
            "source": self.source,
            "confidence": self.confidence,
            "region": self.region,
            "carried_forward": self.carried_forward,
        }


def next_year(day: date) -> date:
    return date(day.year + 1, day.month, day.day)


@dataclass(frozen=True)
class Parameter:
    """A parameter loaded from ``parameters/<name>.yaml``.

    ``series`` is keyed by region code, or by ``None`` for parameters that do not vary by region.
    ``annual`` parameters hold one value per year: a date past the last year is served by carrying the last
    value forward, and the ``Used`` record says so (the new year's figure is not published yet).
    """

    name: str
    description_zh: str
    description_en: str
    unit: str
    type: str
    source: str
    confidence: str
    note: str
    annual: bool
    default_region: str | None
    series: Mapping[str | None, tuple[Value, ...]]
    # The answers of ``at`` already given: the series never change once loaded, and a 40-year record asks for the
    # same few dozen values hundreds of times.
    _answers: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(key for key in self.series if key is not None)

    def values(self, region: str | None = None) -> tuple[Value, ...]:
        return self.series[self._series_key(region)]

    def _series_key(self, region: str | None) -> str | None:
        if None in self.series:
            return None
        if region is not None and region in self.series:
            return region
        return self.default_region

    def at(self, on: date, region: str | None = None) -> Used:
        """The value in force on ``on`` (for ``region``, falling back to the default region)."""
        key = self._series_key(region)
        answer = self._answers.get((key, on))
        if answer is None:
            try:
                answer = self._at(key, on)
            except ParameterNotDefined as error:
                answer = error
            self._answers[(key, on)] = answer
        if isinstance(answer, ParameterNotDefined):
            raise ParameterNotDefined(*answer.args)
        return answer

    def _at(self, key: str | None, on: date) -> Used:
        current: Value | None = None
        for value in self.series[key]:
            if value.effective_from <= on:
                current = value
            else:
                break
        if current is None:
            first = self.series[key][0].effective_from
            raise ParameterNotDefined(f"{self.name} has no value before {first.isoformat()} (asked for {on})")
        if current.value is None:
            raise ParameterNotDefined(f"{self.name} stopped on {current.effective_from.isoformat()}")
        carried = self.annual and on >= next_year(current.effective_from)
        return Used(
            name=self.name,
            value=current.value,
            effective_from=current.effective_from,
            source=current.source,
            confidence=current.confidence,
            region=key,
            carried_forward=carried,
        )

    def to_dict(self) -> dict[str, Any]:
        """The parameter as the web page of parameters shows it."""
        return {
            "name": self.name,
            "description": {"zh": self.description_zh, "en": self.description_en},
            "unit": self.unit,
            "source": self.source,
            "confidence": self.confidence,
            "note": self.note,
            "values": [
                {
                    "region": region,
                    "effective_from": value.effective_from.isoformat(),
                    "value": jsonable(value.value),
                    "source": value.source,
                    "confidence": value.confidence,
                }
                for region, values in self.series.items()
                for value in values
            ],
        }


class ParameterSet:
    """All parameters, by name."""

    def __init__(self, parameters: Mapping[str, Parameter]) -> None:
        self._parameters = dict(sorted(parameters.items()))

    def param(self, name: str) -> Parameter:
        try:
            return self._parameters[name]
        except KeyError:
            raise LookupError(f"unknown parameter {name!r}") from None

    def all(self) -> tuple[Parameter, ...]:
        return tuple(self._parameters.values())
