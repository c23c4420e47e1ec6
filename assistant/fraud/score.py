"""The fraud score: a small logistic model over the signals that fired, and the decision bands.

``score = sigmoid(intercept + Σ weight[code])`` over the fired codes. The weights and the two thresholds
(``review_at`` ≤ ``decline_at``) are fitted on the *training* split of the synthetic set by
:mod:`assistant.fraud.train` and shipped as ``assistant/models/fraud/weights.json``; the caller loads that
file once (:func:`assistant.fraud.files.load_model`) and passes the model in, so this stays pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.fraud.models import (
    Decision,
    FraudAssessment,
    FraudInput,
    KnownBadLists,
    PriorApplication,
    Severity,
    Signal,
)
from assistant.fraud.policy import FraudPolicy
from assistant.fraud.signals import REASON_CODES, Hit, detect, lending_base

# Weight (log-odds) bands for the severity an officer sees: ≥ 2.5 alone moves a clean application
# most of the way to review, ≥ 1 is a real nudge, below is corroboration only.
HIGH_WEIGHT = 2.5
MEDIUM_WEIGHT = 1.0


class FraudModel(BaseModel):
    """Fitted weights per reason code and the decision thresholds on the score."""

    model_config = ConfigDict(frozen=True)

    version: str
    intercept: float
    weights: dict[str, float]
    review_at: float = Field(gt=0, lt=1)
    decline_at: float = Field(gt=0, lt=1)
    fitted: dict[str, object] = Field(default_factory=dict, description="How and on what it was fitted.")

    @model_validator(mode="after")
    def _complete(self) -> FraudModel:
        missing = [code for code in REASON_CODES if code not in self.weights]
        if missing:
            raise ValueError(f"欺诈模型缺少信号权重 / fraud model lacks weights for: {', '.join(missing)}")
        if self.review_at > self.decline_at:
            raise ValueError("review_at 必须不大于 decline_at / review_at must not exceed decline_at")
        return self

    def probability(self, codes: Sequence[str]) -> float:
        """The fraud probability for a set of fired codes."""
        z = self.intercept + sum(self.weights[c] for c in set(codes))
        return 1.0 / (1.0 + math.exp(-z))

    def decide(self, score: float) -> Decision:
        """The band a score falls in."""
        if score >= self.decline_at:
            return Decision.DECLINE
        if score >= self.review_at:
            return Decision.REVIEW
        return Decision.PASS


def severity(weight: float) -> Severity:
    """The severity band of a fitted weight."""
    if weight >= HIGH_WEIGHT:
        return Severity.HIGH
    return Severity.MEDIUM if weight >= MEDIUM_WEIGHT else Severity.LOW


def _signal(hit: Hit, model: FraudModel) -> Signal:
    weight = model.weights[hit.code]
    return Signal(code=hit.code, severity=severity(weight), weight=round(weight, 4), zh=hit.zh, en=hit.en,
                  evidence=hit.evidence)


def assess(
    app: FraudInput,
    priors: Sequence[PriorApplication],
    lists: KnownBadLists,
    model: FraudModel,
    policy: FraudPolicy | None = None,
) -> FraudAssessment:
    """Score one application: the signals that fire, the fraud probability and pass / review / decline.

    ``priors`` are earlier applications sharing the ID hash, phone hash or device (the store's query; any
    others are ignored), ``lists`` the known-bad hashes. A hard-decline code (an ID confirmed in fraud)
    declines whatever the score, a review-floor code (none by default) at least reviews; every other
    decision comes from the fitted bands.
    """
    policy = policy or FraudPolicy()
    hits = detect(app, priors, lists, policy)
    codes = [h.code for h in hits]
    score = model.probability(codes)
    decision = model.decide(score)
    if policy.hard_decline_codes & set(codes):
        decision = Decision.DECLINE
    elif decision is Decision.PASS and policy.review_floor_codes & set(codes):
        decision = Decision.REVIEW
    ltv = (app.loan_amount / lending_base(app)).quantize(Decimal("0.0001"))
    signals = sorted((_signal(h, model) for h in hits), key=lambda s: -s.weight)
    return FraudAssessment(application_id=app.application_id, score=round(score, 6), decision=decision,
                           signals=signals, model_version=model.version, ltv=ltv)
