"""Load and save session state and messages (SQLite under DATA_DIR, or PostgreSQL)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from assistant.agent.types import SessionState
from assistant.errors import NotFound
from assistant.privacy import mask_pii
from assistant.storage.crypto import Cipher
from assistant.storage.sessions import ChatMessageRow, ChatSessionRow


class SessionStore:
    """Persistence for conversations; state and original texts are encrypted at rest."""

    def __init__(self, sessions: sessionmaker, cipher: Cipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

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
            plain = self._cipher.decrypt(row.state)
        if plain is None:
            raise NotFound("会话数据无法读取", "session data cannot be read with this key")
        return SessionState.model_validate_json(plain)

    def exists(self, session_id: str) -> bool:
        """True when the session is known."""
        with self._sessions() as db:
            return db.get(ChatSessionRow, session_id) is not None

    def save(self, state: SessionState, messages: list[tuple[str, str, str | None]]) -> None:
        """Persist the state and append ``(role, text, intent)`` messages in one transaction."""
        encrypted = self._cipher.encrypt(state.model_dump_json())
        with self._sessions.begin() as db:
            row = db.get(ChatSessionRow, state.session_id)
            if row is None:
                db.add(ChatSessionRow(id=state.session_id, channel=state.channel, state=encrypted,
                                      handoff=int(state.handoff)))
                db.flush()
            else:
                row.state = encrypted
                row.handoff = int(state.handoff)
            for role, text, intent in messages:
                db.add(ChatMessageRow(session_id=state.session_id, role=role, text_masked=mask_pii(text),
                                      text_encrypted=self._cipher.encrypt(text), intent=intent))

    def transcript(self, session_id: str, *, masked: bool = True, limit: int = 200) -> list[dict[str, str]]:
        """The conversation so far, oldest first (masked for staff by default)."""
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
            out.append({"role": row.role, "text": text})
        return out
