"""Money at the storage boundary: integer fen in the database, ``Decimal`` yuan everywhere else.

Never float: ``to_fen`` refuses anything that is not already exact at the fen, so a rounding decision is
always made (and explained) by the policy engine, never silently here.
"""

from __future__ import annotations

from decimal import Decimal

FEN_PER_YUAN = 100
_FEN = Decimal("0.01")


def to_fen(amount: Decimal) -> int:
    """Decimal yuan → integer fen; the amount must be a whole number of fen (``ValueError`` otherwise)."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    amount = Decimal(amount)
    if not amount.is_finite() or amount != amount.quantize(_FEN):
        raise ValueError(f"not a whole number of fen: {amount}")
    return int(amount * FEN_PER_YUAN)


def from_fen(fen: int) -> Decimal:
    """Integer fen → Decimal yuan with exactly two places."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be int, not {type(fen).__name__}")
    return (Decimal(fen) / FEN_PER_YUAN).quantize(_FEN)


def rate_fraction(rate: Decimal) -> tuple[int, int]:
    """A decimal rate as an exact integer fraction (numerator, 10**places), for integer arithmetic in SQL."""
    sign, digits, exponent = Decimal(rate).normalize().as_tuple()
    if sign or not isinstance(exponent, int):
        raise ValueError(f"not a non-negative finite rate: {rate}")
    numerator = int("".join(map(str, digits)) or "0")
    if exponent >= 0:
        return numerator * 10**exponent, 1
    return numerator, 10**-exponent
