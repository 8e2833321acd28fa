"""The pages benchmark reads wrk's report right, runs end to end on a small database, and the harness gives no
verdict when the machine was busy at a section's start (the figures themselves come from ``make bench``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.devtools.bench import __main__ as harness
from portal.devtools.bench import pages

WRK = """Running 8s test @ http://127.0.0.1:40123/healthz
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.02ms   40.11ms 970.00ms   97.12%
    Req/Sec     1.31k   210.00     1.70k    71.00%
  Latency Distribution
     50%  612.00us
     75%    5.10ms
     90%   10.20ms
     99%    1.22s
  20960 requests in 8.00s, 3.52MB read
  Socket errors: connect 0, read 2, write 0, timeout 19
  Non-2xx or 3xx responses: 3
Requests/sec:   2620.00
Transfer/sec:    450.00KB
"""


def test_wrk_s_report_is_read_in_milliseconds_with_its_timeouts_and_errors():
    load = pages.parse_wrk(WRK)
    assert load == pages.Load(requests_per_s=Decimal("2620.00"), p50_ms=Decimal("0.612"), p99_ms=Decimal("1220"),
                              timeouts=19, errors=5)


def test_a_report_without_a_latency_distribution_is_refused_rather_than_read_as_zero():
    with pytest.raises(ValueError):
        pages.parse_wrk("Requests/sec: 10.00\n")


def test_the_pages_section_serves_every_page_with_its_content_under_wrk(tmp_path):
    figures = dict(pages.measure(f"sqlite:///{tmp_path / 'pages.db'}", seconds=1, employees=20))
    assert set(figures) == {'floor: bare Starlette "ok"', "floor: bare Starlette + Jinja, 50-row table",
                            "portal: GET /healthz", "portal: GET /accessibility", "portal: GET /me/records",
                            "portal: GET /employer/bills"}
    assert "of the floor's table" in figures["portal: GET /me/records"]
    assert " 0 errors" in figures["portal: GET /healthz"]


def test_a_busy_machine_at_a_section_s_start_gets_figures_but_no_verdict(monkeypatch, capsys):
    monkeypatch.setattr(harness.os, "getloadavg", lambda: (3.2, 2.0, 1.0))
    monkeypatch.setattr(harness, "SETTLE_SECONDS", 0)
    monkeypatch.setitem(harness.SECTIONS, "pages", lambda bench: [
        ("portal: GET /healthz", "900 req/s, p99 30.0 ms (target no timeouts, p99 < 20 ms: p99 NOT MET)")])
    assert harness.main(["--only", "pages"]) == 0
    out = capsys.readouterr().out
    assert "above 1.5: no verdicts" in out and "NOT MET" not in out and "(no verdict: busy machine)" in out
