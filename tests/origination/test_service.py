"""The application service: priced terms, scoring at submission (with consent only), officer decisions,
refusals that change nothing, optimistic concurrency, the credit report after consent, contract and
signature, and every move in both the events table and the hash-chained audit trail."""

from __future__ import annotations

import hashlib

import pytest

from assistant.api.errors import status_for
from assistant.domain.application_state import Actor, IllegalTransition, Status
from assistant.errors import Forbidden, InvalidInput, RuleViolation
from assistant.origination.models import ConsentIn
from assistant.origination.store import VersionConflict
from assistant.services import Services
from tests.origination.conftest import BORROWER, MONTHLY, PROFILE, TERMS, audit_entries

PARTNER = Actor("partner", "dealer01")
CUSTOMER = Actor("customer")


def _new(services: Services, **kw: object) -> object:
    args = {"actor": PARTNER, "channel": "api", "profile": PROFILE, "personal": BORROWER,
            "consents": [ConsentIn(purpose="pre_assessment"), ConsentIn(purpose="credit_report")]}
    args.update(kw)
    return services.applications.create(TERMS, **args)


def test_a_new_application_is_a_priced_draft(services: Services) -> None:
    app = _new(services)
    assert app.status == Status.DRAFT and app.version == 1 and len(app.id) == 32
    int(app.id, 16)  # uuid4 hex
    # APR and the monthly payment come from the money core: the figures the documents will state.
    assert app.terms.monthly_payment == MONTHLY and app.terms.apr is not None and app.terms.total_interest > 0
    assert [c.purpose for c in app.consents] == ["pre_assessment", "credit_report"]
    assert all(c.channel == "api" and c.granted_at.tzinfo for c in app.consents)


def test_terms_the_money_core_refuses_are_a_clear_error(services: Services) -> None:
    bad = TERMS.model_copy(update={"down_payment": None, "vehicle": TERMS.vehicle.model_copy(
        update={"price": TERMS.principal})})  # 100 % financed: over the LTV cap
    with pytest.raises(RuleViolation, match="超过上限") as caught:
        services.applications.create(bad, actor=PARTNER, channel="api")
    assert status_for(caught.value) == 422 and "exceeds the 90% cap" in caught.value.message


def test_submission_scores_with_consent_and_not_without(services: Services) -> None:
    scored = services.applications.submit(_new(services).id, actor=CUSTOMER)
    assert scored.status == Status.SUBMITTED and scored.risk is not None
    assert scored.risk.decision in {"approve", "review", "decline"} and scored.risk.source == "submit"
    assert scored.risk.reasons and scored.risk.grade in "ABCDE"
    unscored = services.applications.submit(_new(services, consents=[]).id, actor=CUSTOMER)
    assert unscored.status == Status.SUBMITTED and unscored.risk is None


def test_an_illegal_move_is_refused_and_writes_nothing(services: Services) -> None:
    app = _new(services)
    with pytest.raises(IllegalTransition, match="不能签署"):
        services.applications.sign(app.id, actor=CUSTOMER)
    with pytest.raises(IllegalTransition):
        services.applications.decide(app.id, "decline", officer_id="o1", reasons=["收入不足"])
    after = services.applications.get(app.id)
    assert after.status == Status.DRAFT and after.version == 1
    assert [e.action for e in services.applications.store.events(app.id)] == ["create"]


def test_two_officers_deciding_on_one_version_one_gets_a_conflict(services: Services) -> None:
    app = services.applications.submit(_new(services).id, actor=CUSTOMER)
    reviewed = services.applications.start_review(app.id, actor=Actor("officer", "o1"), version=app.version)
    services.applications.decide(app.id, "approve", officer_id="o1", version=reviewed.version)
    with pytest.raises(VersionConflict):
        services.applications.decide(app.id, "decline", officer_id="o2", version=reviewed.version, reasons=["x"])
    assert services.applications.get(app.id).status == Status.APPROVED


def test_decisions_carry_conditions_reasons_and_documents(services: Services) -> None:
    svc = services.applications
    with pytest.raises(InvalidInput, match="原因"):
        svc.decide(svc.submit(_new(services).id, actor=CUSTOMER).id, "decline", officer_id="o1")
    docs = svc.decide(svc.submit(_new(services).id, actor=CUSTOMER).id, "request_documents", officer_id="o1",
                      documents=["近6个月银行流水"])
    assert docs.status == Status.UNDER_REVIEW and docs.decision.documents == ["近6个月银行流水"]
    assert "近6个月银行流水" in svc.customer_status(docs)
    declined = svc.decide(docs.id, "decline", officer_id="o1", reasons=["负债收入比过高"])
    assert declined.status == Status.DECLINED and declined.decision.reasons == ["负债收入比过高"]
    assert "负债收入比过高" in svc.customer_status(declined) and "人工复核" in svc.customer_status(declined)
    approved = svc.decide(svc.submit(_new(services).id, actor=CUSTOMER).id, "approve", officer_id="o2",
                          conditions=["提供收入证明"])
    assert approved.status == Status.APPROVED and approved.decision.conditions == ["提供收入证明"]
    # Approving a submitted application opens the review first: both moves recorded, by the officer.
    moves = [(e.action, e.actor.label()) for e in svc.store.events(approved.id)]
    assert moves[-2:] == [("start_review", "officer:o2"), ("approve", "officer:o2")]


