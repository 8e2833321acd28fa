"""Chinese that reads like a government service: dates and months in words, full-width punctuation, and the same
English word translated by what it means where it is used."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal import i18n
from portal.errors import Msg
from portal.policy.rules.late_fee import late_fee

CATALOG = Path(__file__).resolve().parent.parent / "i18n" / "zh_CN" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")
ASCII_PUNCTUATION = re.compile(r"[,;:()?!]")


@pytest.fixture
def chinese():
    i18n.set_locale("zh_CN")
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)


@pytest.fixture
def english():
    i18n.set_locale("en")
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)


def translations():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if not message.id:
            continue
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            if text:
                yield message, text


def test_chinese_translations_use_full_width_punctuation():
    ascii_marks = {message.id if isinstance(message.id, str) else message.id[0]: text
                   for message, text in translations() if ASCII_PUNCTUATION.search(PLACEHOLDER.sub("", text))}
    assert not ascii_marks, ascii_marks


def test_a_month_in_a_message_reads_as_a_month_in_each_language(chinese):
    message = Msg("This person retired in %(month)s and draws a pension, so they cannot be enrolled again.",
                  {"month": "2026-11"})
    assert "2026年11月" in message.render(i18n.gettext) and "2026-11" not in message.render(i18n.gettext)
    i18n.set_locale("en")
    assert "November 2026" in message.render(i18n.gettext)


def test_a_day_in_a_message_reads_as_a_date_and_other_values_are_left_alone(chinese):
    assert i18n.readable({"day": "2026-11-05", "on": date(2026, 11, 5), "reference": "JL20261128000001",
                          "bad": "2026-13", "count": 3}) == {
        "day": "2026年11月5日", "on": "2026年11月5日", "reference": "JL20261128000001", "bad": "2026-13", "count": 3}


def test_templates_translate_a_month_parameter_the_same_way(chinese):
    from portal.web.templating import environment

    page = environment().from_string('{{ _("Next month (%(month)s)", month="2026-12") }}').render()
    assert "2026年12月" in page


def test_explanation_steps_write_dates_and_months_in_words(chinese):
    step = late_fee(Decimal("1000.00"), date(2026, 11, 15), date(2026, 11, 10)).explanation.steps[0]
    assert "2026年11月15日" in step.text_zh and "2026-11-15" not in step.text_zh
    assert "15 November 2026" in step.text_en
    # The step keeps the ISO value for machines (the policy command's JSON).
    assert dict(step.params)["due"] == "2026-11-15"


@pytest.mark.parametrize(("context", "message", "expected", "wrong"), [
    ("contribution month", "Due", "待缴费", "承诺办结时限"),
    (None, "Due by", "办结时限", None),
    (None, "Why we hold it", "收集和使用目的", "用途"),
    (None, "How the base was set", "基数核定依据", "用途"),
    (None, "Months paid for", "缴费月份", "月数"),
    (None, "The reviewer confirmed the rejection", "复核确认：不予通过", None),
    (None, "Reviewer", "复核人员", "经办人员"),
])
def test_a_word_is_translated_by_what_it_means_where_it_is_used(chinese, context, message, expected, wrong):
    shown = i18n.pgettext(context, message) if context else i18n.gettext(message)
    assert shown == expected
    assert shown != wrong


def test_the_ambiguous_short_words_are_no_longer_in_the_catalog():
    ids = {message.id for message, _text in translations() if message.context is None}
    assert not {"Due", "Why"} & ids


def test_templates_put_brackets_inside_the_translated_text():
    """ASCII brackets around a translated text stay ASCII in Chinese; inside the message they become （）."""
    templates = Path(__file__).resolve().parent.parent / "templates"
    wrapped = re.compile(r"\(\{\{\s*_\(|\)\s*\}\}\)")
    found = [f"{path.relative_to(templates)}:{number}" for path in sorted(templates.rglob("*.html"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if wrapped.search(line)]
    assert not found, found
