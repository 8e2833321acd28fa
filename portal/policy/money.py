"""Money: Decimal yuan everywhere, integer fen in the database. Never float: a binary float cannot hold 0.01 exactly.

At the storage boundary ``to_fen`` refuses anything that is not already exact at the fen, so a rounding decision is
always made (and explained) by the policy engine, never silently there.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from portal.policy.errors import PolicyInputError

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
FEN_PER_YUAN = 100


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


def to_fen(amount: Decimal) -> int:
    """Decimal yuan → integer fen; the amount must be a whole number of fen (``ValueError`` otherwise)."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    amount = Decimal(amount)
    if not amount.is_finite() or amount != amount.quantize(FEN):
        raise ValueError(f"not a whole number of fen: {amount}")
    return int(amount * FEN_PER_YUAN)


def from_fen(fen: int) -> Decimal:
    """Integer fen → Decimal yuan with exactly two places."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be int, not {type(fen).__name__}")
    # Moving the decimal point is exact and gives exactly two places; a record page converts thousands of these.
    return Decimal(fen).scaleb(-2)


def rate_fraction(rate: Decimal) -> tuple[int, int]:
    """A decimal rate as an exact integer fraction (numerator, 10**places), for integer arithmetic in SQL."""
    sign, digits, exponent = Decimal(rate).normalize().as_tuple()
    if sign or not isinstance(exponent, int):
        raise ValueError(f"not a non-negative finite rate: {rate}")
    numerator = int("".join(map(str, digits)) or "0")
    if exponent >= 0:
        return numerator * 10**exponent, 1
    return numerator, 10**-exponent
