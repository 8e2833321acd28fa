"""Signing in with the electronic social security card, against the stand-in provider served on loopback."""

from __future__ import annotations

import json
import re
import secrets
from contextlib import contextmanager
from datetime import timedelta
from html import unescape
from urllib.parse import urlencode

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlmodel import select
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from portal import clock
from portal.models import AuditEvent, CardLink, Person, PersonAccount, WebSession
from portal.services import essc as service
from portal.web.access import PERSON_FACE
from portal.web.endpoint import endpoint
from tests import factories
from tests.essc_support import HIDDEN, CardBrowser, MinimalProvider, elsewhere, query_of, served
from tests.helpers import sign_in_person

WANG = "220102198503150111"
NEWCOMER = "220102199001010017"


@pytest.fixture(scope="session")
def key_path(tmp_path_factory):
    return tmp_path_factory.mktemp("essc") / "stand_in_key.json"


@endpoint(PERSON_FACE)
def _sign_a_commitment(ctx):
    """Stands for the pages where a commitment or a claim is signed."""
    return PlainTextResponse(f"signed by {ctx.principal.display_name}")


FACE_ROUTES = (Route("/me/sign", _sign_a_commitment, methods=["GET", "POST"]),)


@pytest.fixture
def portal(settings, db, key_path):
    with served(settings, key_path=key_path, extra_routes=FACE_ROUTES) as (base, app):
        yield base, app


@pytest.fixture
def browser(portal):
    base, _app = portal
    visitor = CardBrowser(base)
    yield visitor
    visitor.close()


def wang(db, **kwargs) -> PersonAccount:
    account = factories.person_account(db, name="王建国", id_number=WANG, **kwargs)
    db.commit()
    return account


def refusals(db) -> list[str]:
    # Every read ends its transaction: the live server's requests write to the same SQLite file.
    db.expire_all()
    found = [json.loads(event.detail or "{}").get("reason", "") for event in db.exec(
        select(AuditEvent).where(AuditEvent.action == "essc.refused")).all()]
    db.rollback()
    return found


def actions(db) -> list[str]:
    db.expire_all()
    found = [event.action for event in db.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()]
    db.rollback()
    return found


def assurances(db, account_id: int) -> list[str]:
    db.expire_all()
    found = [row.assurance for row in db.exec(select(WebSession).where(
        WebSession.account_kind == "person", WebSession.account_id == account_id)).all()]
    db.rollback()
    return found


# --- the round trip --------------------------------------------------------------------------------------------

def test_a_person_with_an_account_signs_in_with_the_card_and_lands_on_their_page(db, browser):
    account = wang(db)
    answer = browser.sign_in(WANG)
    assert answer.status_code == 303 and answer.headers["location"] == "/me"
    assert assurances(db, account.id) == ["card"]
    assert browser.get("/me").status_code == 200


def test_the_provider_is_asked_for_the_code_flow_with_pkce_s256_state_nonce_and_the_configured_scopes(browser):
    sent = query_of(browser.start())
    assert sent["response_type"] == "code"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["state"] and sent["nonce"] and sent["state"] != sent["nonce"]
    assert sent["scope"] == "openid profile essc"
    assert sent["redirect_uri"].endswith("/auth/essc/callback")


def test_a_face_check_at_the_provider_is_recorded_on_the_session(db, browser):
    account = wang(db)
    browser.sign_in(WANG, face=True)
    assert assurances(db, account.id) == ["face"]


def test_the_first_card_sign_in_links_the_account_by_identity_number_and_later_ones_by_the_subject(db, browser):
    account = wang(db)
    browser.sign_in(WANG)
    db.expire_all()
    link = db.exec(select(CardLink)).one()
    assert link.account_id == account.id and link.subject and link.subject != WANG
    # The record's identity number changes (a correction): the link by subject still finds the account.
    person = db.get(Person, account.person_id)
    person.id_number = "220102198503150097"
    db.add(person)
    db.commit()
    again = CardBrowser(browser.base)
    try:
        assert again.sign_in(WANG).headers["location"] == "/me"
    finally:
        again.close()
    assert len(db.exec(select(CardLink)).all()) == 1


def test_a_card_sign_in_proves_an_unproven_account(db, browser):
    account = wang(db, proven=False)
    browser.sign_in(WANG)
    db.expire_all()
    proven = db.get(PersonAccount, account.id)
    assert proven.identity_proven_at is not None and proven.identity_proof == "essc"


def test_a_cardholder_without_an_account_gets_one_and_is_signed_in_once_they_confirm_a_mobile_number(db, browser):
    answer = browser.sign_in(NEWCOMER, next_url="/me/records%3Fyear%3D2026")
    assert answer.status_code == 303 and answer.headers["location"] == "/auth/essc/mobile"
    db.expire_all()
    person = db.exec(select(Person).where(Person.id_number == NEWCOMER)).one()
    account = db.exec(select(PersonAccount).where(PersonAccount.person_id == person.id)).one()
    assert person.name == "赵新民" and account.identity_proof == "essc" and account.password_hash == ""
    assert account.mobile == ""
    account_id = account.id
    db.rollback()
    assert assurances(db, account_id) == []  # no session before the mobile number is confirmed
    assert browser.get("/me").status_code == 303
    form = browser.get("/auth/essc/mobile")
    assert form.status_code == 200 and 'name="mobile"' in form.text
    token = browser.csrf("/auth/essc/mobile")
    wrong = browser.post("/auth/essc/mobile", {"csrf_token": token, "mobile": "12345"})
    assert wrong.status_code == 422 and 'value="12345"' in wrong.text
    assert assurances(db, account_id) == []
    saved = browser.post("/auth/essc/mobile", {"csrf_token": token, "mobile": "13912345678"})
    assert saved.status_code == 303 and saved.headers["location"] == "/me/records?year=2026"
    db.expire_all()
    assert db.get(PersonAccount, account_id).mobile == "13912345678"
    db.rollback()
    assert assurances(db, account_id) == ["card"]
    assert browser.get("/me").status_code == 200
    assert "account.mobile_confirmed" in actions(db)


def test_the_mobile_number_on_record_is_offered_to_confirm(db, browser):
    on_record = factories.person(db, name="赵新民", id_number=NEWCOMER)
    on_record.mobile, on_record.mobile_source = "13700000009", "enrolment"
    db.commit()
    assert browser.sign_in(NEWCOMER).headers["location"] == "/auth/essc/mobile"
    assert 'value="13700000009"' in browser.get("/auth/essc/mobile").text


def test_a_cardholder_who_left_without_confirming_a_mobile_number_is_asked_again(db, browser):
    assert browser.sign_in(NEWCOMER).headers["location"] == "/auth/essc/mobile"
    again = CardBrowser(browser.base)
    try:
        assert again.sign_in(NEWCOMER).headers["location"] == "/auth/essc/mobile"
        assert again.get("/me").status_code == 303
    finally:
        again.close()


