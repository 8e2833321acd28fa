"""A person opens an account, signs in, reads their dashboard in English, signs out; and the ways it can go wrong."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.a11y import check_a11y
from e2e.pages import Portal


def test_a_visitor_registers_signs_in_sees_the_dashboard_in_english_and_signs_out(page, person_on_record):
    new_person = person_on_record
    portal = Portal(page)
    portal.open("/")
    expect(portal.html).to_have_attribute("lang", "zh-CN")
    portal.follow(portal.account_nav.locator("a[href='/register']"))
    expect(page).to_have_url(re.compile(r"/register$"))

    portal.fill(id_number=new_person.id_number, name=new_person.name,
                password=new_person.password, password_confirm=new_person.password)
    response = portal.submit(portal.main.locator("form[action='/register']"))
    assert response is not None and response.ok
    expect(page).to_have_url(re.compile(r"/register/code$"))
    code = portal.sent_code(new_person.mobile)
    portal.open("/register/code")
    portal.enter_code(code)
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(portal.flash()).to_be_visible()  # "your identity is confirmed"
    portal.sign_out()

    portal.sign_in("person", username=new_person.id_number, password=new_person.password)
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(portal.heading).to_contain_text(new_person.name)
    expect(portal.account_nav).to_contain_text(new_person.name)
    expect(portal.main).to_contain_text(new_person.id_number[:6] + "********" + new_person.id_number[-4:])

    portal.switch_language("English")
    expect(portal.html).to_have_attribute("lang", "en")
    expect(portal.heading).to_have_text(f"Hello, {new_person.name}")
    expect(page).to_have_title(re.compile(r"^My pension · "))
    expect(portal.account_nav.get_by_role("button", name="Sign out")).to_be_visible()

    portal.sign_out()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(portal.html).to_have_attribute("lang", "en")  # the choice is remembered
    expect(portal.flash()).to_have_text("You have signed out.")
    expect(portal.account_nav.get_by_role("link", name="Sign in")).to_be_visible()
    portal.open("/me")  # signed out for real: the dashboard asks to sign in again
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fme&account_type=person$"))


def test_registration_with_bad_input_shows_the_error_summary_and_keeps_the_typed_values(page, new_person):
    portal = Portal(page)
    bad_id = new_person.id_number[:17] + ("0" if new_person.id_number[17] != "0" else "1")
    response = portal.register_person(id_number=bad_id, name=new_person.name,
                                      password=new_person.password, password_confirm=new_person.password + "x")
    assert response is not None and response.status == 422
    summary = portal.error_summary()
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.locator("a[href='#field-id_number']")).to_be_visible()
    expect(summary.locator("a[href='#field-password_confirm']")).to_be_visible()
    for name in ("id_number", "password_confirm"):
        expect(portal.field_error(name)).to_be_visible()
        expect(portal.field(name)).to_have_attribute("aria-invalid", "true")
    expect(portal.field("name")).not_to_have_attribute("aria-invalid", "true")
    # What the visitor typed comes back, except the passwords.
    expect(portal.field("id_number")).to_have_value(bad_id)
    expect(portal.field("name")).to_have_value(new_person.name)
    expect(portal.field("password")).to_have_value("")


def test_the_identity_number_is_checked_as_the_visitor_leaves_the_field(page, new_person):
    portal = Portal(page)
    portal.open("/register")
    check = page.locator("#id-check")
    expect(check).to_be_empty()

    wrong = new_person.id_number[:17] + ("0" if new_person.id_number[17] != "0" else "1")
    portal.field("id_number").fill(wrong)
    portal.field("id_number").press("Tab")  # leaving the field fires htmx's "change" trigger
    expect(check.locator(".field__error")).to_be_visible()
    expect(check.locator(".field__error")).not_to_be_empty()
    check_a11y(page)  # the swapped-in message too

    portal.field("id_number").fill(new_person.id_number)
    portal.field("id_number").press("Tab")
    expect(check.locator(".field__ok")).to_be_visible()
    expect(check.locator(".field__error")).to_have_count(0)
    check_a11y(page)  # the swapped-in message too
    assert page.url.endswith("/register")  # no page load: htmx swapped the message in


def test_an_account_is_locked_after_five_wrong_passwords(page, person):
    portal = Portal(page)
    portal.open("/login?account_type=person")
    statuses = []
    for attempt in range(5):
        response = portal.sign_in("person", username=person.id_number, password=f"wrong-password-{attempt}",
                                  open_form=False)
        statuses.append(response.status)
        expect(page.locator("#sign-in-problem")).to_be_visible()
    assert statuses == [400] * 5  # the page never says the account is locked: the holder is told by SMS
    expect(page.locator("#sign-in-problem a[href='/password/forgotten']")).to_be_visible()

    # The right password no longer helps while the lock lasts.
    response = portal.sign_in("person", username=person.id_number, password=person.password, open_form=False)
    assert response.status == 400
    expect(page).to_have_url(re.compile(r"/login$"))
    portal.switch_language("English")
    response = portal.sign_in("person", username=person.id_number, password=person.password, open_form=False)
    assert response.status == 400
    expect(page.locator("#sign-in-problem")).to_contain_text("The account details, password or one-time code")
    expect(page.locator("#sign-in-problem")).not_to_contain_text("locked")
