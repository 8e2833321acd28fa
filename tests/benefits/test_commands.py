"""The benefit commands (cron's door) run the same services as the pages and say what they did; each is safe to run
twice."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

from sqlmodel import select

from portal import clock
from portal.models import CertificationNotice, LifeCertification, PensionAdjustment
from portal.settings import ROOT
from tests.benefits.support import awarded, retiree
from tests.records.test_batch_crashes import portal_command

JUNE = date(2026, 6, 15)


def test_the_yearly_adjustment_command_adjusts_each_pension_once_and_says_it_is_assumed(db, database_url):
    person, actor = retiree(db)
    awarded(db, actor, today=JUNE)
    db.commit()
    done = portal_command(database_url, "payroll", "adjust", "--year", "2027")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("adjusted 1 pension(s) from 2027-01") and "assumed" in done.stdout
    again = portal_command(database_url, "payroll", "adjust", "--year", "2027")
    assert again.stdout.startswith("adjusted 0 pension(s)")
    assert len(db.exec(select(PensionAdjustment).where(PensionAdjustment.person_id == person.id)).all()) == 1
    db.rollback()


def test_the_reminder_command_sends_the_30_day_notice_once(db, database_url):
    person, actor = retiree(db)
    awarded(db, actor, today=JUNE)
    # Certified 12 months less ten days ago: due in ten days.
    due = clock.today() + timedelta(days=10)
    db.execute(LifeCertification.__table__.update().values(certified_on=due.replace(year=due.year - 1)))
    db.commit()
    sent = portal_command(database_url, "certification", "remind")
    assert sent.returncode == 0 and sent.stdout.strip() == "sent 1 reminder(s)", sent.stderr
    assert portal_command(database_url, "certification", "remind").stdout.strip() == "sent 0 reminder(s)"
    notice = db.exec(select(CertificationNotice).where(CertificationNotice.person_id == person.id)).one()
    assert notice.days_before == 30
    db.rollback()


def run_policy(stdin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portal.cli", "policy", "survivor", *args], input=stdin, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_survivor_rule_on_the_command_line_takes_and_gives_the_issues_names():
    asked = {"death_date": "2026-03-10", "status": "retiree", "contribution_months": 345, "months_drawn": 42}
    out = json.loads(run_policy(json.dumps(asked)).stdout)
    assert {key: out[key] for key in ("monthly_base", "funeral_grant", "survivor_months", "survivor_benefit",
                                      "total")} == {
        "monthly_base": "3401.42", "funeral_grant": "6802.84", "survivor_months": "19.25",
        "survivor_benefit": "65477.34", "total": "72280.18"}
    assert out["explanation"]
    many = "\n".join(json.dumps(row) for row in (
        {"death_date": "2026-03-10", "status": "insured", "contribution_months": 59},  # 4 years 11 months: 3
        {"death_date": "2026-03-10", "status": "retiree", "contribution_months": 108, "months_drawn": 200},
    ))
    lines = [json.loads(line) for line in run_policy(many, "--jsonl").stdout.splitlines()]
    assert [line["survivor_months"] for line in lines] == ["3.00", "9.00"]  # a retiree at the 9-month floor
    refused = run_policy(json.dumps({**asked, "status": "widow"}))
    assert refused.returncode == 2 and "'status'" in refused.stderr
