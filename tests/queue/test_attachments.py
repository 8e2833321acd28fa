"""Documents attached to a case and the applicant's commitment: stored, checked, listed and served safely."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlmodel import select

from portal import clock
from portal.errors import ValidationFailed
from portal.models import AuditEvent, Case, CaseAttachment
from portal.queue import attachments, service, take
from portal.queue.attachments import Upload
from portal.queue.errors import ActionRefused
from portal.queue.states import State
from tests import factories
from tests.helpers import id_number_of, sign_in_operator, sign_in_person, sign_in_staff, token_from
from tests.queue.helpers import default_payload, operator_actor, person_actor, staff_actor

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
HTML = b"<html><script>alert(1)</script></html>"
VERSION = re.compile(r'name="version" value="(\d+)"')
COMMITMENT = {"text": "本单位承诺所报困难情况属实，如有不实愿承担相应责任。", "accepted_at": "2026-11-28T10:00:00+08:00"}


def number_of(db, account) -> str:
    """The account's sign-in name; the read is ended so the app can write (SQLite has one writer)."""
    number = id_number_of(db, account)
    db.commit()
    return number


def stored(db, case) -> list[CaseAttachment]:
    rows = list(db.exec(select(CaseAttachment).where(CaseAttachment.case_id == case.id)
                        .order_by(CaseAttachment.id).execution_options(populate_existing=True)).all())
    db.commit()
    return rows


def submit(db, actor, *, key="a1", uploads=None, payload=None, prefecture="220100"):
    return service.submit(db, kind="enrolment_correction", applicant=actor, payload=payload or default_payload("enrolment_correction"),
                          prefecture=prefecture, idempotency_key=key, now=clock.now(), uploads=uploads)


def returned_case(db, *, payload=None, prefecture="220100"):
    """A person's case that a handler has returned to them; committed."""
    account = factories.person_account(db)
    handler = factories.staff(db, roles="handler")
    case = submit(db, person_actor(account), payload=payload, prefecture=prefecture)
    taken = take.take_next(db, staff=staff_actor(handler), now=clock.now())
    case = service.act(db, reference=case.reference, action="return_to_applicant", actor=staff_actor(handler),
                       expected_version=taken.version, reason_code="missing_document", note="请上传证明",
                       now=clock.now())
    db.commit()
    return account, handler, case


# --- the service ------------------------------------------------------------------------------------


def test_a_document_sent_with_a_request_is_stored_with_its_type_size_and_digest_and_audited(db, frozen_clock):
    account = factories.person_account(db)
    case = submit(db, person_actor(account), uploads=[Upload("困难证明.pdf", PDF)])

    [row] = stored(db, case)
    assert (row.filename, row.content_type, row.size) == ("困难证明.pdf", "application/pdf", len(PDF))
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.content == PDF
    assert (row.uploaded_by_kind, row.uploaded_by_id) == ("person", account.id)
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "case.attachment_added")).all()
    assert event.object_id == case.reference and json.loads(event.detail)["sha256"] == row.sha256


def test_the_type_comes_from_the_first_bytes_not_the_name(db, frozen_clock):
    account = factories.person_account(db)
    case = submit(db, person_actor(account), uploads=[Upload("photo.pdf", PNG)])
    [row] = stored(db, case)
    assert (row.content_type, row.filename) == ("image/png", "photo.png")


def test_a_file_that_is_not_a_pdf_jpeg_or_png_is_refused_whatever_its_name_and_no_case_is_opened(db, frozen_clock):
    account = factories.person_account(db)
    with pytest.raises(ValidationFailed) as refused:
        submit(db, person_actor(account), uploads=[Upload("scan.pdf", HTML)])
    assert set(refused.value.errors) == {"attachment"}
    db.rollback()
    assert db.exec(select(Case)).all() == [] and db.exec(select(CaseAttachment)).all() == []


def test_a_file_over_the_limit_and_an_empty_file_are_refused(db, frozen_clock):
    actor = person_actor(factories.person_account(db))
    with pytest.raises(ValidationFailed):
        submit(db, actor, uploads=[Upload("big.pdf", PDF + b"0" * attachments.MAX_BYTES)])
    with pytest.raises(ValidationFailed):
        submit(db, actor, key="a2", uploads=[Upload("empty.png", b"")])


def test_one_bad_file_among_good_ones_stores_none_of_them(db, frozen_clock):
    _account, _handler, case = returned_case(db)
    with pytest.raises(ValidationFailed):
        attachments.attach(db, case=case, actor=person_actor(_account),
                           uploads=[Upload("a.jpg", JPEG), Upload("b.pdf", HTML)], now=clock.now())
    db.rollback()
    assert stored(db, case) == []


def test_only_the_applicant_may_attach_and_only_while_the_case_is_with_them(db, frozen_clock):
    account, handler, case = returned_case(db)
    stranger = person_actor(factories.person_account(db, mobile="13900000009"))
    with pytest.raises(ActionRefused):
        attachments.attach(db, case=case, actor=stranger, uploads=[Upload("a.pdf", PDF)], now=clock.now())
    with pytest.raises(ActionRefused):
        attachments.attach(db, case=case, actor=staff_actor(handler), uploads=[Upload("a.pdf", PDF)], now=clock.now())
    service.resubmit(db, reference=case.reference, actor=person_actor(account), expected_version=case.version,
                     note="补充", now=clock.now())
    with pytest.raises(ActionRefused):  # back with the handler: the applicant can no longer add to it
        attachments.attach(db, case=case, actor=person_actor(account), uploads=[Upload("a.pdf", PDF)],
                           now=clock.now())


