"""Money as ``Decimal`` yuan, rounded half-up to the fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import PlainSerializer

FEN = Decimal("0.01")
ZERO = Decimal("0")


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
