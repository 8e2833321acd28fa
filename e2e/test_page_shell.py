"""The page shell: languages, large text, error pages, no JavaScript, and the content security policy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.a11y import A11yViolations, check_a11y, watch
from e2e.conftest import one_time_code
from e2e.pages import Portal


def test_the_large_text_mode_button_switches_the_page_to_large_text_and_it_is_remembered(page):
    portal = Portal(page)
    portal.open("/accessibility")
    expect(portal.html).not_to_have_class(re.compile(r"\blarge-text\b"))
    base_size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")

    portal.toggle_display()
    expect(page).to_have_url(re.compile(r"/accessibility$"))  # back on the same page
    expect(portal.html).to_have_class(re.compile(r"\blarge-text\b"))
    expect(page.locator("header form[action='/display'] button[name=mode]")).to_have_attribute("value", "standard")

    portal.follow(page.locator("footer a[href='/privacy']"))
    expect(page).to_have_url(re.compile(r"/privacy$"))
    expect(portal.html).to_have_class(re.compile(r"\blarge-text\b"))  # remembered on the next page
    large_size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
    assert large_size > base_size, f"large-text mode does not enlarge the text ({base_size} -> {large_size} px)"

    portal.toggle_display()
    expect(portal.html).not_to_have_class(re.compile(r"\blarge-text\b"))


def test_the_404_page_in_both_languages(page):
    portal = Portal(page)
    response = portal.open("/no-such-page")
    assert response.status == 404
    expect(portal.html).to_have_attribute("lang", "zh-CN")
    expect(portal.heading).to_have_count(1)
    expect(portal.heading).not_to_be_empty()
    expect(portal.main.locator("a[href='/']")).to_be_visible()
    chinese_heading = portal.heading.inner_text()

    response = portal.open("/no-such-page?lang=en")
    assert response.status == 404
    expect(portal.html).to_have_attribute("lang", "en")
    expect(portal.heading).to_have_text("Page not found")
    expect(page).to_have_title(re.compile(r"^Page not found · "))

    response = portal.open("/no-such-page?lang=zh_CN")
    assert response.status == 404
    expect(portal.html).to_have_attribute("lang", "zh-CN")
    expect(portal.heading).to_have_text(chinese_heading)


def test_pages_work_without_javascript_a_visitor_can_register_and_sign_in(open_page, person_on_record):
    new_person = person_on_record
    page = open_page(java_script_enabled=False)
    portal = Portal(page)
    response = portal.register_person(id_number=new_person.id_number, name=new_person.name,
                                      password=new_person.password)
    assert response.ok
    expect(page).to_have_url(re.compile(r"/register/code$"))
    assert page.evaluate("() => typeof window.htmx") == "undefined"  # really no page script ran
    code = portal.sent_code(new_person.mobile)
    portal.open("/register/code")
    portal.enter_code(code)
    expect(page).to_have_url(re.compile(r"/me$"))
    portal.sign_out()

    portal.sign_in("person", username=new_person.id_number, password=new_person.password)
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(portal.heading).to_contain_text(new_person.name)

    portal.switch_language("English")
    expect(portal.html).to_have_attribute("lang", "en")
    portal.toggle_display()
    expect(portal.html).to_have_class(re.compile(r"\blarge-text\b"))
    portal.sign_out()
    expect(page).to_have_url(re.compile(r"/$"))


def test_the_main_pages_raise_no_content_security_policy_violations(open_page, demo):
    """Runs under the real CSP (no bypass_csp): scripts, styles and htmx must all come from 'self'."""
    page = open_page(bypass_csp=False)
    messages = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    portal = Portal(page)
    for path in ("/", "/login", "/login?account_type=employer", "/login?account_type=staff", "/register/employer",
                 "/accessibility", "/privacy", "/no-such-page"):
        portal.open(path)

    portal.open("/register")
    assert page.evaluate("() => typeof window.htmx") == "object", "htmx did not load under the CSP"
    portal.field("id_number").fill("220102199001011230")
    portal.field("id_number").press("Tab")
    expect(page.locator("#id-check p")).to_be_visible()  # htmx's request and swap work under the CSP
    check_a11y(page)

    handler = demo[("staff", "supervisor")]
    portal.sign_in("staff", username=handler.username, password=handler.password,
                   otp=one_time_code(handler.totp_secret))
    expect(page).to_have_url(re.compile(r"/staff$"))
    portal.follow(portal.verify_employers_link())
    portal.sign_out()

    blocked = [text for text in messages if "Content Security Policy" in text or "Content-Security-Policy" in text]
    assert not blocked, "CSP violations:\n" + "\n".join(blocked)
    assert not watch(page).script_errors, "\n".join(watch(page).script_errors)


def test_the_accessibility_check_itself_reports_a_broken_page(page, open_page):
    """Guards the guard: axe runs (with and without JavaScript) and a violation fails with a readable list."""
    for visitor in (page, open_page(java_script_enabled=False)):
        portal = Portal(visitor)
        portal.open("/privacy")
        visitor.evaluate("""() => {
          const img = document.createElement('img');
          img.src = '/static/missing.png';
          img.id = 'no-alt-text';
          document.querySelector('main').append(img);
        }""")
        with pytest.raises(A11yViolations) as failure:
            check_a11y(visitor)
        report = str(failure.value)
        assert "image-alt" in report and "#no-alt-text" in report and "/privacy" in report
