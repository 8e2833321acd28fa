"""Who decides a case: the route per (kind, risk tier), and service times.

The routes live in data/routing.yaml so the province can change them without a
code change. The one rule data may not weaken, that decisions on money take two
people, is held here in code and checked when the file loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from portal.queue.kinds import IDENTITY_KINDS, MONEY_KINDS, Kind

DATA_FILE = Path(__file__).parent / "data" / "routing.yaml"


class Tier(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Route(StrEnum):
    AUTO = "auto"
    SINGLE = "single"
    DUAL = "dual"


# The tier when the caller gives none; submissions that know the applicant pass the tier of their credit grade
# (portal/services/supervision.py).
DEFAULT_TIER = Tier.B

# A year is a generous upper bound; anything beyond is surely a typo.
MAX_SERVICE_DAYS = 250


class RoutingError(ValueError):
    """The routing file is malformed or breaks a rule held in code."""


def is_money_kind(kind: str) -> bool:
    return kind in MONEY_KINDS


def is_identity_kind(kind: str) -> bool:
    return kind in IDENTITY_KINDS


@dataclass(frozen=True)
class Routing:
    routes: Mapping[tuple[Kind, Tier], Route]
    service_days: Mapping[Kind, int]
    close_after_days: int = 10  # working days a decided case stays open before it is closed

    def route(self, kind: str, tier: str = DEFAULT_TIER) -> Route:
        return self.routes[(Kind(kind), Tier(tier))]

    def days(self, kind: str) -> int:
        return self.service_days[Kind(kind)]


def parse_routing(data: Any) -> Routing:
    """Build a Routing from the parsed YAML, refusing anything incomplete or unsafe."""
    if not isinstance(data, dict) or not isinstance(data.get("kinds"), dict):
        raise RoutingError("routing data needs a 'kinds' mapping")
    entries = data["kinds"]
    unknown = set(entries) - set(Kind)
    missing = set(Kind) - set(entries)
    if unknown:
        raise RoutingError(f"unknown kinds: {sorted(map(str, unknown))}")
    # Every kind must be routed, otherwise a new case would have nowhere to go.
    if missing:
        raise RoutingError(f"kinds without routing: {sorted(missing)}")

    routes: dict[tuple[Kind, Tier], Route] = {}
    days: dict[Kind, int] = {}
    for name, entry in entries.items():
        kind = Kind(name)
        if not isinstance(entry, dict):
            raise RoutingError(f"{kind}: entry must be a mapping")
        n = entry.get("service_days")
        # bool is an int in Python; `service_days: yes` must not read as 1.
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_SERVICE_DAYS:
            raise RoutingError(f"{kind}: service_days must be a whole number 1..{MAX_SERVICE_DAYS}")
        days[kind] = n
        by_tier = entry.get("route")
        if not isinstance(by_tier, dict) or set(map(str, by_tier)) != set(Tier):
            raise RoutingError(f"{kind}: route must give exactly the tiers {[str(t) for t in Tier]}")
        for tier_name, route_name in by_tier.items():
            try:
                route = Route(route_name)
            except ValueError:
                raise RoutingError(f"{kind}/{tier_name}: unknown route {route_name!r}") from None
            if kind in MONEY_KINDS and route is not Route.DUAL:
                raise RoutingError(f"{kind}/{tier_name}: money decisions must be dual, not {route}")
            routes[(kind, Tier(str(tier_name)))] = route
    close = data.get("close_after_working_days")
    if not isinstance(close, int) or isinstance(close, bool) or not 0 <= close <= MAX_SERVICE_DAYS:
        raise RoutingError(f"close_after_working_days must be a whole number 0..{MAX_SERVICE_DAYS}")
    return Routing(routes=MappingProxyType(routes), service_days=MappingProxyType(days), close_after_days=close)


def load_routing(path: Path | str = DATA_FILE) -> Routing:
    with open(path, encoding="utf-8") as f:
        return parse_routing(yaml.safe_load(f))


@cache
def default_routing() -> Routing:
    return load_routing()


def route_for(kind: str, tier: str = DEFAULT_TIER) -> Route:
    return default_routing().route(kind, tier)


def service_days_for(kind: str) -> int:
    return default_routing().days(kind)


def close_after_days() -> int:
    return default_routing().close_after_days
