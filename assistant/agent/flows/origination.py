"""Flows about the customer's loan application: its status, and the hand-off of a "review" to an officer."""

from __future__ import annotations

from typing import Any

from assistant.agent.flows.base import Flow, FlowRun
from assistant.audit.recorder import COPILOT_CHANNEL
from assistant.errors import AssistantError
from assistant.logs import get_logger

log = get_logger(__name__)


def application_status(run: FlowRun) -> None:
    """我的申请到哪一步了: the real status of this session's latest application."""
    result = run.call("application_status", {"session_id": run.state.session_id, "lang": run.lang})
    if result is None:
        run.draft.reply = run.last_error()
        return
    run.draft.reply = str(result.model_dump()["message"])


def open_review(run: FlowRun, applicant: dict[str, Any], score: dict[str, Any]) -> None:
    """A "review" outcome in chat: the session's application is created (or updated) and submitted, so the
    officer sees it in the queue. A failure here never costs the customer the reply: it is logged."""
    if run.ctx.channel == COPILOT_CHANNEL:  # the agent desk's scratch replay of a transcript: no customer here
        return
    application = run.state.application
    if not application:  # assessed on what was said, no quote yet: the reference rate prices the loan
        application = {"principal": str(applicant["loan_amount"]), "annual_rate": str(run.reference_rate([])),
                       "term_months": int(applicant["term_months"])}
    try:
        record = run.services.applications.open_for_review(run.state, applicant, score, application,
                                                           run.ctx.channel)
    except AssistantError as exc:
        log.warning("review_application_not_opened", code=exc.code, field=exc.field)
        return
    from assistant.origination.status import reference

    run.draft.reply += "\n" + run.pick(f"已为您生成贷款申请（编号{reference(record.id)}），进入人工审核队列。",
                                       f"Your application (ref. {reference(record.id)}) is now queued for review.")


FLOWS = (
    Flow("application_status", ("查询申请进度", "checking your application"), application_status, task=False),
)
