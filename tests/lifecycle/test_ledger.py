"""The ledger: days past due, arrears, payment windows — and independence from arrival order."""

from __future__ import annotations

import datetime as dt
import random

from assistant.lifecycle.ledger import Instalment, Ledger, Payment, add_months, bucket_of, months_between

D = dt.date


def _schedule(n: int = 6, amount: int = 100_000) -> list[Instalment]:
    # 6 instalments of 1,000.00 yuan due on the 10th; interest 100.00 each, principal 900.00
    return [Instalment(k, D(2026, k, 10), amount, amount - 10_000, 10_000, (n - k) * (amount - 10_000))
            for k in range(1, n + 1)]


def test_buckets() -> None:
    assert [bucket_of(d) for d in (0, 1, 30, 31, 60, 61, 400)] == ["M0", "M1", "M1", "M2", "M2", "M3+", "M3+"]


def test_dpd_counts_from_the_oldest_unpaid_due_date() -> None:
    led = Ledger(_schedule(), [Payment(D(2026, 1, 10), 100_000)])
    assert led.dpd(D(2026, 2, 10)) == 0  # due today: not yet past due
    assert led.dpd(D(2026, 2, 11)) == 1
    assert led.dpd(D(2026, 3, 15)) == 33  # February's instalment still the oldest unpaid
    assert led.arrears(D(2026, 3, 15)) == 200_000
    assert bucket_of(led.dpd(D(2026, 3, 15))) == "M2"


def test_partial_payment_pays_interest_first_and_leaves_the_instalment_overdue() -> None:
    led = Ledger(_schedule(), [Payment(D(2026, 1, 10), 100_000), Payment(D(2026, 2, 10), 40_000)])
    day = D(2026, 2, 20)
    assert led.dpd(day) == 10
    assert led.arrears(day) == 60_000
    # of the 400.00 paid towards February, 100.00 is interest, 300.00 principal
    assert led.outstanding_principal(day) == 5 * 90_000 - 30_000
    assert led.window_status(1) == "partial"


def test_window_status_full_partial_missed_and_catch_up() -> None:
    payments = [Payment(D(2026, 1, 9), 100_000), Payment(D(2026, 3, 12), 200_000), Payment(D(2026, 4, 10), 50_000)]
    led = Ledger(_schedule(), payments)
    assert [led.window_status(i) for i in range(4)] == ["full", "missed", "full", "partial"]
    b = led.behaviour(D(2026, 4, 20), D(2025, 12, 10))
    assert (b.missed_6m, b.partial_6m, b.missed_3m, b.partial_3m) == (1, 1, 1, 1)
    assert b.dpd == 10 and b.periods_paid == 3


def test_allocation_does_not_depend_on_arrival_order() -> None:
    payments = [Payment(D(2026, k, 10 + k), 100_000, f"e{k}") for k in range(1, 6)]
    reference = Ledger(_schedule(), payments).behaviour(D(2026, 6, 30), D(2025, 12, 10))
    rng = random.Random(3)
    for _ in range(5):
        shuffled = payments[:]
        rng.shuffle(shuffled)
        assert Ledger(_schedule(), shuffled).behaviour(D(2026, 6, 30), D(2025, 12, 10)) == reference


def test_lateness_drift_and_max_dpd() -> None:
    payments = [Payment(D(2026, k, 10 + (0 if k <= 3 else 8)), 100_000) for k in range(1, 7)]
    led = Ledger(_schedule(), payments)
    b = led.behaviour(D(2026, 6, 30), D(2025, 12, 10))
    assert b.late_days_before == 0 and b.late_days_recent == 8 and b.lateness_drift == 8
    assert b.max_dpd_12m == 7 and b.dpd == 0  # DPD is end-of-day: on the 8th day the payment has arrived


def test_first_dpd_reaching_and_settlement() -> None:
    led = Ledger(_schedule(3), [Payment(D(2026, 1, 10), 100_000)])
    assert led.first_dpd_reaching(90, D(2026, 1, 1), D(2026, 12, 31)) == D(2026, 2, 10) + dt.timedelta(days=90)
    paid = Ledger(_schedule(3), [Payment(D(2026, 3, 1), 300_000)])
    assert paid.settled_on() == D(2026, 3, 1)
    assert paid.outstanding_principal(D(2026, 3, 1)) == 0


def test_month_arithmetic_clamps_to_the_month_end() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2027, 12, 31), 2) == D(2028, 2, 29)
    assert add_months(D(2026, 3, 15), -3) == D(2025, 12, 15)
    assert months_between(D(2026, 1, 15), D(2026, 11, 14)) == 9
