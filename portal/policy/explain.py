"""Explanations: the ordered steps a rule took and every parameter it used.

A step carries a message id (``key``) with its parameters, so a translation layer can render it, and the text
already rendered in Chinese and English from ``portal.policy.messages``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from portal.policy.errors import ParameterNotDefined, PolicyInputError
from portal.policy.messages import MESSAGES, WORDS
from portal.policy.parameters import Used, param

ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")
MONTH_TEXT = re.compile(r"(\d{4})-(\d{2})")


def _text(value: Any, language: str) -> str:
    """A step's value as a sentence in ``language`` reads it: 2026年11月5日 / 5 November 2026, a month
    (``2026-11``) as 2026年11月 / November 2026, yes and no in words, and codes by their label."""
    zh = language == "zh"
    if isinstance(value, bool):
        return ("是" if value else "否") if zh else ("yes" if value else "no")
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日" if zh else \
            f"{value.day} {ENGLISH_MONTHS[value.month - 1]} {value.year}"
    if isinstance(value, Decimal):
        return str(value)
    text = str(value)
    month = MONTH_TEXT.fullmatch(text)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        return f"{year}年{number}月" if zh else f"{ENGLISH_MONTHS[number - 1]} {year}"
    if text in WORDS:
        return WORDS[text][0 if zh else 1]
    return text


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
    _recorded: set = field(default_factory=set, repr=False)

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
        # One value of a parameter is the same Used whatever else it holds; a set keeps a long history linear.
        key = (used.name, used.region, used.effective_from, used.carried_forward)
        if key not in self._recorded:
            self._recorded.add(key)
            self.used.append(used)

    def step(self, key: str, **params: Any) -> None:
        zh, en = MESSAGES[key]
        kept = {name: str(value.isoformat() if isinstance(value, date) else value) for name, value in params.items()}
        text_zh = zh.format(**{name: _text(value, "zh") for name, value in params.items()})
        text_en = en.format(**{name: _text(value, "en") for name, value in params.items()})
        self.steps.append(Step(key, tuple(kept.items()), text_zh, text_en))

    def build(self) -> Explanation:
        return Explanation(tuple(self.steps), tuple(self.used))
