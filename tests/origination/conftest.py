"""Shared pieces for the origination tests: a valid borrower, an offer with a car, audit entries."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from assistant.origination.models import LoanTerms, PersonalData
from assistant.storage.audit import AuditEntryRow

ID_NUMBER = "110105199003071239"
BORROWER = PersonalData(name="张三", id_number=ID_NUMBER, phone="13912345678", address="北京市朝阳区建国路88号")
TERMS = LoanTerms.model_validate({
    "principal": "83860", "annual_rate": "0.0299", "term_months": 36, "rate_type": "nominal", "upfront_fees": "0",
    "product_id": "nev_promo_loan", "down_payment": "35940",
    "vehicle": {"brand": "埃安", "series": "AION Y Plus", "price": "119800", "condition": "new", "energy_type": "bev"},
})
PROFILE: dict[str, Any] = {"monthly_income": "30000", "employment_type": "fixed", "home_status": "owner", "age": 35,
                           "has_delinquency": False, "monthly_debt_payments": "0"}
MONTHLY = Decimal("2438.38")


def audit_entries(services: Any, application_id: str) -> list[dict[str, Any]]:
    """The ``application_event`` audit entries of one application, oldest first."""
    with services.sessions() as db:
        rows = db.scalars(select(AuditEntryRow).where(AuditEntryRow.event == "application_event")
                          .order_by(AuditEntryRow.seq)).all()
    entries = [json.loads(r.data) for r in rows]
    return [e for e in entries if e.get("application_id") == application_id]
