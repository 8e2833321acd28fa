"""Personal-account interest, average contribution index, transfers, claim place, gap sharing."""

from datetime import date
from decimal import Decimal

import pytest

from portal.policy.errors import PolicyInputError
from portal.policy.rules.contribution_index import average_contribution_index
from portal.policy.rules.gap_sharing import share_gap
from portal.policy.rules.interest import account_interest
from portal.policy.rules.transfer import InsuredPeriod, claim_place, temporary_account, transfer_amounts

D = Decimal


def twelve_months(year, amount):
    return [(date(year, month, 1), D(amount)) for month in range(1, 13)]


def test_the_opening_balance_earns_a_full_year_and_each_month_earns_13_minus_n_twelfths():
    result = account_interest(2024, D("10000.00"), twelve_months(2024, "400.00"))
    assert result.rate == D("0.0262")
    assert result.opening_interest == D("262.00")
    assert result.contribution_interest == D("68.12")  # 400 × 78 × 0.0262 / 12 = 68.12
    assert result.interest == D("330.12")
    assert result.closing_balance == D("15130.12")
    assert result.provisional  # the accrual convention is unsourced for Jilin


def test_a_january_contribution_earns_twelve_months_and_a_december_one_month():
    january = account_interest(2024, D("0.00"), [(date(2024, 1, 1), D("1200.00"))])
    december = account_interest(2024, D("0.00"), [(date(2024, 12, 1), D("1200.00"))])
    assert january.interest == D("31.44")  # 1200 × 2.62%
    assert december.interest == D("2.62")  # 1200 × 2.62% / 12


def test_the_approximation_uses_1083_times_a_half():
    result = account_interest(2024, D("0.00"), twelve_months(2024, "400.00"), method="approximation")
    assert result.interest == D("68.10")  # 4800 × 0.0262 × 0.5415


def test_a_year_without_a_published_rate_carries_the_latest_forward():
    result = account_interest(2027, D("1000.00"), [])
    assert result.rate == D("0.0150")
    assert any(used.carried_forward for used in result.explanation.parameters)


def test_a_contribution_outside_the_year_is_refused():
    with pytest.raises(PolicyInputError) as error:
        account_interest(2024, D("0.00"), [(date(2023, 12, 1), D("1.00"))])
    assert error.value.field == "contributions"


@pytest.mark.parametrize(
    ("name", "history", "index"),
    [
        ("a base equal to the average wage is index 1", [(date(2025, 7, 1), "7322.08")], "1.00"),
        ("june 2025 uses the 2024 average wage", [(date(2025, 6, 1), "7178.50")], "1.00"),
        ("a low base from older rules is not floored at 0.60", [(date(2025, 7, 1), "1000.00")], "0.14"),
        ("an index of 0.46 as on a 2025 Tonghua statement", [(date(2025, 7, 1), "3368.16")], "0.46"),
        ("a high base is bounded to 3.0", [(date(2025, 8, 1), "30000.00")], "3.00"),
        ("the index is the mean over months",
         [(date(2025, 7, 1), "7322.08"), (date(2025, 6, 1), "3589.25")], "0.75"),  # 1.00 and 0.50, no floor
        ("months weigh equally across years",
         [(date(2024, 7, 1), "14357.00"), (date(2024, 8, 1), "7178.50"), (date(2025, 7, 1), "7322.08")], "1.33"),
    ],
)
def test_average_contribution_index(name, history, index):
    result = average_contribution_index([(month, D(base)) for month, base in history])
    assert result.average_index == D(index), name


def test_a_duplicated_month_in_the_history_is_refused():
    with pytest.raises(PolicyInputError) as error:
        average_contribution_index([(date(2025, 7, 1), D("1.00")), (date(2025, 7, 1), D("2.00"))])
    assert error.value.field == "history"


def test_before_1998_only_the_persons_own_contributions_with_interest_move():
    history = [(date(1996, 1, 1), D("500.00")), (date(1998, 1, 1), D("1000.00"))]
    result = transfer_amounts(history, D("50000.00"), date(2025, 8, 1),
                              personal_account_before_1998=D("8000.00"), own_contributions_before_1998=D("3000.00"))
    assert result.account_from_1998 == D("42000.00")
    assert result.account_before_1998 == D("3000.00")
    assert result.personal_account == D("45000.00")  # 5000.00 of the pre-1998 part stays
    assert "transfer.account_split" in [step.key for step in result.explanation.steps]


