"""The insurance certificate: issued from the record as a real PDF with a code, verified by anyone with the code."""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, date, datetime

import pytest
from sqlmodel import func, select

from portal.devtools import demo
from portal.documents import certificate as certificate_pdf
from portal.models import AuditEvent, Certificate, ContributionMonth
from portal.services import certificates
from portal.services.records import build_record
from tests.helpers import another_browser, html_lang, new_person, sign_in_person
from tests.records.support import NOW, TODAY, person_actor
from tests.records.test_record_pages import EMPLOYEE, employee  # noqa: F401 - the demo employee fixture

PDF_LINK = re.compile(r"^/me/certificate/([A-Z0-9]{16})\.pdf$")


@pytest.fixture
def signed_in(client, employee):  # noqa: F811 - the imported fixture, used by name
    assert sign_in_person(client, EMPLOYEE, password=demo.DEMO_PASSWORD).status_code == 303
    return client


def issue(client) -> str:
    """Presses "Download the certificate" and returns the code in the address it is sent to."""
    page = client.get("/me/certificate")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text.split('action="/me/certificate"')[1]).group(1)
    response = client.post("/me/certificate", data={"csrf_token": token})
    assert response.status_code == 303
    found = PDF_LINK.match(response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def streams(pdf: bytes) -> bytes:
    """Every stream of the file, inflated where it is compressed: enough to find text drawn in a core font."""
    found = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            found.append(zlib.decompress(raw))
        except zlib.error:
            found.append(raw)
    return b"\n".join(found)


def count(db, model, *where) -> int:
    total = db.exec(select(func.count()).select_from(model).where(*where)).one()
    db.commit()
    return total


def test_the_certificate_is_a_real_pdf_with_the_code_as_text(signed_in):
    code = issue(signed_in)
    response = signed_in.get(f"/me/certificate/{code}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="certificate-{code}.pdf"'
    pdf = response.content
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 5000
    assert code.encode() in pdf  # in the document's keywords
    assert f"({certificates.grouped_code(code)}) Tj".encode() in streams(pdf)  # drawn on the page
    assert b"/FontFile3" in pdf or b"/FontFile2" in pdf  # the Chinese font is embedded, not assumed


def test_issuing_stores_the_periods_and_months_and_is_audited(signed_in, db, employee):  # noqa: F811
    code = issue(signed_in)
    row = db.exec(select(Certificate).where(Certificate.code == code)).one()
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "certificate.issued")).all()
    db.commit()
    assert row.person_id == employee.id and row.cumulative_months == 70
    assert row.issued_on == TODAY and len(row.content_hash) == 64
    assert json.loads(row.periods_json) == [
        {"start": "2020-07", "end": "2022-12", "months": 30, "kind": "employer", "employer": demo.EMPLOYER_NAME},
        {"start": "2023-06", "end": "2026-09", "months": 40, "kind": "employer", "employer": demo.EMPLOYER_NAME}]
    assert [event.object_id for event in events] == [str(row.id)]


def test_asking_again_the_same_day_gives_the_same_certificate(signed_in, db):
    first = issue(signed_in)
    assert issue(signed_in) == first
    assert count(db, Certificate) == 1
    assert count(db, AuditEvent, AuditEvent.action == "certificate.issued") == 1


def test_a_changed_record_or_another_day_gives_a_new_code_and_the_old_one_still_verifies(signed_in, db, employee,  # noqa: F811
                                                                                         frozen_clock):
    first = issue(signed_in)
    october = db.exec(select(ContributionMonth).where(ContributionMonth.person_id == employee.id,
                                                      ContributionMonth.month == date(2026, 10, 1))).one()
    october.status = "paid"
    db.add(october)
    db.commit()
    second = issue(signed_in)
    assert second != first
    frozen_clock(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))
    assert sign_in_person(signed_in, EMPLOYEE, password=demo.DEMO_PASSWORD).status_code == 303  # the session idled out
    third = issue(signed_in)
    assert third not in (first, second)
    months = dict(db.exec(select(Certificate.code, Certificate.cumulative_months)).all())
    db.commit()
    assert months == {first: 70, second: 71, third: 71}
    stranger = another_browser(signed_in.app)
    assert stranger.get(f"/verify/{first}").status_code == 200


def test_the_certificate_page_lists_what_was_issued(signed_in):
    code = issue(signed_in)
    page = signed_in.get("/me/certificate").text
    assert f'href="/me/certificate/{code}.pdf"' in page
    assert certificates.grouped_code(code) in page


def test_a_person_cannot_download_another_persons_certificate(signed_in, client, db):
    code = issue(signed_in)
    other = another_browser(signed_in.app)
    assert sign_in_person(other, new_person(db)).status_code == 303
    assert other.get(f"/me/certificate/{code}.pdf").status_code == 404
    assert code not in other.get("/me/certificate").text


def test_a_stranger_verifies_a_known_code_and_sees_the_name_and_number_partly_hidden(signed_in, employee):  # noqa: F811
    code = issue(signed_in)
    stranger = another_browser(signed_in.app)
    page = stranger.get(f"/verify/{code}")
    assert page.status_code == 200 and html_lang(page.text) == "zh-CN"
    assert '<dd data-figure="name">王*国</dd>' in page.text
    assert '<dd data-figure="id_number">220102********0111</dd>' in page.text
    assert 'data-figure="cumulative_months" data-value="70"' in page.text
    assert employee.name not in page.text and employee.id_number not in page.text
    assert page.text.count(demo.EMPLOYER_NAME) == 2


