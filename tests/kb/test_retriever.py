"""Hybrid retrieval: BM25 tokens, fusion, filters, citations, bad input and the LangChain adapter."""

from __future__ import annotations

import pytest

from assistant.errors import InvalidInput
from assistant.kb.bm25 import BM25Index, tokenize
from assistant.kb.lexicon import expand_query
from assistant.kb.retriever import HybridRetriever, KnowledgeBaseRetriever, build_retriever, make_snippet, rrf_fuse
from assistant.settings import Settings


@pytest.fixture
def retriever(kb_settings: Settings, store_backend: str) -> HybridRetriever:
    """The retriever on the embedded store and on a Chroma server (``store_backend``)."""
    return build_retriever(kb_settings)


def test_tokens_drop_stop_words_and_add_bigrams() -> None:
    tokens = tokenize("请问提前还款要交违约金吗？")
    assert "违约金" in tokens and "提前还款" in tokens
    assert "吗" not in tokens and "请问" not in tokens and "？" not in tokens
    assert "\x02违约" in tokens  # character bigram
    assert "\x03wei yue" in tokens  # pinyin syllable bigram
    assert tokenize("ＧＰＳ") == tokenize("gps")  # full-width folded, lower-cased


def test_bm25_tolerates_homophone_and_character_typos() -> None:
    index = BM25Index(["结清后办理解押手续，寄回登记证书。", "逾期会影响征信记录。", "新能源车有购置税优惠。"])
    assert index.top("结清了怎么办解压", 1)[0][0] == 0  # 解压 typed for 解押: same pinyin
    assert index.top("预期了会影响正信吗", 1)[0][0] == 1  # 预期/正信 for 逾期/征信
    assert index.top("天气怎么样", 3) == []
    mask_out_first = index.top("解押", 3, mask=__import__("numpy").array([False, True, True]))
    assert all(i != 0 for i, _ in mask_out_first)


def test_query_expansion_maps_colloquial_and_english_words() -> None:
    assert "机动车登记证书" in expand_query("绿本什么时候还我")
    assert "提前还款" in expand_query("can i pay off my loan early")
    assert "逾期" in expand_query("what if i miss a payment")
    assert "overdue" not in expand_query("今天天气")  # nothing to add → nothing added
    assert expand_query("今天天气") == ""


def test_rrf_fusion_rewards_agreement() -> None:
    fused = rrf_fuse({"bm25": ["a", "b", "c"], "vector": ["b", "a", "d"]}, {"bm25": 1.0, "vector": 1.0}, k=20)
    order = [item for item, _ in fused]
    assert set(order[:2]) == {"a", "b"} and order[2:] == ["c", "d"]
    assert fused[0][1] == pytest.approx((1 / 21 + 1 / 22) / (2 / 21))
    top = rrf_fuse({"bm25": ["x"], "vector": ["x"]}, {"bm25": 1.0, "vector": 1.0}, k=20)
    assert top == [("x", pytest.approx(1.0))]
    # A document only one method found still ranks, below one both found.
    one_sided = dict(rrf_fuse({"bm25": ["p", "q"], "vector": ["q"]}, {"bm25": 1.0, "vector": 1.0}, k=20))
    assert one_sided["q"] > one_sided["p"] > 0
    weighted = rrf_fuse({"bm25": ["a"], "vector": ["b"]}, {"bm25": 2.0, "vector": 1.0}, k=20)
    assert weighted[0][0] == "a"


def test_hybrid_search_cites_the_right_document(retriever: HybridRetriever) -> None:
    results = retriever.search("提前结清要交违约金吗", k=3)
    top = results[0]
    assert top.doc_id == "early-repayment" and top.title == "提前还款与提前结清"
    assert top.section == "违约金标准" and "违约金" in top.snippet
    assert top.citation() == {"doc_id": top.doc_id, "title": top.title, "snippet": top.snippet}
    assert 0 < results[-1].score <= results[0].score <= 1.0
    assert len({r.doc_id for r in results}) == len(results)  # one entry per document
    assert retriever.search("晚还几天会上征信吗", k=1)[0].doc_id == "overdue-consequences"
    assert retriever.search("when do I get my registration certificate back", k=1)[0].doc_id == "mortgage-release"


