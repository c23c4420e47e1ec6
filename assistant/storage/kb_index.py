"""The knowledge index's manifest and build lock, kept in the database every replica shares.

One row per vector store (``store_id``: a random id the store itself carries, so two hosts that each
keep an embedded store never share a row, and every replica of one Chroma server does): what was
embedded (per file its SHA-256 and chunk ids, the corpus hash, the embedder, the chunker version) and
which collections are live. A rebuild writes new collections and then switches this one row in one
transaction: a reader sees the old index or the new one, never a half-built one.

The build lock is held across the whole build: a PostgreSQL session advisory lock (released by the
server when the holder's connection dies, so a crashed host never leaves it stuck), or, on SQLite (one
file on one host by construction), a file lock beside the database. Both are re-entrant in a process.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import DateTime, Integer, String, Text, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from assistant.storage.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class KnowledgeIndexRow(Base):
    """The live index of one vector store."""

    __tablename__ = "kb_index"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Bumped by every switch: readers compare it to the one they loaded.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    collection: Mapped[str] = mapped_column(String(64))  # suffix of the live collections' names
    embedder: Mapped[str] = mapped_column(String(128))
    chunker: Mapped[str] = mapped_column(String(32))
    corpus_hash: Mapped[str] = mapped_column(String(64))
    files: Mapped[str] = mapped_column(Text)  # JSON: relative path -> {sha256, doc_id, chunk_ids}
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


@dataclass(frozen=True)
class Manifest:
    """What the live index holds (a snapshot of the row)."""

    store_id: str
    generation: int
    collection: str
    embedder: str
    chunker: str
    corpus_hash: str
    files: dict[str, Any] = field(default_factory=dict)
    built_at: str = ""

    @property
    def units(self) -> int:
        """Number of indexed units (all levels) the store should hold."""
        return sum(len(f.get("chunk_ids", [])) for f in self.files.values())


def read_manifest(engine: Engine, store_id: str) -> Manifest | None:
    """The manifest of ``store_id``, or None when that store has no index yet (or an unreadable one)."""
    with Session(engine) as session:
        row = session.get(KnowledgeIndexRow, store_id)
        if row is None:
            return None
        try:
            files = json.loads(row.files)
        except ValueError:
            return None
        if not isinstance(files, dict):
            return None
        return Manifest(row.store_id, row.generation, row.collection, row.embedder, row.chunker,
                        row.corpus_hash, files, row.built_at.isoformat(timespec="seconds") if row.built_at else "")


def live_collection(engine: Engine, store_id: str) -> tuple[int, str] | None:
    """(generation, collection suffix) of the live index: the one cheap read a replica makes per query."""
    with engine.connect() as conn:
        row = conn.execute(select(KnowledgeIndexRow.generation, KnowledgeIndexRow.collection)
                           .where(KnowledgeIndexRow.store_id == store_id)).first()
    return None if row is None else (int(row[0]), str(row[1]))


class ManifestConflict(RuntimeError):
    """The manifest changed under a builder (another builder ran without the lock)."""


def switch_manifest(engine: Engine, manifest: Manifest, *, expected_generation: int | None) -> Manifest:
    """Make ``manifest`` the live one, in one transaction; returns it with its new generation.

    ``expected_generation`` is the generation the build started from (None: there was no row). The
    update only applies when the row is still at it, so two builders can never both win.
    """
    values = {
        "collection": manifest.collection, "embedder": manifest.embedder, "chunker": manifest.chunker,
        "corpus_hash": manifest.corpus_hash, "files": json.dumps(manifest.files, ensure_ascii=False),
        "built_at": _now(),
    }
    with Session(engine) as session, session.begin():
        if expected_generation is None:
            if session.get(KnowledgeIndexRow, manifest.store_id) is not None:
                raise ManifestConflict(manifest.store_id)
            session.add(KnowledgeIndexRow(store_id=manifest.store_id, generation=1, **values))
            generation = 1
        else:
            generation = expected_generation + 1
            done = session.execute(
                update(KnowledgeIndexRow)
                .where(KnowledgeIndexRow.store_id == manifest.store_id,
                       KnowledgeIndexRow.generation == expected_generation)
                .values(generation=generation, **values)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise ManifestConflict(manifest.store_id)
    return Manifest(manifest.store_id, generation, manifest.collection, manifest.embedder, manifest.chunker,
                    manifest.corpus_hash, manifest.files, values["built_at"].isoformat(timespec="seconds"))


def forget_manifest(engine: Engine, store_id: str) -> None:
    """Delete the manifest of ``store_id`` (the next start rebuilds the index)."""
    with Session(engine) as session, session.begin():
        row = session.get(KnowledgeIndexRow, store_id)
        if row is not None:
            session.delete(row)


# --- the build lock ---------------------------------------------------------------------------------
class _HeldLock:
    """A process-wide re-entrant lock around one inter-process lock (taken by the outermost holder)."""

    def __init__(self) -> None:
        self.local = threading.RLock()
        self.depth = 0
        self.release: Any = None


_held: dict[str, _HeldLock] = {}
_held_guard = threading.Lock()


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``."""
    return int.from_bytes(hashlib.sha256(f"kb_index:{name}".encode()).digest()[:8], "big", signed=True)


def _acquire(engine: Engine, name: str, fallback_dir: Path) -> Any:
    """Take the inter-process lock; returns the function that releases it."""
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        try:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _advisory_key(name)})
            conn.commit()  # a session lock outlives the transaction: no connection idle in one for minutes
        except BaseException:
            conn.close()
            raise
        key = _advisory_key(name)

        def release() -> None:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
            finally:
                conn.close()  # closing the session drops the lock in any case

        return release
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    directory = Path(database).parent / "locks" if database and database != ":memory:" else fallback_dir
    directory.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    lock = FileLock(str(directory / f"kb_index-{safe}.lock"), thread_local=False)
    lock.acquire()
    return lock.release


@contextmanager
def build_lock(engine: Engine, name: str, fallback_dir: Path) -> Iterator[None]:
    """Held while the index of store ``name`` is checked and (re)built: one builder across every process
    and host that shares the database. Re-entrant within a process; other threads queue on it."""
    ident = f"{engine.url.render_as_string(hide_password=True)}#{name}"
    with _held_guard:
        held = _held.setdefault(ident, _HeldLock())
    with held.local:
        if held.depth == 0:
            held.release = _acquire(engine, name, fallback_dir)
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0:
                release, held.release = held.release, None
                release()
