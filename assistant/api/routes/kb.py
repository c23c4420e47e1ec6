"""``GET /v1/kb/search``: hybrid search over the knowledge base, with citations.

``POST /v1/kb/search`` takes the same fields as JSON, for queries too long for a URL.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from assistant.api.deps import open_access, tool_context
from assistant.domain.limits import Int
from assistant.errors import InvalidInput
from assistant.kb.citation import Citation
from assistant.tools.knowledge import MAX_QUERY_CHARS, SearchKnowledgeIn, search_knowledge
from assistant.tools.registry import ToolContext

router = APIRouter(tags=["knowledge base"])


class KBResult(BaseModel):
    """One matching document (contract: doc_id, title, snippet, score)."""

    doc_id: str
    title: str
    snippet: str
    score: float
    section: str
    category: str


class KBSearchResponse(BaseModel):
    """Results best first; ``answer`` quotes the best passage (None when nothing relevant was found)."""

    results: list[KBResult]
    answer: str | None = None
    citations: list[Citation] = Field(default_factory=list)


class KBSearchBody(BaseModel):
    """The POST form of the search."""

    q: str
    k: Int = Field(default=5, ge=1, le=20)
    category: str | None = None
    product_id: str | None = None
    lang: Literal["zh", "en"] = "zh"


def _search(ctx: ToolContext, q: str, k: int, category: str | None, product_id: str | None,
            lang: Literal["zh", "en"] = "zh") -> KBSearchResponse:
    if not q.strip():
        raise InvalidInput("查询内容不能为空", "the query q must not be empty", field="q")
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"查询过长（{len(q)}字），请精简到{MAX_QUERY_CHARS}字以内",
            f"query too long ({len(q)} characters); keep it under {MAX_QUERY_CHARS}",
            field="q",
        )
    out = search_knowledge(
        ctx, SearchKnowledgeIn(query=q, k=k, category=category or None, product_id=product_id or None, lang=lang)
    )
    return KBSearchResponse(
        results=[KBResult(**hit.model_dump()) for hit in out.results],
        answer=out.answer,
        citations=out.citations,
    )


@router.get("/v1/kb/search", response_model=KBSearchResponse, dependencies=[Depends(open_access("kb"))])
def get_kb_search(
    q: str = Query(..., description="问题或关键词 / question or key words"),
    k: int = Query(5, ge=1, le=20, description="返回文档数 / number of documents"),
    category: str | None = Query(None, description="只看该类别 / only this category (e.g. product)"),
    product_id: str | None = Query(None, description="只看该产品 / only this product id"),
    lang: Literal["zh", "en"] = Query("zh", description="页面语言 / the pages' language (zh | en)"),
    ctx: ToolContext = Depends(tool_context),
) -> KBSearchResponse:
    """Search policies and product pages; every result carries its document id and title for citing."""
    return _search(ctx, q, k, category, product_id, lang)


@router.post("/v1/kb/search", response_model=KBSearchResponse, dependencies=[Depends(open_access("kb"))])
def post_kb_search(body: KBSearchBody, ctx: ToolContext = Depends(tool_context)) -> KBSearchResponse:
    """The same search with a JSON body."""
    return _search(ctx, body.q, body.k, body.category, body.product_id, body.lang)
