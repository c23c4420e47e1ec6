"""Score scale, grade bands and decisions (the one place they are configured)."""

from __future__ import annotations

import pytest

from assistant.scoring import policy


def test_points_scale_base_and_pdo() -> None:
    base_pd = 1 / (1 + policy.BASE_ODDS)  # odds 20:1
    assert policy.points(base_pd) == policy.BASE_POINTS
    doubled = 1 / (1 + 2 * policy.BASE_ODDS)  # odds 40:1 → +PDO
    assert policy.points(doubled) == policy.BASE_POINTS + policy.PDO
    halved = 1 / (1 + policy.BASE_ODDS / 2)
    assert policy.points(halved) == policy.BASE_POINTS - policy.PDO


def test_points_fall_as_pd_rises_and_stay_finite() -> None:
    pds = [0.0, 1e-6, 0.01, 0.05, 0.1, 0.3, 0.5, 0.9, 1.0]
    scores = [policy.points(p) for p in pds]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(s, int) for s in scores)


@pytest.mark.parametrize(
    ("pd", "grade", "decision"),
    [(0.0, "A", "approve"), (0.0799, "A", "approve"), (0.08, "B", "approve"), (0.1499, "B", "approve"),
     (0.15, "C", "review"), (0.2499, "C", "review"), (0.25, "D", "review"), (0.4499, "D", "review"),
     (0.45, "E", "decline"), (0.99, "E", "decline")],
)
def test_grade_bands_and_decisions(pd: float, grade: str, decision: str) -> None:
    assert policy.grade(pd) == grade
    assert policy.decision(policy.grade(pd)) == decision


def test_no_automated_decline_on_assumed_facts() -> None:
    assert policy.decision("E", complete=False) == "review"
    assert policy.decision("A", complete=False) == "approve"
    assert "默认值" in policy.message("review", "E")


def test_review_means_a_person_looks_and_decline_offers_one() -> None:
    review = policy.message("review")
    assert "人工" in review and "person" in review
    decline = policy.message("decline")
    assert "人工复核" in decline and "human review" in decline


def test_describe_bands_cover_zero_to_one() -> None:
    bands = policy.describe()["bands"]
    assert [b["grade"] for b in bands] == ["A", "B", "C", "D", "E"]  # type: ignore[index]
    assert bands[0]["pd_from"] == 0.0 and bands[-1]["pd_to"] == 1.0  # type: ignore[index]
