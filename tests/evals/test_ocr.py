"""The OCR eval's plan: every kind at every noise level, reported on seeds the parser was not tuned on."""

from __future__ import annotations

from collections import Counter

from assistant.evals import suites
from assistant.evals.ocr import NOISE_LEVELS, REPORT_SEEDS, TUNE_SEEDS, card_plan
from assistant.intake.cards import CARD_KINDS


def test_the_plan_covers_every_kind_and_noise_level_evenly() -> None:
    plan = card_plan(REPORT_SEEDS)
    assert len(plan) == 60
    counts = Counter((kind, noise) for _seed, kind, noise in plan)
    assert set(counts) == {(kind, noise) for kind in CARD_KINDS for noise in range(NOISE_LEVELS)}
    assert set(counts.values()) == {5}


def test_reported_seeds_are_not_the_tuning_seeds() -> None:
    assert not set(REPORT_SEEDS) & set(TUNE_SEEDS)
    assert "ocr" in suites()
