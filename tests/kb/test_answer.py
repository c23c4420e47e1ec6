"""Extractive answers with citations for the offline engine."""

from __future__ import annotations

import pytest

from assistant.kb.answer import answer_question, extract_sentences, is_relevant
from assistant.kb.retriever import HybridRetriever, SearchResult, build_retriever
from assistant.settings import Settings


@pytest.fixture
def retriever(kb_settings: Settings) -> HybridRetriever:
    return build_retriever(kb_settings)


def test_answer_quotes_the_passage_and_cites_it(retriever: HybridRetriever) -> None:
    answer = answer_question(retriever, "已经还了两年了，提前还款还要违约金吗")
    assert answer.found
    assert answer.citations[0].doc_id == "early-repayment"
    assert answer.citations[0].title == "提前还款与提前结清"
    assert "已还满24期的，所有产品提前还款均免收违约金。" in answer.text
    assert "（来源：《提前还款与提前结清》" in answer.text
    # Every sentence of the answer is quoted from the corpus, none invented.
    passage = retriever.passages("early-repayment")
    body = answer.text.split("\n（来源")[0]
    for line in body.splitlines():
        assert line.lstrip("- ") in "".join(c.text for c in passage)


def test_a_list_is_kept_whole_with_its_introduction(retriever: HybridRetriever) -> None:
    text = next(c.text for c in retriever.passages("early-repayment") if c.section == "违约金标准")
    extracted = extract_sentences(retriever, "新能源车贷提前还款违约金多少", text)
    lines = extracted.splitlines()
    assert "违约金按提前偿还的本金计算，各产品不同：" in lines
    assert "- 新能源专享贷：0%，免收违约金；" in lines
    assert "- 标准新车贷款：1%；" in lines and "- 二手车贷款：2%。" in lines  # not one item out of context


def test_only_sentences_that_answer_are_kept(retriever: HybridRetriever) -> None:
    text = next(c.text for c in retriever.passages("overdue-consequences") if c.section == "超过宽限期会怎样")
    extracted = extract_sentences(retriever, "逾期记录在征信上保存几年", text, max_units=1)
    assert extracted == "超过宽限期即为逾期：按合同利率的1.5倍计收罚息，并如实报送征信，不良记录保存5年。"
    assert extract_sentences(retriever, "任何问题", "") == ""


def test_no_relevant_document_means_no_answer(retriever: HybridRetriever) -> None:
    answer = answer_question(retriever, "帮我订一张去北京的机票", min_similarity=None)  # lexical evidence only
    assert not answer.found and answer.citations == []
    assert "没有找到" in answer.text


def test_relevance_rule() -> None:
    base = dict(doc_id="d", title="t", section="s", snippet="x", score=0.5, text="x", chunk_id="d#0", category="c")
    lexical = SearchResult(**base, bm25_rank=1, similarity=0.5)  # type: ignore[arg-type]
    semantic = SearchResult(**base, bm25_rank=None, similarity=0.9)  # type: ignore[arg-type]
    assert is_relevant(lexical, None) and not is_relevant(semantic, None)
    assert is_relevant(semantic, 0.865) and not is_relevant(lexical, 0.865)
