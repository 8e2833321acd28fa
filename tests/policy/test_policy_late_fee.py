"""Late fee: 0.05% a day, deferral windows excluded."""

from datetime import date
from decimal import Decimal

import pytest

from portal.policy.errors import PolicyInputError
from portal.policy.rules.late_fee import late_fee

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
