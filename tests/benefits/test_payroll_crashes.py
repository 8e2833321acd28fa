"""The monthly payroll killed (SIGKILL) at any point and run again pays exactly what one clean run pays: nothing is
paid twice, no month is lost, the payment files and the totals by prefecture are the same.

``portal payroll run`` runs in a child process that kills itself at a named crash point (``portal.faults``): after
the payments are written, after the totals, just before the commit, and just after it."""

from __future__ import annotations

from datetime import date

from portal import clock
from portal.services import payroll
from tests.benefits.support import awarded, retiree
from tests.records.test_batch_crashes import _audit, _rows, clean_run, crash_then_recover, portal_command

JUNE = date(2026, 6, 15)


def payroll_outcome(connection) -> dict:
    return {
        "payments": _rows(connection, """
            SELECT person_id, award_id, month, run_month, pension_fen, adjustment_fen, correction_fen, amount_fen,
                   region, bank_code, recoverable FROM pension_payment"""),
        "awards": _rows(connection, "SELECT person_id, paid_to_last_run, difference_run_month FROM pension_award"),
        "totals": _rows(connection, "SELECT run_month, region, payments, amount_fen, back_pay_fen FROM payroll_total"),
        "audit": [row for row in _audit(connection) if row[0] == "payroll.run"],
    }


def test_a_payroll_killed_at_any_point_and_run_again_pays_exactly_as_one_clean_run(db, engine, database_url,
                                                                                   tmp_path):
    _, first = retiree(db, region="220100")
    _, second = retiree(db, region="220200", base_fen=450000, start=date(2000, 1, 1))
    awarded(db, first, today=JUNE, token="a")
    awarded(db, second, today=JUNE, token="b")
    db.commit()

    expected = clean_run(engine, payroll_outcome,
                         lambda session: payroll.run(session, month=date(2026, 11, 1), now=clock.now()))
    # July to November for each of the two: five months, back pay for four of them.
    assert len(expected["payments"]) == 10 and len(expected["totals"]) == 2 and len(expected["audit"]) == 1

    out = tmp_path / "files"
    rerun = crash_then_recover(engine, database_url, ["payroll", "run", "--month", "2026-11", "--out", str(out)],
                               ["payroll.paid", "payroll.totals"], payroll_outcome, expected)
    assert rerun.startswith("paid 0 month(s)")
    files = {path.name: path.read_text(encoding="utf-8") for path in (out / "2026-11").iterdir()}
    assert list(files) == ["ICBC.csv"] and files["ICBC.csv"].count("\n") == 3  # the headings and two pensioners
    assert files == payroll_outcome_files(database_url, out)


def payroll_outcome_files(database_url: str, out) -> dict:
    """The payment files a third run writes afresh: the same as the ones the recovered run left."""
    again = out.parent / "again"
    done = portal_command(database_url, "payroll", "run", "--month", "2026-11", "--out", str(again))
    assert done.returncode == 0 and done.stdout.startswith("paid 0 month(s)")
    return {path.name: path.read_text(encoding="utf-8") for path in (again / "2026-11").iterdir()}
