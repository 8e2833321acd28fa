"""A worker's start-up objects are kept out of the garbage collector's full passes while it serves, and handed back
when it stops (portal/app.py, the lifespan)."""

import gc

from starlette.testclient import TestClient


def test_a_serving_worker_hides_what_it_built_to_start_from_the_collector_and_gives_it_back_when_it_stops(app):
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 100_000  # routes, templates, catalogues and mappings, not a handful
    assert gc.get_freeze_count() == 0
