"""``eval fraud`` runs end to end on a small sample and its figures add up."""

from __future__ import annotations

from assistant.evals import fraud as ev
from assistant.evals import suites
from assistant.fraud.synthetic import load_cases


def test_fraud_is_a_suite():
    assert "fraud" in suites()


def test_the_eval_runs_on_a_sample(settings, capsys):
    cases = load_cases(ev.data_dir(settings) / "test.jsonl")[:150]
    figures = ev.run(settings, cases=cases, check_files=False)
    out = capsys.readouterr().out
    assert "review_or_decline" in out and "false-positive rate, genuine hard cases" in out
    assert figures["n"] == 150 and sum(figures["decisions"].values()) == 150
    d = figures["decline"]
    assert d["tp"] + d["fn"] == figures["fraud"] and 0 <= d["precision"] <= 1
    # Flagging for review is a superset of declining.
    assert figures["review_or_decline"]["tp"] >= d["tp"]
    assert set(figures["patterns"]) == {c["pattern"] for c in cases}


def test_precision_at_a_lower_fraud_share_is_lower():
    f = {"tp": 50, "fp": 10, "recall": 0.5}
    assert ev._at_share(f, genuine=100, share=0.5) > ev._at_share(f, genuine=100, share=0.02)


def test_no_false_positive_still_bounds_the_rate_above_zero():
    assert 0.003 < ev._fpr_upper(0, 854) < 0.006  # close to the rule of three, 3 / 854
    assert ev._fpr_upper(10, 100) > 0.1
