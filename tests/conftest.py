"""Shared fixtures: every test gets its own DATA_DIR, settings, services and HTTP client.

A test (or module, ``pytestmark = pytest.mark.usefixtures("backend")``) that uses the ``backend`` fixture
runs twice: on SQLite under DATA_DIR and on a fresh database of a throwaway PostgreSQL server; the
``settings`` fixture then points at that database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings, get_settings
from tests.postgres import PostgresServer

TEST_API_KEY = "test-key"


BACKENDS = ("sqlite", "postgresql")
# What the developer's shell may hold that would point a test at a real provider, key or directory.
ENV_PREFIX = "LOAN_ASSISTANT_"
ENV_OTHERS = ("PROMETHEUS_MULTIPROC_DIR",)


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the code's defaults: no ``LOAN_ASSISTANT_*`` variable (nor
    ``PROMETHEUS_MULTIPROC_DIR``) from the environment, no ``.env`` file, no settings cached by an earlier
    test, so no test can reach a real model provider or database. A test that wants a variable sets it
    with ``monkeypatch.setenv``; a subprocess gets an explicit ``env``."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX) or name in ENV_OTHERS:
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started on first use (fails if it cannot be)."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend this test runs on."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``None`` (SQLite under DATA_DIR, the default) or the URL of a fresh PostgreSQL database."""
    if backend == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.database()
    yield url
    server.drop(url)


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings on a fresh, empty DATA_DIR, no LLM, one all-scopes API key (and the ``backend``'s database
    when the test asks for one)."""
    url = request.getfixturevalue("database_url") if "backend" in request.fixturenames else None
    # A shared database needs the replicas' one PII_KEY and AUDIT_KEY (assistant.storage.crypto.check_keys).
    keys = {"pii_key": SecretStr(Fernet.generate_key().decode()), "audit_key": SecretStr("t" * 32)} if url else {}
    return Settings(data_dir=tmp_path / "data", api_keys=[TEST_API_KEY], database_url=url,  # type: ignore[call-arg]
                    _env_file=None, **keys)


@pytest.fixture
def services(settings: Settings) -> Services:
    """Services for those settings."""
    return Services(settings)


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    """An HTTP client against a fresh app (lifespan run)."""
    with TestClient(create_app(settings, services)) as test_client:
        yield test_client


def talk(chat: Any, *messages: str) -> list[Any]:
    """Send ``messages`` to a chat service in one session; return the turns."""
    turns: list[Any] = []
    session_id = None
    for message in messages:
        turn = chat.handle(message, session_id)
        session_id = turn.session_id
        turns.append(turn)
    return turns
