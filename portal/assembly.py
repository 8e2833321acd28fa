"""Start-up assembly: the pieces each layer declares, put together once, before any request or command runs.

The queue knows nothing of the services above it; each service module that owns request kinds declares them in
``KIND_SPECS``, and this module registers them. Adding a service module with kinds means adding it to
``KIND_MODULES``. It also hooks the audit chain's sealing into ``portal.db.transaction``, which knows nothing of
it. ``assemble`` is idempotent and is called by the web app's factory, the command line and the
test set-up.
"""

from __future__ import annotations

from portal import audit, db
from portal.queue import kinds, routing
from portal.services import (
    accounts,
    anomalies,
    applications,
    budget,
    certification,
    claims,
    credit,
    person_requests,
    supervision,
    survivors,
    transfers,
)

KIND_MODULES = (accounts, anomalies, applications, budget, certification, claims, credit, person_requests,
                supervision, survivors, transfers)


def assemble() -> None:
    db.after_commit(audit.seal_committed)  # the command line's units of work seal the audit events they wrote
    for module in KIND_MODULES:
        kinds.register(*module.KIND_SPECS)
    kinds.check_complete({str(kind) for kind in routing.default_routing().service_days})
