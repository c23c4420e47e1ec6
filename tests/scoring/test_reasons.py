"""Reasons come from the model's own contributions for this applicant, in Chinese and English."""

from __future__ import annotations

import re

from assistant.scoring.features import Applicant, applicant_features
from assistant.scoring.model import Scorer
from assistant.scoring.reasons import MAX_REASONS, MIN_CONTRIBUTION, NO_REASON, factors, reasons

from .conftest import BASE

CJK = re.compile(r"[\u4e00-\u9fff]")
STATED = {"monthly_expenses": 3000, "age": 40, "employment_years": 10, "employment_type": "fixed",
          "home_status": "owner", "has_delinquency": False, "assets": 200000, "debt": 0}


def served(scorer: Scorer, variant: str, **fields: object) -> object:
    applicant = Applicant.model_validate({**BASE, **STATED, **fields})
    features, assumed = applicant_features(applicant)
    return scorer.assess(variant, features, assumed, explain=True)  # type: ignore[arg-type]


def test_arrears_is_a_reason_for_both_models(scorer: Scorer) -> None:
    for variant in ("champion", "challenger"):
        texts = served(scorer, variant, has_delinquency=True).reasons  # type: ignore[attr-defined]
        assert any("逾期" in t and "arrears" in t for t in texts), (variant, texts)


def test_reasons_follow_the_applicant_not_a_fixed_list(scorer: Scorer) -> None:
    risky = served(scorer, "champion", loan_amount=178000, employment_type="part_time", employment_years=0)
    safe = served(scorer, "champion", loan_amount=40000)
    risky_features = [f.feature for f in risky.factors[:3]]  # type: ignore[attr-defined]
    assert "job" in risky_features and "ltv" in risky_features
    assert not any("贷款额占车价" in t for t in safe.reasons)  # type: ignore[attr-defined]
    assert risky.reasons != safe.reasons  # type: ignore[attr-defined]


def test_reason_sentences_are_bilingual_and_carry_the_value(scorer: Scorer) -> None:
    result = served(scorer, "champion", loan_amount=171000)  # LTV 95 %
    texts = result.reasons  # type: ignore[attr-defined]
    assert 1 <= len(texts) <= MAX_REASONS
    for text in texts:
        zh, en = text.split(" / ", 1)
        assert CJK.search(zh) and re.search(r"[a-z]", en)
    assert any("95%" in t for t in texts)


def test_only_upward_pushes_become_reasons_largest_first(scorer: Scorer) -> None:
    result = served(scorer, "challenger", has_delinquency=True, home_status="rent")
    ranked = result.factors  # type: ignore[attr-defined]
    contributions = [f.contribution for f in ranked]
    assert contributions == sorted(contributions, reverse=True)
    assert len(result.reasons) == min(MAX_REASONS, sum(c >= MIN_CONTRIBUTION for c in contributions))  # type: ignore[attr-defined]


def test_reasons_resting_on_defaults_are_marked(scorer: Scorer) -> None:
    applicant = Applicant.model_validate(BASE)  # every optional field assumed
    features, assumed = applicant_features(applicant)
    result = scorer.assess("champion", features, assumed)
    assumed_texts = [t for t in result.reasons if "默认值" in t]
    assert assumed_texts and all("assumed default" in t for t in assumed_texts)


def test_no_upward_push_gives_the_no_reason_sentence() -> None:
    features = {"ltv": 0.3, "arrears": 0.0}
    ranked = factors({"ltv": -0.4, "arrears": 0.01}, features, {})
    assert reasons(ranked) == [f"{NO_REASON[0]} / {NO_REASON[1]}"]
