"""The benefit commands (cron's door) run the same services as the pages and say what they did; each is safe to run
twice."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from portal import clock
from portal.models import CertificationNotice, LifeCertification, PensionAdjustment
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
