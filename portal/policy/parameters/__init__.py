"""Policy parameters: dated, sourced values loaded from the YAML files in this directory.

    from portal.policy.parameters import param, all_parameters
    used = param("employer_rate").at(date(2025, 7, 1))   # Used(name, value, effective_from, source, confidence, ...)

The files are loaded and validated on first use; a malformed file raises ParameterFileError at that point.
"""

from functools import lru_cache
from pathlib import Path

from portal.policy.parameters._loader import load_directory, load_file
from portal.policy.parameters._model import (
    CONFIDENCE_LEVELS,
    PROVISIONAL_CONFIDENCE,
    Parameter,
    ParameterSet,
    Used,
    Value,
    jsonable,
)

DIRECTORY = Path(__file__).parent

__all__ = [
    "CONFIDENCE_LEVELS",
    "DIRECTORY",
    "PROVISIONAL_CONFIDENCE",
    "Parameter",
    "ParameterSet",
    "Used",
    "Value",
    "all_parameters",
    "default_set",
    "jsonable",
    "load_directory",
    "load_file",
    "param",
]


@lru_cache(maxsize=1)
def default_set() -> ParameterSet:
    """The parameters shipped with the portal, loaded once."""
    return load_directory(DIRECTORY)


def param(name: str) -> Parameter:
    """The parameter called ``name`` (the YAML file name without .yaml)."""
    return default_set().param(name)


def all_parameters() -> tuple[Parameter, ...]:
    """Every parameter, sorted by name, each with its source and confidence (and per-value overrides)."""
    return default_set().all()
