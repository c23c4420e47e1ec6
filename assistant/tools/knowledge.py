"""The knowledge-base tool: hybrid search over policy and product documents, with citations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.domain.limits import Int
from assistant.kb.citation import Citation
from assistant.tools.registry import REGISTRY, ToolContext

MAX_QUERY_CHARS = 2000


class SearchKnowledgeIn(BaseModel):
    """What to look up in the knowledge base."""

    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description="The customer's question or key words, in Chinese or English (e.g. 提前结清要违约金吗)",
    )
    k: Int = Field(default=4, ge=1, le=20, description="How many documents to return (1-20)")
    category: str | None = Field(
        default=None, description="Only this document category, e.g. product or policy (omit for all)"
    )
    product_id: str | None = Field(
        default=None, description="Only the page of this finance product id, e.g. bank_auto_loan (omit for all)"
    )
    lang: Literal["zh", "en"] = Field(
        default="zh", description="The customer's language: zh for Chinese pages, en for the English ones"
    )


class KnowledgeHit(BaseModel):
    """One cited document: quote ``snippet`` and cite ``doc_id`` + ``title``."""

    doc_id: str
    title: str
    section: str
    snippet: str
    score: float = Field(description="Relevance in (0, 1]; 1 = ranked first by every method")
    category: str


class SearchKnowledgeOut(BaseModel):
    """Matching documents, best first, plus an extractive answer from the best one."""

    results: list[KnowledgeHit]
    answer: str | None = Field(description="Sentences quoted from the best passage, with its source; None if no match")
    citations: list[Citation] = Field(description="The documents the answer quotes")


@REGISTRY.register("search_knowledge")
def search_knowledge(ctx: ToolContext, args: SearchKnowledgeIn) -> SearchKnowledgeOut:
    """Search the company's knowledge base (policies, procedures, product pages) and quote the answer.

    Use it for any rule or procedure question — early repayment and its penalty (违约金), overdue
    consequences and credit reporting (征信), required materials, approval time, APR vs flat rate,
    down payment and term limits, insurance, GPS, mortgage registration and release (解押), selling a
    financed car, leasing, used-car loans, 车抵贷, new-energy incentives, privacy, complaints, fraud
    warnings — and for what a named product offers. Answer only from the returned passages and cite
    each fact with its document title. ``answer`` is None when nothing relevant was found: then say so
    and offer a human agent instead of guessing. Figures in the documents are yuan and percentages as
    written there.
    """
    from assistant.kb.answer import answer_from_results

    retriever = ctx.services.retriever
    # An English question is answered from the English pages first; the Chinese pages that have no
    # translation (product pages) are searched only when those have no answer.
    results = retriever.search(args.query, k=args.k, category=args.category, product_id=args.product_id,
                               lang=args.lang, untranslated=args.lang == "zh")
    answer = answer_from_results(retriever, args.query, results)
    if not answer.found and args.lang != "zh":
        results = retriever.search(args.query, k=args.k, category=args.category, product_id=args.product_id,
                                   lang=args.lang)
        answer = answer_from_results(retriever, args.query, results)
    return SearchKnowledgeOut(
        results=[
            KnowledgeHit(doc_id=r.doc_id, title=r.title, section=r.section, snippet=r.snippet, score=r.score,
                         category=r.category)
            for r in results
        ],
        answer=answer.text if answer.found else None,
        citations=answer.citations,
    )
