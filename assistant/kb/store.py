"""The vector store: Chroma collections of sections and documents, under ``DATA_DIR/chroma`` or on a server.

Each build of the index writes its own pair of collections (``kb_chunks__<suffix>``,
``kb_documents__<suffix>``); the manifest in the database (:mod:`assistant.storage.kb_index`) names the
live suffix, so a rebuild never touches the collections other replicas are reading. The store carries a
random id of its own (collection ``kb_store``) that keys its manifest row.

A corrupt or unreadable on-disk index is removed and recreated empty (the ingester then rebuilds it):
the index is derived data, and the service must start rather than crash on it.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from assistant.errors import ConfigurationError, UpstreamUnavailable
from assistant.kb.corpus import LEVEL_CHUNK, LEVEL_DOCUMENT, Chunk
from assistant.kb.embeddings import ChromaEmbeddings, Embedder
from assistant.logs import get_logger

if TYPE_CHECKING:
    from assistant.settings import Settings

log = get_logger(__name__)

# One collection per index level (see corpus.LEVEL_*).
COLLECTIONS = {LEVEL_CHUNK: "kb_chunks", LEVEL_DOCUMENT: "kb_documents"}
# Holds no records: its metadata is the store's id (the key of its manifest row).
STORE_ID_COLLECTION = "kb_store"
_SUFFIX_SEPARATOR = "__"
_BATCH = 512


def collection_name(level: str, suffix: str) -> str:
    """The name of one level's collection of the build ``suffix`` ("" = the unversioned legacy name)."""
    return f"{COLLECTIONS[level]}{_SUFFIX_SEPARATOR}{suffix}" if suffix else COLLECTIONS[level]


