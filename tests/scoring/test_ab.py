"""Champion / challenger assignment: deterministic by applicant id, configurable share, both scores kept."""

from __future__ import annotations

import pytest

from assistant.scoring.features import Applicant
from assistant.scoring.model import Scorer, assign_variant
from assistant.settings import Settings

from .conftest import BASE


def test_assignment_is_stable_for_an_id() -> None:
    ids = [f"applicant-{i}" for i in range(200)]
    first = [assign_variant(i, 0.3) for i in ids]
    assert first == [assign_variant(i, 0.3) for i in ids]
    assert {"champion", "challenger"} == set(first)


def test_share_bounds_and_no_id() -> None:
    assert all(assign_variant(f"x{i}", 0.0) == "champion" for i in range(100))
    assert all(assign_variant(f"x{i}", 1.0) == "challenger" for i in range(100))
    assert assign_variant(None, 0.9) == "champion"
    assert assign_variant("", 0.9) == "champion"


@pytest.mark.parametrize("share", [0.1, 0.2, 0.5])
def test_realised_share_matches_the_setting(share: float) -> None:
    n = 20000
    realised = sum(assign_variant(f"id-{i}", share) == "challenger" for i in range(n)) / n
    assert abs(realised - share) < 4 * (share * (1 - share) / n) ** 0.5 + 1e-9


def test_raising_the_share_only_moves_ids_towards_the_challenger() -> None:
    ids = [f"c{i}" for i in range(2000)]
    small = {i for i in ids if assign_variant(i, 0.1) == "challenger"}
    large = {i for i in ids if assign_variant(i, 0.3) == "challenger"}
    assert small <= large


def test_both_scores_recorded_and_swapped_by_arm(scorer: Scorer) -> None:
    applicant = Applicant(**BASE, has_delinquency=True)
    ids = [f"ab-{i}" for i in range(50)]
    challenger_id = next(i for i in ids if assign_variant(i, scorer.challenger_share) == "challenger")
    champion_id = next(i for i in ids if assign_variant(i, scorer.challenger_share) == "champion")
    a = scorer.score(applicant, challenger_id)
    b = scorer.score(applicant, champion_id)
    assert (a.served.variant, a.shadow.variant) == ("challenger", "champion")
    assert (b.served.variant, b.shadow.variant) == ("champion", "challenger")
    assert a.served.probability_of_default == pytest.approx(b.shadow.probability_of_default)
    assert a.shadow.probability_of_default == pytest.approx(b.served.probability_of_default)


def test_share_comes_from_settings(tmp_path: object) -> None:
    from assistant.services import Services

    settings = Settings(data_dir=tmp_path, challenger_share=1.0, _env_file=None)  # type: ignore[arg-type, call-arg]
    result = Services(settings).scorer.score(Applicant(**BASE), "anyone")
    assert result.served.variant == "challenger"
