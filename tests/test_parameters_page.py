"""The parameters page at /policy/parameters: every parameter, its value today, history, source and confidence."""

from __future__ import annotations

import re
from datetime import date

import pytest
from markupsafe import escape

from portal.policy.errors import ParameterNotDefined
from portal.policy.parameters import PROVISIONAL_CONFIDENCE, all_parameters
from portal.web.policy_words import citation
from tests.helpers import html_lang
from tests.visible_text import visible_text

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


def current_values(parameter, today=date(2026, 11, 28)):
    found = []
    for region in parameter.series:
        try:
            used = parameter.at(today, region=region)
        except ParameterNotDefined:
            continue
        found.append(used)
    return found


def test_every_parameter_is_listed_with_its_value_today_and_the_official_text_in_chinese(chinese):
    assert html_lang(chinese) == "zh-CN"
    assert chinese.count('<section class="parameter card"') == len(PARAMETERS)
    for parameter in PARAMETERS:
        part = section(chinese, parameter.name)
        assert str(escape(parameter.description_zh)) in part, parameter.name
        assert "data-current" in part
        for used in current_values(parameter):
            for document in citation(used.source).documents:
                assert str(escape(document)) in part, (parameter.name, document)


def test_every_parameter_is_described_in_english_for_an_english_visitor(english):
    assert html_lang(english) == "en"
    for parameter in PARAMETERS:
        part = section(english, parameter.name)
        assert str(escape(parameter.description_en)) in part, parameter.name


@pytest.mark.parametrize("language", ["chinese", "english"])
def test_sources_name_official_texts_never_files_repositories_or_research_notes(language, request):
    page = visible_text(request.getfixturevalue(language))
    for trail in ("JLC", "JLX", "liubigfatty", "jiabin-xu", "salary-calculator", "pension-calculator", ".html",
                  ".ts", ".md", "derived", "via ", "general knowledge", "not verified", "fudaoke"):
        assert trail not in page, trail


def test_the_chinese_page_has_no_english_words_but_the_standards_code(chinese):
    words = set(re.findall(r"[A-Za-z]{2,}", visible_text(chinese))) - {"GB", "English"}  # the language switch
    assert not words, words


def test_a_figure_without_an_official_text_says_so_in_a_plain_sentence(chinese, english):
    assert "未找到吉林省征缴期限文件" not in section(chinese, "contribution_due_day")
    assert "未找到公布该数值的官方文件" in section(chinese, "contribution_due_day")
    assert "No official text publishing this figure was found" in section(english, "contribution_due_day")


def test_each_value_today_shows_its_own_confidence_once(english):
    for parameter in PARAMETERS:
        part = section(english, parameter.name)
        today = part.split("<details")[0]
        assert today.count("Confidence:") == today.count("data-current"), parameter.name
    # The 2026 base floor (吉人社联〔2026〕74号) is medium although the parameter's other values are medium-high.
    floor = section(english, "base_floor").split("<details")[0]
    assert "Medium confidence" in floor and "Medium to high confidence" not in floor


def test_the_history_is_folded_away_with_every_dated_value_and_its_own_source(english):
    for parameter in PARAMETERS:
        part = section(english, parameter.name)
        count = sum(len(values) for values in parameter.series.values())
        if count == len(parameter.series):
            assert "<details" not in part, parameter.name
            continue
        assert part.count("<details") == 1 and "<table" not in part.split("<details")[0], parameter.name
        history = part.split('parameter__history">')[1]
        assert history.count("<tr>") - 1 == count, parameter.name


def test_low_confidence_and_unsourced_values_in_force_are_marked_in_words_and_with_a_tag(english):
    for parameter in PARAMETERS:
        part = section(english, parameter.name)
        heading = part.split("</h2>")[0]
        levels = {used.confidence for used in current_values(parameter)}
        if "unsourced" in levels:
            assert '<strong class="tag tag--red">Unsourced</strong>' in heading, parameter.name
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
