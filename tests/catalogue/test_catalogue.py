"""The catalogues load, validate and cover what the market sells."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from assistant.catalogue import build_catalogue, load_catalogue
from assistant.domain.catalogue import BodyType, Catalogue, EnergyType, ProductKind, Purpose
from assistant.domain.regulation import Condition
from assistant.errors import ConfigurationError, NotFound
from assistant.services import Services
from assistant.settings import Settings

FIXED_PRODUCT_IDS = {
    "bank_auto_loan", "captive_finance_loan", "nev_promo_loan", "zero_interest_fee",
    "direct_lease", "sale_leaseback", "used_car_loan", "car_title_loan",
}


@pytest.fixture
def catalogue(settings: Settings) -> Catalogue:
    return build_catalogue(settings)


def test_services_expose_the_catalogue(services: Services) -> None:
    assert services.catalogue is services.catalogue  # built once
    assert services.catalogue.product("bank_auto_loan").name == "银行汽车贷款"


def test_vehicle_catalogue_covers_the_market(catalogue: Catalogue) -> None:
    vehicles = catalogue.vehicles
    assert len(vehicles) >= 80
    assert {v.body_type for v in vehicles} == set(BodyType)
    # Every concrete energy type; "nev" is the umbrella that bev and phev satisfy.
    assert {v.energy_type for v in vehicles} == {EnergyType.ICE, EnergyType.BEV, EnergyType.PHEV, EnergyType.HEV}
    assert any(v.accepts_energy(EnergyType.NEV) for v in vehicles)
    assert min(v.msrp_min for v in vehicles) <= 60_000
    assert max(v.msrp_max for v in vehicles) >= 600_000
    assert len({v.brand for v in vehicles}) >= 25
    for v in vehicles:
        assert v.msrp_min <= v.msrp_max and v.msrp_min >= 20_000, v.id
    assert catalogue.vehicles_as_of is not None


def test_vehicles_file_names_its_sources() -> None:
    text = (Path(__file__).resolve().parents[2] / "knowledge_base/catalogue/vehicles.yaml").read_text("utf-8")
    header = text.split("vehicles:")[0]
    assert "Sources" in header and "Compiled" in header


def test_the_fixed_product_ids_exist_with_their_kinds(catalogue: Catalogue) -> None:
    ids = {p.id for p in catalogue.products}
    assert ids >= FIXED_PRODUCT_IDS
    assert len(catalogue.products) >= 8
    assert catalogue.product("direct_lease").kind is ProductKind.LEASE_DIRECT
    assert catalogue.product("sale_leaseback").kind is ProductKind.LEASE_BACK
    assert catalogue.product("car_title_loan").kind is ProductKind.TITLE_LOAN
    assert catalogue.product("car_title_loan").eligibility.purpose is Purpose.COLLATERAL
    assert catalogue.product("used_car_loan").eligibility.conditions == {Condition.USED}


def test_products_mirror_how_the_market_quotes(catalogue: Catalogue) -> None:
    flat = {p.id for p in catalogue.products if p.rate_type == "flat"}
    assert {"direct_lease", "sale_leaseback"} <= flat  # leases are quoted as 费率
    zero = catalogue.product("zero_interest_fee")
    assert set(zero.rates.values()) == {Decimal(0)}
    assert zero.upfront_fees(Decimal(100000), 36) == Decimal("9000.00")  # 0 % + a 9 % fee
    nev = catalogue.product("nev_promo_loan")
    assert nev.eligibility.energy_types == {EnergyType.BEV, EnergyType.PHEV}
    for p in catalogue.products:
        assert all(Decimal(0) <= r < Decimal("0.36") for r in p.rates.values()), p.id
        assert max(p.term_options) <= 60, p.id
        if p.eligibility.conditions == {Condition.USED}:
            assert max(p.term_options) <= 36, p.id  # used cars: 3 years including extensions
            assert p.ltv_cap <= Decimal("0.70"), p.id
        assert p.early_repayment.notes_zh and p.ownership_zh and p.summary_zh, p.id
    for p in (catalogue.product("direct_lease"), catalogue.product("sale_leaseback")):
        assert "所有权" in p.ownership_zh and "出租人" in p.ownership_zh


def test_risk_grade_pricing_is_monotone(catalogue: Catalogue) -> None:
    for p in catalogue.products:
        rates = [p.rates[g] for g in p.grades]
        assert rates == sorted(rates), p.id  # a worse grade never pays less


def test_penalty_schedule(catalogue: Catalogue) -> None:
    er = catalogue.product("bank_auto_loan").early_repayment
    assert er.penalty_rate(6) == Decimal("0.02")
    assert er.penalty_rate(18) == Decimal("0.01")
    assert er.penalty_rate(30) == Decimal(0)


def test_lookups(catalogue: Catalogue) -> None:
    assert catalogue.vehicle("比亚迪 秦PLUS DM-i").id == "byd-qin-plus-dmi"
    assert catalogue.vehicle("tesla-model-y").series == "Model Y"
    assert catalogue.vehicle("Tesla Model Y").id == "tesla-model-y"
    assert catalogue.find_product("新能源专享贷").id == "nev_promo_loan"
    assert catalogue.find_product("车抵贷").id == "car_title_loan"
    assert catalogue.find_product("no such thing") is None
    with pytest.raises(NotFound):
        catalogue.product("no_such_product")
    with pytest.raises(NotFound):
        catalogue.vehicle("不存在的车")
    assert catalogue.vehicle("Toyota Corolla").id == "toyota-corolla"  # English series names
    assert catalogue.vehicle("lavida").id == "vw-lavida"


@pytest.mark.parametrize(("text", "vehicle_id"), [
    ("It's a Toyota Corolla.", "toyota-corolla"),
    ("丰田凯美瑞", "toyota-camry"),
    ("我的本田雅阁车龄4年，跑了8万公里", "honda-accord"),
    ("卡罗拉双擎", "toyota-corolla-hev"),  # the longer name wins
    ("my rav4 hybrid", "toyota-rav4-hev"),
    ("tesla model y", "tesla-model-y"),
    ("汉兰达", "toyota-highlander"),  # the first word of "汉兰达 双擎"
    ("宝马3系", "bmw-3-series"),
    ("I drive a Lavida", "vw-lavida"),
    ("丰田", None),  # a brand alone names no car
    ("modelling clay", None),  # Latin names match whole words only
    ("a model of restraint", None),  # "Model" alone is too generic
])
def test_vehicle_in_text(catalogue: Catalogue, text: str, vehicle_id: str | None) -> None:
    found = catalogue.vehicle_in_text(text)
    assert (found.id if found else None) == vehicle_id


def test_broken_yaml_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "vehicles.yaml").write_text("vehicles: [\n", encoding="utf-8")
    (tmp_path / "products.yaml").write_text("products: []\n", encoding="utf-8")
    with pytest.raises(ConfigurationError):
        load_catalogue(tmp_path)


def test_invalid_rows_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "vehicles.yaml").write_text(
        "vehicles:\n  - {id: x, brand: 甲, brand_en: A, series: S, body_type: tank, energy_type: ice, seats: 5,"
        " msrp_min: 100000, msrp_max: 90000, segment: A}\n", encoding="utf-8")
    (tmp_path / "products.yaml").write_text("products: []\n", encoding="utf-8")
    with pytest.raises(ConfigurationError):
        load_catalogue(tmp_path)


def test_missing_files_are_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_catalogue(tmp_path)


def test_product_display_helpers(catalogue: Catalogue) -> None:
    bank = catalogue.product("bank_auto_loan")
    assert bank.display_name("en") == "Bank auto loan" and bank.summary("zh") == bank.summary_zh
    assert bank.reference_rate() == bank.rates["C"]
    card = catalogue.product("credit_card_installment")
    assert card.reference_rate() == card.rates["C"]
