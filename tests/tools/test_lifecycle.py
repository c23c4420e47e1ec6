"""Agent tools: loan status, collection options (the repayment-trouble flow), retention offers."""

from __future__ import annotations

import pytest

from assistant.errors import Forbidden
from assistant.lifecycle.book import LoanBook
from assistant.services import Services
from assistant.tools.lifecycle import (
    CollectionOptionsIn,
    LoanStatusIn,
    RetentionOffersIn,
    collection_options,
    loan_status,
    retention_offers,
)
from assistant.tools.registry import ToolContext, load_all_tools
from tests.lifecycle.conftest import issue, pay_schedule


def test_tools_are_registered_with_model_facing_descriptions() -> None:
    registry = load_all_tools()
    for name in ("loan_status", "collection_options", "retention_offers"):
        tool = registry.get(name)
        assert "yuan" in tool.description and tool.openai_schema()["function"]["parameters"]["properties"]


def test_loan_status_for_a_logged_in_customer(book: LoanBook, services: Services) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 10))
    book.link_session("sess-1", "C1")
    out = loan_status(ToolContext(services=services, session_id="sess-1", channel="app"), LoanStatusIn())
    assert out.loan_id == "L1" and out.dpd == 5
    assert "已过还款日5天" in out.summary_zh and "4.50%" in out.summary_zh
    assert out.warning_reasons is None  # early-warning reasons are for staff
    with pytest.raises(Forbidden):  # a chat that has not logged in sees nothing
        loan_status(ToolContext(services=services, session_id="other", channel="web"), LoanStatusIn(loan_id="L1"))


def test_repayment_trouble_without_a_linked_loan(services: Services) -> None:
    ctx = ToolContext(services=services, session_id="anon", channel="web")
    out = collection_options(ctx, CollectionOptionsIn(overdue_days=15, message="这个月失业了还不上"))
    assert out.loan_id is None and out.bucket == "M1" and out.handoff_recommended
    assert "失业" in out.empathy_zh or "不容易" in out.empathy_zh
    assert any("征信" in c and "5年" in c for c in out.consequences_zh)
    assert out.options[0].kind == "hardship_application" and out.staff is None
    grace = collection_options(ctx, CollectionOptionsIn(overdue_days=2))
    assert grace.in_grace and "不会作为逾期报送征信" in grace.consequences_zh[0]


def test_repayment_trouble_for_a_linked_overdue_customer(book: LoanBook, services: Services) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 9))
    book.link_session("sess-1", "C1")
    customer = collection_options(ToolContext(services=services, session_id="sess-1", channel="app"),
                                  CollectionOptionsIn(message="我失业了，能不能延期"))
    assert customer.loan_id == "L1" and customer.overdue_days and customer.arrears
    assert customer.staff is None  # the segment and contact plan are for staff only
    kinds = [o.kind for o in customer.options]
    assert "extension" in kinds and "deferral" in kinds
    assert all(o.apr is not None for o in customer.options if o.monthly_payment is not None)
    staff = collection_options(ToolContext(services=services, channel="copilot"), CollectionOptionsIn(loan_id="L1",
                                                                                                   message="我失业了"))
    assert staff.staff is not None and staff.staff.profile.segment.value == "willing_unable"


def test_retention_offers_tool(book: LoanBook, services: Services) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 11))
    book.link_session("sess-1", "C1")
    out = retention_offers(ToolContext(services=services, session_id="sess-1", channel="app"), RetentionOffersIn())
    assert out.good_standing and out.offers and out.customer_value is None
    assert all(o.apr_percent for o in out.offers)
