"""``POST /v1/score``: calibrated PD, score, grade, decision and reasons for one applicant."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import ConfigDict

from assistant.api.deps import tool_context
from assistant.tools.registry import ToolContext
from assistant.tools.score import ScoreIn, ScoreOut, score_applicant

router = APIRouter(tags=["score"])


class ScoreBody(ScoreIn):
    """The contract's applicant fields plus an optional ``applicant_id``; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


@router.post("/v1/score", response_model=ScoreOut)
def post_score(body: ScoreBody, ctx: ToolContext = Depends(tool_context)) -> ScoreOut:
    """Score an applicant with the champion or, for its A/B share of applicant ids, the challenger.

    Both models' scores come back (``shadow`` holds the one not served). ``review`` means a credit officer
    decides; ``assumed`` lists the defaults used for optional fields that were not given.
    """
    return score_applicant(ctx, body)