def test_a_resent_submission_does_not_store_its_documents_twice(db, frozen_clock):
    actor = person_actor(factories.person_account(db))
    first = submit(db, actor, key="same", uploads=[Upload("a.pdf", PDF)])
    again = submit(db, actor, key="same", uploads=[Upload("a.pdf", PDF)])
    assert first.id == again.id and len(stored(db, first)) == 1


# --- through the pages --------------------------------------------------------------------------------


def resubmit(client, case, *, note="已补充证明", file=None):
    page = client.get(f"/me/requests/{case.reference}")
    data = {"csrf_token": token_from(client, "/me/requests"), "version": VERSION.search(page.text).group(1),
            "note": note}
    files = {"attachment": file} if file else None
    return client.post(f"/me/requests/{case.reference}/resubmit?lang=en", data=data, files=files)


def test_the_applicant_answers_a_return_with_a_document_and_staff_download_it_safely(client, app, db,
                                                                                       frozen_clock):
    account, handler, case = returned_case(db)
    sign_in_person(client, number_of(db, account))
    form = client.get(f"/me/requests/{case.reference}?lang=en")
    assert 'enctype="multipart/form-data"' in form.text and 'name="attachment" type="file"' in form.text

    sent = resubmit(client, case, file=("证明.jpg", JPEG, "image/jpeg"))
    assert sent.status_code == 303
    [row] = stored(db, case)
    mine = client.get(f"/me/requests/{case.reference}?lang=en")
    assert "Attached documents and commitments" in mine.text and "证明.jpg" in mine.text
    own_copy = client.get(f"/me/requests/{case.reference}/attachments/{row.id}")
    assert own_copy.status_code == 200 and own_copy.content == JPEG

    client.cookies.clear()
    sign_in_staff(client, handler)
    page = client.get(f"/staff/cases/{case.reference}?lang=en")
    link = f"/staff/cases/{case.reference}/attachments/{row.id}"
    assert link in page.text and "JPEG" in page.text
    download = client.get(link)
    assert download.status_code == 200 and download.content == JPEG
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E8%AF%81%E6%98%8E.jpg" in download.headers["content-disposition"]


def test_a_bad_file_sent_with_an_answer_changes_nothing_and_is_explained_at_the_field(client, db, frozen_clock):
    account, _handler, case = returned_case(db)
    sign_in_person(client, number_of(db, account))

    refused = resubmit(client, case, note="见附件", file=("证明.pdf", HTML, "application/pdf"))

    assert refused.status_code == 422
    assert 'href="#field-attachment"' in refused.text and 'id="field-attachment-error"' in refused.text
    assert "is not a PDF, JPEG or PNG document" in refused.text
    assert "见附件" in refused.text  # the note is kept
    assert stored(db, case) == []
    assert db.exec(select(Case.state).where(Case.id == case.id)).one() == State.WAITING_FOR_APPLICANT
    db.commit()


def test_no_one_else_can_download_a_document(client, app, db, frozen_clock):
    account, _handler, case = returned_case(db)
    other_account, _h, other_case = returned_case(db)
    attachments.attach(db, case=case, actor=person_actor(account), uploads=[Upload("a.pdf", PDF)], now=clock.now())
    [row] = stored(db, case)
    far_away = factories.staff(db, roles="handler")
    far_away.region = "220200"  # posted to Jilin City; the case is in Changchun
    db.commit()

    sign_in_person(client, number_of(db, other_account))
    assert client.get(f"/me/requests/{case.reference}/attachments/{row.id}").status_code == 404
    # Its own case, but another case's document id: not served either.
    assert client.get(f"/me/requests/{other_case.reference}/attachments/{row.id}").status_code == 404
    client.cookies.clear()
    sign_in_staff(client, far_away)
    assert client.get(f"/staff/cases/{case.reference}/attachments/{row.id}").status_code == 404
    client.cookies.clear()
    assert client.get(f"/staff/cases/{case.reference}/attachments/{row.id}").status_code == 303  # to sign in


def test_an_employer_operator_downloads_the_employers_document(client, db, frozen_clock):
    employer = factories.employer(db)
    clerk = factories.operator(db, employer_row=employer, username="clerk")
    case = service.submit(db, kind="enrolment_correction", applicant=operator_actor(clerk), payload={},
                          prefecture="220100", idempotency_key="e1", now=clock.now(),
                          uploads=[Upload("名单.png", PNG)])
    [row] = stored(db, case)
    sign_in_operator(client, clerk, employer.credit_code)

    page = client.get(f"/employer/requests/{case.reference}?lang=en")
    assert f"/employer/requests/{case.reference}/attachments/{row.id}" in page.text
    download = client.get(f"/employer/requests/{case.reference}/attachments/{row.id}")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-disposition"].startswith("attachment;")


def test_the_commitment_the_applicant_accepted_is_shown_to_staff_and_to_the_applicant(client, db, frozen_clock):
    account, handler, case = returned_case(db, payload={"months": 3, "commitment": COMMITMENT})
    sign_in_staff(client, handler)

    page = client.get(f"/staff/cases/{case.reference}?lang=en")
    assert "Commitment accepted by the applicant" in page.text and COMMITMENT["text"] in page.text
    assert "No documents are attached." in page.text
    assert "<code>commitment</code>" not in page.text  # shown once, in words, not as raw data

    client.cookies.clear()
    sign_in_person(client, number_of(db, account))
    mine = client.get(f"/me/requests/{case.reference}?lang=en")
    assert COMMITMENT["text"] in mine.text
