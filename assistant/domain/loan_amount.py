"""The loan a car price leaves: price minus the down payment, said in yuan or as a share of the price."""

from __future__ import annotations

from decimal import Decimal

YUAN = Decimal("1")


def loan_from_price(price: Decimal, *, down_payment: Decimal | None = None, down_ratio: Decimal | None = None,
                    unit: Decimal = YUAN) -> Decimal | None:
    """``price − down_payment``, else ``price × (1 − down_ratio)`` to ``unit``; None when neither is known.

    A down payment said in yuan wins over a ratio. The ratio's product is quantised with the context's
    rounding (half-even), as the dialogue has always estimated it: it is an estimate said to the customer,
    and every quoted figure is then computed from it by :mod:`assistant.domain.quote`.
    """
    if down_payment is not None:
        return price - down_payment
    if down_ratio is not None:
        return (price * (1 - down_ratio)).quantize(unit)
    return None
