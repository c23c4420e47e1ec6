"""Fixtures for the scoring tests: the shipped scorer (loaded once) and a PD helper."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.scoring.features import Applicant, applicant_features
from assistant.scoring.model import Scorer
from assistant.settings import Settings

# A plain applicant: only the four required fields.
BASE: dict[str, object] = {"monthly_income": 12000, "loan_amount": 120000, "vehicle_price": 180000,
                           "term_months": 36}


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    """The scorer on the committed artifacts (what the service loads)."""
    return Scorer(Settings(_env_file=None).models_dir / "scoring", challenger_share=0.2)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def pd_for(scorer: Scorer) -> Callable[..., float]:
    """``pd_for(variant, **fields)``: one model's calibrated PD for BASE updated with ``fields``."""

    def compute(variant: str, **fields: object) -> float:
        applicant = Applicant.model_validate({**BASE, **fields})
        features, assumed = applicant_features(applicant)
        return scorer.assess(variant, features, assumed, explain=False).probability_of_default  # type: ignore[arg-type]

    return compute
