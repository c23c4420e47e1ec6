"""The offers shown in a conversation: which one a reference means, and the application it becomes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def application_from_offer(offer: dict[str, Any]) -> dict[str, Any]:
    """The application a document request would use, from the top offer (the same numbers as quoted)."""
    product = offer.get("product", {})
    vehicle = offer.get("vehicle", {})
    return {
        "principal": str(offer["loan_amount"]),
        "annual_rate": str(product.get("quoted_rate", "0")),
        "term_months": int(offer["term_months"]),
        "rate_type": product.get("rate_type", "nominal"),
        "upfront_fees": str(offer.get("upfront_fees", "0")),
        "product_id": product.get("id"),
        "down_payment": str(offer.get("down_payment", "0")),
        "vehicle": {"brand": vehicle.get("brand"), "series": vehicle.get("series"),
                    "price": str(offer.get("vehicle_price")), "condition": vehicle.get("condition", "new"),
                    "energy_type": vehicle.get("energy_type", "ice")},
    }


def resolve_offer(offers: list[dict[str, Any]], *, rank: int | None = None, cheapest: bool = False,
                  priciest: bool = False, brand: str | None = None, current: int | None = None) -> int | None:
    """The 1-based rank among ``offers`` that a reference means; None when it names nothing shown.

    ``current`` is the offer already in focus ("就这个"); with none in focus, "that one" means the
    only offer, or the first of the list (the one the reply leads with).
    """
    if not offers:
        return None
    if rank is not None:
        return rank if 1 <= rank <= len(offers) else None
    payments = [Decimal(str(o.get("monthly_payment", 0))) for o in offers]
    if cheapest:
        return payments.index(min(payments)) + 1
    if priciest:
        return payments.index(max(payments)) + 1
    if brand:
        key = brand.strip().lower()
        for i, offer in enumerate(offers, start=1):
            vehicle = offer.get("vehicle", {})
            names = {str(vehicle.get("brand", "")).lower(), str(vehicle.get("brand_en", "")).lower(),
                     str(vehicle.get("series", "")).lower()}
            if key in names or any(key and key in name for name in names if name):
                return i
        return None
    return current or 1
