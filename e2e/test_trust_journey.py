"""Issue 13's journeys, in Chinese and in English: supervision by class, commitment and proof, the spot check that
finds a commitment false, and the serious-dishonesty list from proposal to removal."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from e2e.conftest import employer_with_a_month_in_arrears, fresh_staff
from e2e.pages import Portal
from e2e.test_benefits import PASSWORD, confirm_at_provider, make_person
from e2e.test_deferral_journey import decide, staff_portal
from portal import clock
from portal.db import transaction
from portal.devtools.essc_provider import DEMO_CARDHOLDERS, Cardholder
from portal.identifiers import make_resident_id
from portal.models import Bill, Case, CaseAttachment, DishonestyListing
from portal.policy import commitments
from portal.services import credit
from tests.essc_support import served

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Words of the law the pages quote as they are, in either language.
LEGAL_WORDS = ("告知承诺", "人社部规〔2019〕2号", "人社厅发〔2020〕110号")


def today():
    return datetime.now(UTC).astimezone(clock.CHINA).date()


def with_events(sessionmaker, employer_id: int, kind: str, count: int) -> None:
    """The employer's history, as the record would have it: ``count`` events of ``kind`` in the past months;
    its bill falls due today, so it is unpaid but not yet in arrears long enough to count."""
    now = datetime.now(UTC)
    with transaction(sessionmaker) as session:
        for bill in session.exec(select(Bill).where(Bill.payer_kind == "employer", Bill.payer_id == employer_id)):
            bill.due_date = today()
            session.add(bill)
        for n in range(count):
            credit.record_event(session, subject=credit.Subject("employer", employer_id), kind=kind,
                                occurred_on=today() - timedelta(days=20 * (n + 1)), now=now)


def employer_portal(page, lang, account, *data) -> Portal:
    notice = commitments.notice("deferral_hardship", today())
    portal = Portal(page, lang, data=(account.name, account.operator_name, *data, *LEGAL_WORDS,
                                      *notice.texts["en"].values()))
    portal.sign_in("employer", employer_code=account.credit_code, username=account.username,
                   password=account.password)
    expect(page).to_have_url(re.compile(r"/employer$"))
    return portal


def open_deferral(employer: Portal):
    employer.open("/employer/applications/deferral")
    return employer.main.locator("form[action='/employer/applications/deferral']")


def listed_names(sessionmaker) -> tuple[str, ...]:
    """Names on the staff's list page that other journeys put there (data, shown as registered)."""
    from portal.models import Employer

    with transaction(sessionmaker) as session:
        return tuple(session.exec(select(Employer.name).join(
            DishonestyListing, (DishonestyListing.subject_kind == "employer")
            & (DishonestyListing.subject_id == Employer.id))).all())


def case_of(sessionmaker, reference: str) -> Case:
    with transaction(sessionmaker) as session:
        case = session.exec(select(Case).where(Case.reference == reference)).one()
        session.expunge(case)
        return case


def test_an_a_grade_deferral_is_approved_automatically_and_a_spot_check_finding_it_false_lowers_the_grade(
        page, open_page, lang, sessionmaker):
    arrears = employer_with_a_month_in_arrears(sessionmaker)
    account = arrears.employer
    with_events(sessionmaker, account.id, "correction_made", 10)
    employer = employer_portal(page, lang, account, arrears.person_name)

    employer.follow(employer.area_link("Credit"))
    expect(employer.main.locator("#credit-grade")).to_have_text("A")
    form = open_deferral(employer)
    expect(employer.main.locator("#supervision-how")).to_have_text(employer.t(
        "Your request will be approved automatically once the automatic checks pass. It may be sampled for a "
        "check afterwards."))
    form.locator("input[name=months]").first.check()
    employer.fill(reason="Hardship" if lang == "en" else "停产困难")
    form.locator("#mode-commit").check()
    employer.fill(password=account.password)
    employer.submit(form)
    expect(page).to_have_url(re.compile(r"/employer/requests/JL\d+$"))
    reference = page.url.rsplit("/", 1)[1]
    assert case_of(sessionmaker, reference).state == "approved"

    # A handler opens a spot check of the decision and finds the commitment false.
    handler_account = fresh_staff(sessionmaker, "handler")
    handler = staff_portal(open_page, handler_account, lang, (account.name, handler_account.name, "停产困难"))
    handler.open(f"/staff/cases/{reference}")
    expect(handler.main.locator("#commitment-evidence")).to_contain_text(
        commitments.notice("deferral_hardship", today()).sha256)
    handler.follow(handler.button("Open a spot check of this decision"))
    spot = handler.page.url.rsplit("/", 1)[1]
    handler.follow(handler.main.locator("button[name=action][value=take]"))
    decide(handler, spot, "reject", "commitment_false", reload=False)

    employer.open("/employer/credit")
    expect(employer.main.locator("#credit-grade")).to_have_text("C")
    expect(employer.main.locator("#credit-barred")).to_be_visible()


