"""The ``generate_documents`` tool: several kinds at once, owned by the chat session that asked."""

from __future__ import annotations

import pytest

from assistant.domain.quote import quote
from assistant.errors import InvalidInput
from assistant.services import Services
from assistant.tools.registry import ToolContext, load_all_tools
from tests.documents.conftest import application


def test_contract_and_disclosure_in_one_call(services: Services) -> None:
    tool = load_all_tools().get("generate_documents")
    assert "帮我生成合同和风险提示书" in tool.description and "loan_contract" in str(tool.openai_schema())
    ctx = ToolContext(services=services, session_id="chat-session-1", channel="app")
    out = tool.invoke(ctx, {"kinds": ["loan_contract", "risk_disclosure"], "application": application()})
    assert [d.kind for d in out.documents] == ["loan_contract", "risk_disclosure"]
    assert all(d.format == "pdf" and d.url.startswith("/v1/documents/") for d in out.documents)
    assert str(out.monthly_payment) == "2796.45" and out.apr_percent == "4.72%" and not out.preview
    owned = services.documents.store.for_session("chat-session-1")
    assert {r.id for r in owned} == {d.document_id for d in out.documents}
    assert out.model_dump(mode="json")["apr"] == float(quote(150000, "0.045", 60, upfront_fees=800).apr)


def test_session_application_is_used_when_none_given(services: Services, monkeypatch) -> None:
    stored = {"principal": "100000", "annual_rate": "0.04", "term_months": 36, "rate_type": "nominal",
              "upfront_fees": "0", "product_id": None, "vehicle": {"brand": None, "series": None, "price": None}}
    monkeypatch.setattr(services, "session_application", lambda sid: stored if sid == "s1" else None, raising=False)
    tool = load_all_tools().get("generate_documents")
    out = tool.invoke(ToolContext(services=services, session_id="s1"), {"kinds": ["repayment_schedule"],
                                                                        "format": "md"})
    assert out.preview and str(out.monthly_payment) == "2952.40"
    text = services.documents.open(out.documents[0].document_id)[1].decode("utf-8")
    assert "2,952.40" in text and "6,286.35" in text  # 100,000 at 4 % over 36 months: total interest


def test_unknown_kind_names_the_field(services: Services) -> None:
    tool = load_all_tools().get("generate_documents")
    with pytest.raises(InvalidInput) as info:
        tool.invoke(ToolContext(services=services), {"kinds": ["contract"], "application": application()})
    assert info.value.field == "kinds.0"
