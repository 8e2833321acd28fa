"""Staff at the counter certify a pensioner (restoring a suspended pension) and record a death from a data match."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from portal.models import DeathReport, LifeCertification
from portal.services import claims
from tests import factories
from tests.benefits.support import awarded, retiree
from tests.conftest import csrf_token
from tests.helpers import sign_in_staff


def test_staff_certify_a_pensioner_at_the_counter_and_record_a_death(db, client, frozen_clock):
    person, actor = retiree(db)
    awarded(db, actor, today=date(2026, 6, 15))
    db.execute(LifeCertification.__table__.update().values(certified_on=date(2025, 6, 1)))  # overdue now
    staff = factories.staff(db, roles="handler")
    number = person.id_number
    db.commit()
    assert sign_in_staff(client, staff).status_code == 303
    page = client.get("/staff/counter/benefits")
    assert page.status_code == 200
    token = csrf_token(page.text)
    refused = client.post("/staff/counter/benefits/certification", data={"csrf_token": token, "id_number": number,
                                                                         "channel": "by_post"})
    assert refused.status_code == 422
    done = client.post("/staff/counter/benefits/certification", data={"csrf_token": token, "id_number": number,
                                                                      "channel": "home_visit"})
    assert done.status_code == 303
    db.expire_all()
    channels = db.exec(select(LifeCertification.channel).where(LifeCertification.person_id == person.id)).all()
    assert "home_visit" in channels
    db.rollback()
    died = client.post("/staff/counter/benefits/death", data={"csrf_token": token, "death_id_number": number,
                                                              "date_of_death": "2026-11-02"})
    assert died.status_code == 303
    db.expire_all()
    report = db.exec(select(DeathReport)).one()
    assert report.evidence == "data_match" and report.reported_by_staff_id == staff.id
    assert claims.current_award(db, person_id=person.id).stopped_after == date(2026, 11, 1)
