"""The application state machine: every legal transition leads where the table says, every other pair of
(status, action) is a 409-class IllegalTransition with a bilingual message, and final statuses are final."""

from __future__ import annotations

import itertools

import pytest

from assistant.api.errors import status_for
from assistant.domain.application_state import (
    FINAL,
    TRANSITIONS,
    Action,
    Actor,
    IllegalTransition,
    Status,
    allowed_actions,
    next_status,
    parse_status,
)
from assistant.errors import InvalidInput

S, A = Status, Action
LEGAL = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.START_REVIEW): S.UNDER_REVIEW,
    (S.SUBMITTED, A.REQUEST_DOCUMENTS): S.UNDER_REVIEW,
    (S.SUBMITTED, A.DECLINE): S.DECLINED,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.UNDER_REVIEW, A.REQUEST_DOCUMENTS): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, A.APPROVE): S.APPROVED,
    (S.UNDER_REVIEW, A.DECLINE): S.DECLINED,
    (S.UNDER_REVIEW, A.WITHDRAW): S.WITHDRAWN,
    (S.APPROVED, A.ISSUE_CONTRACT): S.CONTRACT_ISSUED,
    (S.APPROVED, A.WITHDRAW): S.WITHDRAWN,
    (S.CONTRACT_ISSUED, A.SIGN): S.SIGNED,
    (S.CONTRACT_ISSUED, A.WITHDRAW): S.WITHDRAWN,
}
ILLEGAL = [pair for pair in itertools.product(Status, Action) if pair not in LEGAL]


@pytest.mark.parametrize(("status", "action"), list(LEGAL), ids=lambda v: str(v))
def test_every_legal_transition_leads_where_documented(status: Status, action: Action) -> None:
    assert next_status(status, action) == LEGAL[(status, action)]
    assert next_status(status.value, action.value) == LEGAL[(status, action)]  # plain strings too
    assert action in allowed_actions(status)


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=lambda v: str(v))
def test_every_other_transition_is_a_conflict(status: Status, action: Action) -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_status(status, action)
    exc = caught.value
    assert status_for(exc) == 409 and exc.code == "illegal_transition"
    zh, _, en = exc.message.partition(" / ")
    assert "不能" in zh and en.startswith("cannot")
    assert action not in allowed_actions(status)


def test_the_table_covers_exactly_the_documented_moves() -> None:
    table = {(src, action): target for action, (sources, target) in TRANSITIONS.items() for src in sources}
    assert table == LEGAL
    assert len(LEGAL) + len(ILLEGAL) == len(Status) * len(Action)


def test_final_statuses_allow_nothing_and_every_open_one_can_be_withdrawn() -> None:
    assert {S.DECLINED, S.WITHDRAWN, S.SIGNED} == FINAL
    for status in Status:
        if status in FINAL:
            assert allowed_actions(status) == []
        else:
            assert Action.WITHDRAW in allowed_actions(status)


def test_approval_needs_a_review_first() -> None:
    with pytest.raises(IllegalTransition, match="不能批准"):
        next_status(S.SUBMITTED, A.APPROVE)


def test_unknown_statuses_and_actions_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="未知的申请状态"):
        parse_status("paid_out")
    with pytest.raises(InvalidInput, match="未知的操作"):
        next_status(S.DRAFT, "teleport")


def test_actors_name_who_acted() -> None:
    assert Actor("officer", "zhang01").label() == "officer:zhang01"
    assert Actor("customer").label() == "customer"
    with pytest.raises(InvalidInput):
        Actor("officer")  # an officer is always named
    with pytest.raises(InvalidInput):
        Actor("robot", "x")  # type: ignore[arg-type]
