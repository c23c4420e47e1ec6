"""The risk-scoring tool: calibrated PD, score, grade, decision and reasons for one applicant."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.scoring import policy
from assistant.scoring.features import Applicant
from assistant.scoring.model import Assessment, ScoreResult
from assistant.tools.registry import REGISTRY, ToolContext


class ScoreIn(Applicant):
    """An applicant (the contract's applicant fields) and an optional stable id for the A/B split."""

    applicant_id: str | None = Field(default=None, max_length=128,
                                     description="Stable applicant id; the same id always gets the same model")


class ScoreFactor(BaseModel):
    """One feature's push on the log-odds of default (positive = riskier than the average applicant)."""

    feature: str
    value: float | str
    contribution: float
    assumed: bool = Field(description="True when the feature rests on a default, not on what was said")


class ShadowScore(BaseModel):
    """The other model's score for the same applicant (recorded, not served)."""

    variant: Literal["champion", "challenger"]
    model_version: str
    probability_of_default: float
    score: int
    grade: str
    decision: Literal["approve", "review", "decline"]


class ScoreOut(BaseModel):
    """A risk assessment. ``review`` always means a person (credit officer) decides."""

    probability_of_default: float = Field(description="Calibrated PD on the training population's scale")
    score: int = Field(description=f"Points: {policy.BASE_POINTS} at odds {policy.BASE_ODDS:g}:1, PDO {policy.PDO:g}")
    grade: Literal["A", "B", "C", "D", "E"]
    decision: Literal["approve", "review", "decline"]
    human_review: bool = Field(description="True when a credit officer looks at the application")
    message: str = Field(description="What the decision means for the applicant, Chinese / English")
    reasons: list[str] = Field(description="Factors that pushed the PD up, Chinese / English")
    factors: list[ScoreFactor] = Field(description="Every feature's contribution, largest push up first")
    model_version: str
    variant: Literal["champion", "challenger"] = Field(description="Which model served (A/B arm)")
    shadow: ShadowScore
    assumed: dict[str, Any] = Field(description="Defaults used for fields the applicant did not give")
    applicant_id: str | None = None


def _shadow(a: Assessment) -> ShadowScore:
    return ShadowScore(variant=a.variant, model_version=a.model_version,
                       probability_of_default=round(a.probability_of_default, 4), score=a.score, grade=a.grade,
                       decision=a.decision)


def result_to_out(result: ScoreResult, applicant_id: str | None) -> ScoreOut:
    """Project the scorer's result onto the tool/API shape."""
    served = result.served
    return ScoreOut(
        probability_of_default=round(served.probability_of_default, 4),
        score=served.score,
        grade=served.grade,
        decision=served.decision,
        human_review=served.decision == "review",
        message=policy.message(served.decision, served.grade),
        reasons=served.reasons,
        factors=[ScoreFactor(feature=f.feature, value=round(f.value, 4) if isinstance(f.value, float) else f.value,
                             contribution=round(f.contribution, 4), assumed=f.assumed) for f in served.factors],
        model_version=served.model_version,
        variant=served.variant,
        shadow=_shadow(result.shadow),
        assumed=result.assumed,
        applicant_id=applicant_id,
    )


@REGISTRY.register("score_applicant")
def score_applicant(ctx: ToolContext, args: ScoreIn) -> ScoreOut:
    """Assess a car-loan applicant's credit risk (风险评估/能不能贷): calibrated probability of default,
    score points, grade A-E, a decision (approve / review / decline) and the reasons that raised the risk.
    Use it for eligibility questions (我月薪8000能贷吗 / 征信有逾期还能办吗) once income, loan amount, car price
    and term are known. Money is whole yuan (月薪1.2万 -> 12000); term in months (6-60). Optional fields
    (expenses, age, employment, home, arrears, assets, debt) take documented defaults listed in `assumed`:
    ask for them if they matter. "review" means a human credit officer decides; a "decline" can also be
    reviewed by a person on request. It is a pre-assessment, not a final approval."""
    result = ctx.services.scorer.score(args, applicant_id=args.applicant_id)
    return result_to_out(result, args.applicant_id)
