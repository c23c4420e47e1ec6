"""A generated loan book for demos, tests and benchmarks — **simulated data, not real customers**.

Every generated loan has ``simulated = 1``, ids ``SIM-…`` (customers ``SIMC-…``) and source
``simulated``; the book records ``simulated_as_of`` in ``loan_book_meta``. Same ``seed`` and ``as_of``
→ the same book, row for row (only the standard library's ``random.Random`` is used).

How a loan behaves:

- terms come from the real product catalogue (rates by grade, fees, term options) and every schedule
  from the money core, so balances, interest and APR are exactly what a customer would have been shown;
- each borrower has a monthly hazard of entering financial stress: by grade, higher in the first
  18 months, higher under an active regional / industry stress flag, higher when the car is worth
  less than the debt (strategic default);
- before stress shows as missed payments it shows as drift: payments a few days later, and an
  insurance policy not renewed; then partial payments, then misses. Each month in stress the
  borrower may recover (cure: arrears caught up); a loan 90 days past due stops paying;
- some borrowers are simply sloppy (late a few days now and then) and never go bad — the false
  positives a real book is full of;
- collateral follows the residual-value curve of its energy type, with an occasional accident and a
  price war hitting some brands' used values.

The simulation runs ``horizon_days`` past ``as_of``; events after ``as_of`` are *not* stored, they only
decide the ground truth (``simulation_truth.goes_bad``: reaches 90 days past due within the horizon),
which monitoring never reads and the benchmark scores warnings against.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from assistant.domain.catalogue import Catalogue, FinanceProduct, Grade, Vehicle
from assistant.domain.quote import Quote, QuoteRequest, build_quote
from assistant.lifecycle.book import IssueLoan, VehicleInfo, chunks, loan_values, schedule_fen, schedule_rows
from assistant.lifecycle.ledger import DEFAULT_DPD, Instalment, Ledger, Payment, add_months
from assistant.lifecycle.signals import retention
from assistant.storage.loans import (
    BookMetaRow,
    BucketHistoryRow,
    CollectionContactRow,
    LoanRow,
    LoanStateRow,
    LoanWarningRow,
    RepaymentEventRow,
    RepaymentExceptionRow,
    ScheduleRowDB,
    SimulationTruthRow,
    StressFlagRow,
)

SIM_PREFIX = "SIM-"
SIM_LABEL_ZH = "模拟数据（非真实客户）"
SIM_LABEL_EN = "simulated data (not real customers)"
HORIZON_DAYS = 180

GRADES = ("A", "B", "C", "D", "E")
GRADE_WEIGHTS = (0.22, 0.30, 0.26, 0.16, 0.06)
# monthly hazard of entering financial stress, by grade
BASE_HAZARD = {"A": 0.0018, "B": 0.0032, "C": 0.0058, "D": 0.0100, "E": 0.0170}
CURE_RATE = {"A": 0.30, "B": 0.27, "C": 0.22, "D": 0.17, "E": 0.13}
TERMS = ((12, 0.08), (24, 0.16), (36, 0.42), (48, 0.14), (60, 0.20))

REGIONS = (
    ("北京", 8), ("上海", 8), ("广州", 6), ("深圳", 6), ("杭州", 5), ("成都", 6), ("重庆", 5), ("武汉", 5),
    ("西安", 4), ("郑州", 4), ("长沙", 4), ("苏州", 4), ("东莞", 4), ("佛山", 3), ("合肥", 3), ("鄂尔多斯", 2),
    ("沈阳", 3), ("哈尔滨", 2), ("昆明", 2), ("南宁", 2),
)
INDUSTRIES = (
    ("manufacturing", 16), ("retail", 12), ("construction", 8), ("real_estate", 5), ("logistics", 8),
    ("hospitality", 7), ("it", 9), ("education", 6), ("healthcare", 6), ("public_sector", 8),
    ("self_employed", 10), ("foreign_trade", 5),
)
# Brands whose used prices fell in the simulated price war (applied to their used values only).
PRICE_WAR_BRANDS = {"哪吒": 0.72, "零跑": 0.85, "极狐": 0.80, "威马": 0.6, "小鹏": 0.88, "五菱": 0.9}


@dataclass(frozen=True)
class FlagSpec:
    """A simulated external stress flag, relative to ``as_of`` (months)."""

    kind: str
    key: str
    severity: int
    start_months: int  # negative: before as_of
    reason_zh: str
    reason_en: str


FLAGS = (
    FlagSpec("industry", "real_estate", 2, -10, "房地产行业下行，从业人员收入下降（模拟）",
             "real-estate downturn, falling incomes in the sector (simulated)"),
    FlagSpec("industry", "construction", 1, -7, "建筑业项目回款放缓（模拟）",
             "slower payments on construction projects (simulated)"),
    FlagSpec("industry", "foreign_trade", 1, -3, "外贸订单减少（模拟）", "fewer export orders (simulated)"),
    FlagSpec("region", "鄂尔多斯", 2, -9, "煤价下跌，地区经济承压（模拟）",
             "coal-price slump weighs on the regional economy (simulated)"),
    FlagSpec("region", "东莞", 1, -4, "部分工厂停产外迁（模拟）", "factory closures and relocations (simulated)"),
)
FLAG_MULT = {1: 1.8, 2: 3.0}


@dataclass
class SimLoan:
    """Everything generated for one loan."""

    loan: dict[str, Any]
    schedule: list[dict[str, Any]]
    events: list[dict[str, Any]]
    truth: dict[str, Any]


@dataclass
class SimReport:
    """What a simulation generated."""

    loans: int = 0
    customers: int = 0
    events: int = 0
    as_of: dt.date = dt.date(2026, 1, 1)
    seed: int = 0
    paths: dict[str, int] = field(default_factory=dict)
    bad_by_as_of: int = 0
    goes_bad: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the command line."""
        paths = ", ".join(f"{k} {v}" for k, v in sorted(self.paths.items()))
        return (f"{SIM_LABEL_ZH} / {SIM_LABEL_EN}: {self.loans} loans, {self.customers} customers, {self.events} "
                f"repayment events as of {self.as_of} (seed {self.seed}); paths: {paths}; 90+ DPD by as_of "
                f"{self.bad_by_as_of}, going bad within {HORIZON_DAYS} days {self.goes_bad}; {self.seconds:.1f} s")


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, float], ...]) -> Any:
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


