"""Collection strategy: bucket (M0–M3+) × willingness / ability to pay → action, under conduct rules.

Conduct rules (knowledge_base/policies/collection-conduct.md; enforced here, proved in tests):

- contact only between 08:00 and 21:00 China time (a contact must *start* before 21:00);
- at most 3 calls a day to a borrower (every attempt counts), at most 2 text reminders a day;
- the debt is discussed with the borrower (and a co-borrower) only — never with relatives, colleagues,
  employers or emergency contacts; an emergency contact may only be asked to pass on a request to call
  back, in a message that says nothing about the debt;
- no threats, insults, impersonation of police / courts, or exposure of private life in any message:
  every template is checked by :func:`threat_findings`, and so is any free text before it is sent.

Willingness and ability come from the repayment history (on-time record, partial payments, promises
kept or broken, reachability) and from what the customer says in the chat ("下周发工资就还" vs "失业了"
vs "不还了"). The chat's repayment-trouble flow shows the *customer* side of a plan: empathy, real
options priced by the money core with their APR, and the real consequences for credit reporting.

Package map: ``models`` (actions, segments, profiles, options, plans), ``messages`` (templates and the
threat check), ``conduct`` (contact hours, caps, third parties), ``strategy`` (willingness / ability →
action), ``options`` (repayment options and consequences), ``desk`` (:class:`CollectionDesk`: plans and the
contact log in the database).
"""

from assistant.lifecycle.collections.conduct import (
    CHANNELS,
    CONTACT_END,
    CONTACT_START,
    DEBT_PARTIES,
    MAX_CALLS_PER_DAY,
    MAX_MESSAGES_PER_DAY,
    TEXT_CHANNELS,
    check_contact,
    local,
    next_allowed,
    within_contact_hours,
)
from assistant.lifecycle.collections.desk import CollectionDesk
from assistant.lifecycle.collections.messages import HOTLINE, TEMPLATES, mentions_debt, render, threat_findings
from assistant.lifecycle.collections.models import (
    ACTION_CONTACT,
    ACTION_ZH,
    SEGMENT_ZH,
    Action,
    CollectionPlan,
    ContactStats,
    Evidence,
    PayerProfile,
    PlannedAction,
    RepaymentOption,
    Segment,
    Violation,
)
from assistant.lifecycle.collections.options import (
    PENALTY_MULTIPLIER,
    USED_CAR_MAX_TERM,
    consequences,
    consequences_for,
    contract_rate,
    repayment_options,
)
from assistant.lifecycle.collections.strategy import (
    LEGAL_MIN_DPD,
    STRATEGY,
    action_for_warning,
    actions_for,
    conversation_evidence,
    profile,
)

__all__ = [
    "ACTION_CONTACT",
    "ACTION_ZH",
    "CHANNELS",
    "CONTACT_END",
    "CONTACT_START",
    "DEBT_PARTIES",
    "HOTLINE",
    "LEGAL_MIN_DPD",
    "MAX_CALLS_PER_DAY",
    "MAX_MESSAGES_PER_DAY",
    "PENALTY_MULTIPLIER",
    "SEGMENT_ZH",
    "STRATEGY",
    "TEMPLATES",
    "TEXT_CHANNELS",
    "USED_CAR_MAX_TERM",
    "Action",
    "CollectionDesk",
    "CollectionPlan",
    "ContactStats",
    "Evidence",
    "PayerProfile",
    "PlannedAction",
    "RepaymentOption",
    "Segment",
    "Violation",
    "action_for_warning",
    "actions_for",
    "check_contact",
    "consequences",
    "consequences_for",
    "contract_rate",
    "conversation_evidence",
    "local",
    "mentions_debt",
    "next_allowed",
    "profile",
    "render",
    "repayment_options",
    "threat_findings",
    "within_contact_hours",
]
