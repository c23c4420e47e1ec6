"""Hybrid retrieval: BM25 (jieba words, character and pinyin bigrams) and vectors (Chroma), fused by RRF.

Three rankings of *documents* are fused with reciprocal-rank fusion (RRF, no score calibration needed
between BM25 and cosine scales):

* ``bm25``: BM25 over section chunks, a document ranked by its best chunk;
* ``vector``: cosine similarity of section chunks, a document ranked by its best chunk;
* ``vector_doc``: cosine similarity of the document-level vector (title + opening).

``mode="bm25"`` uses the first, ``mode="vector"`` the two vector rankings, ``mode="hybrid"`` all three.
Before anything, the query is normalised once: the colloquial or English words it contains get the
written-Chinese terms appended (:func:`assistant.kb.lexicon.expand_query`), for BM25 and the embedding
alike. Each result carries the document id and title (the citation), the best section, a snippet and a
score in (0, 1] (1 = ranked first by every ranking used).

Several replicas share one index (a Chroma server, the manifest in the database): before each search
the retriever reads which collections are live (one primary-key read) and, when another replica has
switched to a new build, reloads from it; a search that fails because its collections were just
dropped is retried once on the new ones.

The same object backs ``GET /v1/kb/search``, the ``search_knowledge`` tool, the offline engine's
extractive answers and, through :class:`KnowledgeBaseRetriever`, the LangChain/LLM engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.errors import InvalidInput
from assistant.kb.bm25 import BM25Index, normalise
from assistant.kb.corpus import LEVEL_CHUNK, LEVEL_DOCUMENT, Chunk
from assistant.kb.embeddings import QUERY_MAX_CHARS, Embedder
from assistant.kb.lexicon import expand_query
from assistant.kb.store import Filters, VectorStore
from assistant.logs import get_logger

if TYPE_CHECKING:
    from assistant.kb.ingest import IngestReport
    from assistant.kb.progress import ProgressCallback
    from assistant.settings import Settings

log = get_logger(__name__)

Mode = Literal["hybrid", "bm25", "vector"]
MODES: tuple[str, ...] = ("hybrid", "bm25", "vector")
MAX_K = 50
SNIPPET_CHARS = 200


@dataclass(frozen=True)
class SearchResult:
    """One cited passage: which document (``doc_id``, ``title``), where (``section``) and how well."""

    doc_id: str
    title: str
    section: str
    snippet: str
    score: float
    text: str
    chunk_id: str
    category: str
    source: str = ""
    effective_date: str = ""
    lang: str = "zh"
    bm25_rank: int | None = None  # 1-based rank of the document by BM25 (None: not matched)
    vector_rank: int | None = None  # best 1-based rank by a vector ranking (chunk or document level)
    similarity: float | None = None  # best cosine similarity of the document (chunk or document level)

    def citation(self) -> dict[str, str]:
        """The contract's citation shape."""
        return {"doc_id": self.doc_id, "title": self.title, "snippet": self.snippet}


