"""``loan-assistant ingest``: (re)build the knowledge index, incrementally by content hash.

A manifest under ``DATA_DIR`` records, per corpus file, its SHA-256 and the chunk ids it produced, plus
the corpus hash, the embedder and the chunker version. On the next run only new or changed files are
re-chunked and re-embedded, removed files' chunks are deleted, and anything that makes the old index
untrustworthy (no or unreadable manifest, another embedder or chunker, a store that does not hold what
the manifest says, a corrupt index directory) triggers a full rebuild instead of a crash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from filelock import FileLock

from assistant.kb.corpus import CHUNKER_VERSION, Chunk, CorpusError, corpus_files, index_units, load_document
from assistant.logs import get_logger

if TYPE_CHECKING:
    from assistant.kb.embeddings import Embedder
    from assistant.kb.progress import ProgressCallback
    from assistant.kb.store import VectorStore
    from assistant.settings import Settings

log = get_logger(__name__)

MANIFEST_NAME = "kb_manifest.json"
MANIFEST_VERSION = 1
_EMBED_BATCH = 16
_WRITE_BATCH = 256
LOCK_NAME = "kb_index.lock"
_file_locks: dict[str, FileLock] = {}
_file_locks_guard = threading.Lock()


@contextmanager
def index_lock(settings: Settings) -> Iterator[None]:
    """Held while the index is opened, checked and (re)built: one builder at a time.

    Several server workers start together on a fresh ``DATA_DIR`` (``uvicorn --workers 2``), and two
    builders resetting and filling one Chroma directory at once leave it corrupt. A file lock under
    ``DATA_DIR`` serialises processes; it is thread-local, so threads of one process queue on it too,
    and re-entrant, so ``ingest`` may run under a caller that already holds it.
    """
    path = str((settings.ensure_data_dir() / LOCK_NAME).resolve())
    with _file_locks_guard:
        lock = _file_locks.setdefault(path, FileLock(path))
    with lock:
        yield


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

    def summary(self) -> str:
        """One bilingual line for the console."""
        kind = "全量重建 full rebuild" if self.rebuilt else "增量更新 incremental"
        return (
            f"{kind}（{self.reason}）: {self.documents} 篇文档 documents, {self.chunks} 个片段 chunks; "
            f"新增 added {len(self.added)}, 更新 updated {len(self.updated)}, 删除 removed {len(self.removed)}, "
            f"未变 unchanged {len(self.unchanged)}, 跳过 skipped {len(self.skipped)}; "
            f"嵌入 embedded {self.embedded_chunks} chunks in {self.seconds:.1f}s [{self.embedder}]"
        )


def manifest_path(settings: Settings) -> Path:
    """Where the manifest lives (beside the on-disk index, also when the vectors are on a server)."""
    return settings.data_dir / MANIFEST_NAME


def store_location(settings: Settings) -> str:
    """A stable name for the configured store (part of the manifest identity)."""
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


def load_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest, or None when missing, unreadable or of another version."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION or not isinstance(
        data.get("files"), dict
    ):
        return None
    return data


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _identity_problem(manifest: dict[str, Any] | None, settings: Settings, embedder_name: str) -> str | None:
    """Why the recorded index cannot be updated incrementally (None if it can)."""
    if manifest is None:
        return "no index yet / 尚无索引"
    if manifest.get("embedder") != embedder_name:
        return f"embedder changed {manifest.get('embedder')} → {embedder_name}"
    if manifest.get("chunker") != CHUNKER_VERSION:
        return f"chunker changed {manifest.get('chunker')} → {CHUNKER_VERSION}"
    if manifest.get("location") != store_location(settings):
        return "vector store location changed"
    return None


def index_status(settings: Settings, embedder_name: str | None = None) -> IndexStatus:
    """Compare the manifest with the corpus on disk (no model, no vector store touched)."""
    if embedder_name is None:
        from assistant.kb.embeddings import make_embedder

        embedder_name = make_embedder(settings).name
    manifest = load_manifest(manifest_path(settings))
    problem = _identity_problem(manifest, settings, embedder_name)
    if problem is not None:
        return IndexStatus("missing" if manifest is None else "stale", problem)
    assert manifest is not None
    snapshot = corpus_snapshot(settings.knowledge_base_dir)
    if manifest.get("corpus_hash") == corpus_hash(snapshot):
        return IndexStatus("fresh", "corpus unchanged")
    files = manifest["files"]
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
    from assistant.kb.store import VectorStore

    started = time.perf_counter()
    embedder = embedder or make_embedder(settings)
    with index_lock(settings):
        store = store or VectorStore.open(settings, embedder)
        kb_dir = settings.knowledge_base_dir
        mpath = manifest_path(settings)
        manifest = load_manifest(mpath)
        reason = _identity_problem(manifest, settings, embedder.name)
        if reason is None and force:
            reason = "forced / 手动全量重建"
        if reason is None and store.recovered:
            reason = "index directory was corrupt / 索引目录损坏，已重建"
        if reason is None and store.stored_embedder() not in (None, embedder.name):
            reason = "store holds another embedder's vectors"
        if reason is None:
            assert manifest is not None
            expected = sum(len(f.get("chunk_ids", [])) for f in manifest["files"].values())
            if store.count() != expected:
                reason = f"store holds {store.count()} chunks, manifest says {expected}"
        rebuilt = reason is not None
        old_files: dict[str, Any] = {} if rebuilt else dict(manifest["files"])  # type: ignore[index]
        if rebuilt:
            log.info("kb_full_rebuild", reason=reason)
            store.reset()
        report = IngestReport(rebuilt=rebuilt, reason=reason or "incremental / 增量", embedder=embedder.name)

        snapshot = corpus_snapshot(kb_dir)
        new_files: dict[str, Any] = {}
        to_embed: list[Chunk] = []
        stale_ids: list[str] = []
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
            if old is not None:
                stale_ids.extend(old.get("chunk_ids", []))
            try:
                parsed.append((rel, sha, old, load_document(kb_dir / rel, kb_dir)))
            except (CorpusError, OSError) as exc:
                report.skipped[rel] = str(exc)
                log.warning("kb_document_skipped", path=rel, error=str(exc))
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
        for rel, old in old_files.items():
            if rel not in snapshot:
                stale_ids.extend(old.get("chunk_ids", []))
                report.removed.append(rel)

        # Delete before upserting: a changed file may reuse chunk ids, which the upsert then rewrites.
        keep = {cid for rec in new_files.values() for cid in rec["chunk_ids"]}
        if stale_ids:
            store.delete([cid for cid in stale_ids if cid not in keep])
        _embed_and_store(store, embedder, to_embed, progress, on_progress,
                         (len(new_files), len(keep), report.rebuilt))

        report.documents = len(new_files)
        report.chunks = len(keep)
        report.embedded_chunks = len(to_embed)
        _write_manifest(
            mpath,
            {
                "version": MANIFEST_VERSION,
                "embedder": embedder.name,
                "chunker": CHUNKER_VERSION,
                "location": store_location(settings),
                # Hash of the files actually indexed: a skipped (broken) file keeps the index "stale"
                # so that it is retried, and reported, on the next run.
                "corpus_hash": corpus_hash({p: r["sha256"] for p, r in new_files.items()})
                if not report.skipped
                else "incomplete",
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "files": new_files,
            },
        )
        report.seconds = time.perf_counter() - started
        log.info("kb_ingested", **{k: v for k, v in asdict(report).items() if isinstance(v, int | float | str)})
        return report


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
            if len(pending) >= _WRITE_BATCH:
                store.upsert(pending, np.asarray(vectors))
                pending, vectors = [], []
            tell("embed", start + len(part))
    if pending:
        store.upsert(pending, np.asarray(vectors))
    tell("done", len(chunks))


def ensure_index(settings: Settings, *, embedder: Embedder, store: VectorStore,
                 on_progress: ProgressCallback | None = None) -> IngestReport | None:
    """Ingest when the index is missing, stale or not what the manifest says; None when it was fresh."""
    status = index_status(settings, embedder.name)
    if status.fresh and not store.recovered:
        manifest = load_manifest(manifest_path(settings)) or {"files": {}}
        expected = sum(len(f.get("chunk_ids", [])) for f in manifest["files"].values())
        if store.count() == expected:
            return None
        status = IndexStatus("stale", f"store holds {store.count()} chunks, manifest says {expected}")
    log.info("kb_index_refresh", state=status.state, reason=status.reason)
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
