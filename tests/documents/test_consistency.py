"""Nothing is issued when the numbers disagree: the quote's own check, the rendered text, the quoted figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from assistant.documents import service as service_module
from assistant.documents.application import parse_application
from assistant.documents.kinds import DocumentKind
from assistant.documents.render import verify_schedule_table, verify_text
from assistant.documents.service import DocumentService
from assistant.documents.view import build_view
from assistant.domain.quote import Quote, quote
from assistant.errors import ConsistencyError, InvalidInput, RuleViolation

from .conftest import application


def _files(documents: DocumentService) -> list[str]:
    return sorted(p.name for p in documents.store.root.iterdir())


def _schedule_md(documents: DocumentService) -> tuple[str, Quote, dict]:
    app = parse_application(application(signing_date="2026-03-10"))
    [doc], q, terms, number = documents.render(["repayment_schedule"], app, fmt="md")
    view = build_view(q, app, terms, documents.house, number=number, signing=dt.date(2026, 3, 10))
    return doc.content.decode(), q, view


def test_tampered_quote_is_refused_and_nothing_written(documents: DocumentService, monkeypatch) -> None:
    real = service_module.build_quote

    def tampered(request):  # a quote whose totals no longer match its schedule
        q = real(request)
        return q.model_copy(update={"total_interest": q.total_interest + Decimal("0.01")})

    monkeypatch.setattr(service_module, "build_quote", tampered)
    with pytest.raises(ConsistencyError) as info:
        documents.generate(["loan_contract", "risk_disclosure"], application(), fmt="md")
    assert "interest" in info.value.en
    assert _files(documents) == []


def test_quoted_figures_must_match(documents: DocumentService) -> None:
    q = quote(150000, "0.045", 60, upfront_fees=800)
    ok = documents.generate(["risk_disclosure"], application(quoted={"monthly_payment": float(q.monthly_payment),
                                                                      "apr": float(q.apr)}), fmt="md")
    assert len(ok.documents) == 1
    with pytest.raises(ConsistencyError) as info:
        documents.generate(["risk_disclosure"], application(quoted={"monthly_payment": 2796.00}), fmt="md")
    assert info.value.field == "application.quoted.monthly_payment"
    assert len(_files(documents)) == 1


def test_rendered_schedule_checked_row_by_row(documents: DocumentService) -> None:
    text, q, view = _schedule_md(documents)
    verify_schedule_table(DocumentKind.REPAYMENT_SCHEDULE, text, q)  # the genuine table passes
    row = q.schedule[4]
    altered = text.replace(f"| {row.interest:,.2f} | {row.balance:,.2f} |",
                           f"| {row.interest + 1:,.2f} | {row.balance:,.2f} |", 1)
    with pytest.raises(ConsistencyError, match="row 5"):
        verify_schedule_table(DocumentKind.REPAYMENT_SCHEDULE, altered, q)
    dropped = "\n".join(line for line in text.splitlines() if not line.startswith("| 60 |"))
    with pytest.raises(ConsistencyError, match="59 rows"):
        verify_schedule_table(DocumentKind.REPAYMENT_SCHEDULE, dropped, q)
    wrong_total = text.replace(f"**{q.total_paid:,.2f}**", f"**{q.total_paid + 1:,.2f}**")
    with pytest.raises(ConsistencyError, match="totals"):
        verify_schedule_table(DocumentKind.REPAYMENT_SCHEDULE, wrong_total, q)
    with pytest.raises(ConsistencyError, match="missing apr"):
        verify_text(DocumentKind.REPAYMENT_SCHEDULE, text.replace(view["loan"]["apr"], "4.7%"), view, q)


def test_bad_input_names_the_field_and_writes_nothing(documents: DocumentService, catalogue: object) -> None:
    cases = [
        (lambda: documents.generate(["contract"], application()), InvalidInput, "kinds"),
        (lambda: documents.generate(["loan_contract"], application(), fmt="docx"), InvalidInput, "format"),
        (lambda: documents.generate(["loan_contract"], application(), lang="en"), InvalidInput, "lang"),
        (lambda: documents.generate(["loan_contract"], {"annual_rate": 0.04, "term_months": 36}), InvalidInput,
         "application.principal"),
        (lambda: documents.generate(["loan_contract"], application(principal=190000)), RuleViolation,
         "application.principal"),  # 95 % of the car's price: over the loan-to-value cap
        (lambda: documents.generate(["loan_contract"], application(principal=100000.005)), InvalidInput,
         "application.principal"),
        (lambda: documents.generate(["loan_contract"], application(upfront_fees=900, fees=[
            {"name": "GPS服务费", "amount": 800}])), InvalidInput, "application.upfront_fees"),
        (lambda: documents.generate(["loan_contract"], application(product_id="no_such_product")), InvalidInput,
         "application.product_id"),
        (lambda: documents.generate(["loan_contract"], application(product_id="bank_auto_loan", term_months=30)),
         RuleViolation, "application.term_months"),
        (lambda: documents.generate(["loan_contract"], application(product_id="bank_auto_loan", rate_type="flat")),
         InvalidInput, "application.rate_type"),
        (lambda: documents.generate(["loan_contract"], None), InvalidInput, "application"),
    ]
    for call, error, field in cases:
        with pytest.raises(error) as info:
            call()
        assert info.value.field == field, (field, info.value.message)
        assert "/" in info.value.message  # Chinese first, then English
    assert _files(documents) == []