def make_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The passage on one line, cut at ``limit`` characters (at a sentence end when there is one)."""
    flat = " ".join(line.strip().lstrip("-*").strip() for line in text.splitlines() if line.strip())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    end = max(cut.rfind(p) for p in "。！？；;")
    return cut[: end + 1] if end >= limit // 2 else cut.rstrip() + "…"


def rrf_fuse(
    rankings: dict[str, Sequence[str]], weights: dict[str, float], k: int
) -> list[tuple[str, float]]:
    """Weighted reciprocal-rank fusion: Σ weight / (k + rank) per item, best first, normalised to (0, 1].

    1.0 means ranked first by every ranking given; an item missing from a ranking gets nothing from it.
    """
    fused: dict[str, float] = {}
    for method, ranking in rankings.items():
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weights[method] / (k + rank)
    ceiling = sum(weights[m] for m in rankings) / (k + 1) or 1.0
    return sorted(((item, score / ceiling) for item, score in fused.items()), key=lambda p: (-p[1], p[0]))


class _Index:
    """The section chunks with their BM25 index and lookups, and the store handle (on the collections
    they were read from): rebuilt together, never mutated."""

    def __init__(self, chunks: list[Chunk], store: VectorStore) -> None:
        self.chunks = chunks
        self.store = store
        translated = {c.translation_of for c in chunks if c.translation_of}
        # Per language, the pages of another language searched too: those with no translation into it
        # (an English question still finds a product page written only in Chinese).
        langs = {c.lang for c in chunks}
        self.untranslated: dict[str, tuple[str, ...]] = {
            lang: tuple(sorted({c.doc_id for c in chunks if c.lang != lang and not c.translation_of
                                and (lang == "zh" or c.doc_id not in translated)}))
            for lang in langs | {"zh", "en"}
        }
        # Chinese is the original: a Chinese search never falls back to a translation.
        self.untranslated["zh"] = ()
        self.position = {c.chunk_id: i for i, c in enumerate(chunks)}
        self.first_chunk: dict[str, int] = {}
        for i, c in enumerate(chunks):
            self.first_chunk.setdefault(c.doc_id, i)
        self.bm25 = BM25Index([c.index_text for c in chunks])


# Vector branches of concurrent searches (each mostly waits for the embedding engine's one thread).
_VECTOR_SEARCH = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kb-vector")


def normalise_query(query: str) -> str:
    """The query with the written terms for its colloquial/English words appended (see ``lexicon``)."""
    query = " ".join(query.split())
    extra = expand_query(normalise(query))
    return f"{query} {extra}" if extra else query


class HybridRetriever:
    """BM25 + vector search over the indexed chunks and documents, fused by weighted reciprocal rank."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        chunks: Sequence[Chunk],
        *,
        rrf_k: int = 20,
        weights: dict[str, float] | None = None,
        candidates: int = 50,
        live: Callable[[], str | None] | None = None,
    ) -> None:
        self.embedder = embedder
        self.rrf_k = rrf_k
        self.weights = {"bm25": 1.0, "vector": 1.0, "vector_doc": 1.0, **(weights or {})}
        self.candidates = candidates
        # Which collections are live now (the manifest's suffix); None: a fixed store, never switched.
        self._live = live
        self._lock = threading.Lock()
        self.last_ingest: IngestReport | None = None
        self._load(chunks, store)

    def _load(self, chunks: Sequence[Chunk], store: VectorStore) -> None:
        # One immutable snapshot swapped in whole, so searches need no lock while a reload runs.
        self._state = _Index([c for c in chunks if c.level == LEVEL_CHUNK], store)

    @property
    def store(self) -> VectorStore:
        """The store handle on the collections being searched."""
        return self._state.store

    @property
    def collection(self) -> str:
        """The suffix of the collections being searched (the live build's, as last seen)."""
        return self._state.store.suffix

    def sync(self) -> bool:
        """Move to the live collections if another build has been switched in; True when it moved.

        Raises when the database cannot be read (the caller decides whether that matters)."""
        if self._live is None:
            return False
        current = self._live()
        if current is None or current == self._state.store.suffix:
            return False
        with self._lock:
            if current == self._state.store.suffix:
                return False
            store = self._state.store.at(current)
            self._load(store.all_chunks(), store)
        log.info("kb_collection_followed", collection=current, chunks=len(self._state.chunks))
        return True

    def _sync_quietly(self) -> bool:
        try:
            return self.sync()
        except Exception as exc:  # the database or the store is down: search what we have
            log.warning("kb_sync_failed", error=f"{type(exc).__name__}: {exc}"[:200])
            return False

    def health(self) -> str | None:
        """None when the live collections answer; otherwise what is wrong (``unreachable: …`` when the
        store does not answer at all, ``index missing: …`` when it does but the live index is gone)."""
        self._sync_quietly()
        store = self._state.store
        try:
            store.client.heartbeat()
        except Exception as exc:
            return f"unreachable: {type(exc).__name__}"
        try:
            store.probe()
        except Exception as exc:
            return f"index missing: {type(exc).__name__}"
        return None

    @property
    def chunks(self) -> list[Chunk]:
        """The indexed section chunks (BM25 and the chunk vectors hold exactly these)."""
        return self._state.chunks

    @property
    def bm25(self) -> BM25Index:
        """The in-memory BM25 index."""
        return self._state.bm25

    def reload(self) -> None:
        """Re-read the chunks from the store and rebuild BM25 (after an ingestion)."""
        if self.sync():
            return
        with self._lock:
            self._load(self.store.all_chunks(), self.store)

    @property
    def doc_ids(self) -> list[str]:
        """Indexed document ids, sorted."""
        return sorted(self._state.first_chunk)

    @property
    def categories(self) -> list[str]:
        """Indexed categories, sorted."""
        return sorted({c.category for c in self.chunks})

    # --- rankings (each: documents best first, as (doc_id, chunk index or None, score)) ----------
    def _bm25_ranking(self, state: _Index, query: str, filters: Filters) -> list[tuple[str, int | None, float]]:
        mask = None if filters.empty else np.fromiter(
            (filters.accepts(c) for c in state.chunks), dtype=bool, count=len(state.chunks)
        )
        return self._by_document(state, state.bm25.top(query, self.candidates, mask))

    def _vector_rankings(
        self, state: _Index, query: str, filters: Filters, want_docs: bool
    ) -> dict[str, list[tuple[str, int | None, float]]]:
        vec = self.embedder.embed_query(query)
        hits = state.store.query(vec, self.candidates, filters, level=LEVEL_CHUNK, total=len(state.chunks))
        out = {"vector": self._by_document(state, [(state.position[c], s) for c, s in hits if c in state.position])}
        if want_docs:
            n_docs = len(state.first_chunk)
            doc_hits = state.store.query(vec, n_docs, filters, level=LEVEL_DOCUMENT, total=n_docs)
            out["vector_doc"] = [
                (doc, None, sim) for doc, sim in ((cid.rsplit("#", 1)[0], sim) for cid, sim in doc_hits)
                if doc in state.first_chunk
            ]
        return out

    @staticmethod
    def _by_document(state: _Index, ranked: list[tuple[int, float]]) -> list[tuple[str, int | None, float]]:
        """Collapse a chunk ranking to a document ranking: (doc_id, best chunk index, its score)."""
        seen: dict[str, tuple[int, float]] = {}
        for idx, score in ranked:
            seen.setdefault(state.chunks[idx].doc_id, (idx, score))
        return [(doc, idx, score) for doc, (idx, score) in seen.items()]

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        category: str | Sequence[str] | None = None,
        doc_id: str | Sequence[str] | None = None,
        product_id: str | Sequence[str] | None = None,
        mode: Mode = "hybrid",
        lang: str | None = "zh",
        untranslated: bool = True,
    ) -> list[SearchResult]:
        """The ``k`` best documents for ``query`` (best passage each), optionally filtered.

        ``lang`` picks the pages written in that language (and, with ``untranslated``, the pages of the
        other language that have no translation); ``None`` searches every page.

        Raises :class:`InvalidInput` for an empty query, a ``k`` outside 1–50 or an unknown mode.
        Any other text (emoji, SQL, markup) is just text to search for.
        """
        if not isinstance(query, str) or not query.strip():
            raise InvalidInput("查询内容不能为空", "the query must not be empty", field="q")
        if not 1 <= int(k) <= MAX_K:
            raise InvalidInput(f"k 须在 1 到 {MAX_K} 之间", f"k must be between 1 and {MAX_K}", field="k")
        if mode not in MODES:
            raise InvalidInput(f"未知的检索方式 {mode}", f"unknown mode {mode!r} (hybrid | bm25 | vector)",
                               field="mode")
        normalised = normalise_query(query[:QUERY_MAX_CHARS])
        if lang is not None and lang not in ("zh", "en"):
            raise InvalidInput(f"不支持的语言 {lang}", f"unsupported language {lang!r} (zh | en)", field="lang")
        self._sync_quietly()
        try:
            return self._search(self._state, normalised, k, category, doc_id, product_id, mode, lang, untranslated)
        except Exception:
            # The collections searched may have been dropped by a switch this replica had not seen yet.
            if not self._sync_quietly():
                raise
            return self._search(self._state, normalised, k, category, doc_id, product_id, mode, lang, untranslated)

    def _search(
        self, state: _Index, normalised: str, k: int, category: str | Sequence[str] | None,
        doc_id: str | Sequence[str] | None, product_id: str | Sequence[str] | None, mode: Mode,
        lang: str | None, untranslated: bool,
    ) -> list[SearchResult]:
        filters = Filters.of(category, doc_id, product_id, lang,
                             state.untranslated.get(lang, ()) if lang is not None and untranslated else None)
        if not state.chunks:
            return []
        rankings: dict[str, list[tuple[str, int | None, float]]] = {}
        vector = None
        if mode in ("hybrid", "vector"):
            # The query embedding (C code, GIL released) runs while this thread ranks by BM25.
            vector = _VECTOR_SEARCH.submit(self._vector_rankings, state, normalised, filters, True)
        if mode in ("hybrid", "bm25"):
            rankings["bm25"] = self._bm25_ranking(state, normalised, filters)
        if vector is not None:
            rankings.update(vector.result())
        return self._fuse(state, rankings, k)

    def _fuse(
        self, state: _Index, rankings: dict[str, list[tuple[str, int | None, float]]], k: int
    ) -> list[SearchResult]:
        fused = rrf_fuse({m: [doc for doc, _, _ in r] for m, r in rankings.items()}, self.weights, self.rrf_k)
        best_chunk: dict[str, tuple[float, int]] = {}
        ranks: dict[str, dict[str, int]] = {}
        sims: dict[str, float] = {}
        for method, ranking in rankings.items():
            for rank, (doc, idx, score) in enumerate(ranking, start=1):
                ranks.setdefault(doc, {})[method] = rank
                if method.startswith("vector"):
                    sims[doc] = max(score, sims.get(doc, -1.0))
                # The passage shown is the section the most confident chunk-level ranking put highest.
                contribution = self.weights[method] / (self.rrf_k + rank)
                if idx is not None and (doc not in best_chunk or contribution > best_chunk[doc][0]):
                    best_chunk[doc] = (contribution, idx)
        results = []
        for doc, score in fused[:k]:
            # Found only at document level: show its opening section.
            chunk = state.chunks[best_chunk[doc][1] if doc in best_chunk else state.first_chunk[doc]]
            results.append(
                SearchResult(
                    doc_id=doc,
                    title=chunk.title,
                    section=chunk.section,
                    snippet=make_snippet(chunk.text),
                    score=round(score, 4),
                    text=chunk.text,
                    chunk_id=chunk.chunk_id,
                    category=chunk.category,
                    source=chunk.source,
                    effective_date=chunk.effective_date,
                    lang=chunk.lang,
                    bm25_rank=ranks[doc].get("bm25"),
                    vector_rank=min((r for m, r in ranks[doc].items() if m.startswith("vector")), default=None),
                    similarity=round(sims[doc], 4) if doc in sims else None,
                )
            )
        return results

    def passages(self, doc_id: str) -> list[Chunk]:
        """All chunks of one document, in order (for answer extraction and display)."""
        return [c for c in self.chunks if c.doc_id == doc_id]

    def as_langchain(self, k: int = 4, **filters: Any) -> KnowledgeBaseRetriever:
        """This retriever as a LangChain ``BaseRetriever``."""
        return KnowledgeBaseRetriever(hybrid=self, k=k, **filters)


