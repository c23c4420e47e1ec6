"""Retention: lifetime value, good standing, and offers that always carry their APR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from assistant.domain.quote import quote
from assistant.lifecycle.book import LoanBook
from assistant.lifecycle.retention import (
    LOYALTY_DISCOUNT,
    customer_value,
    offers_for_loan,
    top_customers,
)
from assistant.services import Services
from assistant.settings import Settings
from tests.lifecycle.conftest import issue, pay_schedule


def test_good_customer_gets_offers_all_with_apr(book: LoanBook, services: Services) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 11))
    value, offers = offers_for_loan(book, services.catalogue, "L1")
    assert value.good_standing and value.clv > 0 and value.realised_margin > 0
    assert [o.kind for o in offers] == ["early_settlement", "repurchase", "referral"]
    for offer in offers:
        assert offer.apr is not None and offer.apr_percent.endswith("%") and "IRR" in offer.apr_convention
        assert offer.apr_percent in offer.detail_zh and offer.apr_percent in offer.detail_en


def test_early_settlement_amount_fee_and_apr(book: LoanBook, services: Services) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 11))
    with book.sessions() as s:
        led = book.load_ledgers(s, ["L1"])["L1"]
    _, offers = offers_for_loan(book, services.catalogue, "L1")
    settle = offers[0]
    nxt = led.instalments[10]  # instalment 11, due 15 Dec 2026
    balance = Decimal(nxt.balance) / 100
    fee = (balance * Decimal("0.02")).quantize(Decimal("0.01"))  # bank_auto_loan: 2 % before month 12
    assert settle.amount == Decimal(nxt.amount) / 100 + balance + fee
    assert settle.apr > Decimal("0.045")  # the fee makes the loan dearer than its 4.5 % contract APR


def test_no_fee_after_24_instalments_and_apr_unchanged(book: LoanBook, services: Services) -> None:
    issue(book, term=36, disbursed=dt.date(2024, 6, 15))
    pay_schedule(book, "L1", range(1, 30))
    _, offers = offers_for_loan(book, services.catalogue, "L1")
    settle = offers[0]
    assert settle.kind == "early_settlement" and "免违约金" in settle.detail_zh
    assert abs(settle.apr - Decimal("0.045")) < Decimal("0.0001")


def test_repurchase_is_priced_by_the_money_core(book: LoanBook, services: Services) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 11))
    _, offers = offers_for_loan(book, services.catalogue, "L1", target_vehicle_price=Decimal(250000))
    trade = next(o for o in offers if o.kind == "repurchase")
    rate = services.catalogue.product("bank_auto_loan").rates["B"] - LOYALTY_DISCOUNT
    expected = quote(trade.amount, rate, trade.term_months)
    assert trade.monthly_payment == expected.monthly_payment and trade.apr == expected.apr


def test_customer_in_arrears_gets_no_marketing(book: LoanBook, services: Services) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 9))
    value, offers = offers_for_loan(book, services.catalogue, "L1")
    assert offers == [] and not value.good_standing
    assert "当前有未还清的到期款项" in value.standing_reasons_zh


def test_late_last_year_is_not_good_standing(book: LoanBook) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 10), late_days=10)
    value = customer_value(book, "C1")
    assert not value.good_standing and "paid beyond the grace period in the last 12 months" in value.standing_reasons_en


def test_top_customers_on_the_simulated_book(sim_env: tuple[Settings, Services]) -> None:
    _, services = sim_env
    top = top_customers(services.loans, 10)
    assert len(top) == 10 and top[0]["clv"] >= top[-1]["clv"]
    best = customer_value(services.loans, top[0]["customer_id"])
    assert best.clv > 0
