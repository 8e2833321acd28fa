"""Issue 14's journeys in a real browser, in Chinese and in English: a person near retirement reads the what-if,
claims and is awarded by two people, downloads and verifies the award letter, and is paid by the first payroll; a
pensioner who missed certification is suspended, certifies after the card's face check and is paid back; a family
member reports a death with its certificate and claims the survivors' benefits; staff at the counter record a death
and file a brother's claim as the heir."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import expect

from e2e.pages import Portal
from e2e.test_deferral_journey import decide, staff_portal
from portal.devtools.essc_provider import DEMO_CARDHOLDERS, Cardholder
from portal.identifiers import make_resident_id, mask_name
from tests.benefits.support import CARD
from tests.essc_support import served

# The people of these journeys, one set per language (the provider must know them before they exist).
PEOPLE = {
    lang: {
        "near": make_resident_id("220102", date(1966, 10, 3), 31 + offset),  # statutory month 2027-04
        "pensioner": make_resident_id("220102", date(1966, 1, 9), 51 + offset),  # statutory month 2026-05
        "deceased": make_resident_id("220102", date(1965, 12, 2), 71 + offset),
        "family": make_resident_id("220102", date(1992, 4, 5), 91 + offset),
    }
    for lang, offset in (("zh_CN", 0), ("en", 2))
}
NAMES = {"near": "孙德福", "pensioner": "钱玉兰", "deceased": "周长林", "family": "周小雨"}
PASSWORD = "Correct-Horse-Battery-9"  # tests.factories.PASSWORD
# The provider's page lists every cardholder: their names are data an English page may show.
KNOWN = (*NAMES.values(), *(holder.name for holder in DEMO_CARDHOLDERS), *(mask_name(name) for name in NAMES.values()))


@pytest.fixture(scope="module")
def card_portal(settings, demo, tmp_path_factory):
    holders = DEMO_CARDHOLDERS + tuple(Cardholder(number, NAMES[role]) for people in PEOPLE.values()
                                       for role, number in people.items())
    with served(settings, key_path=tmp_path_factory.mktemp("essc-benefits") / "key.json",
                cardholders=holders) as (base, _app):
        yield base


def _now() -> datetime:
    return datetime.now(UTC)


def make_person(sessionmaker, id_number: str, name: str, *, start: date, end: date, account: bool = True):
    """A person (with a password account, proven) and paid months from ``start`` to ``end``."""
    from sqlmodel import select

    from portal.db import transaction
    from portal.models import Person
    from tests import factories
    from tests.benefits.support import history

    with transaction(sessionmaker) as session:
        if account:
            factories.person_account(session, id_number=id_number, name=name, birth=date(1966, 1, 1))
        else:
            factories.person(session, id_number=id_number, name=name)
        person = session.exec(select(Person).where(Person.id_number == id_number)).one()
        person.birth_date = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        if end >= start:
            history(session, person, start=start, end=end, employer=factories.employer(session, region="220100"))
        return person.id


def make_pensioner(sessionmaker, id_number: str, name: str, *, retired: date, certified_on: date, paid_to: date,
                   account: bool = True) -> int:
    """A pensioner since ``retired``, paid up to ``paid_to``, last certified on ``certified_on``."""
    from sqlmodel import update

    from portal.db import transaction
    from portal.models import LifeCertification, Person
    from portal.policy.dates import add_months
    from portal.services import claims, payroll

    person_id = make_person(sessionmaker, id_number, name, start=date(1994, 1, 1), end=add_months(retired, -1),
                            account=account)
    with transaction(sessionmaker) as session:
        person = session.get(Person, person_id)
        claims.award_on_record(session, person=person, retirement_month=retired, claim_date=retired,
                               bank_code="CCB", card_number=CARD, now=_now())
        session.execute(update(LifeCertification).where(LifeCertification.person_id == person_id)
                        .values(certified_on=certified_on))
        month = retired
        while month <= paid_to:
            payroll.run(session, month=month, now=_now())
            month = add_months(month, 1)
    return person_id


def run_payroll(sessionmaker, month: date):
    from portal.db import transaction
    from portal.services import payroll

    with transaction(sessionmaker) as session:
        return payroll.run(session, month=month, now=_now())


def card_sign_in(portal: Portal, base: str, id_number: str, *, face: bool = True) -> None:
    portal.open(portal.with_lang(f"{base}/login"))
    portal.follow(portal.main.get_by_role("link", name=portal.t("Sign in with the electronic social security card")))
    confirm_at_provider(portal, id_number, face=face)
    expect(portal.page).to_have_url(re.compile(r"/me$"))


def confirm_at_provider(portal: Portal, id_number: str, *, face: bool) -> None:
    portal.page.locator(f"input[name=cardholder][value='{id_number}']").check()
    if face:
        portal.page.locator("#face").check()
    portal.follow(portal.button("Confirm and return to the portal"))


def test_a_person_near_retirement_reads_the_what_if_claims_and_is_awarded_verified_and_paid(
        page, open_page, lang, sessionmaker, card_portal):
    from e2e.conftest import fresh_staff

    number = PEOPLE[lang]["near"]
    make_person(sessionmaker, number, NAMES["near"], start=date(1995, 1, 1), end=date(2026, 11, 1))
    staff = {role: fresh_staff(sessionmaker, role) for role in ("handler", "reviewer")}
    names = (*KNOWN, *(member.name for member in staff.values()))
    person = Portal(page, lang, data=names)
    card_sign_in(person, card_portal, number)

    # The what-if, from the person's own record: a row and a bar for each month considered.
    person.follow(person.main.get_by_role("link", name=person.t("Your retirement month, what-if and claim")))
    expect(person.heading).to_have_text(person.t("Claim your pension"))
    expect(person.main.locator("#what-if tbody tr").first).to_be_visible()
    expect(person.main.locator("#what-if-chart svg[role=img]")).to_be_visible()
    expect(person.main.locator("[data-figure=statutory_month]")).to_contain_text("2027")

    # A draft fixes the claim date; the claim is filled in from the record, with a card checked by its Luhn digit.
    person.follow(person.button("Save the draft"))
    expect(person.main.locator("#claim-date")).to_be_visible()
    form = person.main.locator("form[action='/me/claims/retirement']")
    expect(person.main.locator("#supervision-why")).to_have_text(person.t(
        "Decisions that move money always take two people."))
    person.field("bank_code").select_option("ICBC")
    person.fill(card_number=CARD[:-1] + str((int(CARD[-1]) + 1) % 10))
    form.locator("#commitment").check()
    person.follow(person.button("Submit the claim", within=form))
    expect(person.field_error("card_number")).to_be_visible()
    person.fill(card_number=CARD)
    form.locator("#commitment").check()
    person.follow(person.button("Submit the claim", within=form))
    expect(page).to_have_url(re.compile(r"/me/requests/JL\d+$"))
    reference = page.url.rsplit("/", 1)[1]

    # Two people decide: a handler recommends, a reviewer approves.
    handler = staff_portal(open_page, staff["handler"], lang, names)
    handler.open(f"/staff/cases/{reference}")
    handler.follow(handler.main.locator("button[name=action][value=take]"))
    decide(handler, reference, "recommend_approve", "conditions_met", reload=False)
    reviewer = staff_portal(open_page, staff["reviewer"], lang, names)
    decide(reviewer, reference, "review_approve", "conditions_met")

    # The award letter: downloaded, and its code confirmed by anyone at /verify.
    person.open(f"{card_portal}/me/claims/retirement")
    expect(person.main.locator("#awarded")).to_be_visible()
    link = person.main.get_by_role("link", name=person.t("Download the award letter (PDF)"))
    with page.expect_download() as download:
        link.click()
    assert open(download.value.path(), "rb").read(4) == b"%PDF"
    code = re.search(r"/me/pension/([A-Z0-9]+)\.pdf", link.get_attribute("href")).group(1)
    checker = Portal(open_page(), lang, data=names)
    checker.open(checker.with_lang(f"/verify/{code}"))
    expect(checker.heading).to_have_text(checker.t("Award letter verified"))
    expect(checker.main.locator("[data-figure=current]")).to_have_text(checker.t("Yes"))

    # The first payroll pays the pension's first month.
    assert run_payroll(sessionmaker, date(2027, 4, 1)).paid >= 1
    person.open(f"{card_portal}/me/payments")
    expect(person.main.locator("#payments tbody tr")).to_have_count(1)


def test_a_pensioner_who_missed_certification_is_suspended_certifies_with_the_face_check_and_is_paid_back(
        page, lang, sessionmaker, card_portal):
    number = PEOPLE[lang]["pensioner"]
    make_pensioner(sessionmaker, number, NAMES["pensioner"], retired=date(2026, 5, 1),
                   certified_on=date(2025, 6, 1), paid_to=date(2026, 6, 1))
    today = _now().date()
    this_month = date(today.year, today.month, 1)
    assert run_payroll(sessionmaker, this_month).paid == 0  # overdue since 2026-06-01: suspended

    person = Portal(page, lang, data=KNOWN)
    person.open(person.with_lang(f"{card_portal}/login?account_type=person"))
    person.sign_in("person", username=number, password=PASSWORD, open_form=False)
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(person.main.locator("#my-pension")).to_be_visible()
    person.follow(person.main.locator("#my-pension").get_by_role("link", name=person.t("Certification")))
    expect(person.main.locator("[data-figure=state]")).to_have_attribute("data-value", "overdue")

    # Signed in with a password: certifying asks for the card's face check first, then brings the person back.
    person.follow(person.button("Confirm with the card and certify"))
    expect(page).to_have_url(re.compile(r"/dev/essc/authorize\?"))
    confirm_at_provider(person, number, face=True)
    expect(page).to_have_url(re.compile(r"/me/certification$"))
    person.follow(person.button("Certify now"))
    expect(person.main.locator("[data-figure=state]")).to_have_attribute("data-value", "certified")

    # The next payroll pays every month not paid while suspended.
    back = run_payroll(sessionmaker, this_month)
    assert back.paid >= 2
    person.follow(person.area_link("Overview"))
    person.open(f"{card_portal}/me/payments")
    expect(person.main.locator("#payments tbody tr", has_text=person.t("Back pay")).first).to_be_visible()


def test_a_family_member_reports_a_death_and_claims_the_survivors_benefits(page, lang, sessionmaker, card_portal):
    people = PEOPLE[lang]
    make_pensioner(sessionmaker, people["deceased"], NAMES["deceased"], retired=date(2025, 12, 1),
                   certified_on=date(2026, 6, 1), paid_to=date(2026, 11, 1), account=False)
    make_person(sessionmaker, people["family"], NAMES["family"], start=date(2015, 1, 1), end=date(2015, 1, 1))
    person = Portal(page, lang, data=KNOWN)
    card_sign_in(person, card_portal, people["family"])
    person.follow(person.main.get_by_role("link", name=person.t("Report a death and claim survivors' benefits")))

    form = person.main.locator("form[action='/me/claims/survivor/death']")
    person.fill(id_number=people["deceased"], date_of_death="2026-09-20")
    person.field("relationship").select_option("child")
    expect(form.locator("input[name=password]")).to_have_count(0)  # a person never commits with the password
    form.locator("#death_mode-proof").check()  # the death certificate instead of the commitment
    form.locator("#field-death_attachment").set_input_files(files=[{
        "name": "death-certificate.pdf" if lang == "en" else "死亡证明.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% a death certificate\n%%EOF\n"}])
    person.follow(person.button("Report the death", within=form))
    expect(person.flash()).to_be_visible()
    card = person.main.locator("section.card", has_text=NAMES["deceased"])
    expect(card.get_by_role("link", name=person.t("The death certificate you attached"))).to_be_visible()
    expect(card).to_contain_text("¥")  # the payment already made for October and November is to be repaid

    claim = card.locator("form[action='/me/claims/survivor']")
    claim.locator("#field-bank_code").select_option("BOC")
    claim.locator("#field-card_number").fill(CARD)
    claim.locator("#field-claim_relationship").select_option("child")
    expect(person.main.locator("#supervision-how")).to_have_text(person.t(
        "A member of staff will check your request and a second member of staff will review the decision."))
    expect(claim.locator("#commitment-face")).to_be_visible()  # signed in with the card's face check
    claim.locator("#mode-commit").check()  # commits to the kinship; the card's face check confirms it
    person.follow(person.button("Claim the survivors' benefits", within=claim))
    expect(page).to_have_url(re.compile(r"/me/requests/JL\d+$"))


def test_staff_at_the_counter_record_a_death_and_file_a_brothers_claim_as_the_heir(open_page, lang, sessionmaker):
    from sqlmodel import select

    from e2e.conftest import fresh_staff
    from portal.db import transaction
    from portal.models import Case

    offset = 0 if lang == "zh_CN" else 2
    died = make_resident_id("220102", date(1958, 7, 14), 111 + offset)
    brother = make_resident_id("220102", date(1955, 2, 20), 131 + offset)
    make_pensioner(sessionmaker, died, "吴建国", retired=date(2018, 7, 1), certified_on=date(2026, 6, 1),
                   paid_to=date(2026, 11, 1), account=False)
    make_person(sessionmaker, brother, "吴建军", start=date(2000, 1, 1), end=date(1999, 1, 1), account=False)
    clerk = fresh_staff(sessionmaker, "handler")
    counter = staff_portal(open_page, clerk, lang, (*KNOWN, "吴建国", "吴建军", clerk.name))
    counter.open("/staff/counter/benefits")

    death = counter.main.locator("form[action='/staff/counter/benefits/death']")
    counter.fill(death_id_number=died, date_of_death="2026-10-08")
    counter.follow(counter.button("Record the death", within=death))
    expect(counter.flash()).to_be_visible()

    claim = counter.main.locator("form[action='/staff/counter/benefits/survivor']")
    counter.fill(claimant_id_number=brother, deceased_id_number=died, survivor_card_number=CARD)
    counter.field("survivor_relationship").select_option("sibling")
    counter.field("survivor_bank_code").select_option("BOC")
    counter.follow(counter.button("File the survivors' claim", within=claim))
    expect(counter.field_error("survivor_signed")).to_be_visible()  # not signed yet: nothing is filed
    claim.locator("#survivor_signed").check()
    counter.follow(counter.button("File the survivors' claim", within=claim))
    expect(counter.flash()).to_be_visible()
    with transaction(sessionmaker) as session:
        case = session.exec(select(Case).where(Case.kind == "survivor_claim", Case.channel == "counter")
                            .order_by(Case.id.desc())).first()
        assert case is not None and case.counter_staff_id is not None