@pytest.mark.parametrize(("field", "before", "own"), [
    ("personal_account_before_1998", "60000.00", "0.00"),
    ("own_contributions_before_1998", "1000.00", "2000.00"),
    ("own_contributions_before_1998", "1000.00", "-1.00"),
])
def test_a_pre_1998_part_that_does_not_fit_the_balance_is_refused(field, before, own):
    with pytest.raises(PolicyInputError) as error:
        transfer_amounts([], D("50000.00"), date(2025, 8, 1), personal_account_before_1998=D(before),
                         own_contributions_before_1998=D(own))
    assert error.value.field == field


def test_a_transfer_moves_the_whole_account_and_12_percent_of_bases_from_1998():
    history = [(date(1997, 12, 1), D("900.00")), (date(1998, 1, 1), D("1000.00")), (date(2025, 7, 1), D("5000.00"))]
    result = transfer_amounts(history, D("12345.67"), date(2025, 8, 1))
    assert result.personal_account == D("12345.67")
    assert result.pooled == D("720.00")
    assert result.pooled_months == 2


@pytest.mark.parametrize(
    ("name", "periods", "hukou", "place", "rule"),
    [
        ("insured in the hukou place claims there", [("A", 60), ("B", 150)], "B", "B", 1),
        ("ten years at the last place claims there", [("A", 60), ("B", 120)], "H", "B", 2),
        ("stints at one place add up", [("A", 70), ("B", 20), ("A", 50)], "H", "A", 2),
        ("short last place returns to the last ten-year place", [("A", 130), ("C", 50), ("B", 60)], "H", "A", 3),
        ("the most recent ten-year place wins", [("A", 130), ("C", 125), ("B", 10)], "H", "C", 3),
        ("no ten-year place falls back to the hukou place", [("A", 60), ("B", 119)], "H", "H", 4),
    ],
)
def test_the_claim_place_follows_the_ten_year_rule(name, periods, hukou, place, rule):
    result = claim_place([InsuredPeriod(p, m) for p, m in periods], hukou, date(2025, 1, 1))
    assert (result.place, result.rule) == (place, rule), name


@pytest.mark.parametrize(
    ("sex", "age", "cross", "to_hukou", "applies"),
    [
        ("male", 50, True, False, True),
        ("male", 49, True, False, False),
        ("female", 40, True, False, True),
        ("female", 39, True, False, False),
        ("male", 55, False, False, False),
        ("male", 55, True, True, False),
    ],
)
def test_a_temporary_account_opens_for_older_cross_province_movers_to_a_non_hukou_place(
    sex, age, cross, to_hukou, applies
):
    result = temporary_account(sex=sex, age_years=age, cross_province=cross, to_hukou_place=to_hukou,
                               on=date(2025, 1, 1))
    assert result.applies is applies


@pytest.mark.parametrize(
    ("shortfall", "provincial", "local"),
    [("1000.00", "800.00", "200.00"), ("0.03", "0.02", "0.01"), ("0.00", "0.00", "0.00")],
)
def test_a_gap_is_covered_80_from_the_fund_surplus_and_20_by_governments_and_the_parts_add_up(
        shortfall, provincial, local):
    result = share_gap(D(shortfall), 2024)
    assert (result.fund_surplus, result.governments) == (D(provincial), D(local))
    assert result.fund_surplus + result.governments == D(shortfall)
    # The seed (吉政发〔2020〕2号 §三(四)) is the source, and it sets both shares provisionally.
    used = result.explanation.parameters[0]
    assert used.source.startswith("吉政发〔2020〕2号") and used.effective_from == date(2020, 7, 1)
    assert result.shares_provisional and result.provisional
    assert "gap.provisional" in [step.key for step in result.explanation.steps]


def test_no_gap_sharing_text_speaks_of_province_and_prefectures():
    result = share_gap(D("100.00"), 2024)
    text = " ".join(step.text_en + step.text_zh for step in result.explanation.steps)
    text += used_text(result)
    for word in ("prefecture", "province bears", "市县", "省级分担"):
        assert word not in text


def used_text(result):
    used = result.explanation.parameters[0]
    return used.source + str(used.value)
