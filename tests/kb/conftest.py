"""A tiny corpus of our own (the real one is still being written) and settings that point at it.

A test (or module, ``pytestmark = pytest.mark.usefixtures("store_backend")``) that uses the
``store_backend`` fixture runs twice: on the embedded store under DATA_DIR and on a throwaway Chroma
server (one for the whole run, see ``tests/chroma.py``); ``kb_settings`` then sets ``CHROMA_URL``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings
from tests.chroma import ChromaServer

STORE_BACKENDS = ("embedded", "server")


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[ChromaServer]:
    """One Chroma server for the whole run, started on first use (fails if it cannot be). Tests sharing it
    stay apart: each has its own database, so its own manifest and collections."""
    server = ChromaServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(params=STORE_BACKENDS)
def store_backend(request: pytest.FixtureRequest) -> str:
    """The vector store this test runs on."""
    return str(request.param)


@pytest.fixture
def chroma_url(request: pytest.FixtureRequest) -> str | None:
    """``None`` (the embedded store) or the URL of the session's Chroma server, per ``store_backend``."""
    if "store_backend" not in request.fixturenames or request.getfixturevalue("store_backend") == "embedded":
        return None
    server: ChromaServer = request.getfixturevalue("chroma_server")
    return server.url

DOCS: dict[str, str] = {
    "policies/early-repayment.md": """---
id: early-repayment
title: 提前还款与提前结清
category: policy
effective_date: 2026-01-01
source: 本公司《个人汽车贷款业务规则》
---

## 什么时候可以提前还款

已按时还满6期且当前没有逾期的，可以申请部分提前还款或一次性全部结清。

## 违约金标准

违约金按提前偿还的本金计算，各产品不同：

- 标准新车贷款：1%；
- 新能源专享贷：0%，免收违约金；
- 二手车贷款：2%。

已还满24期的，所有产品提前还款均免收违约金。

## 结清以后

结清后3个工作日内出具结清证明，并启动解除抵押。
""",
    "policies/overdue.md": """---
id: overdue-consequences
title: 逾期后果与罚息
category: policy
effective_date: 2026-01-01
source: 本公司《个人汽车贷款业务规则》
---

## 宽限期

还款日之后有3天宽限期，宽限期内还清不收罚息，也不报送征信。

## 超过宽限期会怎样

超过宽限期即为逾期：按合同利率的1.5倍计收罚息，并如实报送征信，不良记录保存5年。
""",
    "policies/mortgage-release.md": """---
id: mortgage-release
title: 结清后解除抵押（解押）
category: process
effective_date: 2026-01-01
source: 《机动车登记规定》
---

## 本公司会做什么

结清后5个工作日内寄回机动车登记证书（绿本）原件和解除抵押材料。

## 线下解押

车主带身份证和登记证书到车管所办理，一般当场办结。
""",
    "policies/gps.md": """---
id: gps-installation-privacy
title: GPS定位设备安装与位置信息保护
category: policy
effective_date: 2026-01-01
source: 《个人信息保护法》
---

## 为什么装GPS

GPS用于贷款期间确认抵押车辆的位置，安装前需要您书面同意。

## 位置信息怎么用

位置信息只在逾期失联或车辆被盗时查询，不会用于其他目的，结清后拆除或停用。
""",
    "products/product-nev_promo_loan.md": """---
id: product-nev_promo_loan
title: 新能源专享贷
category: product
effective_date: 2026-01-01
source: 本公司金融产品目录
---

## 产品简介

新能源车专属贷款，年利率2.99%起，最长60期，提前还款免收违约金。
""",
    "README.md": "# 知识库说明\n\n这不是文档，不应被索引：提前还款违约金。\n",
}


def copy_other_resources(root: Path) -> None:
    """Give the tiny resources directory the real catalogues, prompts and templates (other services'
    start-up needs them); only the Markdown corpus is ours."""
    real = Settings(_env_file=None).resources_dir  # type: ignore[call-arg]
    for rel in ("knowledge_base/catalogue", "prompts", "contract_templates"):
        if (real / rel).is_dir():
            shutil.copytree(real / rel, root / rel, dirs_exist_ok=True)


def write_corpus(root: Path, docs: dict[str, str] | None = None) -> Path:
    """Write the tiny corpus under ``root/knowledge_base`` and return that directory."""
    kb = root / "knowledge_base"
    for rel, text in (docs or DOCS).items():
        path = kb / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return kb


@pytest.fixture
def kb_root(tmp_path: Path) -> Path:
    """A resources directory holding the tiny corpus."""
    root = tmp_path / "resources"
    write_corpus(root)
    copy_other_resources(root)
    return root


@pytest.fixture
def kb_settings(tmp_path: Path, kb_root: Path, chroma_url: str | None) -> Settings:
    """Settings on a fresh DATA_DIR with the tiny corpus as the knowledge base (and the ``store_backend``'s
    Chroma server when the test asks for one)."""
    return Settings(data_dir=tmp_path / "data", resources_dir=kb_root, chroma_url=chroma_url,  # type: ignore[call-arg]
                    _env_file=None)


@pytest.fixture
def kb_services(kb_settings: Settings) -> Services:
    """Services for the tiny corpus."""
    return Services(kb_settings)


@pytest.fixture
def kb_client(kb_settings: Settings, kb_services: Services) -> Iterator[TestClient]:
    """An HTTP client whose startup builds the tiny corpus's index."""
    with TestClient(create_app(kb_settings, kb_services)) as client:
        kb_services.wait_for_index()  # startup builds it in the background; these tests need it built
        yield client
