"""Money as ``Decimal`` yuan, rounded half-up to the fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import PlainSerializer

FEN = Decimal("0.01")
ZERO = Decimal("0")
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


def to_decimal(value: Decimal | int | float | str) -> Decimal:
    """Exact conversion: floats go through ``str`` so 0.1 stays 0.1 rather than its binary expansion."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def fen(value: Decimal) -> Decimal:
    """Round half-up to the fen (0.01 yuan)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen(value: Decimal | int | float | str) -> int:
    """Yuan → integer fen (half-up): how the loan book stores money."""
    return int((to_decimal(value) * 100).quantize(_ONE, rounding=ROUND_HALF_UP))


def from_fen(value: int | None) -> Decimal:
    """Integer fen → Decimal yuan with two places."""
    return (Decimal(value or 0) / 100).quantize(FEN)


def fen_to_number(amount_fen: int | None) -> float:
    """Integer fen → yuan as a JSON number (the contract's money convention on the wire)."""
    return round((amount_fen or 0) / 100, 2)


def round_hundreds(value: float) -> Decimal:
    """Round to 100 yuan, half-up: a valuation is not more precise than that."""
    return (Decimal(repr(value)) / _HUNDRED).quantize(_ONE, rounding=ROUND_HALF_UP) * _HUNDRED


def yuan_str(value: Decimal) -> str:
    """Format as Chinese-readable yuan with thousands separators: 2952.4 -> '2,952.40'."""
    return f"{fen(value):,.2f}"


def percent_str(rate: Decimal, places: int = 2) -> str:
    """A fraction as a percentage string: 0.066 -> '6.60%'."""
    quant = Decimal(1).scaleb(-places)
    return f"{(rate * 100).quantize(quant, rounding=ROUND_HALF_UP)}%"


def _as_json_number(value: Decimal) -> float | int:
    # JSON clients expect numbers; a Decimal with ≤ 2 decimals round-trips exactly through repr(float).
    exponent = value.as_tuple().exponent  # a letter for NaN / Infinity, which never reach here as int
    integral = value == value.to_integral_value() and isinstance(exponent, int) and exponent >= 0
    return int(value) if integral else float(value)


# Money and rates stay Decimal in Python and become plain JSON numbers on the wire.
Money = Annotated[Decimal, PlainSerializer(_as_json_number, return_type=float, when_used="json")]
Rate = Annotated[Decimal, PlainSerializer(_as_json_number, return_type=float, when_used="json")]
