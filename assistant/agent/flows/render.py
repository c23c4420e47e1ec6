"""Rendering tool results for replies: offer cards, product lines, assumptions, bilingual reason lists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from assistant.domain.money import percent_str, yuan_str


def product_line(product: Any, lang: str) -> dict[str, str]:
    """A product's one-line summary with its APR range, priced by the money core (100,000 yuan example)."""
    from assistant.domain.quote import quote

    term = product.nearest_term(36)
    principal = Decimal(100000)
    aprs = [
        quote(principal, product.rate_for(grade), term, method=product.method, rate_type=product.rate_type,
              upfront_fees=product.upfront_fees(principal, term)).apr
        for grade in product.grades
    ]
    low, high = percent_str(min(aprs)), percent_str(max(aprs))
    span = low if low == high else f"{low}–{high}"
    if lang == "zh":
        return {"name": product.name,
                "summary": f"{product.summary_zh}（按10万元分{term}期测算，年化利率APR约{span}）"}
    return {"name": product.name_en,
            "summary": f"{product.summary_en} (100,000 yuan over {term} months: APR about {span})"}


def join_items(items: list[Any], lang: str) -> str:
    """Bilingual items ({zh, en} objects or "中文 / English" strings) in the customer's language."""
    texts = []
    for item in items:
        if isinstance(item, dict):
            texts.append(str(item.get("zh") if lang == "zh" else item.get("en")) or str(item))
        elif isinstance(item, str) and " / " in item:
            zh, _, en = item.partition(" / ")
            texts.append(zh if lang == "zh" else en)
        else:
            texts.append(str(item))
    return ("；" if lang == "zh" else "; ").join(dict.fromkeys(t for t in texts if t))  # each said once


def assumed_text(assumed: dict[str, Any], lang: str) -> str:
    if not assumed:
        return ""
    from assistant.agent.facts import APPLICANT_LABELS, APPLICANT_VALUES_ZH, SLOT_LABELS, slot_value_text

    parts = []
    for key, value in assumed.items():
        if value is None:
            continue
        label = {**SLOT_LABELS, **APPLICANT_LABELS}.get(key, (key, key))[0 if lang == "zh" else 1]
        if key == "monthly_debt_payments":
            shown = f"{yuan_str(Decimal(str(value)))}元" if lang == "zh" else f"{yuan_str(Decimal(str(value)))} yuan"
        elif key == "employment_years":
            shown = f"{value}年" if lang == "zh" else f"{value} years"
        elif isinstance(value, bool) or key in {"employment_type", "home_status", "marital_status", "use"}:
            shown = APPLICANT_VALUES_ZH.get(str(value), str(value)) if lang == "zh" else str(value)
        else:
            try:
                shown = slot_value_text(key, value, lang)
            except (ArithmeticError, ValueError, TypeError):
                shown = str(value)
        parts.append(f"{label}{'' if lang == 'zh' else ' '}{shown}")
    return ("，" if lang == "zh" else ", ").join(parts)


def offer_card(offer: dict[str, Any], lang: str) -> dict[str, Any]:
    vehicle = offer.get("vehicle", {})
    product = offer.get("product", {})
    reasons = offer.get("reasons") or []
    reason = join_items(reasons[:1], lang)
    return {
        "vehicle_name": f"{vehicle.get('brand', '')} {vehicle.get('series', '')}".strip(),
        "product_name": product.get("name" if lang == "zh" else "name_en", product.get("id", "")),
        "vehicle_price": yuan_str(Decimal(str(offer["vehicle_price"]))),
        "down_payment": yuan_str(Decimal(str(offer["down_payment"]))),
        "loan_amount": yuan_str(Decimal(str(offer["loan_amount"]))),
        "term_months": offer["term_months"],
        "monthly_payment": yuan_str(Decimal(str(offer["monthly_payment"]))),
        "apr": percent_str(Decimal(str(offer["apr"]))),
        "total_interest": yuan_str(Decimal(str(offer["total_interest"]))),
        "reason": reason,
    }
