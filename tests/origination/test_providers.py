"""The simulated credit bureau and e-signature provider: labelled as simulated, refused without the
consent, deterministic per applicant and realistic in shape; an unknown provider is a startup error."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

import pytest
from pydantic import ValidationError

from assistant.errors import ConfigurationError, Forbidden, InvalidInput
from assistant.origination.models import ConsentIn, consent_record
from assistant.origination.providers import (
    BUREAU_NOTE,
    CreditReportRequest,
    ESignRequest,
    SimulatedCreditBureau,
    SimulatedESign,
    build_credit_bureau,
    build_esign,
)
from assistant.settings import Settings

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(body: str) -> str:
    """A valid resident ID from its first 17 characters (the ISO 7064 check character appended)."""
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]


def _consent(purpose: str, **kw: object) -> object:
    return consent_record(ConsentIn(purpose=purpose, **kw), "api", dt.datetime.now(dt.UTC))  # type: ignore[arg-type]


def _request(number: str, purpose: str = "credit_report") -> CreditReportRequest:
    return CreditReportRequest(id_number=number, consent=_consent(purpose), application_id="x")  # type: ignore[arg-type]


PEOPLE = [id_number(f"{region}{year}{month:02d}{day:02d}{seq:03d}") for region in ("110105", "440306", "510107")
          for year in (1970, 1985, 1995, 2002) for month, day in ((3, 7), (11, 21)) for seq in (101, 352, 777)]


def test_the_report_says_it_is_simulated() -> None:
    report = SimulatedCreditBureau().pull(_request(PEOPLE[0]))
    assert report.provider == "simulated" and report.note == BUREAU_NOTE
    assert "模拟征信报告，非真实人行征信" in report.note and "SIMULATED credit report" in report.note


def test_no_consent_no_report() -> None:
    bureau = SimulatedCreditBureau()
    with pytest.raises(Forbidden):
        bureau.pull(_request(PEOPLE[0], purpose="pre_assessment"))  # the chat's consent is not a bureau query
    future = consent_record(ConsentIn(purpose="credit_report", granted_at=dt.datetime.now(dt.UTC)
                                      + dt.timedelta(days=1)), "api", dt.datetime.now(dt.UTC))
    with pytest.raises(Forbidden):
        bureau.pull(CreditReportRequest(id_number=PEOPLE[0], consent=future, application_id="x"))


def test_the_same_person_gets_the_same_report() -> None:
    bureau = SimulatedCreditBureau()
    for number in PEOPLE[:6]:
        one, two = bureau.pull(_request(number)), bureau.pull(_request(number))
        figures = {"report_id", "pulled_at"}
        assert one.model_dump(exclude=figures) == two.model_dump(exclude=figures)
        assert one.report_id != two.report_id  # each pull is its own record
    assert len({bureau.pull(_request(n)).model_dump_json(exclude={"report_id", "pulled_at"}) for n in PEOPLE}) > 30


def test_reports_look_like_a_population() -> None:
    reports = [SimulatedCreditBureau().pull(_request(n)) for n in PEOPLE]
    clean = sum(r.overdue_months_24m == 0 for r in reports)
    assert 0.5 * len(reports) <= clean < len(reports)  # most are clean, not all
    assert any(r.overdue_months_24m for r in reports)
    assert Counter(r.inquiries_6m == 0 for r in reports)[True] > 0 and max(r.inquiries_6m for r in reports) >= 2
    for r in reports:
        assert r.accounts == r.loan_accounts + r.credit_cards and r.outstanding_debt >= 0
        assert 0 <= r.card_utilisation <= 1 and (r.credit_cards or r.card_utilisation == 0)
        assert r.max_overdue_status_24m <= r.overdue_months_24m  # a run of n late months needs n of them
        assert not r.has_mortgage or r.loan_accounts > 0
    # Older applicants have longer credit histories.
    young = [r.accounts for n, r in zip(PEOPLE, reports, strict=True) if n[6:10] == "2002"]
    older = [r.accounts for n, r in zip(PEOPLE, reports, strict=True) if n[6:10] == "1970"]
    assert sum(older) > sum(young)


def test_the_bureau_needs_the_id_number() -> None:
    with pytest.raises(InvalidInput):
        SimulatedCreditBureau().pull(_request("12345"))


def test_esign_returns_a_signature_over_the_pdf_hash() -> None:
    pdf = b"%PDF-1.7 contract bytes"
    request = ESignRequest(application_id="a", contract_number="QC1", document_id="d", signer_name="张三",
                           consent=_consent("esign"))  # type: ignore[arg-type]
    signed = SimulatedESign().sign(request, pdf)
    assert signed.provider == "simulated" and "SIMULATED e-signature" in signed.note
    assert signed.document_sha256 == hashlib.sha256(pdf).hexdigest()
    assert signed.signature_id.startswith("SIMSIG-") and signed.signed_at.tzinfo is not None
    with pytest.raises(Forbidden):
        SimulatedESign().sign(request.model_copy(update={"consent": _consent("credit_report")}), pdf)
    with pytest.raises(InvalidInput):
        SimulatedESign().sign(request, b"<html>not a pdf</html>")


def test_providers_are_chosen_by_setting_and_an_unknown_one_fails_at_startup(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert settings.credit_bureau_provider == "simulated" and settings.esign_provider == "simulated"
    assert build_credit_bureau("simulated").name == build_esign("simulated").name == "simulated"
    with pytest.raises(ValidationError, match="credit_bureau_provider"):
        Settings(data_dir=tmp_path, credit_bureau_provider="pboc-direct", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="esign_provider"):
        Settings(data_dir=tmp_path, esign_provider="docusign", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="unknown credit_bureau_provider"):
        build_credit_bureau("pboc-direct")
    with pytest.raises(ConfigurationError, match="unknown esign_provider"):
        build_esign("docusign")
