"""The runtime scorer: artifacts, contributions, calibration, integrity checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.errors import ConfigurationError
from assistant.scoring.features import Applicant, applicant_features
from assistant.scoring.model import Calibration, Scorer
from assistant.settings import Settings

from .conftest import BASE


def scorer_dir(_scorer: Scorer) -> Path:
    """Where the shipped artifacts live."""
    return Settings(_env_file=None).models_dir / "scoring"  # type: ignore[call-arg]


def test_scorecard_contributions_sum_to_its_log_odds(scorer: Scorer) -> None:
    features, _ = applicant_features(Applicant(**BASE, has_delinquency=True, age=25))
    contributions = scorer.scorecard.contributions(features)
    assert set(contributions) == set(scorer.scorecard.features)
    assert scorer.scorecard.log_odds(features) == pytest.approx(
        scorer.scorecard.intercept + sum(contributions.values()))


def test_challenger_contributions_sum_to_its_raw_score(scorer: Scorer) -> None:
    features, _ = applicant_features(Applicant(**BASE, home_status="rent", debt=50000))
    total, per_feature = scorer.challenger.contributions(features)
    assert set(per_feature) == set(scorer.challenger.feature_order)
    assert total == pytest.approx(scorer.challenger.log_odds(features), abs=1e-9)


def test_scorecard_coefficients_are_non_negative(scorer: Scorer) -> None:
    spec = json.loads((Path(scorer_dir(scorer)) / "scorecard.json").read_text())
    assert all(f["coef"] >= 0 for f in spec["features"])


def test_calibration_is_increasing(scorer: Scorer) -> None:
    for calibration in scorer.calibration.values():
        assert calibration.a > 0
        assert calibration.pd(-1.0) < calibration.pd(0.0) < calibration.pd(1.0)
    assert Calibration(1.0, 0.0).pd(0.0) == 0.5


def test_versions_name_the_artifact_content(scorer: Scorer) -> None:
    assert scorer.versions["champion"] == f"scorecard-{scorer.manifest['champion']['sha256'][:12]}"
    assert scorer.versions["challenger"].startswith("lgbm-")


def test_edited_artifact_is_refused(scorer: Scorer, tmp_path: Path) -> None:
    target = tmp_path / "scoring"
    shutil.copytree(scorer_dir(scorer), target)
    card = json.loads((target / "scorecard.json").read_text())
    card["intercept"] += 1.0
    (target / "scorecard.json").write_text(json.dumps(card))
    with pytest.raises(ConfigurationError):
        Scorer(target)


def test_missing_artifacts_are_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        Scorer(tmp_path)
    assert "train scoring" in info.value.message


def test_score_returns_served_and_shadow(scorer: Scorer) -> None:
    result = scorer.score(Applicant(**BASE), applicant_id=None)
    assert result.served.variant == "champion" and result.shadow.variant == "challenger"
    assert 0.0 < result.served.probability_of_default < 1.0
    assert 0.0 < result.shadow.probability_of_default < 1.0
    assert result.served.factors and result.shadow.factors == []


def test_cli_and_eval_suite_are_wired() -> None:
    from assistant.cli import build_parser
    from assistant.evals import suites

    args = build_parser().parse_args(["train", "scoring", "--models-dir", "/tmp/x"])
    assert args.models_dir == "/tmp/x" and callable(args.handler)
    assert "scoring" in suites()
