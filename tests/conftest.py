"""Shared fixtures: every test gets its own DATA_DIR, settings, services and HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings

TEST_API_KEY = "test-key"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh, empty DATA_DIR, no LLM, one all-scopes API key."""
    return Settings(data_dir=tmp_path / "data", api_keys=[TEST_API_KEY], _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def services(settings: Settings) -> Services:
    """Services for those settings."""
    return Services(settings)


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    """An HTTP client against a fresh app (lifespan run)."""
    with TestClient(create_app(settings, services)) as test_client:
        yield test_client
