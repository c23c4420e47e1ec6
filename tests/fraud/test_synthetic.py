"""The synthetic set: deterministic from its seed, the shipped files are its output, groups never split."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from assistant.fraud.models import FraudInput, PriorApplication
from assistant.fraud.synthetic import PATTERNS, SEED, generate, serialise
from assistant.settings import Settings


@pytest.fixture(scope="module")
def generated():
    return generate(SEED)


def test_same_seed_same_set_other_seed_other_set(generated):
    cases, lists = generated
    again, lists_again = generate(SEED)
    assert serialise(cases) == serialise(again) and lists == lists_again
    other, _ = generate(SEED + 1)
    assert serialise(other) != serialise(cases)


def test_the_shipped_files_are_what_the_seed_generates(generated):
    folder = Settings(_env_file=None).resources_dir / "eval" / "fraud"  # type: ignore[call-arg]
    for split, text in serialise(generated[0]).items():
        assert (folder / f"{split}.jsonl").read_text(encoding="utf-8") == text


def test_every_case_is_a_valid_application_with_valid_priors(generated):
    for case in generated[0]:
        app = FraudInput.model_validate(case["application"])
        assert app.down_payment + app.loan_amount >= 0 and case["label"] in ("fraud", "genuine")
        for p in case["priors"]:
            assert PriorApplication.model_validate(p).created_at < app.created_at


def test_groups_stay_in_one_split_and_every_pattern_is_in_both(generated):
    cases = generated[0]
    splits = defaultdict(set)
    for case in cases:
        splits[case["group"]].add(case["split"])
    assert all(len(s) == 1 for s in splits.values())
    by_split = {split: Counter(c["pattern"] for c in cases if c["split"] == split) for split in ("train", "test")}
    for split, counts in by_split.items():
        assert set(counts) == set(PATTERNS), split
    share = sum(c["split"] == "train" for c in cases) / len(cases)
    assert 0.6 < share < 0.8


def test_labels_follow_the_pattern_table(generated):
    for case in generated[0]:
        label, hard, _ = PATTERNS[case["pattern"]]
        assert (case["label"], case["hard"]) == (label, hard)


def test_genuine_applicants_look_like_car_buyers(generated):
    genuine = [FraudInput.model_validate(c["application"]) for c in generated[0] if c["pattern"] == "genuine"]
    new = [a for a in genuine if not a.used_vehicle]
    assert all(45_000 <= a.vehicle_price <= 500_000 for a in new)
    assert all(0 <= a.down_payment / a.vehicle_price <= 0.51 for a in new)
    assert all(a.loan_amount <= a.vehicle_price for a in genuine)
    kinds = Counter(a.employment_type.value for a in genuine)
    assert kinds.most_common(1)[0][0] == "fixed" and len(kinds) == 5
