"""The application service: create, submit, review, decide, contract, sign — each move checked by the state
machine (:mod:`assistant.domain.application_state`), saved as a compare-and-swap, and recorded twice: an
``application_events`` row (with the new version, in the same transaction) and an entry in the
hash-chained audit trail (``Services.audit``), each with the actor and the reason.

``services.applications`` is an :class:`ApplicationService`. The HTTP routes, the ``application_status``
tool and the chat's review hand-off all go through it; nothing else writes an application.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from assistant.documents.application import Application, Borrower, QuotedFigures
from assistant.domain.application_state import OPEN, Action, Actor, Status, allowed_actions, next_status
from assistant.errors import AssistantError, ConsistencyError, Forbidden, InvalidInput
from assistant.logs import get_logger
from assistant.origination.models import (
    ConsentIn,
    Decision,
    FraudCheck,
    LoanTerms,
    PersonalData,
    RiskOutcome,
    consent_record,
)
from assistant.origination.providers import CreditReportRequest, ESignRequest, build_credit_bureau, build_esign
from assistant.origination.status import customer_status
from assistant.origination.store import ApplicationRecord, ApplicationStore, Event, VersionConflict

log = get_logger(__name__)
SYSTEM = Actor("system")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ApplicationService:
    """Everything that changes a loan application."""

    def __init__(self, services: Any) -> None:
        self.services = services
        settings = services.settings
        self.store = ApplicationStore(services.sessions, services.cipher)
        self.bureau = build_credit_bureau(settings.credit_bureau_provider)
        self.esign = build_esign(settings.esign_provider)

    # ------------------------------------------------------------------ creating
    def create(self, terms: LoanTerms, *, actor: Actor, channel: str, profile: dict[str, Any] | None = None,
               personal: PersonalData | None = None, consents: Sequence[ConsentIn] = (),
               session_id: str | None = None, api_key_id: str | None = None, risk: RiskOutcome | None = None,
               reason: str | None = None, device_id: str | None = None) -> ApplicationRecord:
        """A new ``draft`` application; its APR and monthly payment are computed here, never taken as given.

        ``device_id`` (the submitting device's fingerprint) is kept only as a keyed hash."""
        now = _now()
        record = ApplicationRecord(
            id=uuid.uuid4().hex, status=Status.DRAFT, channel=channel, session_id=session_id, api_key_id=api_key_id,
            terms=self.priced(terms), profile=dict(profile or {}), personal=personal,
            consents=[consent_record(c, channel, now) for c in consents], risk=risk, created_at=now, updated_at=now,
            device_hash=self.store.keyed_hash("device", device_id) if device_id else None,
        )
        event = Event("create", None, Status.DRAFT.value, actor, reason,
                      {"channel": channel, "consents": [c.purpose for c in record.consents]})
        saved = self.store.insert(record, event)
        self._audit(saved, event)
        return saved

    def create_from_session(self, session_id: str, *, actor: Actor, channel: str | None = None,
                            personal: PersonalData | None = None, consents: Sequence[ConsentIn] = (),
                            api_key_id: str | None = None, device_id: str | None = None
                            ) -> tuple[ApplicationRecord, bool]:
        """A draft from a chat session's quoted terms (or its open application); ``(record, created)``."""
        from assistant.origination.chat import create_from_session

        return create_from_session(self, session_id, actor=actor, channel=channel, personal=personal,
                                   consents=tuple(consents), api_key_id=api_key_id, device_id=device_id)

    def open_for_review(self, state: Any, applicant: dict[str, Any], score: dict[str, Any],
                        application: dict[str, Any] | None, channel: str) -> ApplicationRecord:
        """The chat's "review" outcome as a submitted application (see :mod:`assistant.origination.chat`)."""
        from assistant.origination.chat import open_for_review

        return open_for_review(self, state, applicant, score, application, channel)

    def priced(self, terms: LoanTerms) -> LoanTerms:
        """The terms with APR, monthly payment and total interest from the money core (as documents state them)."""
        app = self._application(terms)
        _product_terms, quote = self.services.documents.prepare(app)
        price = terms.vehicle_price or (terms.vehicle.price if terms.vehicle else None)
        return terms.model_copy(update={"apr": quote.apr, "monthly_payment": quote.monthly_payment,
                                        "total_interest": quote.total_interest, "vehicle_price": price})

    @staticmethod
    def _application(terms: LoanTerms, borrower: Borrower | None = None, quoted: bool = False) -> Application:
        data: dict[str, Any] = {k: v for k, v in {
            "principal": terms.principal, "annual_rate": terms.annual_rate, "term_months": terms.term_months,
            "rate_type": terms.rate_type, "method": terms.method, "upfront_fees": terms.upfront_fees,
            "product_id": terms.product_id, "down_payment": terms.down_payment, "vehicle": terms.vehicle,
            "borrower": borrower,
        }.items() if v is not None}
        if quoted and terms.monthly_payment is not None:
            data["quoted"] = QuotedFigures(monthly_payment=terms.monthly_payment, apr=terms.apr)
        try:
            return Application(**data)
        except ValueError as exc:  # pydantic's ValidationError: the first problem, naming the field
            from assistant.documents.application import invalid_application

            raise invalid_application(exc, "terms") from exc  # type: ignore[arg-type]

    # ------------------------------------------------------------------ moving
    def submit(self, application_id: str, *, actor: Actor, version: int | None = None,
               reason: str | None = None) -> ApplicationRecord:
        """Draft → submitted; scored by the risk model when the applicant consented to an assessment."""
        record = self.store.get(application_id)
        risk = record.risk or self._score(record)
        fraud = self._fraud(record)
        assessment = fraud.assessment
        # The submission's event carries the fraud check's outcome (codes only: the reasons are in the record).
        checked: dict[str, Any] = {"assessed": assessment is not None, "not_checked": fraud.not_checked}
        if assessment is not None:
            checked.update(decision=assessment.decision.value, score=assessment.score,
                           signals=[s.code for s in assessment.signals], model_version=assessment.model_version)
        submitted = self._move(record, Action.SUBMIT, actor, reason, version, {"risk": risk, "fraud": fraud},
                               {"scored": risk is not None and record.risk is None, "fraud": checked})
        if assessment is not None and assessment.decision.value == "decline":
            # The checks recommend declining, but nobody is refused by a score alone: PIPL Art. 24 gives the
            # applicant the right to a person's decision and an explanation. The application goes to an
            # officer's review with the signals as the reason; the officer declines (with reasons the
            # customer reads) or not.
            why = "；".join(f"{s.code} {s.zh}" for s in assessment.signals) or "fraud score"
            submitted = self._move(submitted, Action.START_REVIEW, SYSTEM, f"反欺诈建议拒绝，转人工审核：{why}",
                                   None, None, {"fraud_decision": "decline",
                                                "signals": [s.code for s in assessment.signals]})
        return submitted

    def _fraud(self, record: ApplicationRecord) -> FraudCheck:
        from assistant.origination.fraud_check import check

        return check(self.services, record, _now())

    def start_review(self, application_id: str, *, actor: Actor, version: int | None = None,
                     reason: str | None = None) -> ApplicationRecord:
        """Submitted → under review (an officer picks it up)."""
        return self._move(self.store.get(application_id), Action.START_REVIEW, actor, reason, version)

    def decide(self, application_id: str, outcome: str, *, officer_id: str, version: int | None = None,
               conditions: Sequence[str] = (), reasons: Sequence[str] = (), documents: Sequence[str] = (),
               note: str | None = None) -> ApplicationRecord:
        """An officer's decision: approve (with conditions), decline (with reasons) or request documents.

        A submitted application is taken into review first (both steps are recorded)."""
        officer = Actor("officer", officer_id)
        if outcome == "decline" and not reasons:
            raise InvalidInput("拒绝申请须说明原因", "a decline needs its reasons", field="reasons")
        if outcome == "request_documents" and not documents:
            raise InvalidInput("请列出需要补充的材料", "list the documents requested", field="documents")
        record = self.store.get(application_id)
        if outcome == "approve" and record.status == Status.SUBMITTED:
            record = self._move(record, Action.START_REVIEW, officer, note, version)
            version = record.version
        decision = Decision(outcome=outcome, officer_id=officer_id, at=_now(), conditions=list(conditions),  # type: ignore[arg-type]
                            reasons=list(reasons), documents=list(documents), note=note)
        action = {"approve": Action.APPROVE, "decline": Action.DECLINE,
                  "request_documents": Action.REQUEST_DOCUMENTS}[outcome]
        reason = note or "；".join([*reasons, *conditions, *documents]) or None
        return self._move(record, action, officer, reason, version, {"decision": decision},
                          {"conditions": list(conditions), "reasons": list(reasons), "documents": list(documents)})

    def withdraw(self, application_id: str, *, actor: Actor, version: int | None = None,
                 reason: str | None = None) -> ApplicationRecord:
        """The customer (or their dealer) walks away, any time before signing."""
        return self._move(self.store.get(application_id), Action.WITHDRAW, actor, reason, version)

    def record_consent(self, application_id: str, consent: ConsentIn, *, actor: Actor, channel: str,
                       version: int | None = None) -> ApplicationRecord:
        """Add a consent to an open application (e.g. the signed 征信查询授权书)."""
        record = self.store.get(application_id)
        self._require_open(record)
        stored = consent_record(consent, channel, _now())
        return self._note(record, "consent", actor, None, version, {"consents": [*record.consents, stored]},
                          {"purpose": stored.purpose, "granted_at": stored.granted_at.isoformat(),
                           "channel": channel, "evidence": stored.evidence})

    def add_details(self, application_id: str, *, actor: Actor, channel: str, personal: PersonalData | None = None,
                    consents: Sequence[ConsentIn] = (), version: int | None = None) -> ApplicationRecord:
        """Complete an open application with the borrower's identifiers and consents (one recorded event)."""
        record = self.store.get(application_id)
        self._require_open(record)
        if personal is None and not consents:
            return record
        now = _now()
        stored = [consent_record(c, channel, now) for c in consents]
        merged = (record.personal or PersonalData()).merged(personal) if personal is not None else record.personal
        return self._note(record, "add_details", actor, None, version,
                          {"personal": merged, "consents": [*record.consents, *stored]},
                          {"personal_fields": sorted(personal.model_dump(exclude_none=True)) if personal else [],
                           "consents": [c.purpose for c in stored], "channel": channel})

    def document_received(self, application_id: str, *, kind: str, document_id: str, mismatches: Sequence[str],
                          actor: Actor) -> ApplicationRecord:
        """Record an uploaded document on the application; ``requested`` says it answers an officer's
        "request documents" (the officer's queue shows the application has news)."""
        record = self.store.get(application_id)
        requested = record.decision is not None and record.decision.outcome == "request_documents"
        return self._note(record, "document_received", actor, None, None, {},
                          {"kind": kind, "document_id": document_id, "mismatches": list(mismatches),
                           "requested": requested,
                           "requested_documents": list(record.decision.documents) if requested and record.decision
                           else []})

    def pull_credit_report(self, application_id: str, *, actor: Actor,
                           version: int | None = None) -> ApplicationRecord:
        """Query the credit bureau — refused (403) without a recorded ``credit_report`` consent."""
        record = self.store.get(application_id)
        self._require_open(record)
        consent = record.consent("credit_report")
        if consent is None:
            raise Forbidden("申请人尚未授权查询征信，不能查询（请先记录《征信查询授权书》）",
                            "the applicant has not consented to a credit-report query: record the consent first")
        if record.personal is None or not record.personal.id_number:
            raise InvalidInput("查询征信需要申请人的身份证号码", "a credit report needs the applicant's ID number",
                               field="personal.id_number")
        report = self.bureau.pull(CreditReportRequest(id_number=record.personal.id_number, name=record.personal.name,
                                                      consent=consent, application_id=record.id))
        summary = report.model_dump(mode="json", exclude={"note"})
        return self._note(record, "credit_report", actor, None, version, {"credit_report": report},
                          {"provider": report.provider, "report_id": report.report_id,
                           "overdue_months_24m": summary["overdue_months_24m"],
                           "inquiries_6m": summary["inquiries_6m"]})

    def issue_contract(self, application_id: str, *, actor: Actor, personal: PersonalData | None = None,
                       version: int | None = None) -> ApplicationRecord:
        """Approved → contract issued: the loan contract PDF for these terms, this borrower and this car."""
        record = self.store.get(application_id)
        next_status(record.status, Action.ISSUE_CONTRACT)  # refuse before rendering anything
        who = (record.personal or PersonalData()).merged(personal)
        if not who.complete:
            raise InvalidInput("出具合同需要借款人的姓名、身份证号、手机号和住址",
                               "a contract needs the borrower's name, ID number, phone and address", field="personal")
        if record.terms.vehicle is None:
            raise InvalidInput("出具合同需要确定车辆（品牌、车系、车价）",
                               "a contract needs the car (brand, series, price)", field="terms.vehicle")
        borrower = Borrower(name=who.name, id_number=who.id_number, phone=who.phone, address=who.address)  # type: ignore[arg-type]
        app = self._application(record.terms, borrower, quoted=True)
        issued = self.services.documents.generate(["loan_contract"], app, fmt="pdf", session_id=record.session_id,
                                                  api_key_id=record.api_key_id)
        doc = issued.documents[0]
        contract = {"contract_number": issued.contract_number, "document_id": doc.id, "sha256": doc.sha256,
                    "url": doc.url, "kind": doc.kind, "issued_at": _now().isoformat()}
        from assistant.audit.recorder import record_documents

        record_documents(self.services, issued.documents, session_id=record.session_id, channel=record.channel,
                         contract_number=issued.contract_number, preview=issued.preview)
        return self._move(record, Action.ISSUE_CONTRACT, actor, None, version,
                          {"contract": contract, "personal": who}, {k: contract[k] for k in
                                                                    ("contract_number", "document_id", "sha256")})

    def sign(self, application_id: str, *, actor: Actor, version: int | None = None,
             evidence: str | None = None) -> ApplicationRecord:
        """Contract issued → signed, through the e-signature provider (the customer's e-sign consent recorded)."""
        record = self.store.get(application_id)
        next_status(record.status, Action.SIGN)
        contract = record.contract or {}
        consent = consent_record(ConsentIn(purpose="esign", evidence=evidence), record.channel, _now())
        _record, pdf = self.services.documents.open(contract["document_id"])
        signed = self.esign.sign(ESignRequest(application_id=record.id, contract_number=contract["contract_number"],
                                              document_id=contract["document_id"],
                                              signer_name=(record.personal.name if record.personal else "") or "",
                                              consent=consent), pdf)
        if signed.document_sha256 != contract["sha256"]:
            raise ConsistencyError("签署的文件与出具的合同不一致，已拒绝", "the signed file is not the issued contract")
        return self._move(record, Action.SIGN, actor, None, version,
                          {"signature": signed, "consents": [*record.consents, consent]},
                          {"provider": signed.provider, "signature_id": signed.signature_id,
                           "document_sha256": signed.document_sha256})

    # ------------------------------------------------------------------ reading
    def get(self, application_id: str) -> ApplicationRecord:
        """One application (NotFound otherwise)."""
        return self.store.get(application_id)

    def latest_for_session(self, session_id: str) -> ApplicationRecord | None:
        """The newest application of a chat session."""
        return self.store.latest_for_session(session_id)

    def customer_status(self, record: ApplicationRecord, lang: str = "zh") -> str:
        """Where the application stands, as the customer reads it (in their language)."""
        return customer_status(self.services.prompts, record, lang)

    # ------------------------------------------------------------------ internals
    def _move(self, record: ApplicationRecord, action: Action, actor: Actor, reason: str | None,
              version: int | None, changes: dict[str, Any] | None = None,
              data: dict[str, Any] | None = None) -> ApplicationRecord:
        _check_version(record, version)  # a decision on a stale read is a conflict, whatever the status now
        target = next_status(record.status, action)
        new = record.model_copy(update={**(changes or {}), "status": target, "updated_at": _now()})
        event = Event(action.value, record.status.value, target.value, actor, reason, data or {})
        saved = self.store.update(new, record.version if version is None else version, event)
        self._audit(saved, event)
        return saved

    def _note(self, record: ApplicationRecord, action: str, actor: Actor, reason: str | None, version: int | None,
              changes: dict[str, Any], data: dict[str, Any]) -> ApplicationRecord:
        _check_version(record, version)
        new = record.model_copy(update={**changes, "updated_at": _now()})
        event = Event(action, record.status.value, record.status.value, actor, reason, data)
        saved = self.store.update(new, record.version if version is None else version, event)
        self._audit(saved, event)
        return saved

    @staticmethod
    def _require_open(record: ApplicationRecord) -> None:
        if record.status not in OPEN:
            next_status(record.status, Action.WITHDRAW)  # raises the IllegalTransition naming the status

    def _audit(self, record: ApplicationRecord, event: Event) -> None:
        audit = getattr(self.services, "audit", None)
        if audit is None:
            return
        audit.record("application_event", record.session_id, {
            "application_id": record.id, "action": event.action, "from": event.from_status, "to": event.to_status,
            "actor": event.actor.kind, "actor_id": event.actor.id, "reason": event.reason, "version": record.version,
            "channel": record.channel, **{k: v for k, v in event.data.items() if k not in ("channel",)},
        })

    def _score(self, record: ApplicationRecord) -> RiskOutcome | None:
        """The risk model on the application's figures, when the applicant consented to an assessment."""
        if record.consent("pre_assessment") is None:
            return None
        p = record.profile
        terms = record.terms
        if not p.get("monthly_income") or not 6 <= terms.term_months <= 60:
            return None
        from assistant.scoring.features import Applicant

        price = terms.vehicle_price or (terms.principal / Decimal("0.7")).quantize(Decimal("1"))
        fields = {k: p[k] for k in ("age", "employment_type", "employment_years", "home_status", "marital_status",
                                    "has_delinquency", "monthly_expenses", "assets") if p.get(k) is not None}
        if p.get("monthly_debt_payments") is not None:
            fields["debt"] = int(Decimal(str(p["monthly_debt_payments"])) * 36)  # as the chat's assessment does
        for name in ("monthly_expenses", "assets"):
            if name in fields:
                fields[name] = int(Decimal(str(fields[name])))
        try:
            income = int(Decimal(str(p["monthly_income"])))
            applicant = Applicant(monthly_income=income, loan_amount=int(terms.principal), vehicle_price=int(price),
                                  term_months=terms.term_months, **fields)
            result = self.services.scorer.score(applicant, applicant_id=record.session_id or record.id)
        except (AssistantError, ValueError) as exc:  # figures the model cannot take: the officer decides unscored
            log.info("application_not_scored", error=type(exc).__name__)
            return None
        served = result.served
        return RiskOutcome(decision=served.decision, grade=served.grade,
                           probability_of_default=round(served.probability_of_default, 4), score=served.score,
                           reasons=served.reasons, model_version=served.model_version, scored_at=_now(),
                           source="submit")


def _check_version(record: ApplicationRecord, version: int | None) -> None:
    if version is not None and version != record.version:
        raise VersionConflict("申请已被他人更新，请刷新后重试",
                              f"the application is at version {record.version}, not {version}: read it again",
                              field="version")


def actions_for(record: ApplicationRecord) -> list[str]:
    """What may be done to the application next."""
    return [a.value for a in allowed_actions(record.status)]
