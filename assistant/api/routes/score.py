"""``POST /v1/score``: calibrated PD, score, grade, decision and reasons for one applicant."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import ConfigDict

from assistant.api.deps import tool_context
from assistant.audit.recorder import record_decision
from assistant.documents.store import api_key_id
from assistant.tools.registry import ToolContext
from assistant.tools.score import ScoreIn, ScoreOut, score_applicant

router = APIRouter(tags=["score"])


class ScoreBody(ScoreIn):
    """The contract's applicant fields plus an optional ``applicant_id``; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


@router.post("/v1/score", response_model=ScoreOut)
def post_score(body: ScoreBody, request: Request, ctx: ToolContext = Depends(tool_context)) -> ScoreOut:
    """Score an applicant with the champion or, for its A/B share of applicant ids, the challenger.

    Both models' scores come back (``shadow`` holds the one not served). ``review`` means a credit officer
    decides; ``assumed`` lists the defaults used for optional fields that were not given.
    """
    out = score_applicant(ctx, body)
    key = request.headers.get("x-api-key")  # checked by tool_context (a partner route needs one)
    record_decision(ctx.services, out, session_id=None, channel="api", api_key_id=api_key_id(key) if key else None)
    return out
