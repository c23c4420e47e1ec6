"""External checks behind narrow interfaces: the credit bureau (人行征信) and the e-signature provider.

A real provider implements :class:`CreditBureau` or :class:`ESignProvider` and is named in settings
(``credit_bureau_provider``, ``esign_provider``). The shipped ones are **simulated**, for offline use, and
say so in every response (``provider: "simulated"`` and a bilingual note): nothing here is a real report
or a legally binding signature.

The simulated bureau is deterministic per applicant — every figure derives from a keyed hash of the ID
number — and realistic in shape: most people have a few accounts and a clean 24 months; some have an
overdue month or two; a few are thin files or heavily indebted, with many recent inquiries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from assistant.errors import ConfigurationError, Forbidden, InvalidInput
from assistant.origination.models import ConsentRecord

SIMULATED = "simulated"
BUREAU_NOTE = "模拟征信报告，非真实人行征信 / SIMULATED credit report, not a real PBOC credit report"
ESIGN_NOTE = "模拟电子签名，无法律效力 / SIMULATED e-signature, not legally binding"


class CreditReportRequest(BaseModel):
    """Whose report, and the consent that allows the query (required: no consent, no query)."""

    model_config = ConfigDict(frozen=True)

    id_number: str
    name: str | None = None
    consent: ConsentRecord
    application_id: str


class CreditReport(BaseModel):
    """The summary of a personal credit report the underwriter reads."""

    model_config = ConfigDict(frozen=True)

    provider: str
    note: str
    report_id: str
    pulled_at: dt.datetime
    accounts: int = Field(description="信贷账户数（贷款+信用卡）")
    loan_accounts: int
    credit_cards: int
    overdue_months_24m: int = Field(description="近24个月逾期月份数")
    max_overdue_status_24m: int = Field(description="近24个月最长连续逾期期数（0=无，1=M1…）")
    inquiries_6m: int = Field(description="近6个月贷款/信用卡审批查询次数")
    outstanding_debt: int = Field(description="未结清余额合计（元）")
    card_utilisation: float = Field(description="信用卡已用额度/授信总额")
    has_mortgage: bool


class ESignRequest(BaseModel):
    """The contract to sign: its bytes are hashed by the provider, which must match the issued sha256."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    contract_number: str
    document_id: str
    signer_name: str
    consent: ConsentRecord


class SignedDocument(BaseModel):
    """The provider's proof of a signature."""

    model_config = ConfigDict(frozen=True)

    provider: str
    note: str
    signature_id: str
    signed_at: dt.datetime
    document_id: str
    document_sha256: str = Field(description="SHA-256 of the signed contract PDF")
    contract_number: str


class CreditBureau(Protocol):
    """Pulls a personal credit report (only with a recorded ``credit_report`` consent)."""

    name: str

    def pull(self, request: CreditReportRequest) -> CreditReport:
        """The report for ``request``."""
        ...


class ESignProvider(Protocol):
    """Signs a contract document."""

    name: str

    def sign(self, request: ESignRequest, document: bytes) -> SignedDocument:
        """Sign ``document`` (the contract PDF's bytes)."""
        ...


def _require_consent(consent: ConsentRecord, purpose: str, now: dt.datetime) -> None:
    if consent.purpose != purpose or consent.granted_at > now:
        raise Forbidden("没有有效的授权记录，不能查询/签署", f"no valid '{purpose}' consent on record")


