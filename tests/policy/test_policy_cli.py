"""The policy command line: field names, --jsonl, invalid input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PENSION = {
    "region": "220100",
    "retirement_month": "2025-03",
    "age_at_retirement": {"years": 60, "months": 2},
    "actual_months": 300,
    "deemed_months": 60,
    "average_index": "0.85",
    "account_balance": "60000.00",
}


def test_pension_prints_exactly_the_documented_fields(run_cli):
    result = run_cli(["pension"], json.dumps(PENSION))
    assert result.status == 0, result.stderr
    out = result.json
    assert set(out) == {"eligible", "min_contribution_months", "missing_months", "basic", "extra", "transitional",
                        "personal_account", "total", "divisor_months", "provisional", "explanation"}
    assert (out["eligible"], out["min_contribution_months"], out["missing_months"]) == (True, 180, 0)
    assert out["basic"] == "2130.30" and out["transitional"] == "435.66" and out["divisor_months"] == "137.8"
    assert out["total"] == "3125.64"
    assert set(out["explanation"]) == {"steps", "parameters"}
    assert {"name", "value", "effective_from", "source", "confidence"} <= set(out["explanation"]["parameters"][0])
    assert {"key", "text_zh", "text_en", "params"} <= set(out["explanation"]["steps"][0])


def test_pension_accepts_base_overrides(run_cli):
    out = run_cli(["pension"], json.dumps({**PENSION, "base_local": "8000.00", "base_provincial": "7500.00"})).json
    assert out["transitional"] == "446.25"  # 7500 × 5 × 0.85 × 1.4%


def test_pension_for_a_state_farm_enterprise_uses_its_base(run_cli):
    payload = {**PENSION, "region": "220300", "actual_months": 360, "deemed_months": 0, "base_kind": "state_farm"}
    out = run_cli(["pension"], json.dumps(payload)).json
    assert out["basic"] == "617.00" and out["provisional"] is True  # (2223.42 + 2223.42 × 0.85) / 2 × 30%
    refused = run_cli(["pension"], json.dumps({**payload, "base_kind": "army"}))
    assert refused.status == 2 and "'base_kind'" in refused.stderr


def test_pension_below_the_minimum_is_not_eligible_and_prints_no_money(run_cli):
    out = run_cli(["pension"], json.dumps({**PENSION, "actual_months": 179, "deemed_months": 0})).json
    assert (out["eligible"], out["min_contribution_months"], out["missing_months"]) == (False, 180, 1)
    assert [out[key] for key in ("basic", "extra", "transitional", "personal_account", "total", "divisor_months")] \
        == [None] * 6
    assert "pension.option_resident" in [step["key"] for step in out["explanation"]["steps"]]


def test_pension_deferred_past_the_statutory_month_uses_the_statutory_years_minimum(run_cli):
    payload = {**PENSION, "retirement_month": "2030-03", "actual_months": 185, "deemed_months": 0}
    assert run_cli(["pension"], json.dumps(payload)).json["missing_months"] == 1  # 2030: 186
    out = run_cli(["pension"], json.dumps({**payload, "statutory_month": "2029-11"})).json
    assert (out["eligible"], out["min_contribution_months"]) == (True, 180)


def test_retirement_with_a_chosen_month_gives_that_months_minimum_and_the_written_conditions(run_cli):
    person = {"birth_date": "1970-01-15", "category": "male"}  # statutory 2031-05, window 2030-01 .. 2034-05
    out = run_cli(["retirement"], json.dumps(person)).json
    assert (out["statutory_month"], out["chosen_month"], out["min_contribution_months"]) == ("2031-05", "2031-05", 192)
    assert (out["early_notice_months"], out["deferral_agreement_months"]) == (3, 1)
    early = run_cli(["retirement"], json.dumps({**person, "chosen_month": "2030-06"})).json
    assert early["min_contribution_months"] == 186  # the year chosen
    late = run_cli(["retirement"], json.dumps({**person, "chosen_month": "2033-02"})).json
    assert late["min_contribution_months"] == 192  # the statutory year, not 2033's 204
    refused = run_cli(["retirement"], json.dumps({**person, "chosen_month": "2029-12"}))
    assert refused.status == 2 and "'chosen_month'" in refused.stderr and "2030-01 to 2034-05" in refused.stderr


def test_retirement_prints_ages_and_months(run_cli):
    out = run_cli(["retirement"], json.dumps({"birth_date": "1967-05-10", "category": "male"})).json
    assert out["original_age"] == {"years": 60, "months": 0}
    assert out["statutory_age"] == {"years": 60, "months": 8}
    assert (out["statutory_month"], out["earliest_month"], out["latest_month"]) == ("2028-01", "2027-05", "2031-01")
    assert out["min_contribution_months"] == 180


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"kind": "employee", "wage": "3000.00", "month": "2025-07"},
         {"base": "4393.20", "clamped": "floor", "employer": "702.91", "individual": "351.46",
          "personal_account": "351.46", "total": "1054.37"}),
        ({"kind": "flexible", "base_percent": 60, "month": "2025-07"},
         {"base": "4393.20", "clamped": None, "employer": "0.00", "individual": "878.64",
          "personal_account": "351.46", "total": "878.64"}),
    ],
)
def test_contribution_prints_the_documented_fields(run_cli, payload, expected):
    out = run_cli(["contribution"], json.dumps(payload)).json
    assert {key: out[key] for key in expected} == expected


def test_late_fee_with_a_deferral(run_cli):
    payload = {"amount": "1000.00", "due_date": "2020-02-15", "paid_date": "2020-09-30",
               "deferrals": [{"from": "2020-02-16", "to": "2020-08-15"}]}
    out = run_cli(["late-fee"], json.dumps(payload)).json
    assert (out["days"], out["fee"]) == (46, "23.00")


def test_late_fee_for_a_person_paying_for_themselves_is_none_by_default(run_cli):
    payload = {"amount": "1000.00", "due_date": "2025-03-15", "paid_date": "2025-04-14", "payer": "person"}
    out = run_cli(["late-fee"], json.dumps(payload)).json
    assert (out["days"], out["fee"], out["provisional"]) == (0, "0.00", True)


def test_transfer_and_interest(run_cli):
    out = run_cli(["transfer"], json.dumps({"history": [{"month": "1998-01", "base": "1000.00"},
                                                        {"month": "2025-07", "base": "5000.00"}],
                                            "account_balance": "12345.67"})).json
    assert (out["personal_account"], out["pooled"], out["pooled_months"]) == ("12345.67", "720.00", 2)
    out = run_cli(["transfer"], json.dumps({"history": [], "account_balance": "12345.67",
                                            "personal_account_before_1998": "2000.00",
                                            "own_contributions_before_1998": "800.00"})).json
    assert (out["account_from_1998"], out["account_before_1998"], out["personal_account"]) == \
        ("10345.67", "800.00", "11145.67")
    contributions = [{"month": f"2024-{m:02d}", "amount": "400.00"} for m in range(1, 13)]
    out = run_cli(["interest"], json.dumps({"year": 2024, "opening_balance": "10000.00",
                                            "contributions": contributions})).json
    assert (out["interest"], out["closing_balance"]) == ("330.12", "15130.12")


def test_jsonl_answers_each_line_in_order(run_cli):
    lines = [{"kind": "employee", "wage": wage, "month": "2025-07"} for wage in ("3000.00", "6000.00", "99999.00")]
    result = run_cli(["contribution", "--jsonl"], "\n".join(json.dumps(line) for line in lines) + "\n")
    assert result.status == 0
    assert [row["base"] for row in result.lines] == ["4393.20", "6000.00", "21966.00"]


def test_jsonl_keeps_order_and_reports_a_bad_line_in_place(run_cli):
    text = "\n".join([
        json.dumps({"birth_date": "1967-05-10", "category": "male"}),
        json.dumps({"birth_date": "1967-05-10", "category": "robot"}),
        json.dumps({"birth_date": "1983-02-01", "category": "male"}),
    ])
    result = run_cli(["retirement", "--jsonl"], text)
    assert result.status == 2
    rows = result.lines
    assert rows[0]["statutory_month"] == "2028-01"
    assert rows[1]["error"]["field"] == "category" and rows[1]["error"]["line"] == 2
    assert rows[2]["statutory_age"] == {"years": 63, "months": 0}
    assert "line 2" in result.stderr and "category" in result.stderr


@pytest.mark.parametrize(
    ("command", "payload", "field"),
    [
        ("pension", {**PENSION, "account_balance": "60000"}, "account_balance"),
        ("pension", {**PENSION, "account_balance": 60000.5}, "account_balance"),
        ("pension", {k: v for k, v in PENSION.items() if k != "region"}, "region"),
        ("pension", {**PENSION, "region": "110000"}, "region"),
        ("pension", {**PENSION, "retirement_month": "2025-13"}, "retirement_month"),
        ("pension", {**PENSION, "age_at_retirement": {"years": 60}}, "age_at_retirement.months"),
        ("pension", {**PENSION, "actual_months": -1}, "actual_months"),
        ("pension", {**PENSION, "colour": "red"}, "colour"),
        ("pension", {**PENSION, "average_index": "3.01"}, "average_index"),
        ("pension", {**PENSION, "account_balance": "-1.00"}, "account_balance"),
        ("pension", {**PENSION, "statutory_month": "2025"}, "statutory_month"),
        ("retirement", {"birth_date": "1967-05-10", "category": "male", "chosen_month": "2040-01"}, "chosen_month"),
        ("retirement", {"birth_date": "1967-5-10", "category": "male"}, "birth_date"),
        ("contribution", {"kind": "flexible", "base_percent": 59, "month": "2025-07"}, "base_percent"),
        ("contribution", {"kind": "contractor", "month": "2025-07"}, "kind"),
        ("contribution", {"kind": "employee", "wage": "5000.00", "month": "2019-01"}, "month"),
        ("late-fee", {"amount": "1.00", "due_date": "2025-01-01", "paid_date": "2025-02-01",
                      "deferrals": [{"from": "2025-01-05"}]}, "deferrals[0].to"),
        ("transfer", {"history": [{"month": "2025-07", "base": "x"}], "account_balance": "0.00"},
         "history[0].base"),
        ("interest", {"year": 2024, "opening_balance": "1.00",
                      "contributions": [{"month": "2023-12", "amount": "1.00"}]}, "contributions"),
    ],
)
def test_invalid_input_names_the_field_on_stderr_and_exits_2(run_cli, command, payload, field):
    result = run_cli([command], json.dumps(payload))
    assert result.status == 2
    assert result.stdout == ""
    assert f"'{field}'" in result.stderr


def test_malformed_json_and_unknown_commands_exit_2(run_cli):
    assert run_cli(["pension"], "{not json").status == 2
    assert run_cli(["pension"], '{"average_index": NaN}').status == 2
    result = run_cli(["pension-please"], "{}")
    assert result.status == 2 and "usage" in result.stderr


def test_the_module_runs_as_a_script():
    completed = subprocess.run(
        [sys.executable, "-m", "portal.policy.cli", "retirement"],
        input=json.dumps({"birth_date": "1974-10-01", "category": "female_cadre"}),
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    out = json.loads(completed.stdout)
    assert out["statutory_age"] == {"years": 56, "months": 3} and out["statutory_month"] == "2031-01"
