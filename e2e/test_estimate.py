"""The public pension estimator in a real browser: Chinese first, then English, the same total; axe on every page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e import a11y
from e2e.a11y import check_a11y

INPUT = {
    "birth_date": "1970-03-15",
    "months_paid": "300",
    "months_expected": "60",
    "average_index": "1.00",
    "account_balance": "80000.00",
}
TOTAL = '[data-figure="total"]'


def accept_htmx_history_marker(page: Page) -> None:
    """htmx marks the page's first history entry with ``history.replaceState`` (same URL, same document) before it
    pushes the results' address; Chromium reports that as a navigation. It is the page already checked, so it
    counts as checked; any other unchecked navigation still fails the test."""
    watch = a11y.watch(page)
    for number in range(2, len(watch.navigations) + 1):
        same_address = watch.navigations[number - 1] == watch.navigations[number - 2]
        if same_address and number - 1 in watch.checked:
            watch.checked.add(number)


def fill_estimator(page: Page, **changes: str) -> None:
    values = INPUT | changes
    for name, value in values.items():
        page.locator(f"#field-{name}").fill(value)
    page.locator("#field-category-male").check()
    page.locator("#field-region").select_option("220100")
    page.locator("form.estimator-form button[type=submit]").click()


def test_a_visitor_estimates_in_chinese_then_reads_the_same_total_in_english(page: Page):
    page.goto("/estimate")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_be_visible()
    check_a11y(page)

    page.evaluate("() => { window.stillTheSamePage = true; }")
    fill_estimator(page)
    page.wait_for_url(re.compile(r"/estimate\?.*birth_date=1970-03-15"))
    total = page.locator(TOTAL)
    expect(total).to_be_visible()
    # htmx put the results into the page (no reload) and refreshed the header's language link.
    assert page.evaluate("() => window.stillTheSamePage === true")
    expect(page.locator('.site-header__tools a[hreflang="en"]')).to_have_attribute("href", re.compile("birth_date="))
    expect(total).to_have_text(re.compile(r"^¥\d{1,3}(,\d{3})*\.\d{2}$"))
    figure = total.get_attribute("data-value")
    shown = total.inner_text()
    expect(page.locator("#what-if-table tbody tr")).not_to_have_count(0)
    expect(page.locator("svg.chart__svg[role=img]")).to_have_attribute("aria-label", re.compile(r".+"))
    page.locator("#estimate-explanation summary").click()
    expect(page.locator("#estimate-explanation .explanation__steps li").first).to_be_visible()
    check_a11y(page)
    accept_htmx_history_marker(page)

    page.locator('.site-header__tools a[hreflang="en"]').click()
    page.wait_for_url(re.compile(r"lang=en"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(TOTAL)).to_have_attribute("data-value", figure)
    expect(page.locator(TOTAL)).to_have_text(shown)
    expect(page.locator("#estimate-explanation summary")).to_have_text("How this was calculated")
    check_a11y(page)


def test_without_javascript_the_form_still_answers_and_names_a_bad_field(open_page):
    page = open_page(java_script_enabled=False)
    page.goto("/estimate?lang=en")
    check_a11y(page)

    fill_estimator(page, average_index="3.5")
    page.wait_for_url(re.compile(r"average_index=3.5"))
    expect(page.locator(".error-summary a[href='#field-average_index']")).to_be_visible()
    expect(page.locator("#field-average_index")).to_have_value("3.5")
    expect(page.locator("#field-months_paid")).to_have_value("300")
    expect(page.locator(TOTAL)).to_have_count(0)
    check_a11y(page)

    page.locator("#field-average_index").fill("1.00")
    page.locator("form.estimator-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"average_index=1.00"))
    expect(page.locator(TOTAL)).to_have_text(re.compile(r"^¥"))
    check_a11y(page)


def test_the_parameters_page_lists_the_sources(page: Page):
    page.goto("/policy/parameters")
    expect(page.locator("section.parameter").first).to_be_visible()
    expect(page.locator("#parameter-pension_base [data-source]").first).to_contain_text("吉人社联")
    expect(page.locator("main")).not_to_contain_text("JLC")
    check_a11y(page)
