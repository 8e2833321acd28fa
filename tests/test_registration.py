"""A person asks for an account with their identity number; bad input comes back explained, nothing saved.

What happens once the input is right (the proof step, and answers that say nothing of who exists) is in
tests/test_identity_proof.py."""

from datetime import date

import pytest
from markupsafe import escape
from sqlmodel import func, select

from portal import i18n
from portal.identifiers import make_resident_id
from portal.models import AuditEvent, IdentityClaim, Person, PersonAccount
from tests.helpers import error_links, field_error, html_lang, sign_in_person, token_from

pytestmark = pytest.mark.usefixtures("cheap_hashing")  # these tests create passwords

NUMBER = make_resident_id("220102", date(1988, 6, 1), 21)
NEW_PASSWORD = "Spring-Garden-Lantern"
VALID = {"id_number": NUMBER, "name": "李明", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}


def register(client, *, query: str = "", headers: dict | None = None, **changes):
    data = VALID | changes
    data["csrf_token"] = token_from(client, "/register" + query)
    return client.post("/register" + query, data=data, headers=headers or {})


def count(db, model) -> int:
    found = db.exec(select(func.count()).select_from(model)).one()
    db.commit()  # end the read so the app's next write is not kept waiting
    return found


def in_chinese(message: str) -> str:
    """The zh_CN catalog's text for a message (the English source while it is still untranslated)."""
    return i18n.translations("zh_CN").gettext(message)


def test_a_registration_goes_to_the_proof_step_and_opens_no_account_yet(client, db, frozen_clock):
    response = register(client)

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/register/code"
    assert count(db, PersonAccount) == 0 and count(db, Person) == 0
    claim = db.exec(select(IdentityClaim)).one()
    assert (claim.id_number, claim.purpose, claim.person_id) == (NUMBER, "register", None)
    assert NEW_PASSWORD not in claim.password_hash and claim.password_hash.startswith("$argon2id$")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "identity.register_started")).one()
    assert event.client_address == "testclient"
    db.commit()

    assert sign_in_person(client, NUMBER, NEW_PASSWORD).status_code == 400


def test_a_lower_case_x_is_kept_as_a_capital(client, db, frozen_clock):
    number = make_resident_id("220102", date(1990, 1, 1), 5)
    assert number.endswith("X")
    assert register(client, id_number=number.lower()).status_code == 303
    assert db.exec(select(IdentityClaim.id_number)).one() == number


BAD_INPUT = [
    ("id_number", {"id_number": NUMBER[:17] + ("1" if NUMBER[17] != "1" else "2")},
     "This identity number is not valid: its last character does not match. Check each digit."),
    ("id_number", {"id_number": make_resident_id("220102", date(2027, 1, 1), 1)},
     "The birth date inside this identity number is not a real date."),
    ("id_number", {"id_number": make_resident_id("220102", date(2012, 1, 1), 1)},
     "You must be at least 16 years old to open an account."),
    ("id_number", {"id_number": "2201021988"}, "An identity number has 18 characters."),
    ("name", {"name": "Li123"}, "Enter the name as it is written on the identity card."),
    ("name", {"name": ""}, "Enter the name."),
    ("password", {"password": "Short-1", "password_confirm": "Short-1"},
     "Use at least 10 characters for your password."),
    ("password", {"password": "1234567890", "password_confirm": "1234567890"},
     "This password is too common and easy to guess. Choose another."),
    ("password_confirm", {"password_confirm": NEW_PASSWORD + "x"}, "The two passwords do not match."),
]


@pytest.mark.parametrize("field, changes, message", BAD_INPUT, ids=[
    "wrong-check-character", "born-in-the-future", "under-16", "too-short-number", "bad-name", "no-name",
    "short-password", "common-password", "mismatched-confirmation"])
def test_bad_input_comes_back_in_english_with_values_kept_and_nothing_saved(client, db, frozen_clock,
                                                                            field, changes, message):
    response = register(client, query="?lang=en", **changes)

    assert response.status_code == 422
    page = response.text
    assert error_links(page) == [field]
    assert message in field_error(page, field)
    assert f'<a href="#field-{field}">{escape(message)}</a>' in page
    submitted = VALID | changes
    for kept in ("id_number", "name"):
        if kept != field:
            assert f'value="{escape(submitted[kept])}"' in page, kept
    assert NEW_PASSWORD not in page
    assert count(db, Person) == 0 and count(db, PersonAccount) == 0 and count(db, AuditEvent) == 0
    assert count(db, IdentityClaim) == 0


def test_every_problem_is_listed_at_once_in_the_order_of_the_form(client, db, frozen_clock):
    response = register(client, query="?lang=en", id_number="123", name="Li123", password="short",
                        password_confirm="short")
    assert response.status_code == 422
    assert error_links(response.text) == ["id_number", "name", "password"]


def test_messages_are_chinese_by_default(client, db, frozen_clock):
    message = "Enter the name as it is written on the identity card."
    response = register(client, name="Li123")

    assert response.status_code == 422
    assert html_lang(response.text) == "zh-CN"
    assert error_links(response.text) == ["name"]
    assert in_chinese(message) in field_error(response.text, "name")
    if in_chinese(message) != message:
        assert message not in response.text


def test_the_page_is_chinese_by_default_and_english_once_chosen(client):
    assert html_lang(client.get("/register").text) == "zh-CN"
    chosen = client.get("/register?lang=en")
    assert html_lang(chosen.text) == "en"
    assert "portal_lang=en" in chosen.headers["set-cookie"]
    assert html_lang(client.get("/register").text) == "en"  # remembered in the cookie
    assert html_lang(client.get("/register?lang=zh_CN").text) == "zh-CN"
    assert html_lang(client.get("/register").text) == "zh-CN"


def test_accept_language_decides_when_nothing_was_chosen(client):
    assert html_lang(client.get("/register", headers={"Accept-Language": "en-US,en;q=0.8"}).text) == "en"
    assert html_lang(client.get("/register", headers={"Accept-Language": "fr, zh-CN;q=0.5"}).text) == "zh-CN"
    assert html_lang(client.get("/register", headers={"Accept-Language": "zh;q=0.3, en;q=0.9"}).text) == "en"


def test_the_identity_check_as_the_visitor_leaves_the_field(client, frozen_clock):
    token = token_from(client, "/register?lang=en")
    headers = {"HX-Request": "true", "X-CSRF-Token": token}

    good = client.post("/register/check-id?lang=en", data={"id_number": NUMBER}, headers=headers)
    bad = client.post("/register/check-id?lang=en", data={"id_number": NUMBER[:-1] + "0"}, headers=headers)

    assert good.status_code == 200 and "This identity number looks right." in good.text
    assert bad.status_code == 200 and "its last character does not match" in bad.text
