"""Loading the catalogues from ``knowledge_base/catalogue/*.yaml`` (validated once, then cached).

``build_catalogue(settings)`` is what :class:`assistant.services.Services` calls; the product pages in
``knowledge_base/products/`` are generated from the same data by :mod:`assistant.catalogue.pages`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assistant.domain.catalogue import Catalogue
from assistant.errors import ConfigurationError
from assistant.settings import Settings

VEHICLES_FILE = "vehicles.yaml"
PRODUCTS_FILE = "products.yaml"


def catalogue_dir(settings: Settings) -> Path:
    """Where the catalogue YAML files live."""
    return settings.knowledge_base_dir / "catalogue"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"缺少目录文件 {path}", f"catalogue file missing: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"目录文件格式错误 {path}",
                                 f"catalogue file is not valid YAML: {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"目录文件格式错误 {path}", f"catalogue file must hold a mapping: {path}")
    return data


@lru_cache(maxsize=8)
def load_catalogue(directory: Path) -> Catalogue:
    """Read and validate both catalogues from ``directory`` (cached per directory)."""
    vehicles = _read_yaml(directory / VEHICLES_FILE)
    products = _read_yaml(directory / PRODUCTS_FILE)
    try:
        return Catalogue(
            vehicles=vehicles.get("vehicles") or [],
            products=products.get("products") or [],
            vehicles_as_of=vehicles.get("as_of"),
        )
    except ValidationError as exc:
        raise ConfigurationError("产品或车型目录数据无效", f"invalid catalogue data in {directory}: {exc}") from exc


def build_catalogue(settings: Settings) -> Catalogue:
    """The catalogue for these settings (``settings.knowledge_base_dir / 'catalogue'``)."""
    return load_catalogue(catalogue_dir(settings).resolve())
