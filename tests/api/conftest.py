"""An app over the tiny knowledge corpus (its index builds in a second), shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings
from tests.conftest import TEST_API_KEY
from tests.kb.conftest import copy_other_resources, write_corpus

KEY = {"X-API-Key": TEST_API_KEY}


def tiny_settings(root: Path, **overrides: object) -> Settings:
    """Settings on a fresh DATA_DIR under ``root`` with the tiny corpus, no LLM, the test key, and limits
    high enough that a test's own requests never hit them (unless ``overrides`` say otherwise)."""
    resources = root / "resources"
    write_corpus(resources)
    copy_other_resources(resources)
    values: dict[str, object] = {"data_dir": root / "data", "resources_dir": resources, "llm_base_url": None,
                                 "api_keys": [TEST_API_KEY], "rate_limit_per_minute": 100_000,
                                 "session_rate_limit_per_minute": 100_000, "auth_failures_per_minute": 100_000}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One client for the module (the app is stateless for these tests); server errors come back as 500s."""
    settings = tiny_settings(tmp_path_factory.mktemp("api"))
    with TestClient(create_app(settings, Services(settings)), raise_server_exceptions=False) as client:
        yield client
