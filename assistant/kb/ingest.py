"""``loan-assistant ingest``: (re)build the knowledge index, incrementally by content hash.

The manifest — per corpus file its SHA-256 and the chunk ids it produced, plus the corpus hash, the
embedder, the chunker version and the live collections — is a row in the database every replica shares
(:mod:`assistant.storage.kb_index`), keyed by the vector store's own id: a new replica with a fresh
``DATA_DIR`` finds the index its peers built and reuses it without embedding anything.

Every change builds a new pair of collections — the unchanged files' vectors copied from the live ones,
only new or changed files embedded — and then switches the manifest to them in one transaction; the
previous collections are dropped after the switch. Replicas keep answering from the old collections
during a build and pick up the new ones on their next query. Anything that makes the old index
untrustworthy (no or unreadable manifest, another embedder or chunker, live collections that are missing
or do not hold what the manifest says, a corrupt index directory) triggers a full rebuild instead of a
crash. One builder at a time: a file lock in ``DATA_DIR`` for the embedded store (it lives there), the
database's lock for a Chroma server.
"""

from __future__ import annotations

import argparse
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from filelock import FileLock

from assistant.errors import UpstreamUnavailable
from assistant.kb.corpus import CHUNKER_VERSION, Chunk, CorpusError, corpus_files, index_units, load_document
from assistant.logs import get_logger
from assistant.storage.kb_index import Manifest, build_lock, live_collection, read_manifest, switch_manifest

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from assistant.kb.embeddings import Embedder
    from assistant.kb.progress import ProgressCallback
    from assistant.kb.store import VectorStore
    from assistant.settings import Settings

log = get_logger(__name__)

_EMBED_BATCH = 16
_WRITE_BATCH = 256
_COPY_BATCH = 512
LOCK_NAME = "kb_index.lock"
_file_locks: dict[str, FileLock] = {}
_file_locks_guard = threading.Lock()
_engines: OrderedDict[str, Engine] = OrderedDict()
_engines_guard = threading.Lock()
_MAX_ENGINES = 8  # tests open many databases; a long-running service uses one


def kb_engine(settings: Settings) -> Engine:
    """The engine on the configured database that holds the manifest (tables created), one per URL."""
    from assistant.storage.db import create_all, make_engine

    url = settings.resolved_database_url
    with _engines_guard:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            create_all(engine)
            _engines[url] = engine
            while len(_engines) > _MAX_ENGINES:
                _engines.popitem(last=False)[1].dispose()
        _engines.move_to_end(url)
        return engine


@contextmanager
def _data_dir_lock(settings: Settings) -> Iterator[None]:
    # A file lock under DATA_DIR serialises processes; it is thread-local, so threads of one process
    # queue on it too, and re-entrant, so ``ingest`` may run under a caller that already holds it.
    path = str((settings.ensure_data_dir() / LOCK_NAME).resolve())
    with _file_locks_guard:
        lock = _file_locks.setdefault(path, FileLock(path))
    with lock:
        yield


@contextmanager
def index_lock(settings: Settings, store: VectorStore | None = None) -> Iterator[None]:
    """Held while the index is checked and (re)built: one builder at a time.

    The embedded store lives in ``DATA_DIR``, so a file lock there serialises its builders (several
    workers of one host start together on a fresh ``DATA_DIR``; two builders filling one Chroma
    directory at once leave it corrupt). A Chroma server is shared by hosts, so its builders take the
    shared database's lock (PostgreSQL advisory lock), keyed by the server's store id.
    """
    if not settings.chroma_url:
        with _data_dir_lock(settings):
            yield
        return
    if store is None:
        raise ValueError("index_lock needs the open store when the index is on a Chroma server")
    with build_lock(kb_engine(settings), store.store_id, settings.ensure_data_dir()):
        yield


@contextmanager
def open_store(settings: Settings, embedder: Embedder, store: VectorStore | None = None) -> Iterator[VectorStore]:
    """The store, opened under the local lock when it is the embedded one (whose opening may wipe a corrupt
    directory: one process at a time); a server is opened without any lock."""
    from assistant.kb.store import VectorStore

    if settings.chroma_url:
        yield store or VectorStore.open(settings, embedder)
        return
    with _data_dir_lock(settings):
        # Open after the lock: a worker that opened the store while another was wiping it would keep
        # a stale view of the directory.
        yield store or VectorStore.open(settings, embedder)


@dataclass
class IndexStatus:
    """Whether the index matches the corpus on disk."""

    state: Literal["fresh", "stale", "missing"]
    reason: str
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def fresh(self) -> bool:
        """True when no ingestion is needed."""
        return self.state == "fresh"


