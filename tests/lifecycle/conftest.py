"""Fixtures for the loan-lifecycle tests: a fixed clock, a small hand-made loan, a simulated book."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.lifecycle.book import IssueLoan, LoanBook, VehicleInfo
from assistant.lifecycle.monitoring import run_monitor
from assistant.lifecycle.simulate import simulate_book
from assistant.services import Services
from assistant.settings import Settings

AS_OF = dt.date(2026, 11, 20)
DISBURSED = dt.date(2026, 1, 15)  # instalments due on the 15th, Feb 2026 … Jan 2028


@pytest.fixture
def book(services: Services) -> LoanBook:
    """The services' loan book with the clock fixed at AS_OF."""
    loans = services.loans
    loans.today = lambda: AS_OF
    return loans


def issue(book: LoanBook, loan_id: str = "L1", customer_id: str = "C1", *, principal: str = "100000",
          rate: str = "0.045", term: int = 24, disbursed: dt.date = DISBURSED, condition: str = "new",
          grade: str = "B") -> str:
    """Book a plain loan (bank_auto_loan terms) and return its id."""
    book.issue_loan(IssueLoan(
        loan_id=loan_id, customer_id=customer_id, product_id="bank_auto_loan", principal=Decimal(principal),
        annual_rate=Decimal(rate), term_months=term, grade=grade, region="上海", industry="it",
        disbursed_on=disbursed,
        vehicle=VehicleInfo(brand="丰田", series="凯美瑞", condition=condition, energy_type="ice",  # type: ignore[arg-type]
                            vehicle_price=Decimal("180000")),
    ))
    return loan_id


def pay_schedule(book: LoanBook, loan_id: str, periods: range, *, late_days: int = 0, prefix: str = "E") -> None:
    """Pay instalments ``periods`` (1-based) in full, ``late_days`` after each due date."""
    with book.sessions() as s:
        led = book.load_ledgers(s, [loan_id])[loan_id]
    events = [{"event_id": f"{prefix}{loan_id}-{p}", "loan_id": loan_id,
               "paid_on": led.instalments[p - 1].due_on + dt.timedelta(days=late_days),
               "amount": Decimal(led.instalments[p - 1].amount) / 100} for p in periods]
    report = book.record_repayments(events)
    assert report.applied == len(events), report.records


@pytest.fixture(scope="session")
def sim_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Services]]:
    """A 600-loan simulated book, monitored once at AS_OF (shared by the session: read-only)."""
    data: Path = tmp_path_factory.mktemp("lifecycle-sim")
    settings = Settings(data_dir=data, api_keys=["test-key", "narrow:score"], rate_limit_per_minute=100_000,
                        _env_file=None)  # type: ignore[call-arg]
    services = Services(settings)
    services.loans.today = lambda: AS_OF
    simulate_book(services.sessions, services.catalogue, n_loans=600, seed=5, as_of=AS_OF,
                  refresh=lambda: services.loans.refresh_states(as_of=AS_OF))
    run_monitor(services.loans, models_dir=settings.models_dir, as_of=AS_OF)
    yield settings, services


@pytest.fixture(scope="session")
def sim_client(sim_env: tuple[Settings, Services]) -> TestClient:
    """An HTTP client on the simulated book (no lifespan: these routes need no warm-up, e.g. the KB index)."""
    settings, services = sim_env
    return TestClient(create_app(settings, services))


@pytest.fixture
def api(settings: Settings, services: Services, book: LoanBook) -> TestClient:
    """An HTTP client on a fresh, empty book (clock fixed at AS_OF; no lifespan)."""
    return TestClient(create_app(settings, services))
