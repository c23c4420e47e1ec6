"""A hash-chained, append-only audit log of tool calls, decisions, documents issued and handoffs.

Each entry stores ``prev_hash`` (the previous entry's hash) and ``hash`` = SHA-256 over the canonical
JSON of ``{seq, ts, event, session, data, prev}``. Editing an entry breaks its own hash; deleting or
reordering entries breaks the ``seq`` run and the ``prev_hash`` links; cutting entries off the end is
caught against the head log (``seq hash`` per entry, appended to a file beside the database as each
entry is written), which also catches a chain rewritten from some entry on with fresh hashes, or
against a head the operator noted down (``loan-assistant audit verify --expect-head HASH``).

No personal data in clear: every string is passed through :func:`assistant.privacy.mask_pii`, fields
that name a person's identifiers are masked whole, and session ids are replaced by a hash.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel
from sqlalchemy import desc, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from assistant.privacy import mask_pii
from assistant.storage.audit import AuditEntryRow

GENESIS = "0" * 64
# Keys whose values identify a person: masked whole, whatever they look like.
_SECRET_KEYS = frozenset({
    "name", "full_name", "customer_name", "id_number", "id_card", "phone", "mobile", "bank_card", "card_number",
    "address", "openid", "from_user", "fromusername", "email",
})
_SESSION_KEYS = frozenset({"session_id", "sender_id"})


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces, UTF-8 text) — the bytes that get hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def hash_session_id(session_id: str | None) -> str | None:
    """A stable, one-way stand-in for a session id (the id itself is the customer's access key)."""
    if not session_id:
        return None
    return hashlib.sha256(f"loan-assistant/session/{session_id}".encode()).hexdigest()[:32]


def scrub(value: Any, key: str | None = None) -> Any:
    """A copy of ``value`` with personal data masked and session ids hashed (recursively)."""
    lowered = key.lower() if key else None
    if lowered in _SESSION_KEYS and isinstance(value, str):
        return hash_session_id(value)
    if lowered in _SECRET_KEYS and value not in (None, ""):
        text = str(value)
        return text[:1] + "*" * max(len(text) - 1, 2)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return mask_pii(str(_json_default(value)))


def entry_hash(seq: int, ts: str, event: str, session: str | None, data: str, prev: str) -> str:
    """SHA-256 over the canonical JSON of one entry (``data`` is already canonical JSON text)."""
    payload = canonical_json({"seq": seq, "ts": ts, "event": event, "session": session, "data": data,
                              "prev": prev})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditProblem:
    """One inconsistency found by :meth:`AuditLog.verify`."""

    seq: int
    kind: str  # edited | deleted | reordered | truncated | head_mismatch
    detail: str


@dataclass
class AuditReport:
    """The outcome of a verification."""

    entries: int
    head_seq: int
    head_hash: str
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


class AuditLog:
    """Append and verify; safe to share between threads (one writer at a time)."""

    def __init__(self, sessions: sessionmaker, head_path: Path | None = None) -> None:
        self._sessions = sessions
        self._head_path = head_path
        self._lock = threading.Lock()
        self._head_lock = threading.Lock()
        self._head_file: TextIO | None = None

    # ------------------------------------------------------------------ writing
    def record(self, event: str, session_id: str | None = None, data: dict[str, Any] | None = None) -> str:
        """Append ``event`` (e.g. ``tool_call``, ``decision``, ``document``, ``handoff``); returns its hash.

        ``data`` may hold personal data: it is masked here, before anything is stored.
        """
        from assistant import metrics

        payload = canonical_json(scrub(data or {}))
        session = hash_session_id(session_id)
        with self._lock:
            for _attempt in range(5):
                try:
                    digest, seq = self._append(event, session, payload)
                except IntegrityError:
                    # Another process appended at the same seq: read the new head and try again.
                    continue
                self._write_head(seq, digest)
                metrics.AUDIT_EVENTS.labels(event=event).inc()
                return digest
        raise RuntimeError("audit log: could not append after 5 attempts (concurrent writers)")

    def _append(self, event: str, session: str | None, payload: str) -> tuple[str, int]:
        with self._sessions.begin() as db:
            last = db.scalars(select(AuditEntryRow).order_by(desc(AuditEntryRow.seq)).limit(1)).first()
            seq = (last.seq + 1) if last else 1
            prev = last.hash if last else GENESIS
            ts = datetime.now(UTC).isoformat(timespec="microseconds")
            digest = entry_hash(seq, ts, event, session, payload, prev)
            db.add(AuditEntryRow(seq=seq, ts=ts, event=event, session_hash=session, data=payload, prev_hash=prev,
                                 hash=digest))
        return digest, seq

    def _write_head(self, seq: int, digest: str) -> None:
        """Append ``seq hash`` to the head log (a second copy of the chain's hashes, outside the DB)."""
        if self._head_path is None:
            return
        with self._head_lock:
            if self._head_file is None:
                self._head_path.parent.mkdir(parents=True, exist_ok=True)
                self._head_file = self._head_path.open("a", encoding="utf-8")
            self._head_file.write(f"{seq} {digest}\n")
            self._head_file.flush()

    def _recorded_heads(self) -> dict[int, str] | None:
        """seq → hash from the head log (None when there is none); a torn last line is ignored."""
        if self._head_path is None or not self._head_path.is_file():
            return None
        heads: dict[int, str] = {}
        with self._head_path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                seq, _, digest = line.strip().partition(" ")
                if seq.isdigit() and len(digest) == 64:
                    heads[int(seq)] = digest
        return heads

    # ------------------------------------------------------------------ reading
    def entries(self, session_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The latest entries (oldest first), optionally for one session."""
        query = select(AuditEntryRow).order_by(desc(AuditEntryRow.seq)).limit(limit)
        if session_id:
            query = query.where(AuditEntryRow.session_hash == hash_session_id(session_id))
        with self._sessions() as db:
            rows = db.scalars(query).all()
        return [
            {"seq": r.seq, "ts": r.ts, "event": r.event, "session": r.session_hash, "data": json.loads(r.data),
             "prev_hash": r.prev_hash, "hash": r.hash}
            for r in reversed(rows)
        ]

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last entry, (0, GENESIS) when empty."""
        with self._sessions() as db:
            last = db.scalars(select(AuditEntryRow).order_by(desc(AuditEntryRow.seq)).limit(1)).first()
        return (last.seq, last.hash) if last else (0, GENESIS)

    # ------------------------------------------------------------------ verifying
    def verify(self, expect_head: str | None = None) -> AuditReport:
        """Walk the chain and report every edited, deleted, reordered or truncated entry."""
        problems: list[AuditProblem] = []
        with self._sessions() as db:
            seq_of_hash = dict(db.execute(select(AuditEntryRow.hash, AuditEntryRow.seq)).tuples().all())
        prev_hash, expected_seq, count = GENESIS, 1, 0
        last_seq, last_hash = 0, GENESIS
        with self._sessions() as db:
            for row in db.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)).yield_per(500):
                count += 1
                found: dict[str, str] = {}
                if entry_hash(row.seq, row.ts, row.event, row.session_hash, row.data, row.prev_hash) != row.hash:
                    found["edited"] = "内容与其哈希不符 / content does not match its hash"
                if row.seq > expected_seq:
                    gap = str(expected_seq) if row.seq == expected_seq + 1 else f"{expected_seq}-{row.seq - 1}"
                    found["deleted"] = f"缺少第 {gap} 条 / entry {gap} is missing"
                if row.prev_hash != prev_hash:
                    linked = seq_of_hash.get(row.prev_hash)
                    if linked is not None:
                        found["reordered"] = (f"链接到第 {linked} 条而非上一条 / links to entry {linked}, "
                                              "not to the one before it")
                    elif "deleted" not in found:
                        # The entry it points at is gone though no seq is missing: the previous entry was
                        # rewritten (content and hash) in place.
                        found.setdefault("edited", f"第 {row.seq - 1} 条被改写 / entry {row.seq - 1} was rewritten")
                problems.extend(AuditProblem(row.seq, kind, detail) for kind, detail in found.items())
                prev_hash, expected_seq = row.hash, row.seq + 1
                last_seq, last_hash = row.seq, row.hash
        problems.extend(self._check_head(last_seq, last_hash, expect_head))
        return AuditReport(entries=count, head_seq=last_seq, head_hash=last_hash, problems=problems)

    def _check_head(self, last_seq: int, last_hash: str, expect_head: str | None) -> list[AuditProblem]:
        problems: list[AuditProblem] = []
        if expect_head and expect_head != last_hash:
            problems.append(AuditProblem(last_seq, "head_mismatch",
                                         "末条哈希与预期不符 / the last hash differs from the expected head"))
        heads = self._recorded_heads()
        if not heads:
            return problems
        recorded_last = max(heads)
        if recorded_last > last_seq:
            gap = f"{last_seq + 1}-{recorded_last}"
            problems.append(AuditProblem(last_seq, "truncated",
                                         f"末尾缺少第 {gap} 条 / entries {gap} were cut off the end"))
        with self._sessions() as db:
            stored = dict(db.execute(select(AuditEntryRow.seq, AuditEntryRow.hash)).tuples().all())
        for seq, digest in sorted(heads.items()):
            if seq in stored and stored[seq] != digest:
                problems.append(AuditProblem(seq, "head_mismatch",
                                             "与写入时记录的哈希不符（链被重写） / differs from the hash recorded "
                                             "when it was written (chain rewritten)"))
                break  # a rewrite changes every later hash too: the first is the one to look at
        return problems


def verify_command(args: Any) -> int:
    """``loan-assistant audit verify [--expect-head HASH]``: exit 0 when intact, 1 when tampered."""
    from assistant.services import Services
    from assistant.settings import get_settings

    audit: AuditLog = Services(get_settings()).audit
    report = audit.verify(expect_head=getattr(args, "expect_head", None))
    print(f"条目 entries: {report.entries}")
    print(f"末条 head: #{report.head_seq} {report.head_hash}")
    if report.ok:
        print("审计链完整 / audit chain intact")
        return 0
    for problem in report.problems:
        print(f"#{problem.seq} {problem.kind}: {problem.detail}")
    print(f"审计链已被篡改：{len(report.problems)} 处问题 / audit chain TAMPERED: {len(report.problems)} problem(s)")
    return 1
