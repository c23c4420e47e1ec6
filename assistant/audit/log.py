"""A hash-chained, append-only audit log of tool calls, decisions, documents issued and handoffs.

Each entry stores ``prev_hash`` (the previous entry's hash) and ``hash`` = HMAC-SHA256, under the audit
key, over the canonical JSON of ``{seq, ts, event, session, data, prev}``. The key comes from settings
(``AUDIT_KEY`` / ``AUDIT_KEY_FILE``, outside DATA_DIR; generated into DATA_DIR only in development), so
whoever holds the data directory but not the key can neither forge an entry nor re-hash the chain from
some entry on (plain SHA-256, or any digest made without the key, fails the check).

- Editing an entry breaks its own hash; deleting or reordering entries breaks the ``seq`` run and the
  ``prev_hash`` links.
- Cutting entries off the end is caught by the **signed head** (table ``audit_anchor``): with each
  append, in the same transaction, the last entry's ``seq`` and ``hash`` are signed with the key
  (HMAC, domain-separated from entries). Verify refuses a head whose signature fails, a head beyond
  the last entry (``truncated``) or one naming a different hash; deleting the head row too leaves a
  keyed chain with no signed head (``unanchored``), and the next append records ``audit_head_missing``
  in the chain itself. Truncating the table *and* the head log ``audit_head.log`` (``seq hash`` per
  entry, a second copy beside the database) together therefore still fails ``audit verify``.
- What a signed head cannot catch on its own: restoring an older copy of the whole database (chain and
  head from the same earlier moment). Note the head elsewhere (``loan-assistant audit verify`` prints
  it) and check it with ``--expect-head HASH``.
- Entries written before the chain had a key (plain SHA-256) still verify up to ``legacy_until``, a
  seq fixed by the first keyed append and covered by the head's signature.

No personal data in clear: every string is passed through :func:`assistant.privacy.mask_pii`, fields
that name a person's identifiers are masked whole, and session ids are replaced by a hash.
"""

from __future__ import annotations

import hashlib
import hmac
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
from assistant.storage.audit import AuditAnchorRow, AuditEntryRow

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


_ENTRY_DOMAIN = b"loan-assistant/audit/entry\n"
_HEAD_DOMAIN = b"loan-assistant/audit/head\n"
HEAD_MISSING = "audit_head_missing"


def entry_hash(seq: int, ts: str, event: str, session: str | None, data: str, prev: str,
               key: bytes | None = None) -> str:
    """The hash of one entry (``data`` is already canonical JSON text).

    With ``key``: HMAC-SHA256 under the audit key (every entry the log writes). Without: plain SHA-256,
    which only entries written before the chain had a key carry (up to the signed ``legacy_until``).
    """
    payload = canonical_json({"seq": seq, "ts": ts, "event": event, "session": session, "data": data,
                              "prev": prev}).encode("utf-8")
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key, _ENTRY_DOMAIN + payload, hashlib.sha256).hexdigest()


