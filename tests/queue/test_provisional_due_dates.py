"""Due dates that count through a year whose holiday notice is not encoded yet: marked, shown, settled later."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from portal import clock
from portal.models import AuditEvent, Case
from portal.queue import calendar, service, take
from portal.queue.states import State
from tests import factories
from tests.helpers import id_number_of, sign_in_person, sign_in_staff
from tests.queue.calendars import calendar_with_2027
from tests.queue.helpers import people, person_actor, submit

DEC_28 = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)  # Monday 10:00 in China
JAN_5 = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)
JAN_12 = datetime(2027, 1, 12, 2, 0, tzinfo=UTC)


def _transfer(db, actor, now=DEC_28):
    """A transfer of pension rights: 45 working days."""
    return submit(db, actor, kind="transfer", now=now, payload={"from": "辽宁省"})


def test_a_transfer_submitted_on_28_december_2026_is_due_provisionally_in_2027_without_error(db):
    case = _transfer(db, people(db)["applicant"])
    assert case.state == State.CHECKED
    assert (case.due_on, case.due_provisional_year) == (date(2027, 3, 8), 2027)


def test_a_case_due_within_an_announced_year_is_not_marked_provisional(db):
    case = submit(db, people(db)["applicant"], now=datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    assert case.due_on.year == 2026 and case.due_provisional_year is None


def test_queue_auto_recomputes_and_clears_the_mark_once_2027_is_encoded(db):
    case = _transfer(db, people(db)["applicant"])

    assert service.run_auto(db, now=JAN_5)["due_recomputed"] == 0  # 2027 still not encoded
    assert (case.due_on, case.due_provisional_year) == (date(2027, 3, 8), 2027)

    encoded = calendar_with_2027()
    assert service.run_auto(db, now=JAN_5, working_calendar=encoded)["due_recomputed"] == 1
    assert (case.due_on, case.due_provisional_year) == (date(2027, 3, 9), None)
    assert service.run_auto(db, now=JAN_5, working_calendar=encoded)["due_recomputed"] == 0
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "case.due_recomputed")).all()
    assert event.object_id == case.reference


def test_a_recomputed_due_date_keeps_the_time_the_case_was_returned(db):
    p = people(db)
    returned, waiting = _transfer(db, p["applicant"]), _transfer(db, p["applicant"])
    for _ in (returned, waiting):  # take next hands out each in turn
        taken = take.take_next(db, staff=p["handler"], now=JAN_5)
        service.act(db, reference=taken.reference, action="return_to_applicant", actor=p["handler"],
                    expected_version=taken.version, reason_code="missing_document", now=JAN_5)
    service.resubmit(db, reference=returned.reference, actor=p["applicant"], expected_version=returned.version,
                     note="已补充", now=JAN_12)
    paused = [(date(2027, 1, 5), date(2027, 1, 12))]  # 6, 7, 8, 11 and 12 January do not count
    assert returned.due_on == calendar.due_date(date(2026, 12, 28), 45, paused) == date(2027, 3, 15)
    assert returned.due_provisional_year == 2027 and waiting.due_provisional_year == 2027

    encoded = calendar_with_2027()
    assert service.run_auto(db, now=JAN_12, working_calendar=encoded)["due_recomputed"] == 2
    assert (returned.due_on, returned.due_provisional_year) == (encoded.due_date(date(2026, 12, 28), 45, paused), None)
    assert returned.due_on == date(2027, 3, 16)
    assert (waiting.state, waiting.paused_since) == (State.WAITING_FOR_APPLICANT, date(2027, 1, 5))
    assert (waiting.due_on, waiting.due_provisional_year) == (date(2027, 3, 9), None)


def test_the_queue_auto_command_settles_provisional_due_dates(db, database_url, monkeypatch, capsys):
    from portal import cli

    case = _transfer(db, people(db)["applicant"])
    db.commit()
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    assert cli.main(["queue", "auto"]) == 0
    assert "recomputed 0 provisional due date(s)" in capsys.readouterr().out

    monkeypatch.setattr(calendar, "default_calendar", calendar_with_2027)  # as if 2027 were in the yaml
    assert cli.main(["queue", "auto"]) == 0
    assert "recomputed 1 provisional due date(s)" in capsys.readouterr().out
    db.expire_all()
    settled = db.get(Case, case.id)
    assert (settled.due_on, settled.due_provisional_year) == (date(2027, 3, 9), None)
    db.commit()


def _applicant_with_transfer(db):
    account = factories.person_account(db)
    case = service.submit(db, kind="transfer", applicant=person_actor(account), payload={"from": "辽宁省"},
                          prefecture="220100", idempotency_key="transfer", now=clock.now())
    return account, case


def test_the_applicant_reads_the_provisional_due_date_in_chinese_and_english(client, db, frozen_clock):
    frozen_clock(DEC_28)
    account, case = _applicant_with_transfer(db)
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)

    chinese = client.get(f"/me/requests/{case.reference}?lang=zh_CN").text
    assert "预计2027年3月8日前办结，2027年节假日安排公布后可能调整" in chinese
    english = client.get(f"/me/requests/{case.reference}?lang=en").text
    assert "expected by March 8, 2027, provisional until the holiday schedule for 2027 is published" in english
    listing = client.get("/me/requests?lang=en").text
    assert "provisional until the holiday schedule for 2027 is published" in listing

    service.run_auto(db, now=clock.now(), working_calendar=calendar_with_2027())
    db.commit()
    settled = client.get(f"/me/requests/{case.reference}?lang=zh_CN").text
    assert "2027年3月9日" in settled and "可能调整" not in settled


def test_staff_read_the_provisional_due_date_on_the_case_and_in_the_queue(client, db, frozen_clock):
    frozen_clock(DEC_28)
    handler = factories.staff(db, roles="handler")
    _account, case = _applicant_with_transfer(db)
    db.commit()
    sign_in_staff(client, handler)

    page = client.get(f"/staff/cases/{case.reference}?lang=zh_CN").text
    assert "预计2027年3月8日前办结，2027年节假日安排公布后可能调整" in page
    queue = client.get("/staff/queue?lang=en").text
    assert "expected by March 8, 2027, provisional until the holiday schedule for 2027 is published" in queue
