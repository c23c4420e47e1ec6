"""Extractive answers for the offline engine: the best passage, trimmed to the sentences that answer.

No language model: the retriever finds the passage, and its sentences are scored by the BM25 weight of
the query terms they contain (the same tokens and idf as retrieval, so a rare, specific word counts more
than a common one). The best sentences are returned in their original order, with a list that a chosen
sentence introduces ("…如下：") kept whole, and the document id and title as the citation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.kb.bm25 import tokenize
from assistant.kb.citation import Citation
from assistant.kb.retriever import HybridRetriever, SearchResult, normalise_query

# Sentence ends inside a line (the Chinese full stop family; a semicolon ends a clause worth keeping).
# A full stop ends an English sentence only before a space or the line's end (not in 5.5% or 3.2万).
_SENTENCE = re.compile(r"(?:[^。！？!?；;.]|\.(?!\s|$))+(?:[。！？!?；;]|\.(?=\s|$))?")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)、])\s*")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")


@dataclass(frozen=True)
class Answer:
    """An extractive answer; ``found`` is False when nothing in the knowledge base fits the question."""

    text: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)


@dataclass(frozen=True)
class _Unit:
    text: str
    line: int
    bullet: bool
    intro: bool  # ends with a colon: introduces the list that follows


def _units(passage: str) -> list[_Unit]:
    """Split a passage into sentences, keeping list items whole and noting which lines introduce a list."""
    units: list[_Unit] = []
    for n, raw in enumerate(passage.splitlines()):
        line = raw.strip()
        if not line or _TABLE_RULE.match(line):
            continue
        bullet = bool(_BULLET.match(line)) or line.startswith("|")
        if bullet:
            text = _BULLET.sub("", line).strip().strip("|").replace("|", "，").strip("， ")
            units.append(_Unit(text, n, True, text.endswith(("：", ":"))))
            continue
        for sentence in _SENTENCE.findall(line):
            sentence = sentence.strip()
            if sentence:
                units.append(_Unit(sentence, n, False, sentence.endswith(("：", ":"))))
    return units


def extract_sentences(
    retriever: HybridRetriever, question: str, passage: str, *, max_units: int = 3, max_chars: int = 240
) -> str:
    """The sentences of ``passage`` that best answer ``question``, in passage order, joined."""
    units = _units(passage)
    if not units:
        return ""
    bm25 = retriever.bm25
    q_terms = set(tokenize(normalise_query(question)))

    def score(unit: _Unit) -> float:
        terms = set(tokenize(unit.text))
        # A little length prior so that a bare heading-like fragment does not win on one shared word.
        return sum(bm25.term_weight(t) for t in q_terms & terms) + min(len(unit.text), 60) / 600

    scored = sorted(range(len(units)), key=lambda i: -score(units[i]))
    chosen: set[int] = set()
    total = 0
    for i in scored:
        if len(chosen) >= max_units or (chosen and score(units[i]) <= min(len(units[i].text), 60) / 600):
            break  # stop at sentences that share no query term
        if chosen and total + len(units[i].text) > max_chars:
            continue
        chosen.add(i)
        total += len(units[i].text)
    # A list is an enumeration of cases: one item alone misleads ("0%，免收违约金" is one product's rate),
    # so a chosen item brings its whole list (and the sentence introducing it), and so does a chosen intro.
    for i in sorted(chosen):
        if not (units[i].bullet or units[i].intro):
            continue
        start = i
        while start > 0 and units[start - 1].bullet:
            start -= 1
        if start > 0 and units[start - 1].intro:
            start -= 1
        end = i + 1
        while end < len(units) and units[end].bullet and end - start < 10:
            end += 1
        chosen.update(range(start, end))
    # Rebuild the passage's own lines: sentences of one line together, list items one per line.
    lines: list[str] = []
    last_line = -1
    for i in sorted(chosen):
        unit = units[i]
        if unit.bullet:
            lines.append(f"- {unit.text}")
        elif unit.line == last_line and lines:
            lines[-1] += (" " if lines[-1][-1:].isascii() and unit.text[:1].isascii() else "") + unit.text
        else:
            lines.append(unit.text)
        last_line = unit.line
    return "\n".join(lines)


def is_relevant(result: SearchResult, min_similarity: float | None) -> bool:
    """Whether a result is evidence rather than the least-bad guess.

    A vector ranking always returns *something*, even for "今天天气怎么样", so the document must be close
    enough to the question (``min_similarity``, a property of the embedding model); without a calibrated
    threshold, lexical evidence (BM25 matched the document) is required instead.
    """
    if min_similarity is None:
        return result.bm25_rank is not None
    return (result.similarity or 0.0) >= min_similarity


def answer_question(
    retriever: HybridRetriever,
    question: str,
    *,
    k: int = 3,
    category: str | Sequence[str] | None = None,
    product_id: str | Sequence[str] | None = None,
    min_similarity: float | None = -1.0,
    lang: str | None = "zh",
) -> Answer:
    """Answer ``question`` from the knowledge base with a citation (``found=False`` when nothing fits).

    ``min_similarity`` defaults to the embedder's calibrated ``relevance_floor``.
    """
    results = retriever.search(question, k=k, category=category, product_id=product_id, lang=lang)
    return answer_from_results(retriever, question, results, min_similarity=min_similarity)


def answer_from_results(
    retriever: HybridRetriever,
    question: str,
    results: Sequence[SearchResult],
    *,
    min_similarity: float | None = -1.0,
) -> Answer:
    """The extractive answer for ``question`` given the search ``results`` already made for it."""
    if min_similarity is not None and min_similarity < 0:
        min_similarity = retriever.embedder.relevance_floor
    if not results or not is_relevant(results[0], min_similarity):
        return Answer(
            text="抱歉，知识库里没有找到与您问题直接相关的内容。您可以换个说法，或转人工客服为您解答。",
            found=False,
            related=[_citation(r) for r in results],
        )
    top = results[0]
    # The passage is the section the most confident ranking put first. (Re-picking the section within
    # the document by word overlap was tried: query expansion terms then favour worked examples.)
    body = extract_sentences(retriever, question, top.text) or top.snippet
    if top.lang == "en":
        where = f"“{top.title}”" + (f", section “{top.section}”" if top.section else "")
        source = f"(Source: {where})"
    else:
        source = "（来源：《" + top.title + "》" + (f"“{top.section}”" if top.section else "") + "）"
    return Answer(
        text=f"{body}\n{source}",
        found=True,
        citations=[_citation(top)],
        related=[_citation(r) for r in results[1:] if is_relevant(r, min_similarity)],
    )


def _citation(result: SearchResult) -> Citation:
    return Citation(doc_id=result.doc_id, title=result.title, snippet=result.snippet)
