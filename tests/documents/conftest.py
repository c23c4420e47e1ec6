"""Fixtures for the document tests: a full application, the product catalogue, the document service."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.documents.service import DocumentService
from assistant.domain.catalogue import FinanceProduct
from assistant.errors import NotFound
from assistant.services import Services

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "documents"

# A valid resident ID (GB 11643 check character X) and one for a second person.
BORROWER_ID = "11010519491231002X"
OTHER_ID = "440524188001010014"


def borrower(**changes: Any) -> dict[str, Any]:
    """A complete borrower."""
    return {"name": "张三", "id_number": BORROWER_ID, "phone": "13800138000", "address": "北京市朝阳区建国路88号",
            **changes}


def application(**changes: Any) -> dict[str, Any]:
    """A complete 60-month loan application (150,000 yuan at 4.5 %, 800 yuan of fees)."""
    return {
        "principal": 150000,
        "annual_rate": 0.045,
        "term_months": 60,
        "upfront_fees": 800,
        "borrower": borrower(),
        "vehicle": {"brand": "比亚迪", "series": "秦PLUS DM-i", "price": 200000, "energy_type": "phev"},
        "lender": {"name": "示例汽车金融有限责任公司", "address": "上海市浦东新区世纪大道100号",
                   "hotline": "400-800-0000"},
        **changes,
    }


class FileCatalogue:
    """The finance products from knowledge_base/catalogue/products.yaml, looked up like services.catalogue."""

    def __init__(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.products = {p["id"]: FinanceProduct.model_validate(p) for p in data["products"]}

    def product(self, product_id: str) -> FinanceProduct:
        if product_id not in self.products:
            raise NotFound(f"没有编号为 {product_id} 的金融产品", f"no finance product with id {product_id}")
        return self.products[product_id]


@pytest.fixture
def catalogue(services: Services) -> FileCatalogue:
    """The real product catalogue file, installed as ``services.catalogue``."""
    cat = FileCatalogue(ROOT / "knowledge_base" / "catalogue" / "products.yaml")
    services.__dict__["catalogue"] = cat  # overrides the cached_property for this Services only
    return cat


@pytest.fixture
def documents(services: Services) -> DocumentService:
    """The document service on a fresh DATA_DIR."""
    return services.documents


def money(text: str) -> Decimal:
    """'1,234.56' -> Decimal."""
    return Decimal(text.replace(",", ""))
