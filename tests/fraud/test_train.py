"""Fitting: non-negative weights, thresholds that meet their targets on the data they were chosen on."""

from __future__ import annotations

import json
import shutil

from assistant.fraud import train
from assistant.fraud.files import load_model
from assistant.fraud.signals import REASON_CODES
from assistant.fraud.synthetic import write_set


def test_fit_keeps_weights_non_negative_and_learns_the_informative_code():
    # DOC_EDITED always means fraud; with INCOME_VS_AGE the fraud rate (1 in 41) is below the rest's
    # (20 in 200), so an unconstrained fit would give it a negative weight.
    codes = [["DOC_EDITED"]] * 30 + [[]] * 200 + [["INCOME_VS_AGE"]] * 41
    labels = [1] * 30 + [1] * 20 + [0] * 180 + [1] + [0] * 40
    intercept, weights = train.fit(codes, labels)
    assert set(weights) == set(REASON_CODES) and all(w >= 0 for w in weights.values())
    assert weights["DOC_EDITED"] > 2 and weights["INCOME_VS_AGE"] == 0 and -2.5 < intercept < -1.8


def test_thresholds_meet_their_targets():
    scores = [0.9] * 20 + [0.6] * 10 + [0.6] * 5 + [0.3] * 4 + [0.1] * 100
    labels = [1] * 20 + [1] * 10 + [0] * 5 + [1] * 4 + [0] * 100
    review_at, decline_at = train.thresholds(scores, labels)
    assert decline_at == 0.75  # 0.9 alone is 100 % precise; adding 0.6 drops to 30 / 35
    assert review_at == 0.2  # ≥ 0.3 sends 5 of 105 genuine (4.8 %) to review; ≥ 0.1 would send all


def test_training_on_a_generated_set_writes_a_loadable_model(tmp_path):
    write_set(tmp_path / "data", seed=7)
    out = tmp_path / "weights.json"
    model = train.train(tmp_path / "data", out)
    loaded = load_model(out)
    assert loaded.version == model["version"] and loaded.fitted["n"] == json.loads(out.read_text())["fitted"]["n"]
    shutil.rmtree(tmp_path / "data")
