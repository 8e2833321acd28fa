"""Where the figures come from: every policy parameter with its value today, its dated history and its source.

    GET /policy/parameters

Also the helpers the estimator shares: the parameters' descriptions in the visitor's language, and why a result
is provisional (which parameter, and whether it is low-confidence or carried forward from an earlier year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.routing import Route

from portal.policy.errors import ParameterNotDefined
from portal.policy.parameters import PROVISIONAL_CONFIDENCE, Parameter, Used, Value, all_parameters
from portal.policy.regions import region_codes
from portal.web.access import PUBLIC
from portal.web.endpoint import Ctx, endpoint


def parameter_labels(locale: str) -> dict[str, str]:
    """{parameter name: description in the visitor's language}."""
    english = locale == "en"
    return {p.name: (p.description_en if english else p.description_zh) for p in all_parameters()}


def provisional_reasons(used: tuple[Used, ...]) -> list[Used]:
    """The parameters that make a result provisional, each once (by name and region), in the order used."""
    seen: set[tuple[str, str | None]] = set()
    reasons = []
    for item in used:
        if item.provisional and (item.name, item.region) not in seen:
            seen.add((item.name, item.region))
            reasons.append(item)
    return reasons


@dataclass(frozen=True)
class Series:
    """One region's dated values of a parameter (region None when it does not vary by region)."""

    region: str | None
    region_name: str | None
    current: Value | None
    carried_forward: bool
    history: tuple[Value, ...]


@dataclass(frozen=True)
class ParameterView:
    parameter: Parameter
    description: str
    series: tuple[Series, ...]
    low_confidence: bool  # a value in force today is low, low-medium or unsourced
    unsourced: bool


def _current(parameter: Parameter, today: date, region: str | None) -> tuple[Value | None, bool]:
    try:
        used = parameter.at(today, region=region)
    except ParameterNotDefined:
        return None, False
    for value in parameter.values(region):
        if value.effective_from == used.effective_from:
            return value, used.carried_forward
    return None, False  # pragma: no cover - at() always returns one of the values


def parameter_views(today: date, locale: str) -> list[ParameterView]:
    language = "en" if locale == "en" else "zh"
    names = {code: names[language] for code, names in region_codes(today).items()}
    views = []
    for parameter in all_parameters():
        series = []
        for region in parameter.series:
            current, carried = _current(parameter, today, region)
            series.append(Series(region, names.get(region, region) if region else None, current, carried,
                                 tuple(reversed(parameter.values(region)))))
        # The values in force today speak for the parameter; older values carry their own confidence in the history.
        confidences = {s.current.confidence for s in series if s.current}
        views.append(ParameterView(
            parameter=parameter,
            description=parameter.description_en if language == "en" else parameter.description_zh,
            series=tuple(series),
            low_confidence=bool(confidences & PROVISIONAL_CONFIDENCE),
            unsourced="unsourced" in confidences,
        ))
    return views


def is_low(confidence: str) -> bool:
    return confidence in PROVISIONAL_CONFIDENCE


@endpoint(PUBLIC)
def parameters(ctx: Ctx) -> Any:
    """Every parameter with its description, unit, current value, history, source and confidence."""
    return ctx.render("public/parameters.html", views=parameter_views(ctx.today, ctx.locale), is_low=is_low)


routes = [
    Route("/policy/parameters", parameters, name="policy_parameters"),
]
