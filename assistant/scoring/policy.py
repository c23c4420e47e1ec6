"""Score scale, grades and decision bands: the one place where the lender's risk appetite is written down.

Probability of default (PD) → points on the usual log-odds scale:

    points = BASE_POINTS + PDO / ln 2 × (ln(odds) − ln(BASE_ODDS)),   odds = (1 − PD) / PD  (good : bad)

so an applicant at odds 20 : 1 (PD ≈ 4.8 %) scores 600 and every halving of the odds costs 50 points.

Grades are PD bands, decisions follow the grade. ``review`` always means a person (a credit officer)
looks at the application before anything is decided; ``decline`` can also be sent to a person on request
(PIPL Art. 24: the applicant may refuse a purely automated decision). The system never declines on
assumed facts: when any optional field was filled with a default, a grade-E applicant goes to review.
"""

from __future__ import annotations

import math
from typing import Literal

Decision = Literal["approve", "review", "decline"]
Grade = Literal["A", "B", "C", "D", "E"]

BASE_POINTS = 600
BASE_ODDS = 20.0  # good : bad at BASE_POINTS
PDO = 50.0  # points to double the odds
_FACTOR = PDO / math.log(2)
_OFFSET = BASE_POINTS - _FACTOR * math.log(BASE_ODDS)

# Upper PD bound (exclusive) of each grade; E takes the rest. Chosen on the training population
# (28 % bad): see eval/scoring/model_card.md for each grade's share and observed bad rate.
GRADE_UPPER_PD: tuple[tuple[Grade, float], ...] = (
    ("A", 0.08),
    ("B", 0.15),
    ("C", 0.25),
    ("D", 0.45),
)
DECISION_BY_GRADE: dict[Grade, Decision] = {"A": "approve", "B": "approve", "C": "review", "D": "review",
                                             "E": "decline"}

_PD_FLOOR = 1e-4  # keeps points finite; no model here can tell 0.01 % from 0.001 %

MESSAGES: dict[Decision, tuple[str, str]] = {
    "approve": (
        "初步评估通过，最终以征信查询和材料核验为准。",
        "Pre-assessment passed; final approval depends on the credit-bureau check and document verification.",
    ),
    "review": (
        "需要人工审核：信贷专员会人工复核您的申请，不会由系统自动拒绝。",
        "Needs review: a credit officer (a person) will look at this application; "
        "the system will not decide it automatically.",
    ),
    "decline": (
        "系统初评未通过。您有权要求说明理由并申请人工复核。",
        "The automated pre-assessment did not pass. You may ask for an explanation and for a human review.",
    ),
}


def points(probability_of_default: float) -> int:
    """Score points for a PD (higher is safer), rounded to an integer."""
    p = min(max(probability_of_default, _PD_FLOOR), 1.0 - _PD_FLOOR)
    return round(_OFFSET + _FACTOR * math.log((1.0 - p) / p))


def grade(probability_of_default: float) -> Grade:
    """The grade A (safest) … E of a PD."""
    for name, upper in GRADE_UPPER_PD:
        if probability_of_default < upper:
            return name
    return "E"


def decision(grade_: Grade, complete: bool = True) -> Decision:
    """approve / review / decline for a grade; ``complete`` is False when a default was assumed."""
    chosen = DECISION_BY_GRADE[grade_]
    if chosen == "decline" and not complete:
        return "review"
    return chosen


ASSUMED_NOTE = (
    "部分信息按默认值估算，系统不会据此自动拒绝。",
    "Some fields were assumed, so the system will not decline automatically on them.",
)


def message(decision_: Decision, grade_: Grade | None = None) -> str:
    """What the decision means for the applicant, Chinese first (notes a decline turned into a review)."""
    zh, en = MESSAGES[decision_]
    if decision_ == "review" and grade_ is not None and DECISION_BY_GRADE[grade_] == "decline":
        zh, en = f"{zh}{ASSUMED_NOTE[0]}", f"{en} {ASSUMED_NOTE[1]}"
    return f"{zh} / {en}"


def describe() -> dict[str, object]:
    """The scale and bands as data (model card, API docs)."""
    bands = []
    lower = 0.0
    for name, upper in (*GRADE_UPPER_PD, ("E", 1.0)):
        bands.append({"grade": name, "pd_from": lower, "pd_to": upper, "decision": DECISION_BY_GRADE[name],
                      "points_from": points(upper) if upper < 1.0 else None, "points_to": points(lower)
                      if lower > 0 else None})
        lower = upper
    return {"base_points": BASE_POINTS, "base_odds_good_to_bad": BASE_ODDS, "pdo": PDO, "bands": bands}
