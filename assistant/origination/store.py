"""Load and save applications: personal data encrypted, every write a compare-and-swap on ``version``.

An update names the version it was computed from; when someone saved the application since, nothing is
written and :class:`VersionConflict` (HTTP 409) is raised — the caller re-reads and decides again. As for
chat sessions (``agent/store.py``), optimistic rather than a held lock: an officer's decision takes
minutes of reading, a lock for that long would stop everyone else. The row update and its event are one
transaction: there is never a status without the event that explains it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from assistant.documents.application import mask_id_number
from assistant.domain.application_state import Actor, Status
from assistant.errors import Conflict, NotFound
from assistant.fraud.models import PriorApplication
from assistant.origination.models import ConsentRecord, Decision, FraudCheck, LoanTerms, PersonalData, RiskOutcome
from assistant.origination.providers import CreditReport, SignedDocument
from assistant.storage.applications import ApplicationEventRow, ApplicationRow
from assistant.storage.crypto import Cipher


class VersionConflict(Conflict):
    """The application changed since the caller read it."""

    code = "version_conflict"


class ApplicationRecord(BaseModel):
    """An application as the service works with it (decrypted)."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: Status
    channel: str
    session_id: str | None = None
    api_key_id: str | None = None
    terms: LoanTerms
    profile: dict[str, Any] = {}
    personal: PersonalData | None = None
    consents: list[ConsentRecord] = []
    risk: RiskOutcome | None = None
    device_hash: str | None = None  # keyed hash of the submitting device (never the device id itself)
    fraud: FraudCheck | None = None
    decision: Decision | None = None
    credit_report: CreditReport | None = None
    contract: dict[str, Any] | None = None
    signature: SignedDocument | None = None
    version: int = 1
    created_at: dt.datetime
    updated_at: dt.datetime

    def consent(self, purpose: str) -> ConsentRecord | None:
        """The latest consent of ``purpose``."""
        found = [c for c in self.consents if c.purpose == purpose]
        return found[-1] if found else None


@dataclass(frozen=True)
class Event:
    """One entry of an application's history."""

    action: str
    from_status: str | None
    to_status: str
    actor: Actor
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    at: dt.datetime | None = None


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite drops the zone