def head_signature(key: bytes, seq: int, digest: str, legacy_until: int) -> str:
    """HMAC over the chain's head: the last entry's ``seq`` and ``hash``, and ``legacy_until``."""
    payload = canonical_json({"seq": seq, "hash": digest, "legacy_until": legacy_until}).encode("utf-8")
    return hmac.new(key, _HEAD_DOMAIN + payload, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditProblem:
    """One inconsistency found by :meth:`AuditLog.verify`."""

    seq: int
    kind: str  # edited | deleted | reordered | truncated | head_mismatch | unanchored | head_missing
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

    def __init__(self, sessions: sessionmaker, head_path: Path | None = None, *, key: bytes) -> None:
        self._sessions = sessions
        self._head_path = head_path
        self._key = key
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
            anchor = db.get(AuditAnchorRow, "head")
            legacy_until = anchor.legacy_until if anchor else 0
            if anchor is None and last is not None:
                legacy_until, keyed = self._adopt(db)
                if keyed:
                    # A keyed chain lost its signed head: someone removed it (perhaps with entries off the
                    # end). Say so in the chain itself, where it cannot be removed unseen.
                    last = self._add(db, last, HEAD_MISSING, None,
                                     canonical_json({"last_seq": last.seq, "legacy_until": legacy_until}))
            row = self._add(db, last, event, session, payload)
            signature = head_signature(self._key, row.seq, row.hash, legacy_until)
            if anchor is None:
                db.add(AuditAnchorRow(name="head", seq=row.seq, hash=row.hash, legacy_until=legacy_until,
                                      signature=signature))
            else:
                anchor.seq, anchor.hash, anchor.signature = row.seq, row.hash, signature
        return row.hash, row.seq

    def _add(self, db: Any, last: AuditEntryRow | None, event: str, session: str | None,
             payload: str) -> AuditEntryRow:
        seq = (last.seq + 1) if last else 1
        prev = last.hash if last else GENESIS
        ts = datetime.now(UTC).isoformat(timespec="microseconds")
        digest = entry_hash(seq, ts, event, session, payload, prev, self._key)
        row = AuditEntryRow(seq=seq, ts=ts, event=event, session_hash=session, data=payload, prev_hash=prev,
                            hash=digest)
        db.add(row)
        db.flush()
        return row

    def _adopt(self, db: Any) -> tuple[int, bool]:
        """A chain with entries but no signed head: (legacy_until, whether any entry is keyed).

        Entries before the first keyed one were written before the chain had a key (plain SHA-256).
        """
        last_seq = 0
        for row in db.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)).yield_per(500):
            if self._keyed(row):
                return row.seq - 1, True
            last_seq = row.seq
        return last_seq, False

    def _keyed(self, row: AuditEntryRow) -> bool:
        expected = entry_hash(row.seq, row.ts, row.event, row.session_hash, row.data, row.prev_hash, self._key)
        return hmac.compare_digest(expected, row.hash)

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
            anchor = db.get(AuditAnchorRow, "head")
            anchor_ok = anchor is not None and hmac.compare_digest(
                head_signature(self._key, anchor.seq, anchor.hash, anchor.legacy_until), anchor.signature)
            legacy_until = anchor.legacy_until if anchor is not None and anchor_ok else None
            if legacy_until is None and seq_of_hash:
                # No (valid) signed head: tell legacy entries from keyed ones as an append would, so the
                # report points at the head rather than at every entry written before the key.
                legacy_until, _ = self._adopt(db)
        prev_hash, expected_seq, count = GENESIS, 1, 0
        last_seq, last_hash = 0, GENESIS
        with self._sessions() as db:
            for row in db.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)).yield_per(500):
                count += 1
                found: dict[str, str] = {}
                legacy = (row.seq <= (legacy_until or 0) and entry_hash(
                    row.seq, row.ts, row.event, row.session_hash, row.data, row.prev_hash) == row.hash)
                if not (legacy or self._keyed(row)):
                    found["edited"] = "内容与其哈希（审计密钥签名）不符 / content does not match its keyed hash"
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
                if row.event == HEAD_MISSING and "edited" not in found:
                    found["head_missing"] = ("此前签名的链头被删除，末尾的条目可能已被截掉 / the signed head had been "
                                             "removed before this entry: entries may have been cut off the end")
                problems.extend(AuditProblem(row.seq, kind, detail) for kind, detail in found.items())
                prev_hash, expected_seq = row.hash, row.seq + 1
                last_seq, last_hash = row.seq, row.hash
        problems.extend(self._check_anchor(anchor, anchor_ok, last_seq, last_hash))
        problems.extend(self._check_head(last_seq, last_hash, expect_head))
        # The signed head and the head log often see the same cut: report it once.
        distinct: dict[tuple[int, str], AuditProblem] = {}
        for problem in problems:
            distinct.setdefault((problem.seq, problem.kind), problem)
        return AuditReport(entries=count, head_seq=last_seq, head_hash=last_hash, problems=list(distinct.values()))

    def _check_anchor(self, anchor: AuditAnchorRow | None, anchor_ok: bool, last_seq: int,
                      last_hash: str) -> list[AuditProblem]:
        """The chain's end against its signed head."""
        if anchor is None:
            if last_seq == 0:
                return []
            return [AuditProblem(last_seq, "unanchored",
                                 "没有签名的链头：末尾的条目可能被截掉，或审计链写于配置审计密钥之前"
                                 "（下一条记录会补上签名） / "
                                 "no signed head: entries may have been cut off the end, or the trail predates the "
                                 "audit key (the next entry signs it)")]
        if not anchor_ok:
            return [AuditProblem(anchor.seq, "head_mismatch",
                                 "链头签名无效（不是用审计密钥签的） / the head's signature is not the audit key's")]
        if anchor.seq > last_seq:
            gap = f"{last_seq + 1}-{anchor.seq}"
            return [AuditProblem(last_seq, "truncated",
                                 f"末尾缺少第 {gap} 条（签名的链头为第 {anchor.seq} 条） / entries {gap} were cut off "
                                 f"the end (the signed head is entry {anchor.seq})")]
        if anchor.seq < last_seq or anchor.hash != last_hash:
            return [AuditProblem(anchor.seq, "head_mismatch",
                                 "与签名的链头不符（链被重写或从旧备份恢复） / differs from the signed head (chain "
                                 "rewritten, or restored from an older copy)")]
        return []

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
