"""Supervisors see who holds what (with overdue counts) and move a case from its page."""

from __future__ import annotations

import re

from sqlmodel import select

from portal import clock
from portal.models import Case
from portal.queue import service, take
from portal.queue.states import State
from tests import factories
from tests.helpers import sign_in_staff, token_from
from tests.queue.helpers import person_actor, staff_actor

BOSS_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
VERSION = re.compile(r'name="version" value="(\d+)"')


def row_of(html: str, name: str) -> list[str]:
    """The cells of the workload row that names ``name``."""
    row = next(r for r in html.split("<tr>") if name in r)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]


def open_cases(db, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        account = factories.person_account(db, mobile=f"1390000{i:04d}")
        cases.append(service.submit(db, kind="enrolment_correction", applicant=person_actor(account),
                                    payload={"months": 3}, prefecture="220100", idempotency_key=f"w{i}",
                                    now=clock.now()))
    return cases


def test_the_workload_page_counts_open_cases_per_handler_and_their_overdue_ones(client, db, frozen_clock):
    liu = factories.staff(db, roles="handler", name="刘经办")
    wang = factories.staff(db, roles="handler", name="王经办")
    boss = factories.staff(db, roles="supervisor", name="周主管", secret=BOSS_SECRET)
    first, second, third = open_cases(db, 3)
    for _ in range(2):
        take.take_next(db, staff=staff_actor(liu), now=clock.now())
    take.take_next(db, staff=staff_actor(wang), now=clock.now())
    late = db.exec(select(Case).where(Case.handler_id == liu.id).order_by(Case.id)).first()
    late.due_on = clock.today().replace(day=1)
    db.add(late)
    db.commit()
    sign_in_staff(client, boss)

    page = client.get("/staff/workload?lang=en")

    assert page.status_code == 200
    assert row_of(page.text, "刘经办") == ["2", "0", "0", "1 overdue"]  # handling, with applicant, reviewing, overdue
    assert row_of(page.text, "王经办") == ["1", "0", "0", "0"]


def test_a_supervisor_reassigns_a_case_from_its_page(client, db, frozen_clock):
    liu = factories.staff(db, roles="handler", name="刘经办")
    wang = factories.staff(db, roles="handler", name="王经办")
    boss = factories.staff(db, roles="supervisor", name="周主管", secret=BOSS_SECRET)
    [case] = open_cases(db, 1)
    take.take_next(db, staff=staff_actor(liu), now=clock.now())
    db.commit()
    sign_in_staff(client, boss)

    page = client.get(f"/staff/cases/{case.reference}?lang=en")
    assert f'<option value="{wang.id}">王经办' in page.text
    moved = client.post(f"/staff/cases/{case.reference}/action",
                        data={"csrf_token": token_from(client, "/staff/queue"),
                              "version": VERSION.search(page.text).group(1), "action": "reassign",
                              "assignee": str(wang.id)})

    assert moved.status_code == 303
    holder, state = db.exec(select(Case.handler_id, Case.state).where(Case.id == case.id)).one()
    db.commit()
    assert (holder, state) == (wang.id, State.IN_PROGRESS)
    history = client.get(f"/staff/cases/{case.reference}?lang=en").text
    assert "Reassigned" in history


def test_reassigning_without_choosing_someone_is_explained_at_the_field(client, db, frozen_clock):
    liu = factories.staff(db, roles="handler", name="刘经办")
    boss = factories.staff(db, roles="supervisor", name="周主管", secret=BOSS_SECRET)
    [case] = open_cases(db, 1)
    take.take_next(db, staff=staff_actor(liu), now=clock.now())
    db.commit()
    sign_in_staff(client, boss)
    page = client.get(f"/staff/cases/{case.reference}")

    refused = client.post(f"/staff/cases/{case.reference}/action?lang=en",
                          data={"csrf_token": token_from(client, "/staff/queue"),
                                "version": VERSION.search(page.text).group(1), "action": "reassign",
                                "assignee": ""})

    assert refused.status_code == 422 and 'href="#field-assignee"' in refused.text
    holder = db.exec(select(Case.handler_id).where(Case.id == case.id)).one()
    db.commit()
    assert holder == liu.id


def test_a_handler_cannot_reassign_even_by_sending_the_form(client, db, frozen_clock):
    liu = factories.staff(db, roles="handler", name="刘经办")
    wang = factories.staff(db, roles="handler", name="王经办")
    [case] = open_cases(db, 1)
    taken = take.take_next(db, staff=staff_actor(liu), now=clock.now())
    db.commit()
    sign_in_staff(client, liu)

    refused = client.post(f"/staff/cases/{case.reference}/action",
                          data={"csrf_token": token_from(client, "/staff/queue"), "version": str(taken.version),
                                "action": "reassign", "assignee": str(wang.id)})

    assert refused.status_code == 403
    holder = db.exec(select(Case.handler_id).where(Case.id == case.id)).one()
    db.commit()
    assert holder == liu.id