def test_a_d_grade_employer_must_attach_proof_and_two_people_decide(page, lang, sessionmaker):
    arrears = employer_with_a_month_in_arrears(sessionmaker)
    account = arrears.employer
    with_events(sessionmaker, account.id, "false_commitment", 2)
    employer = employer_portal(page, lang, account, arrears.person_name)
    form = open_deferral(employer)
    expect(employer.main.locator("#commitment-barred")).to_be_visible()
    expect(form.locator("#mode-commit")).to_have_count(0)
    expect(employer.main.locator("#supervision-how")).to_have_text(employer.t(
        "A member of staff will check your request and a second member of staff will review the decision."))
    form.locator("input[name=months]").first.check()
    employer.fill(reason="Hardship" if lang == "en" else "停产困难")
    form.locator("#field-attachment").set_input_files(
        files=[{"name": "hardship.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    employer.submit(form)
    expect(page).to_have_url(re.compile(r"/employer/requests/JL\d+$"))
    case = case_of(sessionmaker, page.url.rsplit("/", 1)[1])
    assert (case.risk_tier, case.route, case.state) == ("D", "dual", "checked")
    with transaction(sessionmaker) as session:
        assert session.exec(select(CaseAttachment.content_type).where(CaseAttachment.case_id == case.id)).one() == \
            "application/pdf"


def test_a_listed_employer_appears_on_the_public_list_and_disappears_when_removed(page, open_page, lang,
                                                                                   sessionmaker):
    arrears = employer_with_a_month_in_arrears(sessionmaker)
    account = arrears.employer
    finding = "Fictitious employment of 25 persons" if lang == "en" else "虚构劳动关系参保25人次"
    proposer_account, decider_account = fresh_staff(sessionmaker, "handler"), fresh_staff(sessionmaker, "handler")
    data = (account.name, account.credit_code, finding, proposer_account.name, decider_account.name)
    proposer = staff_portal(open_page, proposer_account, lang, data)
    proposer.knows(*listed_names(sessionmaker))
    proposer.follow(proposer.area_link("Serious-dishonesty list"))
    proposer.fill(identifier=account.credit_code, finding=finding)
    proposer.field("trigger").select_option("fraudulent_enrolment")
    proposer.submit(proposer.main.locator("form[action='/staff/trust/listings']"))
    expect(proposer.flash()).to_be_visible()

    # The subject had its days to state its case (the test moves the period to yesterday); another decides.
    with transaction(sessionmaker) as session:
        listing = session.exec(select(DishonestyListing).where(
            DishonestyListing.subject_kind == "employer", DishonestyListing.subject_id == account.id)).one()
        listing.statement_until = today() - timedelta(days=1)
        session.add(listing)
        reference = session.get(Case, listing.case_id).reference
        listing_id = listing.id
    decider = staff_portal(open_page, decider_account, lang, data)
    decider.open(f"/staff/cases/{reference}")
    decider.follow(decider.main.locator("button[name=action][value=take]"))
    decide(decider, reference, "approve", "conditions_met", reload=False)

    visitor = Portal(open_page(), lang, data=data + LEGAL_WORDS)
    visitor.open(visitor.with_lang("/dishonesty-list"))
    expect(visitor.main.locator("table")).to_contain_text(account.credit_code)

    decider.knows(*listed_names(sessionmaker))
    decider.open("/staff/trust")
    decider.submit(decider.main.locator(f"form[action='/staff/trust/listings/{listing_id}/remove']"))
    expect(decider.flash()).to_be_visible()
    visitor.open(visitor.with_lang("/dishonesty-list"))
    expect(visitor.main).not_to_contain_text(account.credit_code)


# A person the stand-in card provider knows, one per language (the provider must know them before they exist).
CARDHOLDERS = {lang: make_resident_id("220102", date(1980, 3, 4), 171 + offset)
               for lang, offset in (("zh_CN", 0), ("en", 2))}
CARDHOLDER_NAME = "陈守信"


@pytest.fixture(scope="module")
def card_portal(settings, demo, tmp_path_factory):
    holders = DEMO_CARDHOLDERS + tuple(Cardholder(number, CARDHOLDER_NAME) for number in CARDHOLDERS.values())
    with served(settings, key_path=tmp_path_factory.mktemp("essc-trust") / "key.json",
                cardholders=holders) as (base, _app):
        yield base


def test_a_person_signed_in_with_a_password_commits_to_their_employment_history_after_the_cards_face_check(
        page, lang, sessionmaker, card_portal):
    from portal.models import CommitmentEvidence, Person

    number = CARDHOLDERS[lang]
    make_person(sessionmaker, number, CARDHOLDER_NAME, start=date(2015, 1, 1), end=date(2015, 1, 1))
    notice = commitments.notice("employment_history", today())
    names = (CARDHOLDER_NAME, *(holder.name for holder in DEMO_CARDHOLDERS))
    me = Portal(page, lang, data=(*names, *LEGAL_WORDS, *notice.texts["en"].values()))
    me.open(me.with_lang(f"{card_portal}/login?account_type=person"))
    me.sign_in("person", username=number, password=PASSWORD, open_form=False)
    me.open(me.with_lang(f"{card_portal}/me/records/correction"))
    expect(me.main.locator("#supervision-how")).to_have_text(
        me.t("One member of staff will check and decide your request."))
    # Signed in with the password: no password field signs the commitment; the card's face check does, asked for
    # when the form is sent committing, and the person comes back to the form as they filled it in.
    form = me.main.locator("form[action='/me/records/correction']")
    expect(form.locator("input[name=password]")).to_have_count(0)
    expect(form.get_by_role("link", name=me.t("Confirm with your electronic social security card"))).to_be_visible()
    form.locator("#field-what-missing").check()
    details = "Cash wages" if lang == "en" else "现金发放工资"
    me.knows(details).fill(months="2019-03", details=details)
    form.locator("#mode-commit").check()
    me.submit(form)
    expect(page).to_have_url(re.compile(r"/dev/essc/authorize\?"))
    confirm_at_provider(me, number, face=True)
    expect(page).to_have_url(re.compile(r"/me/records/correction$"))  # back on the form, filled in again
    expect(me.flash()).to_be_visible()
    form = me.main.locator("form[action='/me/records/correction']")
    expect(form.locator("#commitment-face")).to_be_visible()
    expect(me.field("months")).to_have_value("2019-03")
    expect(form.locator("#mode-commit")).to_be_checked()
    me.submit(form)
    expect(page).to_have_url(re.compile(r"/me/requests/JL\d+$"))
    case = case_of(sessionmaker, page.url.rsplit("/", 1)[1])
    with transaction(sessionmaker) as session:
        person_id = session.exec(select(Person.id).where(Person.id_number == number)).one()
        evidence = session.exec(select(CommitmentEvidence).where(CommitmentEvidence.case_id == case.id)).one()
        assert (evidence.item, evidence.confirmed_by, evidence.subject_id) == ("employment_history", "essc_face",
                                                                               person_id)
    assert (case.risk_tier, case.route) == ("B", "single")