class KnowledgeBaseRetriever(BaseRetriever):
    """LangChain adapter: the LLM engine retrieves through exactly the same hybrid search.

    Each ``Document`` holds the passage text; ``metadata`` carries ``doc_id``, ``title``, ``section``,
    ``score`` and ``snippet`` so the engine can cite what it used.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: Any
    k: int = 4
    category: str | None = None
    product_id: str | None = None
    lang: str | None = "zh"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        results = self.hybrid.search(query, k=self.k, category=self.category, product_id=self.product_id,
                                     lang=self.lang)
        return [
            LCDocument(
                page_content=f"{r.title} · {r.section}\n{r.text}" if r.section else f"{r.title}\n{r.text}",
                metadata={
                    "doc_id": r.doc_id,
                    "title": r.title,
                    "section": r.section,
                    "snippet": r.snippet,
                    "score": r.score,
                    "category": r.category,
                    "source": r.source,
                },
            )
            for r in results
        ]


def build_retriever(settings: Settings, *, embedder: Embedder | None = None,
                    on_progress: ProgressCallback | None = None) -> HybridRetriever:
    """Open the store, ingest if the index is missing or stale, and build the hybrid retriever on the live
    collections (it follows later switches by other replicas); ``on_progress`` hears the build's progress."""
    from assistant.kb.embeddings import make_embedder
    from assistant.kb.ingest import ensure_index, kb_engine, load_manifest, open_store
    from assistant.storage.kb_index import live_collection

    embedder = embedder or make_embedder(settings)
    with open_store(settings, embedder) as store:
        report = ensure_index(settings, embedder=embedder, store=store, on_progress=on_progress)
        manifest = load_manifest(settings, store)
    engine, store_id = kb_engine(settings), store.store_id

    def live() -> str | None:
        found = live_collection(engine, store_id)
        return None if found is None else found[1]

    live_store = store.at(manifest.collection if manifest is not None else "")
    retriever = HybridRetriever(live_store, embedder, [], live=live)
    if not retriever.sync():  # reads the chunks of the live build (switched meanwhile or not)
        retriever.reload()
    retriever.last_ingest = report
    log.info("kb_ready", chunks=len(retriever.chunks), documents=len(retriever.doc_ids),
             ingested=report is not None, collection=retriever.collection)
    return retriever
