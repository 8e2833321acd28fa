"""Signing in with the electronic social security card in a real browser, against the stand-in provider."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.a11y import check_a11y
from e2e.pages import Portal
from tests.essc_support import served

WANG = "220102198503150111"  # demo employee 王建国
LI = "220104197908200226"  # demo flexible worker 李秀英
ZHAO = "220102199001010017"  # a cardholder with no record and no account anywhere


@pytest.fixture(scope="module")
def card_portal(settings, demo, tmp_path_factory):
    """The portal with card sign-in on, the stand-in provider mounted at /dev/essc, on its own loopback port."""
    with served(settings, key_path=tmp_path_factory.mktemp("essc") / "key.json") as (base, _app):
        yield base


def confirm_at_provider(portal: Portal, id_number: str, *, face: bool = False) -> None:
    portal.page.locator(f"input[name=cardholder][value='{id_number}']").check()
    if face:
        portal.page.locator("#face").check()
    portal.follow(portal.button("Confirm and return to the portal"))


def test_a_person_signs_in_by_redirect_to_the_card_provider_and_back(open_page, card_portal):
    page = open_page()
    portal = Portal(page)
    portal.open(f"{card_portal}/login")
    portal.follow(portal.main.get_by_role("link", name=portal.t("Sign in with the electronic social security card")))
    expect(page).to_have_url(re.compile(r"/dev/essc/authorize\?"))
    confirm_at_provider(portal, WANG)
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(portal.account_nav).to_contain_text("王建国")

    # Signing out goes by the provider, which ends its own session too, and comes back to the portal signed out.
    portal.sign_out()
    expect(page).to_have_url(f"{card_portal}/")
    expect(portal.flash()).to_have_text(portal.t("You have signed out."))
    expect(portal.account_nav.get_by_role("link", name=portal.t("Sign in"), exact=True)).to_be_visible()
    expect(portal.account_nav).not_to_contain_text("王建国")
    portal.open(f"{card_portal}/me")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fme"))
    # The provider no longer knows who signed in at it in this browser.
    portal.follow(portal.main.get_by_role("link", name=portal.t("Sign in with the electronic social security card")))
    expect(page).to_have_url(re.compile(r"/dev/essc/authorize\?"))
    expect(page.locator("#signed-in-as")).to_have_count(0)


def test_signing_in_and_out_at_a_provider_on_another_origin(open_page, settings, demo, tmp_path_factory):
    """A real provider has its own origin: the portal's content security policy lets its forms (signing out, a
    step-up) lead on there, and the provider's lets its sign-in form lead back."""
    with served(settings, key_path=tmp_path_factory.mktemp("essc-origin") / "key.json",
                provider_host="localhost") as (base, _app):
        page = open_page()
        portal = Portal(page)
        portal.open(f"{base}/login")
        portal.follow(portal.main.get_by_role("link",
                                              name=portal.t("Sign in with the electronic social security card")))
        expect(page).to_have_url(re.compile(r"^http://localhost:\d+/dev/essc/authorize\?"))
        confirm_at_provider(portal, WANG)
        expect(page).to_have_url(f"{base}/me")
        portal.sign_out()
        expect(page).to_have_url(f"{base}/")
        expect(portal.flash()).to_have_text(portal.t("You have signed out."))
        expect(portal.account_nav.get_by_role("link", name=portal.t("Sign in"), exact=True)).to_be_visible()
        portal.open(f"{base}/login")  # and signed out at the provider: it asks who this is again
        portal.follow(portal.main.get_by_role("link",
                                              name=portal.t("Sign in with the electronic social security card")))
        expect(page.locator("input[name=cardholder]").first).to_be_visible()
        expect(page.locator("#signed-in-as")).to_have_count(0)


def test_a_person_signs_in_by_scanning_the_qr_code_with_a_second_device(open_page, card_portal):
    desktop = open_page()
    screen = Portal(desktop)
    screen.open(f"{card_portal}/login")
    code = screen.main.locator(".essc-qr__code svg")
    expect(code).to_be_visible()
    address = screen.main.locator("a.essc-qr__link").get_attribute("href")

    phone = Portal(open_page())
    phone.open(address)
    confirm_at_provider(phone, LI, face=True)
    expect(phone.heading).to_have_text(phone.t("Sign in on the other screen?"))
    phone.follow(phone.button("Yes, sign in on that screen"))
    expect(phone.heading).to_have_text(phone.t("Sign-in confirmed"))

    # The first screen asks every second and moves on by itself within 2 seconds of the confirmation.
    expect(desktop).to_have_url(re.compile(r"/me$"), timeout=2_500)
    check_a11y(desktop)
    expect(screen.account_nav).to_contain_text("李秀英")


def test_a_cardholder_new_to_the_portal_confirms_a_mobile_number_before_being_signed_in(open_page, card_portal):
    page = open_page()
    portal = Portal(page).knows("赵新民")
    portal.open(f"{card_portal}/login")
    portal.follow(portal.main.get_by_role("link", name=portal.t("Sign in with the electronic social security card")))
    confirm_at_provider(portal, ZHAO)
    expect(page).to_have_url(re.compile(r"/auth/essc/mobile$"))
    expect(portal.heading).to_have_text(portal.t("Confirm your mobile number"))
    check_a11y(page)
    portal.fill(mobile="1391234")
    portal.follow(portal.button("Save and continue"))
    expect(portal.error_summary()).to_be_visible()
    expect(portal.field("mobile")).to_have_value("1391234")
    check_a11y(page)
    portal.fill(mobile="13912345678")
    portal.follow(portal.button("Save and continue"))
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(portal.account_nav).to_contain_text("赵新民")
