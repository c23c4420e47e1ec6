"""Fixtures for the conversation engine: a local OpenAI-compatible server and an LLM-configured service.

The LLM engine is always exercised through the real ``openai`` client over HTTP (LangChain's
``ChatOpenAI``) against :class:`assistant.testing.FakeOpenAIServer` on loopback; no provider is called.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.services import Services
from assistant.settings import Settings
from assistant.testing import FakeOpenAIServer, phrasing_policy, understanding_policy

LLM_API_KEY = "test-llm-key"
MODEL_PREFIX = "【模型】"


def llm_settings_for(data_dir: Path, base_url: str, timeout_s: float = 5.0) -> Settings:
    """Settings with the LLM engine pointed at ``base_url`` (no retries: a failure falls back at once)."""
    return Settings(  # type: ignore[call-arg]
        data_dir=data_dir, llm_base_url=base_url, llm_model="fake", llm_api_key=LLM_API_KEY,
        llm_timeout_s=timeout_s, llm_max_retries=0, _env_file=None,
    )


@functools.lru_cache(maxsize=1)
def offline_generator() -> Any:
    """The offline command generator on the shipped NLU and catalogue (what the fake model "understands" with)."""
    import tempfile

    from assistant.agent.tracker import OfflineCommandGenerator

    services = Services(Settings(data_dir=Path(tempfile.mkdtemp(prefix="fake-llm-")), _env_file=None))  # type: ignore[call-arg]
    return OfflineCommandGenerator(services.nlu, services.catalogue)


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAIServer]:
    """A fake model that understands as the offline tracker does (commands by tool call) and restates the
    engine's reference reply behind a recognisable prefix when asked to phrase."""
    with FakeOpenAIServer(understanding_policy(offline_generator, phrasing_policy(MODEL_PREFIX))) as server:
        yield server


@pytest.fixture
def llm_settings(tmp_path: Path, fake_llm: FakeOpenAIServer) -> Settings:
    """Settings on a fresh DATA_DIR with the LLM engine configured against the fake server."""
    return llm_settings_for(tmp_path / "llm-data", fake_llm.base_url)


@pytest.fixture
def llm_services(llm_settings: Settings) -> Services:
    """Services whose chat runs the LLM engine."""
    return Services(llm_settings)


@pytest.fixture
def llm_chat(llm_services: Services) -> Any:
    """The chat service, LLM engine."""
    chat = llm_services.chat
    assert chat.llm is not None, "an LLM is configured, so the LLM engine must be in use"
    return chat


@pytest.fixture
def chat(services: Services) -> Any:
    """The chat service, offline engine (the default settings configure no LLM)."""
    chat = services.chat
    assert chat.llm is None
    return chat
