"""Load and save session state and messages (SQLite under DATA_DIR, or PostgreSQL).

Several workers (``serve --workers N``, or several hosts on one PostgreSQL) may run turns of the same
session at once. Saves are therefore a compare-and-swap on the session row's ``version``: a turn saves
only if nobody saved the session since it was loaded, else :class:`StaleSession` is raised and the chat
service re-runs the turn on the fresh state (its messages and state are written in one transaction, so
a lost race writes nothing). Why optimistic rather than a row lock held for every turn: a turn can take
seconds (LLM calls); a PostgreSQL row lock for its whole length would pin one pooled connection per turn
in flight, and on SQLite the only lock is the database's write lock (BEGIN IMMEDIATE), which would stop
every other session's writes — and the turn's own (documents issued by a tool) — until it ends.

A re-run can lose again, so the last attempt of a contended turn takes :meth:`SessionStore.exclusive`,
which cannot lose: on PostgreSQL the session row held ``FOR NO KEY UPDATE`` (only contended turns pay
for a held connection); on SQLite — one file on one host, by construction — a per-session file lock
that every SQLite save of that session also takes for its short commit.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.agent.types import SessionState
from assistant.errors import NotFound
from assistant.privacy import mask_pii
from assistant.storage.crypto import Cipher
from assistant.storage.sessions import ChatMessageRow, ChatSessionRow

# (role, text, intent) or (role, text, intent, parts): ``parts`` are a reply's structured parts (offer
# cards, quote, citations, documents, hand-off), kept so the chat page can draw them again on reload.
Message = tuple[str, str, str | None] | tuple[str, str, str | None, dict[str, Any] | None]
Messages = list[Message]

# Sessions map onto this many lock files (SQLite): bounded files; a collision only serialises two
# unrelated sessions' commits for a moment.
_LOCK_BUCKETS = 64
_process_locks = [threading.RLock() for _ in range(_LOCK_BUCKETS)]


class StaleSession(Exception):  # an internal signal between store and service, never shown to anyone
    """Someone saved the session after this turn loaded it: nothing was written; re-run the turn."""


class SessionStore:
    """Persistence for conversations; state and original texts are encrypted at rest."""

    def __init__(self, sessions: sessionmaker, cipher: Cipher) -> None:
        self._sessions = sessions
        self._cipher = cipher
        engine = sessions.kw.get("bind")
        self._dialect = engine.dialect.name if engine is not None else ""
        database = engine.url.database if engine is not None and self._dialect == "sqlite" else None
        # Beside the database file, not named after it: tools that read "assistant.db*" see only SQLite's.
        self._lock_dir = Path(database).parent / "locks" if database and database != ":memory:" else None
        self._lock_name = Path(database).name if database else ""

    @staticmethod
    def new_id() -> str:
        """A fresh, unguessable session id (it is the customer's key to their own data)."""
        return uuid.uuid4().hex

    def load(self, session_id: str) -> SessionState:
        """The state of a known session; NotFound otherwise."""
        with self._sessions() as db:
            row = db.get(ChatSessionRow, session_id)
            if row is None:
                raise NotFound("会话不存在或已过期", "unknown session id")
            return self._state_of(row)

    def load_for_turn(self, session_id: str, channel: str) -> tuple[SessionState, int | None]:
        """The session's state and its version, to save with :meth:`save`; a new state and ``None``
        when the session does not exist yet."""
        with self._sessions() as db:
            return self._versioned(db.get(ChatSessionRow, session_id), session_id, channel)

    def exists(self, session_id: str) -> bool:
        """True when the session is known."""
        with self._sessions() as db:
            return db.get(ChatSessionRow, session_id) is not None

    def handed_off(self, limit: int = 50) -> list[tuple[SessionState, datetime]]:
        """The sessions handed to a person (``handoff``), most recently active first, with that time: the
        desk's queue of chats to pick up."""
        with self._sessions() as db:
            rows = db.scalars(select(ChatSessionRow).where(ChatSessionRow.handoff == 1)
                              .order_by(ChatSessionRow.updated_at.desc()).limit(limit)).all()
            return [(self._state_of(row), row.updated_at) for row in rows]

    def save(self, state: SessionState, messages: Messages, *, version: int | None) -> None:
        """Persist the state and append ``(role, text, intent)`` messages in one transaction, if the
        session is still at ``version`` (``None``: it must not exist yet); else raise StaleSession."""
        with self._write_lock(state.session_id):
            try:
                with self._sessions.begin() as db:
                    self._write(db, state, messages, version)
            except IntegrityError as exc:  # two first turns of one new session: the other one won
                raise StaleSession(state.session_id) from exc

    @contextmanager
    def exclusive(self, session_id: str, channel: str) -> Iterator[LockedSession]:
        """Hold the session for a whole turn: no other save of it can land until this one has (see the
        module docstring). Use ``load()`` then ``save()`` on what it yields."""
        if self._dialect == "sqlite":
            with self._write_lock(session_id):
                yield LockedSession(self, None, session_id, channel)
            return
        with self._sessions() as db:
            # NO KEY UPDATE, not UPDATE: rows that reference the session (its messages, inserted by this
            # very transaction) take KEY SHARE locks, which FOR UPDATE would block.
            row = db.execute(select(ChatSessionRow).where(ChatSessionRow.id == session_id)
                             .with_for_update(key_share=True)).scalar_one_or_none()
            yield LockedSession(self, db, session_id, channel, row)

    def transcript(self, session_id: str, *, masked: bool = True, limit: int = 200,
                   parts: bool = False) -> list[dict[str, Any]]:
        """The conversation so far, oldest first (masked for staff by default). ``parts``: a message saved
        with structured parts carries them under ``"parts"`` (messages without any have no such key)."""
        with self._sessions() as db:
            if db.get(ChatSessionRow, session_id) is None:
                raise NotFound("会话不存在或已过期", "unknown session id")
            rows = db.scalars(
                select(ChatMessageRow).where(ChatMessageRow.session_id == session_id)
                .order_by(ChatMessageRow.id.desc()).limit(limit)
            ).all()
        out = []
        for row in reversed(rows):
            text = row.text_masked if masked else (self._cipher.decrypt(row.text_encrypted) or row.text_masked)
            entry: dict[str, Any] = {"role": row.role, "text": text}
            if parts and row.parts_encrypted:
                plain = self._cipher.decrypt(row.parts_encrypted)
                if plain is not None:  # unreadable under this key: the text alone, as a message without parts
                    entry["parts"] = json.loads(plain)
            out.append(entry)
        return out

    # ------------------------------------------------------------------ internals
    def _state_of(self, row: ChatSessionRow) -> SessionState:
        plain = self._cipher.decrypt(row.state)
        if plain is None:
            raise NotFound("会话数据无法读取", "session data cannot be read with this key")
        return SessionState.model_validate_json(plain)

    def _versioned(self, row: ChatSessionRow | None, session_id: str,
                   channel: str) -> tuple[SessionState, int | None]:
        if row is None:
            return SessionState(session_id=session_id, channel=channel), None
        return self._state_of(row), row.version

    def _write(self, db: Session, state: SessionState, messages: Messages, version: int | None) -> None:
        encrypted = self._cipher.encrypt(state.model_dump_json())
        if version is None:
            db.add(ChatSessionRow(id=state.session_id, channel=state.channel, state=encrypted,
                                  handoff=int(state.handoff), version=1))
            db.flush()  # a concurrent first save of this id fails here (primary key), before any message
        else:
            result = db.execute(update(ChatSessionRow)
                                .where(ChatSessionRow.id == state.session_id, ChatSessionRow.version == version)
                                .values(state=encrypted, handoff=int(state.handoff), version=version + 1))
            if result.rowcount != 1:
                raise StaleSession(state.session_id)
        for role, text, intent, *rest in messages:
            parts = rest[0] if rest else None
            db.add(ChatMessageRow(session_id=state.session_id, role=role, text_masked=mask_pii(text),
                                  text_encrypted=self._cipher.encrypt(text), intent=intent,
                                  parts_encrypted=self._cipher.encrypt(json.dumps(parts, ensure_ascii=False,
                                                                                  default=str))
                                  if parts else None))

    def _write_lock(self, session_id: str) -> AbstractContextManager[Any]:
        """The cross-process lock SQLite saves take (see the module docstring); none on a server DB."""
        if self._dialect != "sqlite":
            return nullcontext()
        bucket = int(hashlib.sha256(session_id.encode()).hexdigest()[:8], 16) % _LOCK_BUCKETS
        if self._lock_dir is None:  # an in-memory database lives in one process
            return _process_locks[bucket]
        from filelock import FileLock

        self._lock_dir.mkdir(parents=True, exist_ok=True)
        # Not a singleton: a separate open file per use, so threads of one process exclude each other too.
        return FileLock(self._lock_dir / f"{self._lock_name}.session-{bucket:02d}.lock", thread_local=False,
                        is_singleton=False)


class LockedSession:
    """One session held by :meth:`SessionStore.exclusive` for a turn."""

    def __init__(self, store: SessionStore, db: Session | None, session_id: str, channel: str,
                 row: ChatSessionRow | None = None) -> None:
        self._store = store
        self._db = db
        self._session_id = session_id
        self._channel = channel
        self._row = row
        self._version: int | None = None

    def load(self) -> SessionState:
        """The session's state (a new one if it does not exist yet)."""
        if self._db is not None:
            state, self._version = self._store._versioned(self._row, self._session_id, self._channel)
            return state
        state, self._version = self._store.load_for_turn(self._session_id, self._channel)
        return state

    def save(self, state: SessionState, messages: Messages) -> None:
        """Persist the turn (cannot be stale while the session is held)."""
        if self._db is None:  # SQLite: the file lock is already ours, only the transaction remains
            try:
                with self._store._sessions.begin() as db:
                    self._store._write(db, state, messages, self._version)
            except IntegrityError as exc:
                raise StaleSession(state.session_id) from exc
            return
        try:
            self._store._write(self._db, state, messages, self._version)
            self._db.commit()
        except IntegrityError as exc:  # a first turn of a new session, inserted meanwhile by another worker
            self._db.rollback()
            raise StaleSession(state.session_id) from exc