def _flag_multiplier(region: str, industry: str, day: dt.date, starts: list[tuple[FlagSpec, dt.date]]) -> float:
    mult = 1.0
    for flag, start in starts:
        if day >= start and flag.key in (region, industry):
            mult *= FLAG_MULT[flag.severity]
    return mult


class _Generator:
    def __init__(self, catalogue: Catalogue, seed: int, as_of: dt.date) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.horizon_end = as_of + dt.timedelta(days=HORIZON_DAYS)
        self.products = {p.id: p for p in catalogue.products}
        self.new_cars = [v for v in catalogue.vehicles if 60_000 <= v.msrp_min <= 450_000]
        self._quotes: dict[tuple[Any, ...], tuple[Quote, list[tuple[int, int, int, int, int]]]] = {}
        self.flag_starts = [(f, add_months(as_of, f.start_months)) for f in FLAGS]
        self.war_start = add_months(as_of, -8)

    # --- terms ---------------------------------------------------------------------------------------
    def _product(self, vehicle: Vehicle, used: bool, grade: str) -> FinanceProduct:
        rng = self.rng
        if used:
            choice = "car_title_loan" if rng.random() < 0.25 else "used_car_loan"
        elif vehicle.is_nev and rng.random() < 0.5:
            choice = "nev_promo_loan"
        elif rng.random() < 0.1:
            choice = "direct_lease"
        else:
            choice = "bank_auto_loan" if rng.random() < 0.45 else "captive_finance_loan"
        product = self.products[choice]
        if product.rate_for(Grade(grade)) is None:
            product = self.products["captive_finance_loan" if not used else "used_car_loan"]
        return product

    def _quote(self, product: FinanceProduct, grade: str, principal: Decimal,
               term: int) -> tuple[Quote, list[tuple[int, int, int, int, int]]]:
        rate = product.rate_for(Grade(grade))
        assert rate is not None
        fees = product.upfront_fees(principal, term)
        key = (product.id, rate, principal, term, fees)
        if key not in self._quotes:
            q = build_quote(QuoteRequest(principal=principal, annual_rate=rate, term_months=term,
                                         method=product.method, rate_type=product.rate_type, upfront_fees=fees))
            self._quotes[key] = (q, schedule_fen(q))
        return self._quotes[key]

    def loan(self, number: int, customer: str, region: str, industry: str, grade: str) -> SimLoan:
        rng = self.rng
        vehicle = rng.choice(self.new_cars)
        used = rng.random() < 0.16
        price_new = Decimal(int(rng.uniform(float(vehicle.msrp_min), float(vehicle.msrp_max)) / 100) * 100)
        age = round(rng.uniform(1.0, 6.0), 1) if used else 0.0
        price = (price_new * Decimal(repr(round(retention(vehicle.energy_type.value, age), 4)))).quantize(
            Decimal("100")) if used else price_new
        product = self._product(vehicle, used, grade)
        term = min(_weighted(rng, TERMS), max(product.term_options))
        term = product.nearest_term(term)
        ltv_cap = float(min(product.ltv_cap, Decimal("0.85") if not vehicle.is_nev else Decimal("0.90")))
        ltv = rng.uniform(0.45, ltv_cap)
        principal = max(product.min_loan, Decimal(int(float(price) * ltv / 1000) * 1000))
        q, rows = self._quote(product, grade, principal, term)
        months_back = rng.randint(1, 40)
        disbursed = add_months(self.as_of, -months_back, rng.randint(1, 28))
        if disbursed >= self.as_of:
            disbursed = self.as_of - dt.timedelta(days=rng.randint(5, 25))
        loan_id = f"{SIM_PREFIX}{number:06d}"
        req = IssueLoan(
            customer_id=customer, product_id=product.id, principal=principal, annual_rate=q.annual_rate,
            term_months=term, method=q.method, rate_type=q.rate_type, upfront_fees=q.upfront_fees,
            vehicle=VehicleInfo(brand=vehicle.brand, series=vehicle.series, condition="used" if used else "new",
                                energy_type=vehicle.energy_type.value, body_type=vehicle.body_type.value,
                                vehicle_age_years=age, mileage_km=int(age * rng.uniform(8000, 22000)),
                                vehicle_price=price),
            grade=grade, region=region, industry=industry, disbursed_on=disbursed, loan_id=loan_id,
        )
        loan = loan_values(loan_id, req, q, disbursed, "simulated", simulated=True)
        schedule = schedule_rows(loan_id, rows, disbursed)
        return self._behave(loan, schedule, grade, region, industry, vehicle, age)

    # --- behaviour -----------------------------------------------------------------------------------
    def _behave(self, loan: dict[str, Any], schedule: list[dict[str, Any]], grade: str, region: str,
                industry: str, vehicle: Vehicle, age: float) -> SimLoan:
        rng = self.rng
        as_of, end = self.as_of, self.horizon_end
        energy = vehicle.energy_type.value
        disbursed: dt.date = loan["disbursed_on"]
        price = loan["vehicle_price_fen"]
        shock = PRICE_WAR_BRANDS.get(vehicle.brand, 1.0)
        accident = 0.65 if rng.random() < 0.025 else 1.0

        def value_at(day: dt.date) -> float:
            years = age + (day - disbursed).days / 365.25
            share = retention(energy, years) / retention(energy, age)
            war = shock if day >= self.war_start else 1.0
            return price * share * war * accident

        # 1. when (if ever) does stress begin? the hazard is evaluated month by month
        dues = [row["due_on"] for row in schedule]
        onset: int | None = None
        for k, due in enumerate(dues):
            if due > end:
                break
            months = k + 1
            hazard = BASE_HAZARD[grade] * (1.35 if 3 <= months <= 18 else 1.0)
            hazard *= _flag_multiplier(region, industry, due, self.flag_starts)
            if schedule[k]["balance_fen"] > value_at(due) * 1.05:
                hazard *= 1.5
            if rng.random() < hazard:
                onset = k
                break
        sloppy = rng.random() < 0.2
        autopay = rng.random() < 0.7
        cure_rate = CURE_RATE[grade]

        payments: list[tuple[dt.date, int]] = []
        owed = 0  # cumulative due minus cumulative paid (fen), to size catch-up payments
        state = "normal"
        months_in_stress = 0
        cured = False
        late_ever = False
        for k, row in enumerate(schedule):
            due: dt.date = row["due_on"]
            if due > end:
                break
            amount = row["payment_fen"]
            owed += amount
            if onset is not None and k >= onset and state == "normal" and not cured:
                state = "stress"
            if state == "defaulted":
                if rng.random() < 0.05:  # a token payment now and then
                    part = int(amount * rng.uniform(0.05, 0.3))
                    payments.append((due + dt.timedelta(days=rng.randint(0, 25)), part))
                    owed -= part
                continue
            if state == "stress":
                if months_in_stress >= 1 and rng.random() < cure_rate:
                    state, cured = "normal", True
                    day = due + dt.timedelta(days=rng.randint(0, 10))
                    payments.append((day, owed))
                    owed = 0
                    late_ever = True
                    continue
                stage = months_in_stress
                months_in_stress += 1
                roll = rng.random()
                if stage == 0:
                    if roll < 0.55:
                        pay, late = amount, rng.randint(4, 16)
                    elif roll < 0.88:
                        pay, late = int(amount * rng.uniform(0.4, 0.9)), rng.randint(0, 12)
                    else:
                        pay, late = 0, 0
                elif stage == 1:
                    pay, late = (int(amount * rng.uniform(0.2, 0.7)), rng.randint(3, 20)) if roll < 0.45 else (0, 0)
                else:
                    pay, late = (int(amount * rng.uniform(0.1, 0.4)), rng.randint(0, 25)) if roll < 0.2 else (0, 0)
                if pay:
                    payments.append((due + dt.timedelta(days=late), pay))
                    owed -= pay
                late_ever = True
                # 90+ days past due: the oldest unpaid instalment is three periods back
                if owed > 3 * amount and months_in_stress >= 3:
                    state = "defaulted"
                continue
            # normal (or cured) months; the months just before stress already drift later
            pre_stress = onset is not None and 0 < onset - k <= 2 and rng.random() < 0.6
            if pre_stress:
                late = rng.randint(2, 9)
            elif sloppy and rng.random() < 0.12:
                late = rng.randint(1, 12)
            elif autopay:
                late = 0
            else:
                late = rng.choice((-5, -3, -2, -1, 0, 0, 0, 1, 2))
            late_ever = late_ever or late > 3
            if sloppy and rng.random() < 0.03:  # part now, the rest a few days later
                first = int(owed * rng.uniform(0.6, 0.9))
                payments.append((due + dt.timedelta(days=late), first))
                payments.append((due + dt.timedelta(days=late + rng.randint(2, 8)), owed - first))
            else:
                payments.append((due + dt.timedelta(days=late), owed))
            owed = 0

        payments = [(max(day, disbursed), amt) for day, amt in payments if amt > 0]
        instalments = [Instalment(r["period"], r["due_on"], r["payment_fen"], r["principal_fen"], r["interest_fen"],
                                  r["balance_fen"]) for r in schedule]
        ledger = Ledger(instalments, [Payment(d, a) for d, a in payments])
        bad_before = ledger.max_dpd(disbursed, as_of) >= DEFAULT_DPD
        bad_on = None if bad_before else ledger.first_dpd_reaching(DEFAULT_DPD, as_of, end)
        path = ("default" if bad_before or bad_on else "cured" if cured else
                "late" if late_ever or onset is not None else "on_time")

        # insurance: renewed every year; stressed borrowers often let it lapse
        expires = add_months(disbursed, 12)
        while expires <= as_of:
            renewal_k = max(0, (expires - disbursed).days // 30 - 1)
            near_stress = onset is not None and renewal_k >= onset - 3
            if rng.random() < (0.55 if near_stress else 0.03):
                break  # lapsed: the policy ended on ``expires`` and was not renewed
            expires = add_months(expires, 12)
        loan["insurance_expires_on"] = expires
        loan["collateral_value_now_fen"] = int(value_at(as_of))
        loan["collateral_valued_on"] = as_of
        events = [
            {"event_id": f"{loan['id']}-E{n:03d}", "loan_id": loan["id"], "paid_on": day, "amount_fen": amt,
             "channel": "auto_debit" if autopay else "app", "source": "simulated",
             "received_at": dt.datetime.combine(day, dt.time(12), dt.UTC)}
            for n, (day, amt) in enumerate(sorted(payments), start=1) if day <= as_of
        ]
        truth = {"loan_id": loan["id"], "as_of": as_of, "path": path, "bad_by_as_of": int(bad_before),
                 "goes_bad": int(bad_on is not None), "bad_on": bad_on, "horizon_days": HORIZON_DAYS}
        return SimLoan(loan, schedule, events, truth)


def generate(catalogue: Catalogue, n_loans: int, seed: int, as_of: dt.date) -> list[SimLoan]:
    """Generate ``n_loans`` simulated loans (pure: nothing is written)."""
    gen = _Generator(catalogue, seed, as_of)
    rng = gen.rng
    loans: list[SimLoan] = []
    customers: list[tuple[str, str, str, str]] = []
    for number in range(1, n_loans + 1):
        if customers and rng.random() < 0.08:  # a returning customer: their second car loan
            customer, region, industry, grade = rng.choice(customers)
        else:
            customer = f"SIMC-{len(customers) + 1:06d}"
            region, industry = _weighted(rng, REGIONS), _weighted(rng, INDUSTRIES)
            grade = _weighted(rng, tuple(zip(GRADES, GRADE_WEIGHTS, strict=True)))
            customers.append((customer, region, industry, grade))
        loans.append(gen.loan(number, customer, region, industry, grade))
    return loans


def clear_simulated(sessions: sessionmaker) -> int:
    """Delete every simulated loan and everything hanging off it; returns how many loans went."""
    with sessions() as s:
        ids = list(s.scalars(select(LoanRow.id).where(LoanRow.simulated == 1)))
        for part in chunks(ids):
            for table in (ScheduleRowDB, RepaymentEventRow, LoanStateRow, LoanWarningRow, BucketHistoryRow,
                          CollectionContactRow, SimulationTruthRow):
                s.execute(delete(table).where(table.loan_id.in_(part)))
            s.execute(delete(RepaymentExceptionRow).where(RepaymentExceptionRow.loan_id.in_(part)))
            s.execute(delete(LoanRow).where(LoanRow.id.in_(part)))
        s.execute(delete(StressFlagRow).where(StressFlagRow.source == "simulation"))
        s.commit()
    return len(ids)


def simulate_book(sessions: sessionmaker, catalogue: Catalogue, *, n_loans: int = 3000, seed: int = 7,
                  as_of: dt.date, replace: bool = True,
                  refresh: Callable[[], Any] | None = None) -> SimReport:
    """Generate a simulated book into the database (replacing the previous simulated book)."""
    import time

    from assistant.errors import InvalidInput

    if not 1 <= n_loans <= 200_000:
        raise InvalidInput("模拟贷款笔数须在1至200000之间", "n_loans must be between 1 and 200000", field="loans")
    start = time.perf_counter()
    if replace:
        clear_simulated(sessions)
    loans = generate(catalogue, n_loans, seed, as_of)
    with sessions() as s:
        if not replace and s.scalar(select(LoanRow.id).where(LoanRow.simulated == 1).limit(1)):
            raise InvalidInput("已有模拟账本，请使用 --replace", "a simulated book exists; use --replace",
                               field="replace")
        for part in chunks(loans, 1000):
            s.connection().execute(LoanRow.__table__.insert(), [x.loan for x in part])
            s.connection().execute(ScheduleRowDB.__table__.insert(), [r for x in part for r in x.schedule])
            events = [e for x in part for e in x.events]
            if events:
                s.connection().execute(RepaymentEventRow.__table__.insert(), events)
            s.connection().execute(SimulationTruthRow.__table__.insert(), [x.truth for x in part])
        s.connection().execute(StressFlagRow.__table__.insert(), [
            {"kind": f.kind, "key": f.key, "severity": f.severity, "starts_on": add_months(as_of, f.start_months),
             "ends_on": None, "reason_zh": f.reason_zh, "reason_en": f.reason_en, "source": "simulation"}
            for f in FLAGS])
        for key, value in (("simulated_as_of", as_of.isoformat()), ("simulated_seed", str(seed)),
                           ("simulated_label", f"{SIM_LABEL_ZH} / {SIM_LABEL_EN}")):
            s.merge(BookMetaRow(key=key, value=value))
        s.commit()
    if refresh is not None:
        refresh()
    report = SimReport(loans=len(loans), customers=len({x.loan["customer_id"] for x in loans}),
                       events=sum(len(x.events) for x in loans), as_of=as_of, seed=seed)
    for x in loans:
        report.paths[x.truth["path"]] = report.paths.get(x.truth["path"], 0) + 1
        report.bad_by_as_of += x.truth["bad_by_as_of"]
        report.goes_bad += x.truth["goes_bad"]
    report.seconds = time.perf_counter() - start
    return report

