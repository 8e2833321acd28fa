"""Decimal helpers. Money never goes through float: a binary float cannot hold 0.01 exactly."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from portal.policy.errors import PolicyInputError

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def round_fen(amount: Decimal) -> Decimal:
    """Rounds to the fen (0.01 yuan), half up, as benefit statements do."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def round_places(amount: Decimal, places: int) -> Decimal:
    """Rounds half up to ``places`` decimals (years and the index use 2, the divisor 1)."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_decimal(value: object, field: str) -> Decimal:
    """Converts an int, Decimal or decimal string to Decimal; floats are refused, not converted."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise PolicyInputError(field, "must be a decimal string such as \"1234.50\"")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise PolicyInputError(field, f"not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise PolicyInputError(field, "must be a finite number")
    return result


def fmt_money(amount: Decimal) -> str:
    """Formats money with exactly two places."""
    return str(round_fen(amount))