@dataclass
class IngestReport:
    """What one ingestion did."""

    rebuilt: bool
    reason: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    embedder: str = ""
    collection: str = ""  # the live collections' suffix after this ingestion
    switched: bool = False  # a new index was built and made live

    def summary(self) -> str:
        """One bilingual line for the console."""
        kind = "全量重建 full rebuild" if self.rebuilt else "增量更新 incremental"
        return (
            f"{kind}（{self.reason}）: {self.documents} 篇文档 documents, {self.chunks} 个片段 chunks; "
            f"新增 added {len(self.added)}, 更新 updated {len(self.updated)}, 删除 removed {len(self.removed)}, "
            f"未变 unchanged {len(self.unchanged)}, 跳过 skipped {len(self.skipped)}; "
            f"嵌入 embedded {self.embedded_chunks} chunks in {self.seconds:.1f}s [{self.embedder}]"
        )


def store_location(settings: Settings) -> str:
    """A name for the configured store, for messages."""
    return settings.chroma_url or "local:chroma"


def corpus_snapshot(kb_dir: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every corpus file (cheap: the corpus is small text)."""
    return {
        p.relative_to(kb_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus_files(kb_dir)
    }


def corpus_hash(snapshot: dict[str, str]) -> str:
    """One hash for the whole corpus."""
    digest = hashlib.sha256()
    for path in sorted(snapshot):
        digest.update(f"{path}\0{snapshot[path]}\n".encode())
    return digest.hexdigest()


def load_manifest(settings: Settings, store: VectorStore) -> Manifest | None:
    """The manifest of ``store``'s live index (None when it has none yet)."""
    return read_manifest(kb_engine(settings), store.store_id)


def _identity_problem(manifest: Manifest | None, embedder_name: str) -> str | None:
    """Why the recorded index cannot be updated incrementally (None if it can)."""
    if manifest is None:
        return "no index yet / 尚无索引"
    if manifest.embedder != embedder_name:
        return f"embedder changed {manifest.embedder} → {embedder_name}"
    if manifest.chunker != CHUNKER_VERSION:
        return f"chunker changed {manifest.chunker} → {CHUNKER_VERSION}"
    return None


def _live_problem(store: VectorStore, manifest: Manifest) -> str | None:
    """Why the live collections cannot be trusted (None when they hold what the manifest says).

    A server that does not answer is an outage, not a reason to rebuild: :class:`UpstreamUnavailable`.
    """
    if store.persist_path is None:
        try:
            store.client.heartbeat()
        except Exception as exc:
            raise UpstreamUnavailable("向量库暂时无法访问，请稍后再试",
                                      f"the Chroma server at {store.location} does not answer: "
                                      f"{type(exc).__name__}") from exc
    live = store.at(manifest.collection)
    try:
        live.probe()
        held = live.count()
    except Exception as exc:  # missing or unreadable collections: rebuild them
        return f"live collections unreadable / 索引集合缺失: {type(exc).__name__}"
    if held != manifest.units:
        return f"store holds {held} chunks, manifest says {manifest.units}"
    return None


def index_status(settings: Settings, embedder_name: str | None = None, *,
                 store: VectorStore | None = None) -> IndexStatus:
    """Compare the manifest with the corpus on disk (no model loaded; the store is opened for its id)."""
    from assistant.kb.embeddings import make_embedder

    embedder = make_embedder(settings)
    embedder_name = embedder_name or embedder.name
    with open_store(settings, embedder, store) as opened:
        manifest = load_manifest(settings, opened)
    problem = _identity_problem(manifest, embedder_name)
    if problem is not None:
        return IndexStatus("missing" if manifest is None else "stale", problem)
    assert manifest is not None
    snapshot = corpus_snapshot(settings.knowledge_base_dir)
    if manifest.corpus_hash == corpus_hash(snapshot):
        return IndexStatus("fresh", "corpus unchanged")
    files = manifest.files
    changed = sorted(p for p, h in snapshot.items() if files.get(p, {}).get("sha256") != h)
    removed = sorted(p for p in files if p not in snapshot)
    return IndexStatus("stale", "corpus changed / 知识库文件有变化", changed=changed, removed=removed)


def ingest(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    store: VectorStore | None = None,
    progress: bool = False,
    force: bool = False,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Bring the index in line with ``knowledge_base/``; returns what was done.

    ``on_progress`` is called before embedding, after each batch and at the end (see ``kb.progress``).
    """
    from assistant.kb.embeddings import make_embedder

    started = time.perf_counter()
    embedder = embedder or make_embedder(settings)
    with open_store(settings, embedder, store) as store, index_lock(settings, store):
        report = _ingest_locked(settings, embedder, store, progress=progress, force=force, on_progress=on_progress)
    report.seconds = time.perf_counter() - started
    log.info("kb_ingested", **{k: v for k, v in asdict(report).items() if isinstance(v, int | float | str)})
    return report


def _ingest_locked(settings: Settings, embedder: Embedder, store: VectorStore, *, progress: bool,
                   force: bool, on_progress: ProgressCallback | None = None) -> IngestReport:
    from assistant.kb.store import new_suffix

    engine = kb_engine(settings)
    kb_dir = settings.knowledge_base_dir
    manifest = read_manifest(engine, store.store_id)
    row = live_collection(engine, store.store_id)  # also there when the manifest is unreadable
    reason = _identity_problem(manifest, embedder.name)
    if reason is None and force:
        reason = "forced / 手动全量重建"
    if reason is None and store.recovered:
        reason = "index directory was corrupt / 索引目录损坏，已重建"
    if reason is None:
        assert manifest is not None
        reason = _live_problem(store, manifest)
    snapshot = corpus_snapshot(kb_dir)
    if reason is None:
        assert manifest is not None
        if manifest.corpus_hash == corpus_hash(snapshot):  # nothing to do: the live index stays
            return IngestReport(rebuilt=False, reason="unchanged / 无变化", unchanged=sorted(manifest.files),
                                documents=len(manifest.files), chunks=manifest.units, embedder=embedder.name,
                                collection=manifest.collection)
    rebuilt = reason is not None
    old_files: dict[str, Any] = {} if rebuilt or manifest is None else dict(manifest.files)
    if rebuilt:
        log.info("kb_full_rebuild", reason=reason)
    report = IngestReport(rebuilt=rebuilt, reason=reason or "incremental / 增量", embedder=embedder.name)

    new_files: dict[str, Any] = {}
    to_embed: list[Chunk] = []
    seen_ids = {
        rec.get("doc_id"): path
        for path, rec in old_files.items()
        if path in snapshot and rec.get("sha256") == snapshot[path]
    }
    parsed: list[tuple[str, str, Any, Any]] = []  # (path, sha, old record, document)
    for rel, sha in snapshot.items():
        old = old_files.get(rel)
        if old is not None and old.get("sha256") == sha:
            new_files[rel] = old
            report.unchanged.append(rel)
            continue
        try:
            parsed.append((rel, sha, old, load_document(kb_dir / rel, kb_dir)))
        except (CorpusError, OSError) as exc:
            report.skipped[rel] = str(exc)
            log.warning("kb_document_skipped", path=rel, error=str(exc))
    copied = [cid for rec in new_files.values() for cid in rec["chunk_ids"]]
    # Of two files claiming one id, the one already indexed keeps it, else the one named after it.
    parsed.sort(key=lambda item: (Path(item[0]).stem != item[3].doc_id, item[0]))
    for rel, sha, old, doc in parsed:
        if doc.doc_id in seen_ids and seen_ids[doc.doc_id] != rel:
            msg = f"duplicate id {doc.doc_id!r} (also in {seen_ids[doc.doc_id]})"
            report.skipped[rel] = msg
            log.warning("kb_document_skipped", path=rel, error=msg)
            continue
        seen_ids[doc.doc_id] = rel
        chunks = index_units(doc)
        to_embed.extend(chunks)
        new_files[rel] = {"sha256": sha, "doc_id": doc.doc_id, "chunk_ids": [c.chunk_id for c in chunks]}
        (report.updated if old is not None else report.added).append(rel)
    report.added.sort()
    report.updated.sort()
    report.removed = sorted(rel for rel in old_files if rel not in snapshot)

    # Build beside the live collections, then switch: readers never see a half-built index.
    target = store.at(new_suffix((row[0] if row else 0) + 1))
    target.reset()
    try:
        if copied:
            assert manifest is not None
            _copy_units(store.at(manifest.collection), target, copied)
        _embed_and_store(target, embedder, to_embed, progress, on_progress,
                         (len(new_files), len(copied) + len(to_embed), report.rebuilt))
        switched = switch_manifest(engine, Manifest(
            store_id=store.store_id, generation=0, collection=target.suffix, embedder=embedder.name,
            chunker=CHUNKER_VERSION,
            # Hash of the files actually indexed: a skipped (broken) file keeps the index "stale" so that
            # it is retried, and reported, on the next run.
            corpus_hash=corpus_hash({p: r["sha256"] for p, r in new_files.items()})
            if not report.skipped else "incomplete",
            files=new_files,
        ), expected_generation=row[0] if row else None)
    except BaseException:
        target.drop()  # a failed build leaves nothing behind; the live index is untouched
        raise
    log.info("kb_index_switched", collection=switched.collection, generation=switched.generation)
    _drop_replaced(store, row[1] if row else None, target.suffix)
    report.documents = len(new_files)
    report.chunks = len(copied) + len(to_embed)
    report.embedded_chunks = len(to_embed)
    report.collection = target.suffix
    report.switched = True
    return report


def _drop_replaced(store: VectorStore, replaced: str | None, live: str) -> None:
    """After a switch: drop the collections it replaced (other replicas move on at their next query).

    On the embedded store (this host's alone) every other build's collections are garbage too: the
    unversioned ones of older releases, those of a build that crashed. A server's are left alone
    beyond the replaced pair: another deployment (another database) may share the server.
    """
    doomed = {replaced} if replaced else set()
    if store.persist_path is not None:
        doomed |= store.suffixes()
    for suffix in doomed - {live}:
        try:
            store.at(suffix).drop()
        except Exception as exc:  # best effort: an undropped collection only costs space
            log.warning("kb_collection_drop_failed", collection=suffix, error=type(exc).__name__)


def _copy_units(source: VectorStore, target: VectorStore, ids: list[str]) -> None:
    """Copy units (text, metadata, vector) of unchanged files from the live collections: no re-embedding."""
    from assistant.kb.store import COLLECTIONS

    for level in COLLECTIONS:  # each id lives in one level's collection; the other ignores it
        for start in range(0, len(ids), _COPY_BATCH):
            got = source.collection(level).get(ids=ids[start : start + _COPY_BATCH],
                                               include=["embeddings", "documents", "metadatas"])
            if got["ids"]:
                target.collection(level).upsert(ids=got["ids"], embeddings=got["embeddings"],
                                                documents=got["documents"], metadatas=got["metadatas"])


def _embed_and_store(store: VectorStore, embedder: Embedder, chunks: list[Chunk], progress: bool,
                     on_progress: ProgressCallback | None = None,
                     sizes: tuple[int, int, bool] = (0, 0, True)) -> None:
    from tqdm import tqdm

    from assistant.kb.progress import IndexProgress

    started = time.perf_counter()

    def tell(stage: Any, done: int) -> None:
        if on_progress is not None:
            on_progress(IndexProgress(stage, done, len(chunks), sizes[0], sizes[1], embedder.name,
                                      time.perf_counter() - started, sizes[2]))

    tell("start", 0)
    if not chunks:
        tell("done", 0)
        return

    # Embed in small batches (a smooth progress bar), write in large ones (each store write is a
    # transaction: dozens of small ones cost seconds).
    pending: list[Chunk] = []
    vectors: list[Any] = []
    with tqdm(total=len(chunks), desc="嵌入 embedding", unit="chunk", disable=not progress) as bar:
        for start in range(0, len(chunks), _EMBED_BATCH):
            part = chunks[start : start + _EMBED_BATCH]
            vectors.extend(embedder.embed_documents([c.index_text for c in part]))
            pending.extend(part)
            bar.update(len(part))
            tell("embed", start + len(part))
            if len(pending) >= _WRITE_BATCH:
                store.upsert(pending, np.asarray(vectors))
                pending, vectors = [], []
    if pending:
        store.upsert(pending, np.asarray(vectors))
    tell("done", len(chunks))


def ensure_index(settings: Settings, *, embedder: Embedder, store: VectorStore,
                 on_progress: ProgressCallback | None = None) -> IngestReport | None:
    """Ingest when the index is missing, stale or not what the manifest says; None when it was fresh.

    The check runs before any lock: a replica that finds the current index its peers built takes no
    lock and embeds nothing. Otherwise :func:`ingest` takes the lock and checks again (another replica
    may have finished the build meanwhile: then nothing is done).
    """
    manifest = load_manifest(settings, store)
    reason = _identity_problem(manifest, embedder.name)
    if reason is None and store.recovered:
        reason = "index directory was corrupt / 索引目录损坏，已重建"
    if reason is None:
        assert manifest is not None
        reason = _live_problem(store, manifest)
    if reason is None:
        assert manifest is not None
        if manifest.corpus_hash == corpus_hash(corpus_snapshot(settings.knowledge_base_dir)):
            return None
        reason = "corpus changed / 知识库文件有变化"
    log.info("kb_index_refresh", reason=reason)
    return ingest(settings, embedder=embedder, store=store, on_progress=on_progress)


def run_cli(args: argparse.Namespace) -> int:
    """``loan-assistant ingest [--force] [--check]``."""
    from assistant.settings import get_settings

    settings = get_settings()
    if getattr(args, "check", False):
        status = index_status(settings)
        print(f"{status.state}: {status.reason}")
        for path in status.changed:
            print(f"  changed  {path}")
        for path in status.removed:
            print(f"  removed  {path}")
        return 0 if status.fresh else 1
    report = ingest(settings, progress=True, force=getattr(args, "force", False))
    print(report.summary())
    for path, err in report.skipped.items():
        print(f"  跳过 skipped {path}: {err}")
    return 0