def test_the_mobile_step_without_a_card_sign_in_changes_nothing(db, browser):
    account = wang(db, mobile="")
    token = browser.csrf("/login")
    answer = browser.post("/auth/essc/mobile", {"csrf_token": token, "mobile": "13912345678"})
    assert answer.status_code == 400
    db.expire_all()
    assert db.get(PersonAccount, account.id).mobile == "" and assurances(db, account.id) == []
    db.rollback()


def test_a_locked_account_is_refused_with_a_clear_message_and_no_session(db, browser):
    account = wang(db)
    account.locked_until = clock.now() + timedelta(minutes=10)
    db.add(account)
    db.commit()
    answer = browser.sign_in(WANG)
    assert answer.status_code == 403
    assert "Your account is locked" in answer.text or "您的账户已被锁定" in answer.text
    assert assurances(db, account.id) == []
    assert refusals(db) == ["locked"]
    db.expire_all()
    assert db.exec(select(CardLink)).all() == []  # refused before any link is made
    db.rollback()


def test_an_identity_number_failing_its_check_digit_is_refused(db, settings, key_path):
    from portal.devtools.essc_provider import Cardholder

    bad = Cardholder("220102199001010018", "钱错号")
    with served(settings, key_path=key_path, cardholders=(bad,)) as (base, _app):
        visitor = CardBrowser(base)
        try:
            answer = visitor.sign_in(bad.id_number)
        finally:
            visitor.close()
    assert answer.status_code == 403
    assert "identity number that is not valid" in answer.text or "身份证号码无效" in answer.text
    db.expire_all()
    assert db.exec(select(Person)).all() == [] and db.exec(select(CardLink)).all() == []
    assert refusals(db) == ["id_number:id_check"]


def test_claims_missing_from_the_id_token_are_read_from_the_userinfo_endpoint(db, settings, key_path):
    account = wang(db)
    with served(settings, key_path=key_path, id_token_claims=False) as (base, _app):
        visitor = CardBrowser(base)
        try:
            answer = visitor.sign_in(WANG)
        finally:
            visitor.close()
    assert answer.status_code == 303 and answer.headers["location"] == "/me"
    assert len(assurances(db, account.id)) == 1


def test_a_step_up_with_someone_elses_card_is_refused(db, browser):
    wang(db)
    factories.person_account(db, name="赵新民", id_number=NEWCOMER)
    db.commit()
    browser.sign_in(NEWCOMER)
    answer = browser.sign_in(WANG, face=True)
    assert answer.status_code == 403
    assert refusals(db) == ["someone_else"]


# --- rejections --------------------------------------------------------------------------------------------------

def test_a_callback_with_the_wrong_state_is_refused(db, browser):
    account = wang(db)
    callback = browser.confirm_at_provider(browser.start(), WANG)
    answer = browser.get(callback.replace("state=", "state=x"))
    assert answer.status_code == 400
    assert assurances(db, account.id) == [] and refusals(db) == ["state"]


def test_a_callback_from_another_browser_is_refused(db, browser):
    """Login CSRF: an attacker's code sent to a victim's browser, which never started this sign-in."""
    account = wang(db)
    callback = browser.confirm_at_provider(browser.start(), WANG)
    victim = CardBrowser(browser.base)
    try:
        assert victim.get(callback).status_code == 400
    finally:
        victim.close()
    assert assurances(db, account.id) == [] and refusals(db) == ["state"]


def test_a_replayed_code_signs_nobody_in(db, browser):
    account = wang(db)
    callback = browser.confirm_at_provider(browser.start(), WANG)
    assert browser.get(callback).status_code == 303
    browser.http.cookies.clear()
    browser.start()  # a fresh login state in the browser, and the old answer sent again
    assert browser.get(callback).status_code == 400
    assert len(assurances(db, account.id)) == 1


def _own_authorization(browser, *, challenge: str | None) -> tuple[str, str]:
    """A client's own authorization request at the stand-in; returns (code or error, verifier)."""
    verifier = "v" * 10 + secrets.token_urlsafe(40)
    params = {"response_type": "code", "client_id": "portal-test", "scope": "openid profile essc",
              "redirect_uri": f"{browser.base}/auth/essc/callback", "state": "s" * 20, "nonce": "n" * 20}
    if challenge is not None:
        params.update(code_challenge=challenge or create_s256_code_challenge(verifier), code_challenge_method="S256")
    url = f"{browser.base}/dev/essc/authorize?{urlencode(params)}"
    page = browser.get(url)
    if page.status_code == 302:  # refused before the sign-in page
        return query_of(page.headers["location"]).get("error", ""), verifier
    answer = query_of(browser.confirm_at_provider(url, WANG))
    return answer.get("code") or answer.get("error", ""), verifier


def _trade(browser, code: str, verifier: str | None):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": f"{browser.base}/auth/essc/callback"}
    if verifier is not None:
        data["code_verifier"] = verifier
    return browser.http.post("/dev/essc/token", data=data, auth=("portal-test", "test-client-secret"))


def test_the_provider_requires_pkce_s256_of_every_client(browser):
    error, _verifier = _own_authorization(browser, challenge=None)
    assert error == "invalid_request"


