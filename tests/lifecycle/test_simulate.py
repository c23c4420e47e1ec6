"""The simulated book: reproducible, clearly labelled, realistic paths, consistent ground truth."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter

from sqlalchemy import func, select

from assistant.domain.catalogue import Catalogue
from assistant.lifecycle.ledger import DEFAULT_DPD, Instalment, Ledger, Payment
from assistant.lifecycle.simulate import SIM_LABEL_EN, SIM_LABEL_ZH, generate
from assistant.services import Services
from assistant.settings import Settings
from assistant.storage.loans import BookMetaRow, LoanRow, RepaymentEventRow, SimulationTruthRow, StressFlagRow
from tests.lifecycle.conftest import AS_OF


def _digest(catalogue: Catalogue, seed: int, as_of: dt.date) -> str:
    loans = generate(catalogue, 120, seed, as_of)
    rows = [[{k: v for k, v in x.loan.items() if k != "created_at"}, x.schedule, x.events, x.truth] for x in loans]
    blob = json.dumps(rows, default=str, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_same_seed_same_book_other_seed_other_book(services: Services) -> None:
    cat = services.catalogue
    assert _digest(cat, 9, AS_OF) == _digest(cat, 9, AS_OF)
    assert _digest(cat, 9, AS_OF) != _digest(cat, 10, AS_OF)


def test_generated_loans_are_consistent_with_the_money_core_and_the_truth(services: Services) -> None:
    loans = generate(services.catalogue, 400, 21, AS_OF)
    paths = Counter(x.truth["path"] for x in loans)
    assert set(paths) == {"on_time", "late", "cured", "default"}
    assert paths["on_time"] > len(loans) / 2  # most borrowers pay on time
    for x in loans:
        assert x.loan["id"].startswith("SIM-") and x.loan["simulated"] == 1 and x.loan["source"] == "simulated"
        assert sum(r["principal_fen"] for r in x.schedule) == x.loan["principal_fen"]
        assert x.schedule[-1]["balance_fen"] == 0
        assert all(e["paid_on"] <= AS_OF for e in x.events)  # the future only decides the ground truth
        led = Ledger([Instalment(r["period"], r["due_on"], r["payment_fen"], r["principal_fen"], r["interest_fen"],
                                 r["balance_fen"]) for r in x.schedule],
                     [Payment(e["paid_on"], e["amount_fen"]) for e in x.events])
        if x.truth["goes_bad"]:
            # going bad *later*: not yet 90+ days past due at as_of, and a path that ends in default
            assert led.max_dpd(x.loan["disbursed_on"], AS_OF) < DEFAULT_DPD
            assert x.truth["path"] == "default" and x.truth["bad_on"] > AS_OF
        if x.truth["bad_by_as_of"]:
            assert led.max_dpd(x.loan["disbursed_on"], AS_OF) >= DEFAULT_DPD


def test_book_in_the_database_is_labelled_simulated(sim_env: tuple[Settings, Services]) -> None:
    _, services = sim_env
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LoanRow).where(LoanRow.simulated == 0)) == 0
        assert s.scalar(select(func.count()).select_from(LoanRow)) == 600
        meta = {r.key: r.value for r in s.scalars(select(BookMetaRow))}
        assert meta["simulated_label"] == f"{SIM_LABEL_ZH} / {SIM_LABEL_EN}"
        assert meta["simulated_as_of"] == AS_OF.isoformat()
        assert s.scalar(select(func.count()).select_from(SimulationTruthRow)) == 600
        assert s.scalar(select(func.count()).select_from(RepaymentEventRow)) > 600 * 5
        assert {f.source for f in s.scalars(select(StressFlagRow))} == {"simulation"}
