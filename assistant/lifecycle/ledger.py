"""A loan's schedule set against its repayments: days past due, arrears, behaviour (pure, no I/O).

Payments are allocated oldest instalment first (interest before principal inside an instalment), and
the allocation is recomputed from *all* events sorted by payment date, so the order in which events
arrive never changes the result: a late-arriving event dated last month is simply placed last month.

Amounts are integer fen. Days past due (DPD) count from the day after the due date of the oldest
instalment not yet fully paid; the 3-day grace period (knowledge_base/policies/overdue-consequences.md)
matters for penalty interest and credit reporting, not for DPD itself.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

GRACE_DAYS = 3  # house rule: paid within 3 days of the due date → no penalty, not reported
DEFAULT_DPD = 90  # the default definition used for ground truth and the model's target
BUCKETS: tuple[str, ...] = ("M0", "M1", "M2", "M3+")
FULL_SHARE = 0.98  # a window's receipts at ≥ 98 % of the instalment count as paid in full (rounding, fees)


def bucket_of(dpd: int) -> str:
    """Delinquency bucket: M0 current, M1 1–30, M2 31–60, M3+ over 60 days past due."""
    if dpd <= 0:
        return "M0"
    if dpd <= 30:
        return "M1"
    if dpd <= 60:
        return "M2"
    return "M3+"


@dataclass(frozen=True, slots=True)
class Instalment:
    """One scheduled instalment (fen)."""

    period: int
    due_on: dt.date
    amount: int
    principal: int
    interest: int
    balance: int


@dataclass(frozen=True, slots=True)
class Payment:
    """One repayment received (fen)."""

    paid_on: dt.date
    amount: int
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Repayment-behaviour features of a loan at a date (what rules and the model read)."""

    as_of: dt.date
    dpd: int
    dpd_30d_ago: int
    dpd_60d_ago: int
    max_dpd_12m: int
    arrears: int
    outstanding_principal: int
    paid_total: int
    periods_due: int
    periods_paid: int
    missed_3m: int
    partial_3m: int
    missed_6m: int
    partial_6m: int
    consecutive_missed: int
    paid_ratio_3m: float
    late_days_recent: float  # mean lateness of the last 3 instalments due
    late_days_before: float  # mean lateness of the 3 before those
    months_on_book: int
    next_due_on: dt.date | None
    next_due_amount: int | None
    last_paid_on: dt.date | None

    @property
    def bucket(self) -> str:
        """The delinquency bucket today."""
        return bucket_of(self.dpd)

    @property
    def dpd_trend(self) -> int:
        """Change in DPD over the last 30 days (positive = getting worse)."""
        return self.dpd - self.dpd_30d_ago

    @property
    def lateness_drift(self) -> float:
        """How much later the recent instalments were paid than the ones before (days)."""
        return self.late_days_recent - self.late_days_before


ScheduleTuple = tuple[int, dt.date, int, int, int, int]  # period, due_on, amount, principal, interest, balance
PaymentTuple = tuple[dt.date, int, str]  # paid_on, amount, event_id


