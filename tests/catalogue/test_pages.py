"""Product pages are generated from the catalogue and agree with it (one source of truth)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import yaml

from assistant.catalogue.pages import (
    page_path,
    render_all,
    render_product_page,
    stale_pages,
    worked_example,
    write_pages,
)
from assistant.domain.catalogue import Grade
from assistant.domain.money import percent_str
from assistant.domain.quote import quote
from assistant.services import Services

SECTIONS = ["## 产品简介", "## 适合人群", "## 利率与报价方式", "## 费用", "## 首付与贷款成数", "## 贷款期限",
            "## 申请条件", "## 提前还款", "## 车辆所有权与抵押"]


def test_committed_pages_equal_the_generated_ones(services: Services) -> None:
    kb = services.settings.knowledge_base_dir
    assert stale_pages(kb, services.catalogue, services.lender_caps) == []
    for product in services.catalogue.products:
        committed = page_path(kb, product).read_text(encoding="utf-8")
        assert committed == render_product_page(product, services.lender_caps)


def test_regenerating_is_deterministic(services: Services) -> None:
    assert render_all(services.catalogue, services.lender_caps) == render_all(services.catalogue,
                                                                                services.lender_caps)


def test_page_front_matter_and_sections(services: Services) -> None:
    for product in services.catalogue.products:
        text = render_product_page(product, services.lender_caps)
        _, front, body = text.split("---\n", 2)
        meta = yaml.safe_load(front)
        assert meta["id"] == f"product-{product.id}"
        assert meta["title"] == product.name
        assert meta["category"] == "product"
        assert str(meta["effective_date"]) == product.effective_date.isoformat()
        assert meta["source"] == product.source
        positions = [body.index(s) for s in SECTIONS]
        assert positions == sorted(positions), product.id


def test_pages_quote_the_catalogue_figures(services: Services) -> None:
    for product in services.catalogue.products:
        text = render_product_page(product, services.lender_caps)
        for grade in Grade:
            rate = product.rates.get(grade)
            cell = percent_str(rate) if rate is not None else "不适用"
            assert f"| {grade.value} | {cell} |" in text, (product.id, grade)
        for term in product.term_options:
            assert f"{term}期" in text
        _, _, q = worked_example(product)
        assert f"**年化利率（APR）{percent_str(q.apr)}**" in text
        # The example's APR is the money core's, for the catalogue's rate, quoting and fees.
        again = quote(q.principal, q.annual_rate, q.term_months, rate_type=product.rate_type,
                      upfront_fees=product.upfront_fees(q.principal, q.term_months))
        assert again.apr == q.apr and again.monthly_payment == q.monthly_payment


def test_zero_interest_page_shows_a_nonzero_apr(services: Services) -> None:
    text = render_product_page(services.catalogue.product("zero_interest_fee"), services.lender_caps)
    apr = re.search(r"年化利率（APR）([\d.]+)%", text)
    assert apr and Decimal(apr.group(1)) > 5


def test_a_changed_catalogue_makes_pages_stale(services: Services, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_pages(kb, services.catalogue, services.lender_caps)
    assert stale_pages(kb, services.catalogue, services.lender_caps) == []
    product = services.catalogue.product("bank_auto_loan")
    changed = product.model_copy(update={"rates": {**product.rates, Grade.A: Decimal("0.0310")}})
    catalogue = services.catalogue.model_copy(
        update={"products": [changed if p.id == product.id else p for p in services.catalogue.products]})
    assert stale_pages(kb, catalogue, services.lender_caps) == [page_path(kb, product)]