class ApplicationStore:
    """Rows ⇄ records."""

    def __init__(self, sessions: sessionmaker, cipher: Cipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

    def keyed_hash(self, kind: str, value: str, key: bytes | None = None) -> str:
        """Keyed HMAC-SHA256 (hex) of an identifier — ``borrower`` (ID number), ``phone``, ``device``: finds a
        person's applications, and feeds the anti-fraud velocity checks, without storing the identifier."""
        return hmac.new(key or self._cipher.keys[0], f"applications.{kind}:".encode() + value.encode(),
                        hashlib.sha256).hexdigest()

    def borrower_hmac(self, id_number: str, key: bytes | None = None) -> str:
        """Keyed hash of an ID number: finds a person's applications without storing the number."""
        return self.keyed_hash("borrower", id_number, key)

    # ------------------------------------------------------------------ writing
    def insert(self, record: ApplicationRecord, event: Event) -> ApplicationRecord:
        """Store a new application and its first event."""
        with self._sessions.begin() as db:
            row = ApplicationRow(id=record.id, version=1, created_at=record.created_at,
                                 **self._columns(record))
            db.add(row)
            db.flush()
            self._add_event(db, record.id, event, 1, record.updated_at)
        return record.model_copy(update={"version": 1})

    def update(self, record: ApplicationRecord, expected_version: int, event: Event) -> ApplicationRecord:
        """Save ``record`` if the stored one is still at ``expected_version``; else VersionConflict."""
        new_version = expected_version + 1
        with self._sessions.begin() as db:
            result = db.execute(update(ApplicationRow)
                                .where(ApplicationRow.id == record.id, ApplicationRow.version == expected_version)
                                .values(version=new_version, **self._columns(record)))
            if result.rowcount != 1:
                raise VersionConflict(
                    "申请已被他人更新，请刷新后重试", f"the application changed since version {expected_version}: "
                    "read it again and retry", field="version")
            self._add_event(db, record.id, event, new_version, record.updated_at)
        return record.model_copy(update={"version": new_version})

    def _columns(self, r: ApplicationRecord) -> dict[str, Any]:
        personal = r.personal
        id_number = personal.id_number if personal else None
        phone = personal.phone if personal else None
        return {
            "status": r.status.value, "channel": r.channel, "session_id": r.session_id, "api_key_id": r.api_key_id,
            "terms": _json(r.terms), "profile": _json(r.profile) or "{}",
            "personal_encrypted": self._cipher.encrypt(_json(personal) or "") if personal else None,
            "borrower_id_masked": mask_id_number(id_number) if id_number else None,
            "borrower_id_hmac": self.borrower_hmac(id_number) if id_number else None,
            "phone_hmac": self.keyed_hash("phone", phone) if phone else None, "device_hmac": r.device_hash,
            "fraud": _json(r.fraud), "fraud_decision": r.fraud.decision if r.fraud else None,
            "consents": _json([c.model_dump(mode="json") for c in r.consents]) or "[]",
            "risk": _json(r.risk), "risk_decision": r.risk.decision if r.risk else None,
            "decision": _json(r.decision),
            "credit_report_encrypted": self._cipher.encrypt(_json(r.credit_report) or "") if r.credit_report else None,
            "contract": _json(r.contract), "signature": _json(r.signature), "updated_at": r.updated_at,
        }

    @staticmethod
    def _add_event(db: Session, application_id: str, event: Event, version: int, at: dt.datetime) -> None:
        db.add(ApplicationEventRow(application_id=application_id, action=event.action, from_status=event.from_status,
                                   to_status=event.to_status, actor_kind=event.actor.kind, actor_id=event.actor.id,
                                   reason=event.reason, data=_json(event.data) or "{}", version=version, at=at))

    # ------------------------------------------------------------------ reading
    def get(self, application_id: str) -> ApplicationRecord:
        """The application; NotFound when there is none."""
        with self._sessions() as db:
            row = db.get(ApplicationRow, application_id)
            if row is None:
                raise NotFound("申请不存在", "no such application")
            return self._record(row)

    def latest_for_session(self, session_id: str) -> ApplicationRecord | None:
        """The newest application made from (or for) a chat session."""
        with self._sessions() as db:
            row = db.scalars(select(ApplicationRow).where(ApplicationRow.session_id == session_id)
                             .order_by(ApplicationRow.created_at.desc()).limit(1)).first()
            return self._record(row) if row is not None else None

    def events(self, application_id: str) -> list[Event]:
        """The application's history, oldest first."""
        with self._sessions() as db:
            rows = db.scalars(select(ApplicationEventRow).where(ApplicationEventRow.application_id == application_id)
                              .order_by(ApplicationEventRow.id)).all()
        return [Event(action=r.action, from_status=r.from_status, to_status=r.to_status,
                      actor=Actor(r.actor_kind, r.actor_id),  # type: ignore[arg-type]
                      reason=r.reason, data=json.loads(r.data or "{}"), version=r.version, at=_aware(r.at))
                for r in rows]

    def queue(self, status: Status | list[Status] | None, *, limit: int, offset: int,
              api_key_id: str | None = None, fraud_flagged: bool = False) -> tuple[list[ApplicationRecord], int]:
        """One page of applications (oldest first: the desk works first come, first served) and the total.

        ``status``: one or several; ``fraud_flagged``: only those the anti-fraud checks sent to review or
        recommended declining. Rides the ``(status, created_at)`` / ``(fraud_decision, created_at)``
        indexes; personal data is not decrypted for a listing."""
        query = select(ApplicationRow)
        count = select(func.count()).select_from(ApplicationRow)
        statuses = [status] if isinstance(status, Status) else list(status or [])
        if statuses:
            values = [s.value for s in statuses]
            query = query.where(ApplicationRow.status.in_(values))
            count = count.where(ApplicationRow.status.in_(values))
        if fraud_flagged:
            query = query.where(ApplicationRow.fraud_decision.in_(("review", "decline")))
            count = count.where(ApplicationRow.fraud_decision.in_(("review", "decline")))
        if api_key_id is not None:
            query = query.where(ApplicationRow.api_key_id == api_key_id)
            count = count.where(ApplicationRow.api_key_id == api_key_id)
        query = query.order_by(ApplicationRow.created_at, ApplicationRow.id).limit(limit).offset(offset)
        with self._sessions() as db:
            rows = db.scalars(query).all()
            total = int(db.scalar(count) or 0)
            return [self._record(row, decrypt=False) for row in rows], total

    def priors(self, *, id_hash: str | None, phone_hash: str | None, device_hash: str | None,
               since: dt.datetime, exclude: str) -> list[PriorApplication]:
        """Applications since ``since`` sharing the ID, phone or device hash (the fraud velocity checks' input).

        A row lacking a phone or ID hash gets a stand-in keyed on its own id: it can match nothing, which is
        what an unknown identifier should do (the checks compare hashes, they must not see "None = None")."""
        keys = [(ApplicationRow.borrower_id_hmac, id_hash), (ApplicationRow.phone_hmac, phone_hash),
                (ApplicationRow.device_hmac, device_hash)]
        clauses = [column == value for column, value in keys if value]
        if not clauses:
            return []
        query = (select(ApplicationRow.id, ApplicationRow.borrower_id_hmac, ApplicationRow.phone_hmac,
                        ApplicationRow.device_hmac, ApplicationRow.created_at)
                 .where(or_(*clauses), ApplicationRow.created_at >= since, ApplicationRow.id != exclude)
                 .order_by(ApplicationRow.created_at).limit(500))
        with self._sessions() as db:
            rows = db.execute(query).all()
        return [PriorApplication(application_id=r.id, id_hash=r.borrower_id_hmac or self.keyed_hash("none", r.id),
                                 phone_hash=r.phone_hmac or self.keyed_hash("none", r.id), device_id=r.device_hmac,
                                 created_at=_aware(r.created_at)) for r in rows]

    def _record(self, row: ApplicationRow, *, decrypt: bool = True) -> ApplicationRecord:
        personal = None
        report = None
        if decrypt and row.personal_encrypted:
            plain = self._cipher.decrypt(row.personal_encrypted)
            personal = PersonalData.model_validate_json(plain) if plain else None
        if decrypt and row.credit_report_encrypted:
            plain = self._cipher.decrypt(row.credit_report_encrypted)
            report = CreditReport.model_validate_json(plain) if plain else None
        return ApplicationRecord(
            id=row.id, status=Status(row.status), channel=row.channel, session_id=row.session_id,
            api_key_id=row.api_key_id, terms=LoanTerms.model_validate_json(row.terms),
            profile=json.loads(row.profile or "{}"), personal=personal,
            consents=[ConsentRecord.model_validate(c) for c in json.loads(row.consents or "[]")],
            risk=RiskOutcome.model_validate_json(row.risk) if row.risk else None, device_hash=row.device_hmac,
            fraud=FraudCheck.model_validate_json(row.fraud) if row.fraud else None,
            decision=Decision.model_validate_json(row.decision) if row.decision else None,
            credit_report=report, contract=json.loads(row.contract) if row.contract else None,
            signature=SignedDocument.model_validate_json(row.signature) if row.signature else None,
            version=row.version, created_at=_aware(row.created_at), updated_at=_aware(row.updated_at),
        )
