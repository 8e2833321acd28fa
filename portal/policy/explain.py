"""Explanations: the ordered steps a rule took and every parameter it used.

A step carries a message id (``key``) with its parameters, so a translation layer can render it, and the text
already rendered in Chinese and English from ``portal.policy.messages``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from portal.policy.errors import ParameterNotDefined, PolicyInputError
from portal.policy.messages import MESSAGES
from portal.policy.parameters import Used, param


def _text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


@dataclass(frozen=True)
class Step:
    key: str
    params: tuple[tuple[str, str], ...]
    text_zh: str
    text_en: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "params": dict(self.params), "text_zh": self.text_zh, "text_en": self.text_en}


@dataclass(frozen=True)
class Explanation:
    steps: tuple[Step, ...]
    parameters: tuple[Used, ...]

    @property
    def provisional(self) -> bool:
        """True when any parameter used is low / low-medium / unsourced or was carried forward from an earlier year."""
        return any(used.provisional for used in self.parameters)

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [step.to_dict() for step in self.steps],
            "parameters": [used.to_dict() for used in self.parameters],
        }


@dataclass
class Explainer:
    """Collects steps and parameter lookups while a rule runs."""

    steps: list[Step] = field(default_factory=list)
    used: list[Used] = field(default_factory=list)

    def use(self, name: str, on: date, *, region: str | None = None, field_name: str = "date") -> Any:
        """Looks a parameter up, records it, and returns its value."""
        return self.lookup(name, on, region=region, field_name=field_name).value

    def lookup(self, name: str, on: date, *, region: str | None = None, field_name: str = "date") -> Used:
        """Looks a parameter up, records it, and returns the ``Used`` record.

        A date the parameter does not cover is the caller's input problem, so it is reported against
        ``field_name`` (the input that supplied the date).
        """
        try:
            used = param(name).at(on, region=region)
        except ParameterNotDefined as error:
            raise PolicyInputError(field_name, str(error)) from None
        self.record(used)
        return used

    def record(self, used: Used) -> None:
        if used not in self.used:
            self.used.append(used)

    def step(self, key: str, **params: Any) -> None:
        zh, en = MESSAGES[key]
        rendered = {name: _text(value) for name, value in params.items()}
        self.steps.append(Step(key, tuple(rendered.items()), zh.format(**rendered), en.format(**rendered)))

    def build(self) -> Explanation:
        return Explanation(tuple(self.steps), tuple(self.used))