@pytest.mark.parametrize("mode", ["bm25", "vector", "hybrid"])
def test_each_mode_works_alone(retriever: HybridRetriever, mode: str) -> None:
    results = retriever.search("GPS定位会一直监控我吗", k=2, mode=mode)  # type: ignore[arg-type]
    assert results[0].doc_id == "gps-installation-privacy"
    if mode == "bm25":
        assert results[0].vector_rank is None and results[0].bm25_rank == 1
    if mode == "vector":
        assert results[0].bm25_rank is None and results[0].similarity is not None


def test_filters(retriever: HybridRetriever) -> None:
    products = retriever.search("提前还款违约金", k=5, category="product")
    assert [r.doc_id for r in products] == ["product-nev_promo_loan"]
    assert {r.category for r in retriever.search("抵押", k=5, category=["process"])} == {"process"}
    only = retriever.search("违约金", k=5, doc_id="overdue-consequences")
    assert [r.doc_id for r in only] == ["overdue-consequences"]
    by_product = retriever.search("利率", k=5, product_id="nev_promo_loan")
    assert [r.doc_id for r in by_product] == ["product-nev_promo_loan"]
    assert retriever.search("利率", k=5, category="no-such-category") == []
    assert "policy" in retriever.categories


@pytest.mark.parametrize(
    "query",
    ["🚗💰😀", "'; DROP TABLE documents; --", "<script>alert('x')</script>", "**加粗** [链接](http://x)", "%%%",
     "提前还款" * 2500],
)
def test_odd_queries_are_just_text(retriever: HybridRetriever, query: str) -> None:
    results = retriever.search(query, k=3)
    assert isinstance(results, list) and all(r.doc_id in retriever.doc_ids for r in results)


@pytest.mark.parametrize(("query", "k", "mode"), [("", 3, "hybrid"), ("   ", 3, "hybrid"), ("违约金", 0, "hybrid"),
                                                  ("违约金", 51, "hybrid"), ("违约金", 3, "fuzzy")])
def test_bad_arguments_are_clear_errors(retriever: HybridRetriever, query: str, k: int, mode: str) -> None:
    with pytest.raises(InvalidInput) as err:
        retriever.search(query, k=k, mode=mode)  # type: ignore[arg-type]
    assert " / " in err.value.message  # Chinese / English


def test_langchain_retriever_uses_the_same_search(retriever: HybridRetriever) -> None:
    lc = retriever.as_langchain(k=2)
    assert isinstance(lc, KnowledgeBaseRetriever)
    docs = lc.invoke("结清后多久寄回绿本")
    assert docs[0].metadata["doc_id"] == "mortgage-release"
    assert docs[0].metadata["title"] == "结清后解除抵押（解押）"
    assert docs[0].page_content.startswith("结清后解除抵押（解押）")
    assert len(docs) == 2
    filtered = retriever.as_langchain(k=3, category="product").invoke("违约金")
    assert {d.metadata["doc_id"] for d in filtered} == {"product-nev_promo_loan"}


def test_snippets_are_one_line_and_bounded() -> None:
    text = "第一句话。\n- 列表项一；\n- 列表项二。\n" + "很长的句子" * 100
    snippet = make_snippet(text, limit=60)
    assert "\n" not in snippet and len(snippet) <= 61
    assert make_snippet("短句。") == "短句。"


def test_reload_reflects_a_new_ingest(kb_settings: Settings, retriever: HybridRetriever) -> None:
    from assistant.kb.ingest import ingest

    path = kb_settings.knowledge_base_dir / "policies/complaints.md"
    path.write_text(
        "---\nid: complaints\ntitle: 投诉渠道\ncategory: policy\n---\n"
        "## 怎么投诉\n拨打400热线或在App投诉，7日内答复。\n",
        encoding="utf-8",
    )
    ingest(kb_settings, embedder=retriever.embedder, store=retriever.store)
    retriever.reload()
    assert retriever.search("我要投诉你们", k=1)[0].doc_id == "complaints"
