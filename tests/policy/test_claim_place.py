"""`portal policy claim-place`: where benefits are claimed (66号 Art. 6), one test per clause, and its refusals."""

from __future__ import annotations

import json

import pytest


def claim(run_cli, hukou: str, *periods: tuple[str, int], on: str = "2026-11-30"):
    return run_cli(["claim-place"], json.dumps({"on": on, "hukou_place": hukou, "periods": [
        {"place": place, "months": months} for place, months in periods]}))


@pytest.mark.parametrize(("hukou", "periods", "place", "rule"), [
    ("220000", [("110000", 150), ("220000", 30)], "220000", 1),  # last insured in the hukou place
    ("370000", [("110000", 30), ("220000", 120)], "220000", 2),  # ten years at the last place
    ("370000", [("110000", 130), ("310000", 40), ("220000", 30)], "110000", 3),  # back to the last with ten
    ("370000", [("110000", 100), ("220000", 119)], "370000", 4),  # nowhere ten years: the hukou place
])
def test_each_clause_of_article_6_decides_and_says_which(run_cli, hukou, periods, place, rule):
    out = claim(run_cli, hukou, *periods)
    assert out.status == 0, out.stderr
    assert (out.json["place"], out.json["rule"]) == (place, rule)
    assert out.json["explanation"]["steps"][0]["key"] == f"transfer.claim_rule_{rule}"
    assert out.json["explanation"]["parameters"][0]["name"] == "claim_place_years"


def test_years_at_one_place_add_up_across_separate_stints(run_cli):
    out = claim(run_cli, "370000", ("220000", 70), ("110000", 20), ("220000", 50))
    assert (out.json["place"], out.json["rule"]) == ("220000", 2)


@pytest.mark.parametrize(("data", "field"), [
    ({"on": "2026-11-30", "hukou_place": "22", "periods": [{"place": "110000", "months": 1}]}, "hukou_place"),
    ({"on": "2026-11-30", "hukou_place": "220000", "periods": []}, "periods"),
    ({"on": "2026-11-30", "hukou_place": "220000", "periods": [{"place": "110000", "months": -1}]},
     "periods[0].months"),
    ({"hukou_place": "220000", "periods": [{"place": "110000", "months": 1}]}, "on"),
])
def test_a_wrong_field_is_named_and_refused(run_cli, data, field):
    out = run_cli(["claim-place"], json.dumps(data))
    assert out.status == 2
    assert field in out.stderr