class SimulatedCreditBureau:
    """A deterministic stand-in for the PBOC credit reference center."""

    name = SIMULATED

    def __init__(self, clock: type[dt.datetime] = dt.datetime) -> None:
        self._clock = clock

    def pull(self, request: CreditReportRequest) -> CreditReport:
        """A report whose every figure follows from the ID number (the same person, the same report)."""
        now = self._clock.now(dt.UTC)
        _require_consent(request.consent, "credit_report", now)
        if len(request.id_number) != 18:
            raise InvalidInput("查询征信需要18位身份证号码", "a credit report needs the 18-digit ID number",
                               field="id_number")
        seed = int(hashlib.sha256(b"simulated-bureau/" + request.id_number.encode()).hexdigest()[:16], 16)
        rng = random.Random(seed)
        birth_year = int(request.id_number[6:10])
        age = max(18, now.year - birth_year)
        # Credit history grows with age: a 22-year-old is often a thin file, a 40-year-old has several lines.
        history = min(1.0, (age - 18) / 20)
        cards = min(8, int(rng.gammavariate(1.5 + 2 * history, 1.0)))
        loans = min(6, int(rng.gammavariate(0.6 + 1.6 * history, 1.0)))
        has_mortgage = loans > 0 and rng.random() < 0.25 + 0.35 * history
        risk = rng.random()
        if cards + loans == 0 or risk < 0.72:
            overdue, worst = 0, 0
        elif risk < 0.92:
            overdue, worst = rng.randint(1, 2), 1
        else:
            overdue = rng.randint(3, 9)
            worst = rng.randint(1, min(4, overdue))
        inquiries = min(15, int(rng.expovariate(0.55 if risk < 0.85 else 0.25)))
        debt = 0
        if has_mortgage:
            debt += rng.randrange(200_000, 1_500_000, 1000)
        debt += sum(rng.randrange(10_000, 150_000, 500) for _ in range(max(0, loans - int(has_mortgage))))
        limits = sum(rng.randrange(5_000, 60_000, 1000) for _ in range(cards))
        utilisation = round(min(1.0, rng.betavariate(2, 5 if risk < 0.8 else 2)), 2) if cards else 0.0
        debt += int(limits * utilisation)
        return CreditReport(
            provider=self.name, note=BUREAU_NOTE, report_id=f"SIM-{uuid.uuid4().hex[:12].upper()}", pulled_at=now,
            accounts=cards + loans, loan_accounts=loans, credit_cards=cards, overdue_months_24m=overdue,
            max_overdue_status_24m=worst, inquiries_6m=inquiries, outstanding_debt=debt,
            card_utilisation=utilisation, has_mortgage=has_mortgage,
        )


class SimulatedESign:
    """A stand-in e-signature service: a signature id, a time and the hash of the signed PDF."""

    name = SIMULATED

    def sign(self, request: ESignRequest, document: bytes) -> SignedDocument:
        """Sign the PDF (refused without an ``esign`` consent, or for bytes that are not a PDF)."""
        now = dt.datetime.now(dt.UTC)
        _require_consent(request.consent, "esign", now)
        if not document.startswith(b"%PDF"):
            raise InvalidInput("只能签署PDF格式的合同", "only a PDF contract can be signed", field="document")
        return SignedDocument(provider=self.name, note=ESIGN_NOTE, signature_id=f"SIMSIG-{uuid.uuid4().hex.upper()}",
                              signed_at=now, document_id=request.document_id,
                              document_sha256=hashlib.sha256(document).hexdigest(),
                              contract_number=request.contract_number)


CREDIT_BUREAUS: dict[str, type] = {SIMULATED: SimulatedCreditBureau}
ESIGN_PROVIDERS: dict[str, type] = {SIMULATED: SimulatedESign}


def build_credit_bureau(name: str) -> CreditBureau:
    """The configured credit bureau; ConfigurationError (a startup error) for an unknown name."""
    if name not in CREDIT_BUREAUS:
        raise ConfigurationError(f"未知的征信服务提供方：{name}（可选：{', '.join(CREDIT_BUREAUS)}）",
                                 f"unknown credit_bureau_provider '{name}' (one of: {', '.join(CREDIT_BUREAUS)})")
    return CREDIT_BUREAUS[name]()  # type: ignore[no-any-return]


def build_esign(name: str) -> ESignProvider:
    """The configured e-signature provider; ConfigurationError for an unknown name."""
    if name not in ESIGN_PROVIDERS:
        raise ConfigurationError(f"未知的电子签名服务提供方：{name}（可选：{', '.join(ESIGN_PROVIDERS)}）",
                                 f"unknown esign_provider '{name}' (one of: {', '.join(ESIGN_PROVIDERS)})")
    return ESIGN_PROVIDERS[name]()  # type: ignore[no-any-return]
