"""``GET /v1/kb/search`` and the ``search_knowledge`` tool."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.errors import InvalidInput
from assistant.services import Services
from assistant.tools.knowledge import SearchKnowledgeOut
from assistant.tools.registry import ToolContext, load_all_tools

pytestmark = pytest.mark.usefixtures("store_backend")  # embedded store and a Chroma server


def test_search_returns_the_contract_shape(kb_client: TestClient) -> None:
    response = kb_client.get("/v1/kb/search", params={"q": "提前结清要违约金吗", "k": 3})
    assert response.status_code == 200
    body = response.json()
    results = body["results"]
    assert 1 <= len(results) <= 3
    assert {"doc_id", "title", "snippet", "score"} <= set(results[0])
    assert results[0]["doc_id"] == "early-repayment"
    assert body["citations"][0]["doc_id"] == "early-repayment"
    assert "违约金" in body["answer"]


def test_category_filter(kb_client: TestClient) -> None:
    response = kb_client.get("/v1/kb/search", params={"q": "违约金", "category": "product"})
    assert [r["doc_id"] for r in response.json()["results"]] == ["product-nev_promo_loan"]


def test_post_form(kb_client: TestClient) -> None:
    response = kb_client.post("/v1/kb/search", json={"q": "GPS会一直定位我吗", "k": 1})
    assert response.status_code == 200
    assert response.json()["results"][0]["doc_id"] == "gps-installation-privacy"


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "   "}, {}, {"q": "违约金", "k": 0}, {"q": "违约金", "k": 1000},
                                    {"q": "违约金", "k": "many"}])
def test_bad_queries_are_422_with_a_clear_message(kb_client: TestClient, params: dict) -> None:
    response = kb_client.get("/v1/kb/search", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and " / " in error["message"]


def test_a_10000_character_query_is_refused_clearly(kb_client: TestClient) -> None:
    # In a URL, 10,000 Chinese characters exceed what HTTP clients send; Latin text fits, and JSON takes both.
    for response in (kb_client.get("/v1/kb/search", params={"q": "early repayment? " * 588 + "done"}),
                     kb_client.post("/v1/kb/search", json={"q": "提前还款" * 2500})):
        assert response.status_code == 422
        assert "查询过长" in response.json()["error"]["message"]
        assert "10000" in response.json()["error"]["message"]


@pytest.mark.parametrize("q", ["😀🚗", "'; DROP TABLE users; --", "<b>违约金</b><script>x</script>", "a\u0000b"])
def test_emoji_sql_and_markup_are_just_text(kb_client: TestClient, q: str) -> None:
    response = kb_client.get("/v1/kb/search", params={"q": q})
    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)


def test_tool_is_registered_and_validates(kb_services: Services) -> None:
    tool = load_all_tools().get("search_knowledge")
    assert "违约金" in tool.description and "cite" in tool.description
    ctx = ToolContext(services=kb_services)
    out = tool.invoke(ctx, {"query": "结清后绿本什么时候寄回", "k": 2})
    assert isinstance(out, SearchKnowledgeOut)
    assert out.results[0].doc_id == "mortgage-release" and out.citations[0].title == "结清后解除抵押（解押）"
    assert out.answer is not None and "登记证书" in out.answer
    with pytest.raises(InvalidInput):
        tool.invoke(ctx, {"query": ""})
    with pytest.raises(InvalidInput):
        tool.invoke(ctx, {"query": "违约金", "k": 99})