def test_the_provider_refuses_a_missing_or_wrong_pkce_verifier(browser):
    code, _verifier = _own_authorization(browser, challenge="")
    missing = _trade(browser, code, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    code, _verifier = _own_authorization(browser, challenge="")
    wrong = _trade(browser, code, "w" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_the_provider_refuses_a_replayed_code_at_its_token_endpoint(browser):
    code, verifier = _own_authorization(browser, challenge="")
    first = _trade(browser, code, verifier)
    assert first.status_code == 200 and first.json()["id_token"]
    again = _trade(browser, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_wrong_verifier_kept_by_the_portal_ends_in_a_refusal(db, browser):
    """The login state cookie carries another verifier than the one the challenge was made from."""
    from itsdangerous import URLSafeTimedSerializer

    account = wang(db)
    callback = browser.confirm_at_provider(browser.start(), WANG)
    signer = URLSafeTimedSerializer("test-secret-key-not-for-production", salt="essc-login")
    saved = signer.loads(browser.http.cookies["portal_essc_login"])
    browser.http.cookies.delete("portal_essc_login")
    browser.http.cookies.set("portal_essc_login", signer.dumps({**saved, "verifier": "x" * 64}), domain="127.0.0.1")
    assert browser.get(callback).status_code == 400
    assert assurances(db, account.id) == [] and refusals(db) == ["token:invalid_grant"]


# --- the ID token, checked by the portal -------------------------------------------------------------------------

def _signed(key_path, claims: dict) -> str:
    from joserfc import jwt

    from portal.devtools.essc_provider import load_key

    key = load_key(key_path)
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


@pytest.fixture
def checked(portal, key_path):
    """A token signed with the provider's key, fine in every claim except those a test changes."""
    from portal.auth import essc as protocol

    _base, app = portal
    live = app.state.settings
    document = protocol.metadata(live)
    now = clock.now()

    def check(**changes):
        claims = {"iss": document["issuer"], "aud": live.essc_client_id, "sub": "abc", "nonce": "right-nonce",
                  "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 300, **changes}
        claims = {k: v for k, v in claims.items() if v is not None}
        return protocol.verify_id_token(live, document, _signed(key_path, claims), nonce="right-nonce",
                                        access_token=None, now=now)

    return check


def test_a_well_formed_id_token_passes(checked):
    assert checked()["sub"] == "abc"


@pytest.mark.parametrize("changes", [
    {"nonce": "wrong-nonce"}, {"nonce": None},
    {"iss": "https://another-provider.example.cn"},
    {"aud": "another-client"},
    {"exp": 1_000_000_000},
], ids=["wrong nonce", "no nonce", "another issuer", "another audience", "expired"])
def test_an_id_token_failing_a_check_is_rejected(checked, changes):
    from portal.auth import essc as protocol

    with pytest.raises(protocol.Rejected):
        checked(**changes)


def test_an_id_token_signed_by_another_key_is_rejected(portal, tmp_path):
    from portal.auth import essc as protocol

    _base, app = portal
    live = app.state.settings
    document = protocol.metadata(live)
    now = clock.now()
    forged = _signed(tmp_path / "other.json", {"iss": document["issuer"], "aud": live.essc_client_id, "sub": "abc",
                                               "nonce": "n", "iat": int(now.timestamp()),
                                               "exp": int(now.timestamp()) + 300})
    with pytest.raises(protocol.Rejected):
        protocol.verify_id_token(live, document, forged, nonce="n", access_token=None, now=now)


# --- never in production -----------------------------------------------------------------------------------------

def test_the_stand_in_cannot_be_loaded_in_production():
    import os
    import subprocess
    import sys

    environment = {**os.environ, "PORTAL_ENV": "production"}
    result = subprocess.run([sys.executable, "-c", "import portal.devtools.essc_provider"], env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "ImportError" in result.stderr


def test_a_production_portal_serves_no_stand_in(settings):
    from dataclasses import replace

    from portal.app import create_app

    app = create_app(replace(settings, env="production", essc_issuer="https://essc.example.cn",
                             essc_client_id="portal", essc_client_secret="secret"))
    try:
        assert not [route for route in app.routes if getattr(route, "path", "").startswith("/dev")]
    finally:
        app.state.sealer.close()
        app.state.engine.dispose()


def test_a_denied_sign_in_at_the_provider_is_refused(db, browser):
    wang(db)
    callback = browser.confirm_at_provider(browser.start(), WANG, decision="deny")
    assert "error=access_denied" in callback
    assert browser.get(callback).status_code == 400
    assert refusals(db) == ["provider_error:access_denied"]


def test_an_http_issuer_off_loopback_or_in_production_is_refused(settings):
    from portal.settings import essc_issuer_problem

    assert essc_issuer_problem("http://127.0.0.1:8000/dev/essc", production=False) is None
    assert essc_issuer_problem("https://essc.example.cn", production=True) is None
    assert essc_issuer_problem("http://essc.example.cn", production=False)
    assert essc_issuer_problem("http://127.0.0.1:8000/dev/essc", production=True)


def test_the_card_sign_in_is_off_without_an_issuer(client):
    assert client.get("/auth/essc/login").status_code == 404


def test_the_qr_lifetime_is_two_minutes():
    assert service.QR_LIFETIME == timedelta(minutes=2)


# --- assurance levels and the step-up ------------------------------------------------------------------------------

def test_a_password_session_is_sent_to_confirm_with_the_face_check_and_comes_back(db, browser):
    account = wang(db)
    assert sign_in_person(browser.http, WANG).status_code == 303
    assert assurances(db, account.id) == ["password"]
    asked = browser.get("/me/sign?what=claim")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/auth/essc/login?face=1&next=%2Fme%2Fsign%3Fwhat%3Dclaim"
    provider = browser.get(asked.headers["location"]).headers["location"]
    assert query_of(provider)["acr_values"] == "urn:essc:acr:face"
    back = browser.get(browser.confirm_at_provider(provider, WANG, face=True))
    assert back.headers["location"] == "/me/sign?what=claim"
    assert browser.get(back.headers["location"]).text == "signed by 王建国"
    assert assurances(db, account.id) == ["face"]  # the password session was replaced


def test_a_card_sign_in_without_the_face_check_does_not_sign(db, browser):
    wang(db)
    browser.sign_in(WANG)
    assert browser.get("/me/sign").headers["location"].startswith("/auth/essc/login?face=1")


def test_a_form_sent_without_the_face_check_returns_to_the_page_it_came_from(db, browser):
    wang(db)
    sign_in_person(browser.http, WANG)
    token = browser.csrf("/accessibility")
    answer = browser.post("/me/sign", {"csrf_token": token},
                          headers={"referer": f"{browser.base}/me/requests/new?kind=claim"})
    assert answer.headers["location"] == "/auth/essc/login?face=1&next=%2Fme%2Frequests%2Fnew%3Fkind%3Dclaim"


def test_a_face_checked_card_session_signs_at_once(db, browser):
    wang(db)
    browser.sign_in(WANG, face=True)
    assert browser.get("/me/sign").text == "signed by 王建国"


# --- QR sign-in ------------------------------------------------------------------------------------------------------

QR_LINK = re.compile(r'<a href="([^"]+)" class="essc-qr__link">')


def _show_qr(browser) -> str:
    page = browser.get("/auth/essc/qr")
    assert page.status_code == 200 and "<svg" in page.text
    return unescape(QR_LINK.search(page.text).group(1))


def _confirm_on_phone(phone, link: str, id_number: str, *, face: bool = False):
    """Scans the code, signs in at the provider, and confirms on the page the portal shows the phone."""
    asked = phone.get(phone.confirm_at_provider(link, id_number, face=face))
    assert asked.status_code == 200 and 'action="/auth/essc/qr/confirm"' in asked.text, asked.text[:300]
    return phone.post("/auth/essc/qr/confirm", dict(HIDDEN.findall(asked.text)))


def _poll(browser):
    token = browser.csrf("/accessibility")
    return browser.post("/auth/essc/qr/poll", {"csrf_token": token}, headers={"hx-request": "true"})


@pytest.fixture
def phone(portal):
    base, _app = portal
    device = CardBrowser(base)
    yield device
    device.close()


def test_a_qr_code_confirmed_on_a_phone_signs_in_the_browser_that_showed_it_once(db, browser, phone):
    account = wang(db)
    link = _show_qr(browser)
    waiting = _poll(browser)
    assert waiting.status_code == 200 and 'hx-trigger="every 1s"' in waiting.text
    assert "hx-trigger" in _poll(browser).text  # scanned is not confirmed yet
    confirmed = _confirm_on_phone(phone, link, WANG, face=True)
    assert confirmed.status_code == 200
    assert "portal_session" not in phone.http.cookies  # the phone is not signed in, the other screen is
    done = _poll(browser)
    assert done.headers["hx-redirect"] == "/me"
    assert browser.get("/me").status_code == 200
    assert assurances(db, account.id) == ["face"]
    browser.http.cookies.delete("portal_session")
    assert "hx-trigger" not in _poll(browser).text  # spent: no more asking, a button for a new code instead


def test_a_used_qr_code_is_refused_on_the_phone(db, browser, phone):
    wang(db)
    link = _show_qr(browser)
    assert _confirm_on_phone(phone, link, WANG).status_code == 200
    another = CardBrowser(browser.base)
    try:
        refused = another.get(another.confirm_at_provider(link, WANG))
        assert refused.status_code == 400 and "/auth/essc/qr/confirm" not in refused.text
    finally:
        another.close()
    assert refusals(db) == ["qr_spent"]


def test_whoever_made_the_qr_code_cannot_confirm_it_for_the_cardholder(db, browser, phone):
    """QR phishing: the code's maker knows its state, but only the cardholder's device holds the signed note."""
    account = wang(db)
    link = _show_qr(browser)
    callback = phone.confirm_at_provider(link, WANG)
    assert phone.get(callback).status_code == 200  # the cardholder scanned, and has not confirmed
    maker = CardBrowser(browser.base)
    try:
        token = maker.csrf("/login")
        assert maker.post("/auth/essc/qr/confirm", {"csrf_token": token}).status_code == 400
    finally:
        maker.close()
    assert "hx-trigger" in _poll(browser).text and assurances(db, account.id) == []


def test_an_expired_qr_code_is_refused_on_both_screens(db, browser, phone):
    account = wang(db)
    link = _show_qr(browser)
    clock.freeze(clock.now() + timedelta(minutes=2, seconds=1))
    try:
        expired = _poll(browser)
        assert "hx-trigger" not in expired.text and "/auth/essc/qr" in expired.text
        spent = phone.get(phone.confirm_at_provider(link, WANG))
        assert spent.status_code == 400 and ("expired" in spent.text or "已过期" in spent.text)
        assert "hx-trigger" not in _poll(browser).text
        assert "hx-trigger" not in _poll(browser).text
    finally:
        clock.freeze(None)
    assert assurances(db, account.id) == []


def test_the_counter_records_an_assisted_card_check_in_the_audit_log(db, client):
    from tests.helpers import sign_in_staff

    staff = factories.staff(db)
    person = factories.person(db, name="张德明")
    db.commit()
    sign_in_staff(client, staff)
    assert 'href="/staff/counter/card-check"' in client.get("/staff/counter/correction").text  # the counter links it
    browser_token = client.get("/staff/counter/card-check")
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser_token.text).group(1)
    bad = client.post("/staff/counter/card-check", data={"csrf_token": token, "id_number": "123"})
    assert bad.status_code == 422
    answer = client.post("/staff/counter/card-check", data={"csrf_token": token, "id_number": person.id_number})
    assert answer.status_code == 303
    db.expire_all()
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "essc.counter_card_check")).one()
    assert event.object_id == str(person.id) and event.actor_kind == "staff"


# --- any standard provider: a second one, written apart from the stand-in -----------------------------------------

@contextmanager
def _at(settings, db, key_path, provider: MinimalProvider):
    """The portal configured for ``provider`` (its scopes, claim name and face value), and a browser."""
    from portal.auth import essc as protocol

    with elsewhere(provider), served(settings, key_path=key_path, essc=provider.settings()) as (base, _app):
        protocol._cache.clear()  # a port used before may come back: read this provider's documents afresh
        provider.redirect_uri = f"{base}/auth/essc/callback"
        visitor = CardBrowser(base)
        try:
            yield visitor
        finally:
            visitor.close()


def _sign_in_elsewhere(visitor, path: str = "/auth/essc/login"):
    """The provider approves at once (it remembers the person): straight back to the portal's callback."""
    asked = visitor.get(path)
    assert asked.status_code == 303, asked.text[:300]
    back = visitor.get(asked.headers["location"])
    assert back.status_code == 302, back.text[:300]
    return visitor.get(back.headers["location"])


def test_another_standard_provider_signs_a_person_in_with_its_own_scopes_claim_names_and_client_authentication(
        db, settings, key_path):
    """Only client_secret_post offered, the identity number in ``idcard`` under the scope ``idcard``, and the
    claims only at the userinfo endpoint."""
    account = wang(db)
    provider = MinimalProvider(auth_methods=("client_secret_post",))
    with _at(settings, db, key_path, provider) as visitor:
        answer = _sign_in_elsewhere(visitor)
        assert answer.status_code == 303 and answer.headers["location"] == "/me"
        assert visitor.get("/me").status_code == 200
    sent = provider.seen["authorize"][0]
    assert sent["scope"] == "openid profile idcard" and sent["code_challenge_method"] == "S256"
    assert "acr_values" not in sent and "prompt" not in sent
    assert provider.seen["token_auth"] == ["client_secret_post"]
    assert assurances(db, account.id) == ["card"]
    db.expire_all()
    link = db.exec(select(CardLink)).one()
    assert (link.issuer, link.subject, link.account_id) == (provider.issuer, "elsewhere-0001", account.id)
    db.rollback()


@pytest.mark.parametrize(("offered", "used"), [
    (("client_secret_post", "client_secret_basic"), "client_secret_basic"),
    ((), "client_secret_basic"),  # a provider that does not say: the standard's default
], ids=["both offered", "none named"])
def test_the_portal_authenticates_with_client_secret_basic_first(db, settings, key_path, offered, used):
    wang(db)
    provider = MinimalProvider(auth_methods=offered, claims_in_id_token=True)
    with _at(settings, db, key_path, provider) as visitor:
        assert _sign_in_elsewhere(visitor).headers["location"] == "/me"
    assert provider.seen["token_auth"] == [used]


def test_a_provider_offering_no_client_authentication_the_portal_uses_is_reported_unavailable(
        db, settings, key_path):
    provider = MinimalProvider(auth_methods=("private_key_jwt",))
    with _at(settings, db, key_path, provider) as visitor:
        answer = visitor.get("/auth/essc/login")
    assert answer.status_code == 503 and provider.seen["authorize"] == []


def test_a_discovery_document_naming_another_issuer_is_not_used(db, settings, key_path):
    provider = MinimalProvider(discovery_extra={"issuer": "https://essc.example.cn"})
    with _at(settings, db, key_path, provider) as visitor:
        assert visitor.get("/auth/essc/login").status_code == 503


def test_the_face_value_is_the_configured_acr_and_a_step_up_asks_for_a_fresh_check(db, settings, key_path):
    account = wang(db)
    provider = MinimalProvider(acr="urn:example:loa:face")
    with _at(settings, db, key_path, provider) as visitor:
        assert _sign_in_elsewhere(visitor, "/auth/essc/login?face=1").headers["location"] == "/me"
    sent = provider.seen["authorize"][0]
    assert sent["acr_values"] == "urn:example:loa:face" and sent["prompt"] == "login"
    assert assurances(db, account.id) == ["face"]


def test_the_default_face_value_means_nothing_to_a_portal_configured_with_another(db, settings, key_path):
    account = wang(db)
    provider = MinimalProvider(acr="urn:essc:acr:face")
    with _at(settings, db, key_path, provider) as visitor:
        _sign_in_elsewhere(visitor, "/auth/essc/login?face=1")
    assert assurances(db, account.id) == ["card"]


def test_a_face_check_the_provider_made_long_ago_is_a_plain_card_sign_in(db, settings, key_path):
    account = wang(db)
    provider = MinimalProvider(acr="urn:example:loa:face")
    provider.auth_time_ago = 3600
    with _at(settings, db, key_path, provider) as visitor:
        _sign_in_elsewhere(visitor, "/auth/essc/login?face=1")
    assert assurances(db, account.id) == ["card"]


@pytest.mark.parametrize("changes", [
    {"nonce": "another-nonce"},
    {"aud": "another-client"},
    {"iss": "https://another-provider.example.cn"},
], ids=["wrong nonce", "another audience", "another issuer"])
def test_an_id_token_from_the_provider_failing_a_check_signs_nobody_in(db, settings, key_path, changes):
    account = wang(db)
    provider = MinimalProvider(claims_in_id_token=True)
    provider.id_token_changes = changes
    with _at(settings, db, key_path, provider) as visitor:
        answer = _sign_in_elsewhere(visitor)
    assert answer.status_code == 400
    assert assurances(db, account.id) == [] and [r.split(":")[0] for r in refusals(db)] == ["id_token"]


def test_a_provider_that_sends_no_identity_number_is_refused_with_a_clear_message(db, settings, key_path):
    provider = MinimalProvider(userinfo=False)  # the claims were only ever at its userinfo endpoint
    with _at(settings, db, key_path, provider) as visitor:
        answer = _sign_in_elsewhere(visitor)
    assert answer.status_code == 403
    assert "did not send your identity number" in answer.text or "未提供您的身份证号码" in answer.text
    assert refusals(db) == ["no_id_number"]
    db.expire_all()
    assert db.exec(select(Person)).all() == []
    db.rollback()


# --- the issuer's address, from the environment ---------------------------------------------------------------------

PRODUCTION = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "s" * 40, "PORTAL_PAYMENT_SECRET": "p" * 40,
              "PORTAL_SMS_URL": "https://sms.example.cn", "PORTAL_SMS_KEY": "k" * 20,
              "PORTAL_DATABASE_URL": "postgresql+psycopg://portal@db/portal", "PORTAL_BASE_URL": "http://127.0.0.1:8000"}
CLIENT = {"PORTAL_ESSC_CLIENT_ID": "portal", "PORTAL_ESSC_CLIENT_SECRET": "secret"}


@pytest.mark.parametrize(("environment", "issuer"), [
    ({"PORTAL_ENV": "development"}, "http://essc.example.cn"),
    ({"PORTAL_ENV": "development"}, "http://127.0.0.1.example.cn/essc"),
    (PRODUCTION, "http://127.0.0.1:9000/essc"),
    (PRODUCTION, "http://localhost:9000/essc"),
], ids=["plain http elsewhere", "a name that only starts like loopback", "loopback in production",
        "localhost in production"])
def test_a_plain_http_issuer_is_refused_off_loopback_and_always_in_production(environment, issuer, tmp_path):
    from portal.settings import SettingsError, from_environment

    with pytest.raises(SettingsError, match="PORTAL_ESSC_ISSUER"):
        from_environment({**environment, **CLIENT, "PORTAL_ESSC_ISSUER": issuer})


def test_settings_read_the_issuer_scopes_and_claim_names_from_the_environment():
    from portal.settings import from_environment

    found = from_environment({**PRODUCTION, **CLIENT, "PORTAL_ESSC_ISSUER": "https://essc.example.cn/",
                              "PORTAL_ESSC_SCOPES": "openid idcard", "PORTAL_ESSC_ID_CLAIM": "idcard",
                              "PORTAL_ESSC_FACE_ACR": "urn:example:loa:face"})
    assert (found.essc_issuer, found.essc_scopes, found.essc_id_claim, found.essc_face_acr) == (
        "https://essc.example.cn", "openid idcard", "idcard", "urn:example:loa:face")


def test_production_never_falls_back_to_the_stand_in_even_on_a_loopback_address():
    from portal.settings import from_environment

    assert from_environment(PRODUCTION).essc_issuer == ""
    assert from_environment({"PORTAL_ENV": "development"}).essc_issuer.endswith("/dev/essc")


def test_a_discovery_document_sending_tokens_over_plain_http_off_loopback_is_not_used(db, settings, key_path):
    provider = MinimalProvider(discovery_extra={"token_endpoint": "http://essc.example.cn/token"})
    with _at(settings, db, key_path, provider) as visitor:
        assert visitor.get("/auth/essc/login").status_code == 503


# --- the face check's lifetime, the audit trail, signing out ----------------------------------------------------------

def test_a_face_check_signs_for_fifteen_minutes_then_the_next_signature_asks_again(db, browser):
    account = wang(db)
    browser.sign_in(WANG, face=True)
    started = clock.now()
    try:
        clock.freeze(started + timedelta(minutes=14))
        assert browser.get("/me/sign").text == "signed by 王建国"
        clock.freeze(started + timedelta(minutes=16))
        asked = browser.get("/me/sign")
        assert asked.headers["location"] == "/auth/essc/login?face=1&next=%2Fme%2Fsign"
        assert browser.get("/me").status_code == 200  # still signed in, for reading
    finally:
        clock.freeze(None)
    assert assurances(db, account.id) == ["card"]
    back = browser.get(browser.confirm_at_provider(browser.start("%2Fme%2Fsign"), WANG, face=True))
    assert back.headers["location"] == "/me/sign"
    assert browser.get("/me/sign").text == "signed by 王建国"


def test_a_card_sign_in_leaves_its_trail_in_the_audit_log(db, browser):
    account = wang(db)
    browser.sign_in(WANG, face=True)
    assert [a for a in actions(db) if a.startswith(("essc.", "auth.", "identity."))][:2] == [
        "essc.linked", "auth.signed_in"]
    db.expire_all()
    signed_in = db.exec(select(AuditEvent).where(AuditEvent.action == "auth.signed_in")).one()
    assert json.loads(signed_in.detail) == {"via": "essc", "assurance": "face"}
    assert signed_in.object_id == str(account.id) and signed_in.actor_kind == "person"
    db.rollback()


def test_a_card_session_signs_out_and_the_sign_out_is_recorded(db, browser):
    account = wang(db)
    browser.sign_in(WANG)
    token = browser.csrf("/me")
    answer = browser.post("/logout", {"csrf_token": token})
    assert answer.status_code == 303
    assert assurances(db, account.id) == []
    assert browser.get("/me").status_code == 303
    assert "auth.signed_out" in actions(db)


def test_a_cardholder_new_to_the_portal_signing_in_by_qr_confirms_a_mobile_number_on_the_screen(db, browser, phone):
    link = _show_qr(browser)
    assert _confirm_on_phone(phone, link, NEWCOMER, face=True).status_code == 200
    done = _poll(browser)
    assert done.headers["hx-redirect"] == "/auth/essc/mobile"
    assert browser.get("/me").status_code == 303
    token = browser.csrf("/auth/essc/mobile")
    saved = browser.post("/auth/essc/mobile", {"csrf_token": token, "mobile": "13912345678"})
    assert saved.status_code == 303 and saved.headers["location"] == "/me"
    assert browser.get("/me").status_code == 200
    db.expire_all()
    person = db.exec(select(Person).where(Person.id_number == NEWCOMER)).one()
    account_id = db.exec(select(PersonAccount).where(PersonAccount.person_id == person.id)).one().id
    db.rollback()
    assert assurances(db, account_id) == ["face"]


def test_the_stand_ins_signing_key_is_kept_and_its_key_id_is_derived_from_the_key(tmp_path):
    from portal.devtools.essc_provider import load_key

    first = load_key(tmp_path / "key.json")
    again = load_key(tmp_path / "key.json")
    assert first.kid == again.kid == first.thumbprint()
    assert again.as_dict(private=False)["n"] == first.as_dict(private=False)["n"]
    assert load_key(tmp_path / "other.json").kid != first.kid


# --- signing out at the provider too (OpenID Connect RP-Initiated Logout 1.0) ----------------------------------------

def _id_token_kept(db, account_id: int) -> str:
    db.expire_all()
    found = [row.id_token for row in db.exec(select(WebSession).where(
        WebSession.account_kind == "person", WebSession.account_id == account_id)).all()]
    db.rollback()
    assert len(found) == 1
    return found[0]


def _sign_out(browser):
    return browser.post("/logout", {"csrf_token": browser.csrf("/accessibility")})


def _stand_in(portal):
    _base, app = portal
    route = next(route for route in app.routes if getattr(route, "name", "") == "essc_stand_in")
    return route.app.app.state.provider


def test_a_card_session_signs_out_at_the_provider_too_and_comes_back_signed_out(db, portal, browser):
    account = wang(db)
    browser.sign_in(WANG)
    id_token = _id_token_kept(db, account.id)
    assert id_token.count(".") == 2  # the ID token the provider signed, kept with the session
    provider = _stand_in(portal)
    assert len(provider.store.sessions) == 1 and "essc_stand_in_session" in browser.http.cookies

    answer = _sign_out(browser)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(f"{browser.base}/dev/essc/end-session?")
    sent = query_of(location)
    assert sent["id_token_hint"] == id_token
    assert sent["post_logout_redirect_uri"] == f"{browser.base}/auth/essc/signed-out"
    assert sent["client_id"] == "portal-test" and len(sent["state"]) >= 32
    assert assurances(db, account.id) == [] and browser.get("/me").status_code == 303  # signed out here at once
    assert "auth.signed_out" in actions(db)

    back = browser.get(location)
    assert back.status_code == 302
    assert back.headers["location"] == f"{browser.base}/auth/essc/signed-out?state={sent['state']}"
    assert provider.store.sessions == {}  # the provider's own session is over
    assert "essc_stand_in_session" not in browser.http.cookies

    landed = browser.get(back.headers["location"])
    assert landed.status_code == 303 and landed.headers["location"] == "/"
    home = browser.get("/")
    assert "You have signed out." in home.text or "您已退出登录。" in home.text
    assert 'action="/logout"' not in home.text
    assert "sign_out_state" not in refusals(db)


def test_the_stand_in_remembers_who_signed_in_until_they_sign_out(db, browser):
    wang(db)
    browser.sign_in(WANG)
    remembered = browser.get(browser.start())
    assert "王建国" in re.search(r'<p class="notice" id="signed-in-as">([^<]*)</p>', remembered.text).group(1)
    assert re.search(r'value="220102198503150111" checked>', remembered.text)  # chosen already
    at_provider = _sign_out(browser).headers["location"]
    browser.get(browser.get(at_provider).headers["location"])
    forgotten = browser.get(browser.start())
    assert forgotten.status_code == 200 and 'id="signed-in-as"' not in forgotten.text


def test_the_id_token_names_the_stand_ins_session(db, portal, browser):
    from joserfc import jwt

    account = wang(db)
    browser.sign_in(WANG)
    claims = jwt.decode(_id_token_kept(db, account.id), _stand_in(portal).key).claims
    assert claims["sid"] in _stand_in(portal).store.sessions


def test_the_portal_refuses_a_sign_out_answer_with_another_state(db, browser):
    account = wang(db)
    browser.sign_in(WANG)
    at_provider = _sign_out(browser).headers["location"]
    back = browser.get(at_provider).headers["location"]
    answer = browser.get(back.replace("state=", "state=x"))
    assert answer.status_code == 400
    assert "could not confirm" in answer.text or "无法确认" in answer.text
    assert refusals(db) == ["sign_out_state"]
    assert assurances(db, account.id) == [] and browser.get("/me").status_code == 303  # still signed out here
    # The state is good for one answer: the right one, sent after, is refused too.
    assert browser.get(back).status_code == 400


def test_a_sign_out_answer_this_browser_never_asked_for_is_refused(db, browser):
    wang(db)
    browser.sign_in(WANG)
    at_provider = _sign_out(browser).headers["location"]
    back = browser.get(at_provider).headers["location"]
    stranger = CardBrowser(browser.base)
    try:
        answer = stranger.get(back)
        assert answer.status_code == 400 and "portal_flash" not in answer.headers.get("set-cookie", "")
    finally:
        stranger.close()
    assert refusals(db) == ["sign_out_state"]


def _hint(key_path, **changes) -> str:
    now = int(clock.now().timestamp())
    return _signed(key_path, {k: v for k, v in {"sub": "abc", "aud": ["portal-test"], "iat": now, "exp": now + 600,
                                                 **changes}.items() if v is not None})


def _end_session(browser, **params):
    return browser.get("/dev/essc/end-session?" + urlencode(params))


def test_the_stand_in_refuses_to_send_the_browser_to_an_address_the_client_did_not_register(db, portal, browser):
    account = wang(db)
    browser.sign_in(WANG)
    hint = _id_token_kept(db, account.id)
    for elsewhere_url in ("https://phish.example.cn/auth/essc/signed-out", f"{browser.base}/auth/essc/callback",
                          f"{browser.base}/auth/essc/signed-out/../../me"):
        answer = _end_session(browser, id_token_hint=hint, post_logout_redirect_uri=elsewhere_url, state="s")
        assert answer.status_code == 400 and "location" not in answer.headers
    assert len(_stand_in(portal).store.sessions) == 1  # nobody was signed out
    registered = _end_session(browser, id_token_hint=hint, state="s",
                              post_logout_redirect_uri=f"{browser.base}/auth/essc/signed-out")
    assert registered.status_code == 302 and _stand_in(portal).store.sessions == {}


@pytest.mark.parametrize("hint", ["missing", "not a token", "another key", "another audience", "another issuer",
                                  "altered"])
def test_the_stand_in_refuses_a_bad_id_token_hint(db, portal, browser, key_path, tmp_path, hint):
    account = wang(db)
    browser.sign_in(WANG)
    good = _id_token_kept(db, account.id)
    issuer = f"{browser.base}/dev/essc"
    header, payload, signature = good.split(".")
    bad = {"missing": None, "not a token": "abc.def",
           "another key": _signed(tmp_path / "other.json", {"iss": issuer, "sub": "abc", "aud": "portal-test"}),
           "another audience": _hint(key_path, iss=issuer, aud="another-client"),
           "another issuer": _hint(key_path, iss="https://essc.example.cn"),
           "altered": f"{header}.{payload}.{signature[:-4]}AAAA"}[hint]
    params = {"post_logout_redirect_uri": f"{browser.base}/auth/essc/signed-out", "state": "s"}
    if bad is not None:
        params["id_token_hint"] = bad
    answer = _end_session(browser, **params)
    assert answer.status_code == 400 and "location" not in answer.headers
    assert len(_stand_in(portal).store.sessions) == 1


def test_the_stand_in_accepts_an_expired_id_token_as_the_hint(db, portal, browser, key_path):
    """RP-Initiated Logout 1.0, section 2: the hint may have expired; the session usually outlives the token."""
    wang(db)
    browser.sign_in(WANG)
    expired = _hint(key_path, iss=f"{browser.base}/dev/essc", exp=1_000_000_000, iat=999_999_000)
    answer = _end_session(browser, id_token_hint=expired, state="s",
                          post_logout_redirect_uri=f"{browser.base}/auth/essc/signed-out")
    assert answer.status_code == 302 and answer.headers["location"].endswith("/auth/essc/signed-out?state=s")


def test_the_stand_in_refuses_a_hint_sent_with_another_client_id(db, portal, browser):
    account = wang(db)
    browser.sign_in(WANG)
    answer = _end_session(browser, id_token_hint=_id_token_kept(db, account.id), client_id="another-client",
                          post_logout_redirect_uri=f"{browser.base}/auth/essc/signed-out")
    assert answer.status_code == 400 and len(_stand_in(portal).store.sessions) == 1


def test_a_password_session_signs_out_here_only(db, browser):
    account = wang(db)
    assert sign_in_person(browser.http, WANG).status_code == 303
    assert _id_token_kept(db, account.id) == ""
    answer = _sign_out(browser)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert "portal_essc_sign_out" not in browser.http.cookies
    assert assurances(db, account.id) == [] and browser.get("/me").status_code == 303


def test_a_screen_signed_in_by_qr_signs_out_here_only(db, browser, phone):
    """The card platform's session is on the phone that scanned the code, not on the screen signed in."""
    account = wang(db)
    link = _show_qr(browser)
    _confirm_on_phone(phone, link, WANG)
    _poll(browser)
    assert _id_token_kept(db, account.id) == ""
    assert _sign_out(browser).headers["location"] == "/"


def test_a_cardholder_new_to_the_portal_signs_out_at_the_provider_too(db, browser):
    browser.sign_in(NEWCOMER)
    token = browser.csrf("/auth/essc/mobile")
    assert browser.post("/auth/essc/mobile", {"csrf_token": token, "mobile": "13912345678"}).status_code == 303
    assert "/dev/essc/end-session?" in _sign_out(browser).headers["location"]


def test_a_step_up_from_a_password_session_keeps_the_card_sign_ins_id_token(db, browser):
    account = wang(db)
    sign_in_person(browser.http, WANG)
    browser.sign_in(WANG, face=True)
    assert _id_token_kept(db, account.id).count(".") == 2
    assert "/dev/essc/end-session?" in _sign_out(browser).headers["location"]


def test_a_provider_without_an_end_session_endpoint_signs_the_person_out_here_only(db, settings, key_path):
    account = wang(db)
    provider = MinimalProvider(claims_in_id_token=True)
    with _at(settings, db, key_path, provider) as visitor:
        assert _sign_in_elsewhere(visitor).headers["location"] == "/me"
        assert _id_token_kept(db, account.id)
        answer = _sign_out(visitor)
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        assert visitor.get("/me").status_code == 303
    assert assurances(db, account.id) == []


def test_another_providers_end_session_endpoint_is_used_as_its_discovery_document_names_it(db, settings, key_path):
    account = wang(db)
    provider = MinimalProvider(claims_in_id_token=True)
    with _at(settings, db, key_path, provider) as visitor:
        provider.discovery_extra = {"end_session_endpoint": f"{provider.issuer}/oauth/logout?realm=jl"}
        _sign_in_elsewhere(visitor)
        id_token = _id_token_kept(db, account.id)
        location = _sign_out(visitor).headers["location"]
    assert location.startswith(f"{provider.issuer}/oauth/logout?")
    sent = query_of(location)
    assert sent["realm"] == "jl" and sent["id_token_hint"] == id_token and sent["client_id"] == provider.client_id
    assert sent["post_logout_redirect_uri"] == f"{visitor.base}/auth/essc/signed-out" and sent["state"]


def test_an_end_session_endpoint_over_plain_http_off_loopback_is_not_used(db, settings, key_path):
    wang(db)
    provider = MinimalProvider(claims_in_id_token=True,
                               discovery_extra={"end_session_endpoint": "http://essc.example.cn/logout"})
    with _at(settings, db, key_path, provider) as visitor:
        _sign_in_elsewhere(visitor)
        assert _sign_out(visitor).headers["location"] == "/"


def test_an_end_session_endpoint_off_the_issuers_origin_is_not_used(db, settings, key_path):
    """The browser would stop the sign-out form's redirect there (form-action allows the issuer's origin only)."""
    wang(db)
    provider = MinimalProvider(claims_in_id_token=True)
    with _at(settings, db, key_path, provider) as visitor:
        provider.discovery_extra = {"end_session_endpoint": "https://logout.example.cn/end"}
        _sign_in_elsewhere(visitor)
        assert _sign_out(visitor).headers["location"] == "/"


def test_the_pages_allow_forms_to_lead_on_to_the_provider_and_nowhere_else(db, settings, key_path):
    provider = MinimalProvider()
    with _at(settings, db, key_path, provider) as visitor:
        policy = visitor.get("/login").headers["content-security-policy"]
    origin = provider.issuer.removesuffix("/oidc")
    assert f"form-action 'self' {origin};" in policy


def test_without_card_sign_in_forms_lead_nowhere_but_the_portal(client):
    assert "form-action 'self';" in client.get("/login").headers["content-security-policy"]


# --- more of the rejections: algorithms, keys, userinfo, discovery, locked accounts, the counter ----------------

def _unsigned(header: dict, claims: dict) -> str:
    import base64

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}"


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_an_id_token_without_the_providers_rs256_signature_is_rejected_whatever_discovery_says(portal, key_path, alg):
    """alg none, and HS256 keyed with the provider's public key (the algorithm confusion attack)."""
    import base64
    import hashlib
    import hmac

    from portal.auth import essc as protocol
    from portal.devtools.essc_provider import load_key

    _base, app = portal
    live = app.state.settings
    document = {**protocol.metadata(live), "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"]}
    now = clock.now()
    key = load_key(key_path)
    body = _unsigned({"alg": alg, "kid": key.kid}, {
        "iss": document["issuer"], "aud": live.essc_client_id, "sub": "abc", "nonce": "n",
        "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 300})
    signature = b""
    if alg == "HS256":
        signature = hmac.new(key.as_pem(private=False), body.encode(), hashlib.sha256).digest()
    forged = f"{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    with pytest.raises(protocol.Rejected):
        protocol.verify_id_token(live, document, forged, nonce="n", access_token=None, now=now)


def test_the_portal_fetches_the_providers_keys_again_when_it_signs_with_a_new_one(db, settings, key_path):
    from joserfc.jwk import RSAKey

    account = wang(db)
    provider = MinimalProvider(claims_in_id_token=True)
    with _at(settings, db, key_path, provider) as visitor:
        assert _sign_in_elsewhere(visitor).headers["location"] == "/me"  # the portal now holds the first key
        provider.key = RSAKey.generate_key(2048, parameters={"use": "sig"}, auto_kid=True)
        visitor.http.cookies.clear()
        assert _sign_in_elsewhere(visitor).headers["location"] == "/me"
    assert len(assurances(db, account.id)) == 2


def test_userinfo_about_another_subject_signs_nobody_in(db, settings, key_path):
    account = wang(db)
    provider = MinimalProvider()  # the claims only at the userinfo endpoint
    provider.userinfo_changes = {"sub": "elsewhere-0002"}
    with _at(settings, db, key_path, provider) as visitor:
        assert _sign_in_elsewhere(visitor).status_code == 400
    assert assurances(db, account.id) == [] and refusals(db) == ["userinfo_subject"]


def test_a_provider_without_pkce_s256_is_not_used(db, settings, key_path):
    provider = MinimalProvider(discovery_extra={"code_challenge_methods_supported": ["plain"]})
    with _at(settings, db, key_path, provider) as visitor:
        assert visitor.get("/auth/essc/login").status_code == 503
    assert provider.seen["authorize"] == []


def test_an_account_linked_to_the_card_and_locked_since_is_refused(db, browser):
    account = wang(db)
    browser.sign_in(WANG)
    db.expire_all()
    locked = db.get(PersonAccount, account.id)
    locked.locked_until = clock.now() + timedelta(minutes=10)
    db.add(locked)
    db.commit()
    again = CardBrowser(browser.base)
    try:
        answer = again.sign_in(WANG)
        assert answer.status_code == 403
        assert "Your account is locked" in answer.text or "您的账户已被锁定" in answer.text
    finally:
        again.close()
    assert refusals(db) == ["locked"] and len(assurances(db, account.id)) == 1


def test_an_account_locked_between_the_qr_confirmation_and_the_screens_next_poll_is_not_signed_in(db, browser, phone):
    account = wang(db)
    link = _show_qr(browser)
    assert _confirm_on_phone(phone, link, WANG).status_code == 200
    db.expire_all()
    locked = db.get(PersonAccount, account.id)
    locked.locked_until = clock.now() + timedelta(minutes=10)
    db.add(locked)
    db.commit()
    answer = _poll(browser)
    assert "hx-redirect" not in answer.headers and "hx-trigger" not in answer.text
    assert assurances(db, account.id) == [] and refusals(db) == ["locked"]


def test_the_counter_refuses_a_card_check_for_nobody_on_record_and_records_nothing(db, client):
    from tests.helpers import sign_in_staff

    staff = factories.staff(db)
    db.commit()
    sign_in_staff(client, staff)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/counter/card-check").text).group(1)
    answer = client.post("/staff/counter/card-check", data={"csrf_token": token, "id_number": WANG})
    assert answer.status_code == 422 and WANG in answer.text
    assert "essc.counter_card_check" not in actions(db)


def test_only_staff_record_a_card_check_at_the_counter(db, client):
    account = wang(db)
    sign_in_person(client, WANG)
    assert client.get("/staff/counter/card-check").status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/me").text).group(1)
    answer = client.post("/staff/counter/card-check", data={"csrf_token": token, "id_number": WANG})
    assert answer.status_code == 403
    assert "essc.counter_card_check" not in actions(db) and assurances(db, account.id) == ["password"]


def test_an_expired_or_used_qr_code_says_so_and_offers_a_new_one(db, browser, phone):
    wang(db)
    _show_qr(browser)
    clock.freeze(clock.now() + timedelta(minutes=2, seconds=1))
    try:
        expired = _poll(browser)
    finally:
        clock.freeze(None)
    assert "This QR code has expired." in expired.text or "此二维码已过期。" in expired.text
    assert 'href="/auth/essc/qr"' in expired.text
    link = _show_qr(browser)
    _confirm_on_phone(phone, link, WANG)
    _poll(browser)  # signed in: the code is spent
    used = _poll(browser)
    assert "This QR code has already been used." in used.text or "此二维码已被使用。" in used.text
    assert 'href="/auth/essc/qr"' in used.text and "hx-trigger" not in used.text


def test_a_qr_confirmation_sent_again_signs_nobody_in_again(db, browser, phone):
    account = wang(db)
    link = _show_qr(browser)
    asked = phone.get(phone.confirm_at_provider(link, WANG))
    note = phone.http.cookies["portal_essc_qr_confirm"]
    fields = dict(HIDDEN.findall(asked.text))
    assert phone.post("/auth/essc/qr/confirm", fields).status_code == 200
    assert _poll(browser).headers["hx-redirect"] == "/me"
    phone.http.cookies.set("portal_essc_qr_confirm", note, domain="127.0.0.1")  # the note replayed
    assert phone.post("/auth/essc/qr/confirm", fields).status_code == 400
    assert assurances(db, account.id) == ["card"]