def test_every_move_is_audited_with_actor_and_reason(services: Services) -> None:
    svc = services.applications
    app = svc.submit(_new(services).id, actor=CUSTOMER, reason="材料齐全")
    svc.decide(app.id, "decline", officer_id="o7", reasons=["近期查询次数过多"])
    entries = audit_entries(services, app.id)
    assert [(e["action"], e["from"], e["to"], e["actor"], e["actor_id"]) for e in entries] == [
        ("create", None, "draft", "partner", "dealer01"),
        ("submit", "draft", "submitted", "customer", None),
        ("decline", "submitted", "declined", "officer", "o7"),
    ]
    assert entries[1]["reason"] == "材料齐全" and entries[2]["reason"] == "近期查询次数过多"
    assert [e["version"] for e in entries] == [1, 2, 3]
    events = svc.store.events(app.id)
    assert [(e.action, e.reason) for e in events][1:] == [("submit", "材料齐全"), ("decline", "近期查询次数过多")]
    assert services.audit.verify().ok


def test_the_credit_report_needs_the_consent(services: Services) -> None:
    svc = services.applications
    app = _new(services, consents=[ConsentIn(purpose="pre_assessment")])
    with pytest.raises(Forbidden, match="征信"):
        svc.pull_credit_report(app.id, actor=Actor("officer", "o1"))
    assert svc.get(app.id).credit_report is None
    consented = svc.record_consent(app.id, ConsentIn(purpose="credit_report", evidence="授权书 No.123"),
                                   actor=PARTNER, channel="branch")
    pulled = svc.pull_credit_report(app.id, actor=Actor("officer", "o1"), version=consented.version)
    assert pulled.credit_report is not None and pulled.credit_report.provider == "simulated"
    again = svc.pull_credit_report(app.id, actor=Actor("officer", "o1"))
    assert again.credit_report.model_dump(exclude={"report_id", "pulled_at"}) == \
        pulled.credit_report.model_dump(exclude={"report_id", "pulled_at"})  # the same applicant, the same report
    actions = [e.action for e in svc.store.events(app.id)]
    assert actions == ["create", "consent", "credit_report", "credit_report"]


def test_contract_then_signature_over_the_issued_pdf(services: Services) -> None:
    svc = services.applications
    app = svc.decide(svc.submit(_new(services, personal=None).id, actor=CUSTOMER).id, "approve", officer_id="o1")
    with pytest.raises(InvalidInput, match="身份证号"):
        svc.issue_contract(app.id, actor=Actor("officer", "o1"))  # the borrower is not known yet
    issued = svc.issue_contract(app.id, actor=Actor("officer", "o1"), personal=BORROWER)
    assert issued.status == Status.CONTRACT_ISSUED and issued.personal == BORROWER
    record, pdf = services.documents.open(issued.contract["document_id"])
    assert pdf.startswith(b"%PDF") and record.kind == "loan_contract" and not record.preview
    assert issued.contract["sha256"] == hashlib.sha256(pdf).hexdigest()
    signed = svc.sign(issued.id, actor=CUSTOMER)
    assert signed.status == Status.SIGNED and signed.signature.document_sha256 == issued.contract["sha256"]
    assert signed.signature.provider == "simulated" and signed.consent("esign") is not None
    with pytest.raises(IllegalTransition):
        svc.withdraw(signed.id, actor=CUSTOMER)  # signed is final


def test_withdrawal_before_signing_and_nothing_after(services: Services) -> None:
    svc = services.applications
    app = svc.decide(svc.submit(_new(services).id, actor=CUSTOMER).id, "approve", officer_id="o1")
    issued = svc.issue_contract(app.id, actor=Actor("officer", "o1"))
    withdrawn = svc.withdraw(issued.id, actor=CUSTOMER, reason="买了别的车")
    assert withdrawn.status == Status.WITHDRAWN and "已撤回" in svc.customer_status(withdrawn)
    assert "withdrawn" in svc.customer_status(withdrawn, "en")
    with pytest.raises(IllegalTransition):
        svc.sign(withdrawn.id, actor=CUSTOMER)
    with pytest.raises(IllegalTransition):
        svc.record_consent(withdrawn.id, ConsentIn(purpose="credit_report"), actor=PARTNER, channel="api")
