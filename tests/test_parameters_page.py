"""The parameters page at /policy/parameters: every parameter, its value today, history, source and confidence."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from portal.policy.parameters import PROVISIONAL_CONFIDENCE, all_parameters
from tests.helpers import html_lang

PARAMETERS = all_parameters()


def section(page: str, name: str) -> str:
    found = re.search(rf'<section class="parameter card" id="parameter-{name}".*?</section>', page, re.S)
    assert found, f"no section for {name}"
    return found.group(0)


@pytest.fixture
def chinese(client, frozen_clock) -> str:
    page = client.get("/policy/parameters")
    assert page.status_code == 200
    return page.text


@pytest.fixture
def english(client, frozen_clock) -> str:
    page = client.get("/policy/parameters?lang=en")
    assert page.status_code == 200
    return page.text


def test_every_parameter_is_listed_with_its_source_and_description_in_chinese(chinese):
    assert html_lang(chinese) == "zh-CN"
    assert chinese.count('<section class="parameter card"') == len(PARAMETERS)
    for parameter in PARAMETERS:
        part = section(chinese, parameter.name)
        assert str(escape(parameter.source)) in part, parameter.name
        assert str(escape(parameter.description_zh)) in part, parameter.name
        assert "data-current" in part


def test_every_parameter_is_described_in_english_for_an_english_visitor(english):
    assert html_lang(english) == "en"
    for parameter in PARAMETERS:
        part = section(english, parameter.name)
        assert str(escape(parameter.description_en)) in part, parameter.name
        assert str(escape(parameter.source)) in part


def test_every_dated_value_appears_in_the_history_with_its_own_source(english):
    for parameter in PARAMETERS:
        part = section(english, parameter.name)
        history = part.split('<table class="table parameter__history">')[1]
        rows = history.count("<tr>") - 1  # the header row
        assert rows == sum(len(values) for values in parameter.series.values()), parameter.name
        for values in parameter.series.values():
            for value in values:
                assert str(escape(value.source)) in history


def test_low_confidence_and_unsourced_parameters_are_marked_in_words_and_with_a_tag(english):
    for parameter in PARAMETERS:
        part = section(english, parameter.name)
        heading = part.split("</h2>")[0]
        levels = {parameter.confidence} | {v.confidence for vs in parameter.series.values() for v in vs}
        if "unsourced" in levels:
            assert '<strong class="tag tag--red">Unsourced</strong>' in heading, parameter.name
            assert "No official source found" in part
        elif levels & PROVISIONAL_CONFIDENCE:
            assert '<strong class="tag tag--yellow">Low confidence</strong>' in heading, parameter.name
        else:
            assert "tag--yellow" not in heading and "tag--red" not in heading, parameter.name
    assert "High confidence" in section(english, "employer_rate") or "Medium confidence" in section(
        english, "employer_rate")


def test_a_regional_parameter_shows_the_value_today_for_each_region(english):
    part = section(english, "pension_base")
    assert part.count("data-current") == 2
    assert "Changchun" in part and "Jilin Province" in part
    # The frozen clock is in 2026: Changchun's 2026 base is not published, so its 2025 value is carried forward.
    assert "This year&#39;s figure is not published yet" in part or "This year's figure is not published yet" in part


def test_the_estimator_and_the_parameters_page_link_to_each_other(client, frozen_clock):
    assert 'href="/policy/parameters"' in client.get("/estimate").text
    assert 'href="/estimate"' in client.get("/policy/parameters").text
