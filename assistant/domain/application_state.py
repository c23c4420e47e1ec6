"""The loan application's life as a state machine: statuses, the actions that move it, who acted. No I/O.

::

    draft ──submit──▶ submitted ──start_review──▶ under_review ──approve──▶ approved ──issue_contract──▶
                          │                          │   ▲  │                  │        contract_issued ──sign──▶ signed
                          │                          │   └──┘ request_documents│              │
                          └──────decline─────────────┴──decline──▶ declined    │              │
    withdraw: from draft, submitted, under_review, approved and contract_issued ──▶ withdrawn

- ``submitted`` may be declined at once (an automated hard refusal, e.g. a rule breach) or asked for
  documents, which also opens the review: ``request_documents`` leads to ``under_review`` from both.
- ``approve`` needs a person: only from ``under_review`` (the service opens the review first when an
  officer decides on a submitted application, and both steps are recorded).
- ``approved`` may carry conditions (e.g. 补充收入证明); ``declined`` carries reasons.
- The customer may walk away until they sign: ``withdraw`` from every open status, ``contract_issued``
  included (the contract is not binding before the signature). ``declined``, ``withdrawn`` and
  ``signed`` are final: nothing leaves them.

Every move names an :class:`Actor` and may give a reason; the service records both (event table and
audit trail). An action that the status does not allow is an :class:`IllegalTransition` (HTTP 409).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from assistant.errors import Conflict, InvalidInput


class Status(StrEnum):
    """Where an application stands."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    CONTRACT_ISSUED = "contract_issued"
    SIGNED = "signed"


class Action(StrEnum):
    """What moves an application."""

    SUBMIT = "submit"
    START_REVIEW = "start_review"
    REQUEST_DOCUMENTS = "request_documents"
    APPROVE = "approve"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    ISSUE_CONTRACT = "issue_contract"
    SIGN = "sign"


S = Status
# action → (the statuses it may start from, the status it leads to). The whole policy is this table.
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.SUBMIT: (frozenset({S.DRAFT}), S.SUBMITTED),
    Action.START_REVIEW: (frozenset({S.SUBMITTED}), S.UNDER_REVIEW),
    Action.REQUEST_DOCUMENTS: (frozenset({S.SUBMITTED, S.UNDER_REVIEW}), S.UNDER_REVIEW),
    Action.APPROVE: (frozenset({S.UNDER_REVIEW}), S.APPROVED),
    Action.DECLINE: (frozenset({S.SUBMITTED, S.UNDER_REVIEW}), S.DECLINED),
    Action.WITHDRAW: (frozenset({S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.CONTRACT_ISSUED}),
                      S.WITHDRAWN),
    Action.ISSUE_CONTRACT: (frozenset({S.APPROVED}), S.CONTRACT_ISSUED),
    Action.SIGN: (frozenset({S.CONTRACT_ISSUED}), S.SIGNED),
}
FINAL = frozenset({S.DECLINED, S.WITHDRAWN, S.SIGNED})
OPEN = frozenset(Status) - FINAL

LABELS: dict[Status, tuple[str, str]] = {
    S.DRAFT: ("草稿（未提交）", "draft (not submitted)"),
    S.SUBMITTED: ("已提交，等待审核", "submitted, waiting for review"),
    S.UNDER_REVIEW: ("人工审核中", "under review by a credit officer"),
    S.APPROVED: ("审批通过", "approved"),
    S.DECLINED: ("未通过", "declined"),
    S.WITHDRAWN: ("已撤回", "withdrawn"),
    S.CONTRACT_ISSUED: ("合同已出具，待签署", "contract issued, waiting for signature"),
    S.SIGNED: ("合同已签署", "contract signed"),
}
ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.SUBMIT: ("提交", "submit"),
    Action.START_REVIEW: ("开始审核", "start the review"),
    Action.REQUEST_DOCUMENTS: ("要求补充材料", "request documents"),
    Action.APPROVE: ("批准", "approve"),
    Action.DECLINE: ("拒绝", "decline"),
    Action.WITHDRAW: ("撤回", "withdraw"),
    Action.ISSUE_CONTRACT: ("出具合同", "issue the contract"),
    Action.SIGN: ("签署", "sign"),
}

ActorKind = Literal["customer", "officer", "system", "partner"]


@dataclass(frozen=True)
class Actor:
    """Who moved the application: the customer, an officer (their id), the system, or a partner (key id)."""

    kind: ActorKind
    id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("customer", "officer", "system", "partner"):
            raise InvalidInput(f"未知的操作人类型：{self.kind}", f"unknown actor kind '{self.kind}'", field="actor")
        if self.kind in ("officer", "partner") and not self.id:
            raise InvalidInput("审核员或合作方操作须注明其编号", "an officer or partner actor needs an id",
                               field="actor")

    def label(self) -> str:
        """``officer:zhang01`` / ``customer`` (what the event row and the audit entry say)."""
        return f"{self.kind}:{self.id}" if self.id else self.kind


class IllegalTransition(Conflict):
    """An action the application's status does not allow."""

    code = "illegal_transition"


def next_status(current: Status | str, action: Action | str) -> Status:
    """The status ``action`` leads to from ``current``; IllegalTransition (409) when it is not allowed."""
    status = parse_status(current)
    act = parse_action(action)
    sources, target = TRANSITIONS[act]
    if status not in sources:
        zh_status, en_status = LABELS[status]
        zh_act, en_act = ACTION_LABELS[act]
        allowed = ", ".join(a.value for a in allowed_actions(status)) or "none"
        raise IllegalTransition(
            f"申请当前状态为“{zh_status}”，不能{zh_act}",
            f"cannot {en_act} an application that is {en_status} (allowed: {allowed})",
            field="status",
        )
    return target


def allowed_actions(current: Status | str) -> list[Action]:
    """The actions the status allows, in the table's order."""
    status = parse_status(current)
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


def parse_status(value: Status | str) -> Status:
    """A known status, or a 4xx listing them."""
    try:
        return Status(value)
    except ValueError:
        known = ", ".join(s.value for s in Status)
        raise InvalidInput(f"未知的申请状态：{value}（可选：{known}）", f"unknown status '{value}' (one of: {known})",
                           field="status") from None


def parse_action(value: Action | str) -> Action:
    """A known action, or a 4xx listing them."""
    try:
        return Action(value)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise InvalidInput(f"未知的操作：{value}（可选：{known}）", f"unknown action '{value}' (one of: {known})",
                           field="action") from None
