"""The person's transfer pages and the supervisors' list, through the app, in both languages."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlmodel import select

from portal.devtools import province
from portal.models import Case, Transfer
from portal.services import transfers
from tests import factories
from tests.helpers import id_number_of, sign_in_person, sign_in_staff, token_from
from tests.transfers.support import NOW, applicant, issue_letter


def apply_form(client, **fields):
    data = {"csrf_token": token_from(client, "/me/transfers/apply"), "token": "form-1", "other_province": "110000",
            "hukou_province": "220000", "exemption": "", "start_1": "2008-03", "end_1": "2015-06", **fields}
    return client.post("/me/transfers/apply", data=data)


def test_a_person_applies_on_the_page_and_watches_the_legs_until_the_months_show_their_source(client, db,
                                                                                              frozen_clock):
    frozen_clock(NOW)
    account, _actor = applicant(db)
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    page = client.get("/me/transfers")
    assert page.status_code == 200 and "转移接续" in page.text
    answer = apply_form(client)
    assert answer.status_code == 303
    reference = answer.headers["location"].rsplit("/", 1)[1]
    tracker = client.get(f"/me/transfers/{reference}")
    assert 'data-leg="letter" data-status="running"' in tracker.text
    assert 'data-leg="transfer" data-status="waiting"' in tracker.text
    assert "建立一般缴费账户" in tracker.text  # the engine's reason, in Chinese
    english = client.get(f"/me/transfers/{reference}?lang=en")
    assert "working days left" in english.text and "an ordinary account" in english.text

    transfer = db.exec(select(Transfer).where(Transfer.reference == reference)).one()
    issue_letter(db, transfer)
    db.commit()
    assert 'data-leg="transfer" data-status="running"' in client.get(f"/me/transfers/{reference}").text
    province.deliver_directly(db, province.transfer_message(db, reference=reference, now=NOW), now=NOW)
    db.commit()
    done = client.get(f"/me/transfers/{reference}?lang=en")
    assert done.text.count('data-status="done"') == 3
    assert "Merged into your record" in done.text
    record = client.get("/me/records?lang=en")
    assert re.search(r"Transferred from 110000 Beijing, March 2008 to June 2015 \(88 months", record.text)
    assert "transferred from 110000" not in client.get("/me/records?lang=zh").text.lower()
    assert "北京市" in client.get("/me/records?lang=zh").text
    notices = client.get("/me/notices?lang=en").text
    assert f"Your transfer {reference} is complete: 88 months joined your Jilin record." in notices
    assert "北京" not in notices
    claim = client.get("/me/transfers?lang=en")
    assert 'data-place="220000"' in claim.text and "Jilin is already your claim place." in claim.text


def test_a_form_with_a_jilin_province_or_no_period_is_refused_at_its_fields(client, db, frozen_clock):
    frozen_clock(NOW)
    account, _actor = applicant(db)
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    answer = apply_form(client, other_province="220000", start_1="", end_1="")
    assert answer.status_code == 422
    assert re.findall(r'<a href="#field-([a-z0-9_]+)">', answer.text) == ["other_province", "start_1"]
    assert db.exec(select(Transfer)).all() == []
    db.commit()


def test_supervisors_see_a_step_past_its_limit_and_a_handler_may_not(client, db, frozen_clock):
    frozen_clock(NOW)
    _account, actor = applicant(db)
    transfer = transfers.apply_in(db, actor=actor, other_province="440000", hukou_province="220000", exemption="",
                                  periods=[("2010-01", "2012-12")], token="k", now=NOW)
    issue_letter(db, transfer)
    supervisor = factories.staff(db, name="周主管", roles="supervisor")
    handler = factories.staff(db, name="王经办", roles="handler")
    db.commit()
    frozen_clock(NOW + timedelta(days=40))
    sign_in_staff(client, handler)
    assert client.get("/staff/transfers").status_code == 403
    client.cookies.clear()
    sign_in_staff(client, supervisor)
    page = client.get("/staff/transfers?lang=en")
    assert page.status_code == 200
    assert f'data-transfer="{transfer.reference}" data-leg="transfer"' in page.text
    assert "Guangdong" in page.text


def test_a_person_follows_a_transfer_out_and_downloads_the_transfer_record_anyone_can_verify(client, db,
                                                                                             frozen_clock):
    from datetime import date

    from portal.models import ContributionMonth

    frozen_clock(NOW)
    account, _actor = applicant(db)
    for n in range(12):
        db.add(ContributionMonth(person_id=account.person_id, month=date(2025, n + 1, 1), base_fen=500000,
                                 individual_part_fen=40000, personal_account_fen=40000, source="flexible_payment",
                                 status="paid", created_at=NOW))
    number = id_number_of(db, account)
    answer = province.deliver_directly(db, province.contact_letter(db, province="310000", id_number=number, now=NOW),
                                       now=NOW)
    transfer = db.exec(select(Transfer).where(Transfer.reference == answer["transfer"])).one()
    issue_letter(db, transfer)
    db.commit()
    sign_in_person(client, number)
    page = client.get(f"/me/transfers/{transfer.reference}?lang=en")
    assert "out of Jilin to Shanghai" in page.text
    assert 'data-leg="transfer" data-status="done"' in page.text
    assert 'data-leg="merge" data-status="running"' in page.text
    # 12 × 400 of the account, 12% × 12 × 5000 pooled: a payment order of the fund, waiting for Shanghai
    assert "¥12,000.00 from the Jilin pension fund to Shanghai, payment order JLT" in page.text
    assert 'id="payment-order"' in page.text and 'data-status="pending"' in page.text
    pdf = client.get(f"/me/transfers/{transfer.reference}/record.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert transfer.certificate_code.encode() in pdf.content
    client.cookies.clear()
    verified = client.get(f"/verify/{transfer.certificate_code}")
    assert verified.status_code == 200
    assert client.get("/me/transfers/ZY20261130000000/record.pdf").status_code in (302, 303)


def test_a_transfer_that_was_not_continued_is_offered_again_with_what_was_given(client, db, frozen_clock):
    frozen_clock(NOW)
    account, actor = applicant(db)
    transfer = transfers.apply_in(db, actor=actor, other_province="210000", hukou_province="220000", exemption="",
                                  periods=[("2001-04", "2009-12"), ("2012-01", "2013-06")], token="k", now=NOW)
    issue_letter(db, transfer, approve=False)
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    stopped = client.get(f"/me/transfers/{transfer.reference}").text
    assert 'data-leg="letter" data-status="stopped"' in stopped and 'data-status="done"' not in stopped
    form = client.get("/me/transfers/apply").text
    assert '<option value="210000" selected>' in form
    assert 'value="2001-04"' in form and 'value="2013-06"' in form


def test_staff_see_the_transfer_on_the_case_page_with_the_rules_decision_in_words(client, db, frozen_clock):
    frozen_clock(NOW)
    _account, actor = applicant(db, birth=date(1970, 6, 1), region="110101")
    transfer = transfers.apply_in(db, actor=actor, other_province="110000", hukou_province="110000",
                                  exemption="organisation_department", periods=[("2008-03", "2015-06")], token="k",
                                  now=NOW)
    handler = factories.staff(db, name="刘经办", roles="handler")
    case = db.get(Case, transfer.case_id)
    db.commit()
    sign_in_staff(client, handler)
    page = client.get(f"/staff/cases/{case.reference}?lang=en")
    assert page.status_code == 200
    assert "Into Jilin: approving issues the contact letter" in page.text
    assert "By a party organisation department at county level or above" in page.text
    assert "General record" in page.text and "March 2008" in page.text
    assert "organisation_department" not in page.text


def test_a_handler_reads_a_queried_transfer_with_the_differences_and_the_messages_exchanged(client, db,
                                                                                         frozen_clock):
    from decimal import Decimal

    frozen_clock(NOW)
    _account, actor = applicant(db)
    transfer = transfers.apply_in(db, actor=actor, other_province="110000", hukou_province="220000", exemption="",
                                  periods=[("2008-03", "2015-06")], token="k", now=NOW)
    issue_letter(db, transfer)
    wrong = province.transfer_message(db, reference=transfer.reference, now=NOW, off_by=Decimal("-100.00"))
    province.deliver_directly(db, wrong, now=NOW)
    handler = factories.staff(db, name="王经办", roles="handler")
    db.commit()
    sign_in_staff(client, handler)
    page = client.get(f"/staff/transfers/{transfer.reference}?lang=en")
    assert page.status_code == 200
    assert 'id="query"' in page.text and 'data-part="pooled"' in page.text
    kinds = re.findall(r'<tr data-kind="([a-z_]+)" data-direction="(in|out)">', page.text)
    assert kinds == [("contact_letter", "out"), ("transfer", "in"), ("query", "out")]
    assert "Waiting to be sent" in page.text and "Queried" in page.text
    assert client.get("/staff/transfers/ZY-NOPE").status_code == 404
