"""Kinds the province routes before the service that owns them is built: registered with no checks and no effect.

Their cases can be filed, routed and decided like any other (their routes and service times are in
``portal/queue/data/routing.yaml``), but a decision changes nothing outside the queue yet. Each entry moves to its
own service module, with its checks and effect, when that service is built; this module then disappears.
"""

from __future__ import annotations

KIND_SPECS = (
)
