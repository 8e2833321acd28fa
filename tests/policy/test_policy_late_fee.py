"""Late fee: 0.05% a day, deferral windows excluded."""

from datetime import date
from decimal import Decimal

import pytest

from portal.policy.errors import PolicyInputError
from portal.policy.rules.late_fee import deferral_window, late_fee

D = Decimal


@pytest.mark.parametrize(
    ("name", "amount", "due", "paid", "windows", "days", "fee"),
    [
        ("paid on the due date costs nothing", "1000.00", date(2025, 3, 15), date(2025, 3, 15), [], 0, "0.00"),
        ("paid early costs nothing", "1000.00", date(2025, 3, 15), date(2025, 3, 1), [], 0, "0.00"),
        ("one day late is one day of fee", "1000.00", date(2025, 3, 15), date(2025, 3, 16), [], 1, "0.50"),
        ("thirty days late", "1000.00", date(2025, 3, 15), date(2025, 4, 14), [], 30, "15.00"),
        ("the fee is rounded half up to the fen", "333.33", date(2025, 1, 1), date(2025, 1, 4), [], 3, "0.50"),
        ("deferral days are not charged", "1000.00", date(2020, 2, 15), date(2020, 9, 30),
         [(date(2020, 2, 16), date(2020, 8, 15))], 46, "23.00"),
        ("overlapping windows are not excluded twice", "1000.00", date(2025, 1, 1), date(2025, 1, 31),
         [(date(2025, 1, 5), date(2025, 1, 10)), (date(2025, 1, 8), date(2025, 1, 12))], 22, "11.00"),
        ("a window outside the late period changes nothing", "1000.00", date(2025, 1, 1), date(2025, 1, 11),
         [(date(2024, 1, 1), date(2024, 12, 31))], 10, "5.00"),
    ],
)
def test_late_fee_examples(name, amount, due, paid, windows, days, fee):
    result = late_fee(D(amount), due, paid, windows)
    assert (result.days, result.fee) == (days, D(fee)), name


def test_a_window_longer_than_six_months_is_honoured_but_noted():
    result = late_fee(D("1000.00"), date(2022, 4, 15), date(2024, 1, 10), [(date(2022, 4, 16), date(2023, 12, 31))])
    assert result.days == 10
    assert any(step.key == "late_fee.window_long" for step in result.explanation.steps)


def test_a_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(PolicyInputError) as error:
        late_fee(D("1.00"), date(2025, 1, 1), date(2025, 2, 1), [(date(2025, 1, 10), date(2025, 1, 5))])
    assert error.value.field == "deferrals"


def test_the_explanation_cites_the_social_insurance_law():
    result = late_fee(D("1000.00"), date(2025, 3, 15), date(2025, 3, 20))
    used = result.explanation.parameters[0]
    assert used.name == "late_fee_daily_rate" and "第八十六条" in used.source and used.confidence == "high"


def test_a_person_paying_for_themselves_is_not_charged_the_employers_late_fee_and_it_is_provisional():
    employer = late_fee(D("1000.00"), date(2025, 3, 15), date(2025, 4, 14))
    person = late_fee(D("1000.00"), date(2025, 3, 15), date(2025, 4, 14), payer="person")
    assert employer.fee == D("15.00") and person.fee == D("0.00")
    assert person.provisional  # flexible_late_fee_applies is low confidence
    used = {used.name: used for used in person.explanation.parameters}["flexible_late_fee_applies"]
    assert used.value == "no" and "第八十六条" in used.source
    assert person.explanation.steps[-1].key == "late_fee.person_not_charged"


def test_an_unknown_payer_is_refused():
    with pytest.raises(PolicyInputError) as error:
        late_fee(D("1.00"), date(2025, 3, 15), date(2025, 4, 14), payer="company")
    assert error.value.field == "payer"


@pytest.mark.parametrize(("approved", "start", "end", "months"), [
    (date(2026, 11, 28), date(2026, 11, 28), date(2027, 11, 27), 12),  # Jilin's standing rule: a year
    (date(2020, 3, 10), date(2020, 3, 10), date(2020, 9, 9), 6),  # the 2020 relief (人社部发〔2020〕11号)
    (date(2026, 1, 31), date(2026, 1, 31), date(2027, 1, 30), 12),
    (date(2020, 8, 31), date(2020, 8, 31), date(2021, 2, 27), 6),  # no 31 February: the 28th, less a day
])
def test_the_no_fee_window_runs_from_the_approval_for_the_longest_deferral_then(approved, start, end, months):
    window = deferral_window(approved)
    assert (window.start, window.end, window.months) == (start, end, months)
