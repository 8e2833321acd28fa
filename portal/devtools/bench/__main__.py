"""Measured performance figures (``make bench``, i.e. ``python -m portal.devtools.bench``).

Each section is a function that gets a ``Bench`` (a scratch database of its own) and returns
figures; ``SECTIONS`` lists them, one module of this package each, so other issues add theirs alongside.
The benchmark never touches the test or application database: on PostgreSQL it uses a database named
``portal_bench`` on the same server (created when missing, its schema rebuilt on every run);
when PostgreSQL is unreachable it says so and measures on a scratch SQLite file instead.

    python -m portal.devtools.bench                  # every section
    python -m portal.devtools.bench --only queue     # one section
    python -m portal.devtools.bench --cases 20000    # a smaller queue, for a quick look
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from sqlalchemy.engine import make_url

from portal.devtools.bench.queue import section_queue
from portal.devtools.bench.support import Bench, prepare_database


def section_records(bench: Bench) -> list[tuple[str, str]]:
    """Synthetic province, billing and interest on SQLite and PostgreSQL (issue 4's figures)."""
    from portal.devtools.bench import records

    return records.run(persons=bench.options.persons if bench.options else None)


def section_declarations(bench: Bench) -> list[tuple[str, str]]:
    """A clean 10,000-row declaration file checked and saved, on SQLite and PostgreSQL."""
    from portal.devtools.bench import declarations

    return declarations.run()


def section_record_page(bench: Bench) -> list[tuple[str, str]]:
    """/me/records and its CSV for a 30-year history, on SQLite and PostgreSQL."""
    from portal.devtools.bench import record_page

    return record_page.run()


def section_payroll(bench: Bench) -> list[tuple[str, str]]:
    """The monthly payroll for 1,000,000 pensioners against a bare INSERT ... SELECT, and an award from a 40-year
    history, on SQLite (fewer pensioners) and PostgreSQL (issue 14's figures)."""
    from portal.devtools.bench import payroll

    return payroll.run()


def section_credit(bench: Bench) -> list[tuple[str, str]]:
    """``portal credit recompute`` for 200,000 employers, on SQLite (fewer employers) and PostgreSQL (issue 13)."""
    from portal.devtools.bench import credit

    return credit.run()


def section_monitoring(bench: Bench) -> list[tuple[str, str]]:
    """``portal monitoring refresh`` from empty and for one changed month, the monitoring page and the projection
    to 2050, for a synthetic province of 1,000,000 persons on PostgreSQL (fewer on SQLite; issue 17)."""
    from portal.devtools.bench import monitoring

    return monitoring.run(persons=bench.options.monitoring_persons if bench.options else None)


def section_pages(bench: Bench) -> list[tuple[str, str]]:
    """/healthz, a static page, /me/records (40 years) and /employer/bills (5,000 employees) under wrk at 32
    connections against uvicorn with 2 workers, beside the bare stack's floor pages in the same run (issue 18)."""
    from portal.devtools.bench import pages

    return pages.run()


OWN_DATABASES = {"records", "declarations", "record-page", "payroll", "credit", "monitoring", "pages"}
SECTIONS: dict[str, Callable[[Bench], list]] = {
    "queue": section_queue,
    "records": section_records,
    "declarations": section_declarations,
    "record-page": section_record_page,
    "payroll": section_payroll,
    "credit": section_credit,
    "monitoring": section_monitoring,
    "pages": section_pages,
}
# Above this 1-minute load average at a section's start something else is using the 2 cores: what the section
# measures is then the contention, so it prints no verdict (run the benchmark alone).
QUIET_LOAD = Decimal("1.5")
SETTLE_SECONDS = 180


def _settled_load() -> float:
    """The 1-minute load average once it has fallen to QUIET_LOAD, or after SETTLE_SECONDS: the previous section's own
    work stays in the average for a minute after it ends, and is not what the next section should be judged by."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while Decimal(str(os.getloadavg()[0])) > QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.devtools.bench", description="Print measured figures")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append", help="run only these sections")
    parser.add_argument("--cases", type=int, default=100_000, help="open cases in the queue section")
    parser.add_argument("--takes", type=int, default=250, help="take-next calls per handler")
    parser.add_argument("--rounds", type=int, default=30, help="page loads per workbench view")
    parser.add_argument("--persons", type=int, default=100_000, help="synthetic persons in the records section")
    parser.add_argument("--monitoring-persons", type=int, default=None,
                        help="synthetic persons in the monitoring section (default 1,000,000 on PostgreSQL, "
                             "100,000 on SQLite)")
    options = parser.parse_args(argv)
    import logging

    logging.getLogger("portal.queue").setLevel(logging.ERROR)
    status = 0
    for name in options.only or list(SECTIONS):
        if name in OWN_DATABASES:  # measured on a SQLite file and a PostgreSQL database of their own
            bench = Bench(url="", backend="both", options=options)
            print(f"== {name} (SQLite and PostgreSQL, scratch databases of its own)")
        else:
            bench = prepare_database()
            bench.options = options
            print(f"== {name} ({bench.backend}: {make_url(bench.url).render_as_string(hide_password=True)})")
        for note in bench.notes:
            print(f"  note: {note}")
        load = _settled_load()
        quiet = Decimal(str(load)) <= QUIET_LOAD
        print(f"  load average at the start: {load:.2f}" + ("" if quiet else
              f" (above {QUIET_LOAD}: no verdicts for this section; run the benchmark alone)"))
        for figure in SECTIONS[name](bench):
            if isinstance(figure, tuple):
                label, value = figure
                if not quiet:
                    value = re.sub(r"\((?:target|share|p99)[^)]*\)", "(no verdict: busy machine)", value)
                print(f"  {label}: {value}")
                continue
            if not quiet:
                figure = replace(figure, target=None)
            print(figure.line())
            if figure.target is not None and not figure.value < figure.target:
                status = 1
        print(f"  load average at the end: {os.getloadavg()[0]:.2f}")
    return status




if __name__ == "__main__":  # not when a spawned handler process imports this module as __mp_main__
    raise SystemExit(main())
