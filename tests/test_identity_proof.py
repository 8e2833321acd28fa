"""An account sees a person's record only once it has proven it is that person, and no answer tells a visitor
whether a record, a mobile number or an account exists for an identity number."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from portal import clock
from portal.app import create_app
from portal.devtools import demo
from portal.identifiers import make_resident_id
from portal.models import AuditEvent, IdentityClaim, IdentityCode, Person, PersonAccount, WebSession
from tests import factories
from tests.helpers import another_browser, app_routes, fill_path, sign_in_person, sign_in_staff, token_from

pytestmark = pytest.mark.usefixtures("cheap_hashing", "frozen_clock")

EMPLOYEE, EMPLOYEE_NAME, EMPLOYEE_MOBILE = demo.PERSONS[0][1], demo.PERSONS[0][2], demo.PERSONS[0][3]
NEW_PASSWORD = "Spring-Garden-Lantern"
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
MASKED = re.compile(r'((?:name="(?:csrf_token|idempotency_key)" value|name="csrf-token" content)=")[^"]*(")')


def masked(html: str) -> str:
    """A page with its per-visitor tokens blanked, to compare two answers byte for byte."""
    return MASKED.sub(r"\1…\2", html)


@pytest.fixture
def employee(db) -> Person:
    """The demo employee 王建国: months from 2020 on, the mobile number 13904310001 on record."""
    demo.seed(session=db, now=clock.now(), today=clock.today())
    person = db.exec(select(Person).where(Person.id_number == EMPLOYEE)).one()
    db.commit()
    return person


def make_unproven(db, person: Person) -> PersonAccount:
    """As every account opened before proof was required: it signs in, but has proven nothing."""
    account = db.exec(select(PersonAccount).where(PersonAccount.person_id == person.id)).one()
    account.identity_proven_at, account.identity_proof = None, ""
    db.add(account)
    db.commit()
    return account


def register(client, *, id_number: str, name: str, password: str = NEW_PASSWORD, path: str = "/register",
             headers: dict | None = None):
    data = {"id_number": id_number, "name": name, "password": password, "password_confirm": password,
            "csrf_token": token_from(client, path)}
    return client.post(path, data=data, headers=headers or {})


def enter_code(client, code: str, path: str = "/register/code"):
    return client.post(path, data={"code": code, "csrf_token": token_from(client, path.removesuffix("/send"))})


def sent_codes(app, mobile: str) -> list[str]:
    return [CODE.search(message.text).group(1) for message in app.state.notifier.messages(to=mobile)
            if message.purpose == "code"]


def count(db, model, *where) -> int:
    found = db.exec(select(func.count()).select_from(model).where(*where)).one()
    db.commit()
    return found


# --- Until proven, an account sees nothing of the record -----------------------------------------------------

RECORD_DATA = (demo.EMPLOYER_NAME, "2023年6月", "2023-06", "1985年", "4310001", "certificate/", "¥")


def test_every_person_page_sends_an_unproven_account_to_the_proof_step_and_shows_no_record_data(
        app, client, db, employee):
    make_unproven(db, employee)
    assert sign_in_person(client, EMPLOYEE, demo.DEMO_PASSWORD).headers["location"] == "/me"
    walked = 0
    for template, methods, endpoint in app_routes(app):
        access = endpoint.__access__
        if access.kind != "person" or not access.proven:
            continue
        path = fill_path(template, {"code": "ABCDEFGHJKMNPQRS", "reference": "R1"})
        for method in methods:
            if method == "HEAD":
                continue
            response = client.request(method, path, data={"csrf_token": token_from(client, "/me/prove")}
                                      if method == "POST" else None)
            assert response.status_code == 303 and response.headers["location"] == "/me/prove", (method, path)
            assert not any(data in response.text for data in RECORD_DATA), (method, path)
            walked += 1
    assert walked >= 20  # records, certificate, flexible, requests, notices, corrections: every one of them
    proof = client.get("/me/prove", headers={"Accept-Language": "en"})
    assert proof.status_code == 200
    assert "Before you can see your record, prove that this account is yours" in proof.text
    assert not any(data in proof.text for data in RECORD_DATA)


def test_the_proof_step_itself_is_the_only_person_page_open_to_an_unproven_account(app):
    open_pages = sorted({path for path, _methods, endpoint in app_routes(app)
                         if endpoint.__access__.kind == "person" and not endpoint.__access__.proven})
    assert open_pages == ["/me/prove", "/me/prove/send"]


def test_the_services_refuse_an_unproven_principal_too(db, employee):
    from portal.auth.principal import Actor, Principal
    from portal.errors import Forbidden
    from portal.services import certificates

    actor = Actor(Principal(kind="person", account_id=1, display_name="x", person_id=employee.id,
                            identity_proven=False))
    with pytest.raises(Forbidden):
        certificates.issue(db, actor=actor, now=clock.now())


def test_an_unproven_account_proves_itself_with_a_code_sent_to_the_number_on_record(app, client, db, employee):
    make_unproven(db, employee)
    sign_in_person(client, EMPLOYEE, demo.DEMO_PASSWORD)

    sent = client.post("/me/prove/send", data={"csrf_token": token_from(client, "/me/prove")})
    assert sent.status_code == 303 and sent.headers["location"] == "/me/prove"
    [code] = sent_codes(app, EMPLOYEE_MOBILE)
    assert enter_code(client, "000000" if code != "000000" else "111111", "/me/prove").status_code == 422
    proven = enter_code(client, code, "/me/prove")

    assert proven.status_code == 303 and proven.headers["location"] == "/me"
    assert demo.EMPLOYER_NAME in client.get("/me/records").text
    account = db.exec(select(PersonAccount).where(PersonAccount.person_id == employee.id)).one()
    assert account.identity_proof == "sms" and account.identity_proven_at == clock.now()


def test_an_unproven_account_proves_itself_with_a_counter_activation_code(app, client, db, employee):
    make_unproven(db, employee)
    staff = factories.staff(db, roles="handler")
    db.commit()
    counter = another_browser(app)
    sign_in_staff(counter, staff)
    letter = counter.post("/staff/counter/activation", data={
        "id_number": EMPLOYEE, "mobile": "", "csrf_token": token_from(counter, "/staff/counter/activation")})
    assert letter.status_code == 200 and letter.headers["cache-control"] == "no-store"
    code = re.search(r'id="activation-code">([A-Z0-9-]{14})<', letter.text).group(1)

    sign_in_person(client, EMPLOYEE, demo.DEMO_PASSWORD)
    assert enter_code(client, code.lower().replace("-", " "), "/me/prove").headers["location"] == "/me"
    assert demo.EMPLOYER_NAME in client.get("/me/records").text
    assert count(db, IdentityCode, IdentityCode.kind == "letter", IdentityCode.used_at.is_not(None)) == 1


# --- Registration: the same answer for everyone, and the code only to the number on record -------------------

def _answers(app, *, id_number: str, name: str, address: str) -> tuple:
    browser = another_browser(app, address=address)
    response = register(browser, id_number=id_number, name=name)
    page = browser.get("/register/code")
    return response.status_code, response.headers.get("location"), response.text, masked(page.text)


def test_registration_answers_the_same_whether_or_not_a_record_a_mobile_or_an_account_exists(app, db, employee):
    no_mobile = factories.person(db, name="赵无号", birth=date(1990, 2, 2))
    db.commit()
    nobody = make_resident_id("220102", date(1991, 3, 3), 77)

    answers = {
        "an account": _answers(app, id_number=EMPLOYEE, name=EMPLOYEE_NAME, address="198.51.100.1"),
        "a record with no mobile": _answers(app, id_number=no_mobile.id_number, name="赵无号", address="198.51.100.2"),
        "no record": _answers(app, id_number=nobody, name="钱无名", address="198.51.100.3"),
        "another name": _answers(app, id_number=EMPLOYEE, name="冒名者", address="198.51.100.4"),
    }

    assert len(set(answers.values())) == 1, {key: value[:2] for key, value in answers.items()}
    status, location, _body, page = answers["no record"]
    assert (status, location) == (303, "/register/code")
    assert "activation code" in page or "激活码" in page  # where to turn without a number on record
    assert len(sent_codes(app, EMPLOYEE_MOBILE)) == 1  # the one matching claim, to the number on record only
    assert count(db, PersonAccount) == 3 and count(db, Person, Person.id_number == nobody) == 0


def test_registering_for_someone_elses_identity_number_fails_without_the_code(app, client, db, employee):
    account = db.exec(select(PersonAccount).where(PersonAccount.person_id == employee.id)).one()
    before = account.password_hash
    db.commit()
    register(client, id_number=EMPLOYEE, name=EMPLOYEE_NAME)

    guesses = [enter_code(client, f"{n:06d}") for n in range(5)]

    assert [r.status_code for r in guesses] == [422] * 4 + [409]  # the fifth wrong code closes the claim
    assert enter_code(client, sent_codes(app, EMPLOYEE_MOBILE)[0]).status_code == 409  # too late, even if right
    db.expire_all()
    assert db.get(PersonAccount, account.id).password_hash == before
    db.commit()
    assert sign_in_person(client, EMPLOYEE, NEW_PASSWORD).status_code == 400


def test_a_person_with_a_mobile_on_record_registers_with_the_code_and_sees_their_record(app, client, db):
    employer = factories.employer(db)
    owner = factories.person(db, name="孙新人", birth=date(1992, 4, 4))
    owner.mobile, owner.mobile_source = "13912340000", "enrolment"
    from tests.records.support import spell

    spell(db, person=owner, employer=employer, start=date(2024, 1, 1))
    db.commit()

    register(client, id_number=owner.id_number, name="孙新人")
    [code] = sent_codes(app, "13912340000")
    assert code not in db.exec(select(IdentityCode.code_hash)).one()  # only a hash is kept
    db.commit()
    done = enter_code(client, code)

    assert done.status_code == 303 and done.headers["location"] == "/me"
    assert client.get("/me/records").status_code == 200 and "孙新人" in client.get("/me").text
    assert enter_code(client, code).status_code == 409  # used once
    account = db.exec(select(PersonAccount).where(PersonAccount.person_id == owner.id)).one()
    assert (account.identity_proof, account.mobile) == ("sms", "13912340000")
    db.commit()
    assert sign_in_person(another_browser(app), owner.id_number, NEW_PASSWORD).headers["location"] == "/me"


def test_a_code_expires(app, client, db, employee, frozen_clock):
    make_unproven(db, employee)
    register(client, id_number=EMPLOYEE, name=EMPLOYEE_NAME)
    [code] = sent_codes(app, EMPLOYEE_MOBILE)
    frozen_clock(clock.now() + timedelta(minutes=10, seconds=1))
    assert enter_code(client, code).status_code == 422


def test_an_identity_number_without_a_record_never_reaches_a_record_or_a_certificate(app, client, db):
    nobody = make_resident_id("220102", date(1991, 3, 3), 78)
    register(client, id_number=nobody, name="钱无名")
    assert enter_code(client, "ACDE-FGHJ-KMNP").status_code == 422
    assert count(db, PersonAccount) == 0 and count(db, Person) == 0
    assert client.get("/me/certificate").headers["location"].startswith("/login")


def test_a_counter_cannot_issue_an_activation_code_without_a_record(app, db):
    staff = factories.staff(db, roles="handler")
    db.commit()
    counter = another_browser(app)
    sign_in_staff(counter, staff)
    nobody = make_resident_id("220102", date(1991, 3, 3), 79)
    response = counter.post("/staff/counter/activation?lang=en", data={
        "id_number": nobody, "mobile": "139", "csrf_token": token_from(counter, "/staff/counter/activation")})
    assert response.status_code == 422
    assert "Enter an 11-digit mainland mobile number" in response.text
    assert count(db, IdentityCode) == 0


def test_the_portal_command_prints_a_single_use_activation_code(db, employee, database_url, monkeypatch, capsys):
    from portal.cli import main as portal

    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_ENV", "test")
    assert portal(["identity", "letter", EMPLOYEE, "--mobile", "13912349999"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", out) and EMPLOYEE_NAME in out
    db.expire_all()
    assert db.get(Person, employee.id).mobile == "13912349999"  # the counter's number is now on record
    assert portal(["identity", "letter", "123"]) == 2


# --- Forgotten password --------------------------------------------------------------------------------------

def test_a_forgotten_password_is_reset_by_the_same_proof_and_every_session_ends(app, client, db, employee):
    signed_in = another_browser(app)
    assert sign_in_person(signed_in, EMPLOYEE, demo.DEMO_PASSWORD).status_code == 303
    assert signed_in.get("/me").status_code == 200

    asked = register(client, id_number=EMPLOYEE, name=EMPLOYEE_NAME, path="/password/forgotten")
    assert asked.headers["location"] == "/register/code"
    [code] = sent_codes(app, EMPLOYEE_MOBILE)
    assert enter_code(client, code).headers["location"] == "/me"

    assert signed_in.get("/me").status_code == 303  # the other device is signed out
    assert count(db, WebSession) == 1
    assert sign_in_person(another_browser(app), EMPLOYEE, demo.DEMO_PASSWORD).status_code == 400
    assert sign_in_person(another_browser(app), EMPLOYEE, NEW_PASSWORD).status_code == 303
    notices = [m.text for m in app.state.notifier.messages(to=EMPLOYEE_MOBILE) if m.purpose == "notice"]
    assert len(notices) == 1  # the holder hears that the password was set


# --- Sign-in answers ------------------------------------------------------------------------------------------

def test_sign_in_answers_byte_for_byte_the_same_for_unknown_existing_and_locked_accounts(app, client, db):
    number = make_resident_id("220102", date(1980, 1, 1), 55)

    def answer():
        response = sign_in_person(client, number, "Not-The-Password-1")
        return response.status_code, masked(response.text)

    unknown = answer()
    factories.person_account(db, id_number=number, mobile="13911113333")
    db.commit()
    existing = [answer() for _ in range(5)]  # the fifth locks the account
    locked = answer()
    right_but_locked = sign_in_person(client, number)

    assert db.exec(select(PersonAccount)).one().locked_until is not None
    assert {unknown, *existing, locked, (right_but_locked.status_code, masked(right_but_locked.text))} == {unknown}
    assert unknown[0] == 400 and 'href="/password/forgotten"' in unknown[1]
    [notice] = app.state.notifier.messages(to="13911113333")
    assert notice.purpose == "notice"


# --- Throttles: 429 with Retry-After, keyed on the address the trusted proxy saw ----------------------------

@pytest.fixture
def strict_app(settings, db):
    application = create_app(dataclasses.replace(settings, address_claims=2, address_code_requests=2,
                                                 address_attempts=3))
    yield application
    application.state.sealer.close()
    application.state.engine.dispose()


def test_registrations_from_one_address_are_throttled_with_retry_after(strict_app, db):
    browser = another_browser(strict_app, address="198.51.100.9")
    numbers = [make_resident_id("220102", date(1990, 1, 1), n) for n in (61, 62, 63)]
    statuses = [register(browser, id_number=n, name="李明", headers={"Accept-Language": "en"}) for n in numbers]

    assert [r.status_code for r in statuses] == [303, 303, 429]
    assert statuses[2].headers["retry-after"] == "3600"
    assert "Too many requests from your network" in statuses[2].text
    assert f'value="{numbers[2]}"' in statuses[2].text and NEW_PASSWORD not in statuses[2].text
    assert count(db, IdentityClaim) == 2
    elsewhere = another_browser(strict_app, address="198.51.100.10")
    assert register(elsewhere, id_number=numbers[2], name="李明").status_code == 303


def test_code_requests_from_one_address_are_throttled_with_retry_after(strict_app, db):
    browser = another_browser(strict_app, address="198.51.100.11")
    register(browser, id_number=make_resident_id("220102", date(1990, 1, 1), 64), name="李明")
    resend = [browser.post("/register/code/resend", data={"csrf_token": token_from(browser, "/register/code")})
              for _ in range(3)]
    assert [r.status_code for r in resend] == [303, 303, 429]
    assert resend[2].headers["retry-after"] == "3600"


def test_codes_to_one_number_are_limited_whoever_asks(app, db, employee):
    for n in range(5):
        register(another_browser(app, address=f"198.51.100.{20 + n}"), id_number=EMPLOYEE, name=EMPLOYEE_NAME)
    assert len(sent_codes(app, EMPLOYEE_MOBILE)) == 3  # settings.codes_per_number in the hour
    assert count(db, AuditEvent, AuditEvent.action == "identity.code_withheld") == 2


def _proxied(app, peer: str):
    from starlette.testclient import TestClient
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    # What uvicorn --proxy-headers --forwarded-allow-ips=127.0.0.1 puts in front of the portal.
    return TestClient(ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1"), base_url="http://testserver",
                      follow_redirects=False, client=(peer, 50000))


def test_x_forwarded_for_from_an_untrusted_peer_does_not_change_the_throttle_key(strict_app, db):
    browser = _proxied(strict_app, "198.51.100.40")
    number = make_resident_id("220102", date(1980, 1, 1), 56)
    answers = [sign_in_person(browser, number, "Not-The-Password-1",
                              headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(4)]

    assert answers == [400, 400, 400, 429]
    addresses = set(db.exec(select(AuditEvent.client_address).where(
        AuditEvent.action == "auth.sign_in_failed")).all())
    assert addresses == {"198.51.100.40"}


def test_the_trusted_proxy_passes_on_the_address_it_saw(strict_app, db):
    browser = _proxied(strict_app, "127.0.0.1")
    number = make_resident_id("220102", date(1980, 1, 1), 57)
    sign_in_person(browser, number, "Not-The-Password-1", headers={"X-Forwarded-For": "203.0.113.8"})
    assert db.exec(select(AuditEvent.client_address).where(AuditEvent.action == "auth.sign_in_failed")).one() \
        == "203.0.113.8"