class Ledger:
    """A loan's instalments against its payments (held as columns: a book is tens of thousands of rows)."""

    def __init__(self, instalments: Sequence[Instalment], payments: Iterable[Payment]) -> None:
        self._setup([(i.period, i.due_on, i.amount, i.principal, i.interest, i.balance) for i in instalments],
                    [(p.paid_on, p.amount, p.event_id) for p in payments])

    @classmethod
    def from_rows(cls, schedule: list[ScheduleTuple], payments: list[PaymentTuple]) -> Ledger:
        """From plain tuples, as the book loads them in bulk (no per-row objects)."""
        ledger = cls.__new__(cls)
        ledger._setup(schedule, payments)
        return ledger

    def _setup(self, schedule: list[ScheduleTuple], payments: list[PaymentTuple]) -> None:
        if not schedule:
            raise ValueError("a loan needs at least one instalment")
        schedule.sort()  # by period
        self._rows = schedule
        _, due, amounts, principals, interests, balances = zip(*schedule, strict=True)
        self.due_dates: list[dt.date] = list(due)
        self.amounts: list[int] = list(amounts)
        self.principals: list[int] = list(principals)
        self.interests: list[int] = list(interests)
        self.balances: list[int] = list(balances)
        self.cum_due = list(accumulate(amounts))
        payments.sort(key=lambda p: (p[0], p[2]))  # by date; the event id breaks ties deterministically
        self.pay_dates: list[dt.date] = [p[0] for p in payments]
        self.cum_paid = list(accumulate(p[1] for p in payments))
        self.principal = sum(principals)

    @property
    def instalments(self) -> list[Instalment]:
        """The schedule as objects (for display; the calculations use the columns)."""
        return [Instalment(*row) for row in self._rows]

    # --- primitives --------------------------------------------------------------------------------
    @property
    def total_due(self) -> int:
        """Everything the schedule asks for (principal + interest)."""
        return self.cum_due[-1]

    def paid_by(self, day: dt.date) -> int:
        """Received on or before ``day``."""
        idx = bisect_right(self.pay_dates, day)
        return self.cum_paid[idx - 1] if idx else 0

    def due_before(self, day: dt.date) -> int:
        """Instalments whose due date is before ``day`` (overdue if unpaid on ``day``)."""
        idx = bisect_left(self.due_dates, day)
        return self.cum_due[idx - 1] if idx else 0

    def periods_due(self, day: dt.date) -> int:
        """How many instalments fell due on or before ``day``."""
        return bisect_right(self.due_dates, day)

    def covered(self, day: dt.date) -> int:
        """How many instalments the payments up to ``day`` cover in full (oldest first)."""
        return bisect_right(self.cum_due, self.paid_by(day))

    def dpd(self, day: dt.date) -> int:
        """Days past due on ``day``: since the due date of the oldest instalment not fully paid."""
        k = self.covered(day)
        if k >= len(self.due_dates):
            return 0
        due = self.due_dates[k]
        return (day - due).days if due < day else 0

    def arrears(self, day: dt.date) -> int:
        """Overdue amount on ``day``."""
        return max(0, self.due_before(day) - self.paid_by(day))

    def outstanding_principal(self, day: dt.date) -> int:
        """Contractual principal not yet repaid on ``day`` (a partial instalment pays interest first)."""
        paid = self.paid_by(day)
        k = bisect_right(self.cum_due, paid)
        if k >= len(self.due_dates):
            return 0
        base = self.balances[k - 1] if k else self.principal
        towards = paid - (self.cum_due[k - 1] if k else 0)
        return base - min(max(0, towards - self.interests[k]), self.principals[k])

    def settled_on(self) -> dt.date | None:
        """The day the payments first covered the whole schedule, if they have."""
        idx = bisect_left(self.cum_paid, self.total_due)
        return self.pay_dates[idx] if idx < len(self.pay_dates) else None

    def completion_date(self, index: int) -> dt.date | None:
        """The day instalment ``index`` (0-based) was fully covered, None if not yet."""
        idx = bisect_left(self.cum_paid, self.cum_due[index])
        return self.pay_dates[idx] if idx < len(self.pay_dates) else None

    def lateness(self, index: int, day: dt.date) -> int:
        """Days after its due date that instalment ``index`` was fully paid (or is still unpaid on ``day``)."""
        done = self.completion_date(index)
        end = done if done is not None and done <= day else day
        return max(0, (end - self.due_dates[index]).days)

    def window_receipts(self, index: int) -> int:
        """Received in instalment ``index``'s window: after the previous grace end, up to its own grace end."""
        end = self.due_dates[index] + dt.timedelta(days=GRACE_DAYS)
        start = self.due_dates[index - 1] + dt.timedelta(days=GRACE_DAYS) if index else dt.date.min
        return self.paid_by(end) - self.paid_by(start)

    def window_status(self, index: int) -> str:
        """``full`` / ``partial`` / ``missed``: what the borrower paid around this instalment's due date."""
        received = self.window_receipts(index)
        if received >= self.amounts[index] * FULL_SHARE:
            return "full"
        return "partial" if received > 0 else "missed"

    def max_dpd(self, start: dt.date, end: dt.date) -> int:
        """The worst DPD between ``start`` and ``end`` (DPD peaks the day before a payment, or at ``end``)."""
        checks = [end]
        lo, hi = bisect_left(self.pay_dates, start), bisect_right(self.pay_dates, end)
        checks.extend(d - dt.timedelta(days=1) for d in self.pay_dates[lo:hi] if d > start)
        return max(self.dpd(d) for d in checks)

    def first_dpd_reaching(self, threshold: int, start: dt.date, end: dt.date) -> dt.date | None:
        """The first day in (start, end] on which DPD reaches ``threshold``, if any."""
        for index, due in enumerate(self.due_dates):
            hit = due + dt.timedelta(days=threshold)
            if hit <= start or hit > end:
                continue
            # still unpaid ``threshold`` days after its due date → DPD reaches the threshold that day
            if self.paid_by(hit) < self.cum_due[index]:
                return hit
        return None

    # --- features ----------------------------------------------------------------------------------
    def behaviour(self, as_of: dt.date, disbursed_on: dt.date) -> Behaviour:
        """All behaviour features at ``as_of``."""
        n_due = self.periods_due(as_of)
        # windows that have closed (grace over) within the last 3 / 6 months
        closed = [i for i in range(n_due) if self.due_dates[i] + dt.timedelta(days=GRACE_DAYS) < as_of]
        recent6 = [i for i in closed if (as_of - self.due_dates[i]).days <= 183]
        recent3 = [i for i in recent6 if (as_of - self.due_dates[i]).days <= 92]
        statuses = {i: self.window_status(i) for i in recent6}
        consecutive = 0
        for i in reversed(closed):
            if self.window_status(i) != "missed":
                break
            consecutive += 1
        due_3m = sum(self.amounts[i] for i in recent3)
        received_3m = self.paid_by(as_of) - self.paid_by(as_of - dt.timedelta(days=92))
        late = [self.lateness(i, as_of) for i in closed[-6:]]
        recent_late, before_late = late[-3:], late[:-3]
        nxt = bisect_left(self.due_dates, as_of)
        next_due_on = self.due_dates[nxt] if nxt < len(self.due_dates) else None
        next_due_amount = (
            max(0, self.cum_due[nxt] - self.paid_by(as_of)) if nxt < len(self.due_dates) else None
        )
        last_paid_idx = bisect_right(self.pay_dates, as_of)
        return Behaviour(
            as_of=as_of,
            dpd=self.dpd(as_of),
            dpd_30d_ago=self.dpd(as_of - dt.timedelta(days=30)),
            dpd_60d_ago=self.dpd(as_of - dt.timedelta(days=60)),
            max_dpd_12m=self.max_dpd(as_of - dt.timedelta(days=365), as_of),
            arrears=self.arrears(as_of),
            outstanding_principal=self.outstanding_principal(as_of),
            paid_total=self.paid_by(as_of),
            periods_due=n_due,
            periods_paid=self.covered(as_of),
            missed_3m=sum(1 for i in recent3 if statuses[i] == "missed"),
            partial_3m=sum(1 for i in recent3 if statuses[i] == "partial"),
            missed_6m=sum(1 for s in statuses.values() if s == "missed"),
            partial_6m=sum(1 for s in statuses.values() if s == "partial"),
            consecutive_missed=consecutive,
            paid_ratio_3m=min(2.0, received_3m / due_3m) if due_3m else 1.0,
            late_days_recent=sum(recent_late) / len(recent_late) if recent_late else 0.0,
            late_days_before=sum(before_late) / len(before_late) if before_late else 0.0,
            months_on_book=months_between(disbursed_on, as_of),
            next_due_on=next_due_on,
            next_due_amount=next_due_amount,
            last_paid_on=self.pay_dates[last_paid_idx - 1] if last_paid_idx else None,
        )


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end`` (0 if ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)
    return max(0, months)


def add_months(day: dt.date, months: int, day_of_month: int | None = None) -> dt.date:
    """``day`` moved ``months`` ahead, on ``day_of_month`` (default: the same day), clamped to the month end."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return dt.date(year, month, min(day_of_month or day.day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return add_months(day.replace(day=1), 1) - dt.timedelta(days=1)
