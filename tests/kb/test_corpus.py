"""Front matter, corpus discovery and heading-aware chunking."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.kb.corpus import (
    LEVEL_DOCUMENT,
    CorpusError,
    chunk_document,
    corpus_files,
    index_units,
    load_document,
    parse_document,
)


def test_corpus_files_skip_readme_and_catalogues(kb_root: Path) -> None:
    kb = kb_root / "knowledge_base"
    names = [p.relative_to(kb).as_posix() for p in corpus_files(kb)]
    assert "README.md" not in names
    assert not any(n.endswith(".yaml") for n in names)
    assert "policies/early-repayment.md" in names and "products/product-nev_promo_loan.md" in names
    assert corpus_files(kb_root / "missing") == []


def test_front_matter_fields(kb_root: Path) -> None:
    kb = kb_root / "knowledge_base"
    doc = load_document(kb / "policies/early-repayment.md", kb)
    assert (doc.doc_id, doc.title, doc.category) == ("early-repayment", "提前还款与提前结清", "policy")
    assert doc.effective_date == "2026-01-01"  # a YAML date becomes its ISO text
    assert doc.source.startswith("本公司")
    assert doc.path == "policies/early-repayment.md"
    assert len(doc.content_hash) == 64
    product = load_document(kb / "products/product-nev_promo_loan.md", kb)
    assert product.product_id == "nev_promo_loan"


def test_defaults_without_front_matter() -> None:
    doc = parse_document("# 标题在这里\n\n## 一节\n正文。", path="policies/some-page.md")
    assert doc.doc_id == "some-page"
    assert doc.title == "标题在这里"
    assert doc.category == "policy"  # from the folder name
    assert "标题在这里" not in doc.body  # the H1 repeats the title and is not body text


@pytest.mark.parametrize(
    "text",
    [
        "---\nid: [unclosed\n---\n正文",  # invalid YAML
        "---\n- a list\n- not a mapping\n---\n正文",
        "---\nid: bad id with spaces\ntitle: x\n---\n正文",
    ],
)
def test_unusable_front_matter_is_a_corpus_error(text: str) -> None:
    with pytest.raises(CorpusError):
        parse_document(text, path="policies/x.md")


def test_chunks_keep_title_and_heading(kb_root: Path) -> None:
    kb = kb_root / "knowledge_base"
    chunks = chunk_document(load_document(kb / "policies/early-repayment.md", kb))
    assert [c.section for c in chunks] == ["什么时候可以提前还款", "违约金标准", "结清以后"]
    fee = chunks[1]
    assert fee.index_text.startswith("提前还款与提前结清 · 违约金标准\n")
    # The list stays with the sentence that introduces it, in the same chunk.
    assert "违约金按提前偿还的本金计算" in fee.text and "新能源专享贷：0%" in fee.text
    assert [c.chunk_id for c in chunks] == ["early-repayment#0", "early-repayment#1", "early-repayment#2"]
    assert all(c.metadata()["doc_id"] == "early-repayment" for c in chunks)


def test_subheadings_extend_the_path_and_fences_are_not_headings() -> None:
    body = (
        "---\nid: d\ntitle: 文档\n---\n开场白。\n\n## 甲\n甲的话。\n\n### 乙\n乙的话。\n"
        "```\n## 不是标题\n```\n\n## 丙\n丙的话。"
    )
    chunks = chunk_document(parse_document(body, path="policies/d.md"))
    assert [c.section for c in chunks] == ["", "甲", "甲 › 乙", "丙"]
    assert "## 不是标题" in chunks[2].text
    assert chunks[0].index_text.startswith("文档\n")  # text before any heading keeps the title


def test_long_sections_are_split_and_each_piece_keeps_its_heading() -> None:
    para = "这是一句很长的说明文字，用来测试切分。" * 12  # ~228 chars
    body = f"---\nid: long\ntitle: 长文\n---\n## 长节\n{para}\n\n{para}\n\n{para}"
    chunks = chunk_document(parse_document(body, path="policies/long.md"), max_chars=300)
    assert len(chunks) == 3
    assert all(c.section == "长节" and len(c.text) <= 300 for c in chunks)
    one_line = "没有标点的超长句子" * 100
    pieces = chunk_document(parse_document(f"## 节\n{one_line}", path="policies/x.md"), max_chars=200)
    assert all(len(c.text) <= 200 for c in pieces) and "".join(c.text for c in pieces) == one_line


def test_index_units_add_the_document_level(kb_root: Path) -> None:
    kb = kb_root / "knowledge_base"
    units = index_units(load_document(kb / "policies/overdue.md", kb))
    assert units[-1].level == LEVEL_DOCUMENT and units[-1].chunk_id == "overdue-consequences#doc"
    assert "宽限期" in units[-1].text and "超过宽限期" in units[-1].text
    assert all(u.level == "chunk" for u in units[:-1])
