"""Money, numbers and dates in the visitor's language."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal import i18n


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("amount, shown", [
    (Decimal("1234.56"), "¥1,234.56"), (Decimal("1234.5"), "¥1,234.50"), (0, "¥0.00"),
    (Decimal("1234567.891"), "¥1,234,567.89"), (Decimal("-88.1"), "-¥88.10"), (None, ""),
])
def test_money_is_shown_in_yuan_the_same_way_in_both_languages(locale, amount, shown):
    assert i18n.format_money(amount, locale) == shown


def test_money_follows_the_current_language_when_none_is_given():
    i18n.set_locale("en")
    try:
        assert i18n.format_money(Decimal("1234.56")) == "¥1,234.56"
    finally:
        i18n.set_locale(i18n.DEFAULT_LOCALE)


def test_dates_are_written_the_chinese_way_and_the_english_way():
    day = date(2026, 11, 28)
    assert i18n.format_date(day, "zh_CN") == "2026年11月28日"
    assert i18n.format_date(day, "en") == "November 28, 2026"


def test_a_moment_is_dated_in_china_time():
    late_evening_utc = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)  # 01:30 on the 28th in Jilin
    assert i18n.format_date(late_evening_utc, "zh_CN") == "2026年11月28日"
    assert i18n.format_date(late_evening_utc, "en") == "November 28, 2026"


def test_a_contribution_month_in_both_languages():
    assert i18n.format_month("2026-07", "zh_CN") == "2026年7月"
    assert i18n.format_month(date(2026, 7, 1), "en") == "July 2026"


def test_numbers_are_grouped_by_thousands():
    assert i18n.format_number(1234567, "zh_CN") == "1,234,567"
    assert i18n.format_number(Decimal("1234.5"), "en", places=2) == "1,234.50"


NUMBERS = [0, 7, -7, 999, 1000, 1234567, -1234567, 10**15, Decimal("0.5"), Decimal("2.5"), Decimal("0.0005"),
           Decimal("0.0015"), Decimal("1234.5"), Decimal("1234.56789"), Decimal("-1234.5645"), Decimal("0.1000"),
           Decimal("12.3456"), Decimal("999999.9995"), Decimal("0.030"), Decimal("100"), Decimal("1E+3"),
           Decimal("-0.25"), Decimal("3.14159265358979")]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("places", [None, 0, 1, 2, 4])
def test_numbers_read_exactly_as_babel_writes_them_in_both_languages(locale, places):
    from babel.numbers import format_decimal

    pattern = None if places is None else "#,##0." + "0" * places if places else "#,##0"
    for value in NUMBERS:
        assert i18n.format_number(value, locale, places=places) == format_decimal(
            value, format=pattern, locale=i18n.babel_locale(locale)), value


def test_templates_format_money_and_dates_in_the_current_language():
    from portal.web.templating import environment

    template = environment().from_string("{{ amount|money }} {{ day|date }}")
    for locale, day in (("zh_CN", "2026年11月28日"), ("en", "November 28, 2026")):
        i18n.set_locale(locale)
        try:
            assert template.render(amount=Decimal("1234.56"), day=date(2026, 11, 28)) == f"¥1,234.56 {day}"
        finally:
            i18n.set_locale(i18n.DEFAULT_LOCALE)


@pytest.mark.parametrize("header, chosen", [
    ("en-GB,en;q=0.9", "en"), ("zh-Hans-CN", "zh_CN"), ("zh-TW", "zh_CN"), ("fr-FR, de;q=0.5", "zh_CN"),
    ("de;q=0.9, en;q=0.8, zh;q=0.7", "en"), ("en;q=0.1, zh;q=0.2", "zh_CN"), ("en;q=abc", "en"), ("", "zh_CN"),
])
def test_accept_language_is_read_by_preference(header, chosen):
    assert i18n.negotiate(query=None, cookie=None, accept_language=header) == chosen


def test_the_query_wins_over_the_cookie_and_the_cookie_over_the_browser():
    assert i18n.negotiate(query="en", cookie="zh_CN", accept_language="zh") == "en"
    assert i18n.negotiate(query=None, cookie="en", accept_language="zh") == "en"
    assert i18n.negotiate(query="klingon", cookie=None, accept_language="en") == "en"


def test_money_is_written_as_babel_s_pattern_writes_it_in_both_languages():
    from babel.numbers import format_decimal

    amounts = [Decimal("0"), Decimal("0.005"), Decimal("999.995"), Decimal("-1234567.891"), 12, -3,
               *(Decimal(n * 7919 - 10**9) / 100 for n in range(0, 500_000, 997))]
    for locale in ("zh_CN", "en"):
        for amount in amounts:
            rounded = Decimal(amount).quantize(Decimal("0.01"))
            babel = format_decimal(abs(rounded), format="#,##0.00", locale=i18n.babel_locale(locale))
            assert i18n.format_money(amount, locale) == ("-" if rounded < 0 else "") + "¥" + babel