def new_suffix(generation: int) -> str:
    """A fresh, never reused collection suffix for a build of ``generation``."""
    return f"g{generation:06d}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Filters:
    """Metadata filters shared by the vector store and BM25 (all given conditions must hold)."""

    categories: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    product_ids: tuple[str, ...] = ()
    # The documents' language; ``also_doc_ids`` are documents of another language let through (the
    # Chinese pages with no translation, for an English search).
    langs: tuple[str, ...] = ()
    also_doc_ids: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        category: str | Sequence[str] | None = None,
        doc_id: str | Sequence[str] | None = None,
        product_id: str | Sequence[str] | None = None,
        lang: str | Sequence[str] | None = None,
        also_doc_ids: Sequence[str] | None = None,
    ) -> Filters:
        """Build from single values or lists; ``None``/empty means no condition."""

        def norm(value: str | Sequence[str] | None) -> tuple[str, ...]:
            if value is None:
                return ()
            items = [value] if isinstance(value, str) else list(value)
            return tuple(sorted({v.strip() for v in items if v and v.strip()}))

        return cls(norm(category), norm(doc_id), norm(product_id), norm(lang), norm(also_doc_ids))

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.categories or self.doc_ids or self.product_ids or self.langs)

    def accepts(self, chunk: Chunk) -> bool:
        """Whether ``chunk`` passes (the in-memory twin of :meth:`chroma_where`)."""
        return (
            (not self.categories or chunk.category in self.categories)
            and (not self.doc_ids or chunk.doc_id in self.doc_ids)
            and (not self.product_ids or chunk.product_id in self.product_ids)
            and (not self.langs or chunk.lang in self.langs or chunk.doc_id in self.also_doc_ids)
        )

    def chroma_where(self) -> dict[str, Any] | None:
        """The Chroma ``where`` clause (None when nothing is filtered: the fast, unfiltered query)."""
        clauses: list[dict[str, Any]] = []
        for key, values in (("category", self.categories), ("doc_id", self.doc_ids),
                            ("product_id", self.product_ids)):
            if values:
                clauses.append({key: {"$in": list(values)}})
        if self.langs:
            by_lang: dict[str, Any] = {"lang": {"$in": list(self.langs)}}
            clauses.append({"$or": [by_lang, {"doc_id": {"$in": list(self.also_doc_ids)}}]}
                           if self.also_doc_ids else by_lang)
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _reset_path(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


class VectorStore:
    """The Chroma collections holding the indexed units (sections, documents), metadata and embeddings."""

    def __init__(self, client: Any, embedder: Embedder, location: str, persist_path: Path | None = None,
                 suffix: str = "") -> None:
        self.client = client
        self.embedder = embedder
        self.location = location
        self.persist_path = persist_path
        self.suffix = suffix  # which build's collections this handle reads and writes
        self.embedding_function = ChromaEmbeddings(embedder)
        self.recovered = False  # True when a corrupt index was thrown away on open
        self._collections: dict[str, Any] = {}
        self._store_id: str | None = None

    def at(self, suffix: str) -> VectorStore:
        """A handle on the collections of build ``suffix``, sharing this connection."""
        other = VectorStore(self.client, self.embedder, self.location, self.persist_path, suffix)
        other.recovered = self.recovered
        other._store_id = self._store_id
        return other

    @property
    def store_id(self) -> str:
        """The store's own id, created with the store (concurrent first openers agree on one)."""
        if self._store_id is None:
            try:
                found = self.client.get_collection(STORE_ID_COLLECTION, embedding_function=self.embedding_function)
            except Exception:  # absent: make it; if another process made it meanwhile, read theirs
                try:
                    found = self.client.create_collection(
                        STORE_ID_COLLECTION, metadata={"store_id": uuid.uuid4().hex},
                        embedding_function=self.embedding_function,
                    )
                except Exception:
                    found = self.client.get_collection(STORE_ID_COLLECTION,
                                                       embedding_function=self.embedding_function)
            self._store_id = str((found.metadata or {})["store_id"])
        return self._store_id

    # --- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, embedder: Embedder) -> VectorStore:
        """Connect to the configured store; a corrupt on-disk index is wiped and reopened empty."""
        if settings.chroma_url:
            return cls._open_http(settings.chroma_url, embedder)
        path = (settings.ensure_data_dir() / "chroma").resolve()
        store: VectorStore | None = None
        try:
            store = cls._open_persistent(path, embedder)
            _ = store.store_id  # reads the store's catalogue: an unreadable one fails here
            return store
        except Exception as exc:  # any failure to read a derived index: rebuild rather than crash
            log.warning("kb_index_unreadable", path=str(path), error=f"{type(exc).__name__}: {exc}"[:300])
            cls._forget_client(store, path)
            _reset_path(path)
            store = cls._open_persistent(path, embedder)
            store.recovered = True
            return store

    @staticmethod
    def _forget_client(store: VectorStore | None, path: Path) -> None:
        # Chroma caches one "system" per persist directory; stop and drop it so the wiped directory is
        # opened afresh instead of through stale handles.
        try:
            if store is not None:
                store.client.close()
        except Exception:  # pragma: no cover - best effort
            pass
        try:
            from chromadb.api.shared_system_client import SharedSystemClient

            system = SharedSystemClient._identifier_to_system.pop(str(path), None)
            SharedSystemClient._identifier_to_refcount.pop(str(path), None)
            if system is not None:
                system.stop()
        except Exception:  # pragma: no cover - best effort across Chroma versions
            pass

    @classmethod
    def _open_persistent(cls, path: Path, embedder: Embedder) -> VectorStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        if path.exists() and not path.is_dir():
            raise ConfigurationError(f"索引路径不是目录：{path}", f"index path is not a directory: {path}")
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        )
        return cls(client, embedder, location=str(path), persist_path=path)

    @classmethod
    def _open_http(cls, url: str, embedder: Embedder) -> VectorStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        parsed = urlparse(url if "://" in url else f"http://{url}")
        ssl = parsed.scheme == "https"
        port = parsed.port or (443 if ssl else 8000)
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname or "localhost", port=port, ssl=ssl,
                settings=ChromaSettings(anonymized_telemetry=False),
            )
        except Exception as exc:
            from assistant import metrics

            metrics.KB_ERRORS.labels(operation="connect").inc()
            raise UpstreamUnavailable(
                f"无法连接向量库 {url}", f"cannot reach the Chroma server at {url}: {type(exc).__name__}"
            ) from exc
        return cls(client, embedder, location=url)

    def collection(self, level: str = LEVEL_CHUNK) -> Any:
        """The collection of one index level (it must exist: a reader never recreates a dropped one).

        One collection per level rather than a ``level`` metadata filter: an unfiltered Chroma query
        measured 2-3x faster than a filtered one, and the hot path queries both levels. Our embedding
        function is passed on create and get, so Chroma never builds its downloading default.
        """
        if level not in self._collections:
            self._collections[level] = self.client.get_collection(
                collection_name(level, self.suffix), embedding_function=self.embedding_function
            )
        return self._collections[level]

    def create(self) -> None:
        """Create this build's collections (empty; existing ones are kept)."""
        for level in COLLECTIONS:
            self._collections[level] = self.client.get_or_create_collection(
                collection_name(level, self.suffix),
                embedding_function=self.embedding_function,
                metadata={"embedder": self.embedder.name},
                configuration={"hnsw": {"space": "cosine"}},
            )

    def probe(self) -> None:
        """Touch each collection and its vector segment so a broken index fails here, not mid-request.

        Fresh handles: a collection dropped or lost on the server since it was opened fails too."""
        for level in COLLECTIONS:
            collection = self.client.get_collection(collection_name(level, self.suffix),
                                                    embedding_function=self.embedding_function)
            if collection.count():
                got = collection.get(limit=1, include=["embeddings"])
                collection.query(query_embeddings=[got["embeddings"][0]], n_results=1, include=[])

    def suffixes(self) -> set[str]:
        """The suffixes of every build whose collections the store holds (legacy unversioned: "")."""
        found: set[str] = set()
        for collection in self.client.list_collections():
            for base in COLLECTIONS.values():
                name = str(collection.name)
                if name == base:
                    found.add("")
                elif name.startswith(base + _SUFFIX_SEPARATOR):
                    found.add(name[len(base) + len(_SUFFIX_SEPARATOR):])
        return found

    def drop(self) -> None:
        """Delete this build's collections (absent ones are ignored)."""
        for level in COLLECTIONS:
            with contextlib.suppress(Exception):  # absent already
                self.client.delete_collection(collection_name(level, self.suffix))
            self._collections.pop(level, None)

    # --- reading -------------------------------------------------------------------------------
    def count(self, level: str | None = None) -> int:
        """Number of units stored (of one level, or of all)."""
        levels = [level] if level else list(COLLECTIONS)
        return sum(int(self.collection(lv).count()) for lv in levels)

    def ids(self) -> set[str]:
        """Every stored id, all levels."""
        return {i for lv in COLLECTIONS for i in self.collection(lv).get(include=[])["ids"]}

    def stored_embedder(self) -> str | None:
        """The embedder name the collections were built with."""
        meta = self.collection(LEVEL_CHUNK).metadata or {}
        return meta.get("embedder")

    def all_chunks(self, level: str = LEVEL_CHUNK) -> list[Chunk]:
        """Every stored unit of one level (sections by default: what BM25 is built from), in order."""
        collection = self.collection(level)
        chunks: list[Chunk] = []
        for offset in range(0, int(collection.count()), 1000):
            got = collection.get(include=["documents", "metadatas"], limit=1000, offset=offset)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                chunks.append(Chunk.from_store(cid, text or "", dict(meta or {})))
        chunks.sort(key=lambda c: (c.path, c.position))
        return chunks

    def query(
        self,
        embedding: np.ndarray,
        k: int,
        filters: Filters | None = None,
        *,
        level: str = LEVEL_CHUNK,
        total: int | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest units of ``level`` as (id, cosine similarity), best first.

        ``total`` (the known number of units at that level) saves a round trip on the hot path.
        """
        total = self.count(level) if total is None else total
        if total == 0 or k <= 0:
            return []
        try:
            got = self.collection(level).query(
                query_embeddings=[np.asarray(embedding, dtype=np.float32)],
                n_results=min(k, total),
                where=(filters or Filters()).chroma_where(),
                include=["distances"],
            )
        except Exception as exc:
            from assistant import metrics

            metrics.KB_ERRORS.labels(operation="query").inc()
            if self.persist_path is not None:
                raise
            raise UpstreamUnavailable(
                "向量库暂时无法访问，请稍后再试", f"the Chroma server at {self.location} failed: {type(exc).__name__}"
            ) from exc
        ids = got["ids"][0] if got["ids"] else []
        dists = got["distances"][0] if got.get("distances") else [1.0] * len(ids)
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, dists, strict=True)]

    # --- writing -------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        """Insert or replace units (each into its level's collection) with their precomputed embeddings."""
        vectors = np.asarray(embeddings, dtype=np.float32)
        for level in COLLECTIONS:
            rows = [i for i, c in enumerate(chunks) if c.level == level]
            for start in range(0, len(rows), _BATCH):
                part = rows[start : start + _BATCH]
                self.collection(level).upsert(
                    ids=[chunks[i].chunk_id for i in part],
                    documents=[chunks[i].text for i in part],
                    metadatas=[chunks[i].metadata() for i in part],
                    embeddings=[vectors[i] for i in part],
                )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove units by id from every level (unknown ids are ignored)."""
        ids = list(ids)
        for level in COLLECTIONS:
            for start in range(0, len(ids), _BATCH):
                self.collection(level).delete(ids=ids[start : start + _BATCH])

    def reset(self) -> None:
        """Drop and recreate this build's collections, empty."""
        self.drop()
        self.create()