def test_the_verification_page_speaks_english_too(signed_in):
    code = issue(signed_in)
    page = another_browser(signed_in.app).get(f"/verify/{code}?lang=en").text
    assert html_lang(page) == "en"
    assert "<h1>Certificate verified</h1>" in page
    assert "<td>July 2020</td><td>December 2022</td><td class=\"num\">30</td>" in page
    assert f"Employed by {demo.EMPLOYER_NAME}" in page


def test_the_form_accepts_the_code_as_people_type_it(signed_in):
    code = issue(signed_in)
    typed = certificates.grouped_code(code).lower().replace("-", " - ")
    response = another_browser(signed_in.app).get("/verify", params={"code": typed})
    assert response.status_code == 303 and response.headers["location"] == f"/verify/{code}"


@pytest.mark.parametrize("typed", ["ABCDEFGHJKMNPQRS", "short", "0000000000000000", "%3Cscript%3E"])
def test_an_unknown_code_says_so_plainly_and_reveals_nothing(client, signed_in, typed):
    issue(signed_in)
    stranger = another_browser(signed_in.app)
    page = stranger.get(f"/verify/{typed}?lang=en")
    assert page.status_code == 404
    assert "<h1>Unknown verification code</h1>" in page.text
    assert "No certificate was issued with this code." in page.text
    assert "王" not in page.text and "data-figure" not in page.text
    assert stranger.get("/verify", params={"code": typed}).status_code in (303, 404)


def test_an_empty_code_is_asked_for_at_its_field(client):
    page = client.get("/verify?code=&lang=en")
    assert page.status_code == 422
    assert '<a href="#field-code">Enter the verification code printed on the certificate.</a>' in page.text


def test_the_form_is_public(client):
    page = client.get("/verify")
    assert page.status_code == 200 and 'id="field-code"' in page.text


def test_insured_periods_follow_employers_flexible_work_transfers_and_deemed_months(db):
    from portal.models import ContributionMonth as Row
    from tests import factories

    person, employer = factories.person(db), factories.employer(db)
    rows = [(date(2019, 1, 1), "deemed", None), (date(2019, 2, 1), "transfer_in", None),
            (date(2019, 3, 1), "employer_filing", employer.id), (date(2019, 4, 1), "employer_filing", employer.id),
            (date(2019, 6, 1), "flexible_payment", None)]
    for month, source, employer_id in rows:
        db.add(Row(person_id=person.id, month=month, source=source, status="paid", employer_id=employer_id,
                   base_fen=500000, created_at=NOW))
    db.flush()
    record = build_record(db, person=person, today=date(2019, 6, 30))
    periods = certificates.insured_periods(db, record=record)
    assert [(p.start, p.months, p.kind, p.employer) for p in periods] == [
        (date(2019, 1, 1), 1, "deemed", ""), (date(2019, 2, 1), 1, "transfer_in", ""),
        (date(2019, 3, 1), 2, "employer", employer.name), (date(2019, 6, 1), 1, "flexible", "")]


def test_the_service_issues_only_to_a_person_and_only_their_own(db):
    from portal.errors import Forbidden, NotFound
    from tests import factories
    from tests.records.support import employer_actor

    owner, other = factories.person(db), factories.person(db)
    with pytest.raises(certificates.NothingToCertify):  # no insured month: nothing to certify
        certificates.issue(db, actor=person_actor(owner), now=NOW)
    assert count(db, Certificate) == 0
    with pytest.raises(NotFound):
        certificates.own_certificate(db, actor=person_actor(other), code="ABCDEFGHJKMNPQRS")
    with pytest.raises(Forbidden):
        certificates.issue(db, actor=employer_actor(factories.operator(db)), now=NOW)


def test_codes_are_sixteen_readable_characters_and_masks_hide_the_birth_date(db):
    codes = {certificates._new_code(db) for _ in range(50)}
    assert len(codes) == 50 and all(certificates.normalise_code(code) == code for code in codes)
    assert certificates.normalise_code("abcd-efgh jkmn-pqrs") == "ABCDEFGHJKMNPQRS"
    assert certificates.normalise_code("ABCD-EFGH-JKMN-PQR0") is None  # no 0, O, 1, I or L
    assert certificates.mask_id_number("220102198503150111") == "220102********0111"
    assert set(certificates.ALPHABET).isdisjoint("01ILO") and len(certificates.ALPHABET) == 31


def test_a_missing_chinese_font_fails_with_a_clear_message(tmp_path):
    with pytest.raises(certificate_pdf.FontMissing, match="fonts-noto-cjk"):
        certificate_pdf.cjk_font(cache=tmp_path / "font.otf", sources=((tmp_path / "none.ttc", "X"),))


def test_the_font_face_is_extracted_from_the_collection_once(tmp_path):
    source = certificate_pdf.FONT_SOURCES[0][0]
    assert source.exists(), "Debian's fonts-noto-cjk is part of the set-up (make test installs it)"
    cache = tmp_path / "fonts" / "sc.otf"
    assert certificate_pdf.cjk_font(cache=cache) == cache and cache.stat().st_size > 1_000_000
    stamp = cache.stat().st_mtime_ns
    assert certificate_pdf.cjk_font(cache=cache, sources=()) == cache and cache.stat().st_mtime_ns == stamp
    assert list(cache.parent.iterdir()) == [cache]  # no temporary file left behind
