"""Benchmark: where a knowledge-base search spends its time (query embedding, BM25, Chroma, whole search).

The figures of record (hit@k, MRR, p50/p95 per mode) come from ``loan-assistant eval retrieval``; this
script splits the hybrid latency into its parts so a slow p95 can be attributed (usually the query
embedding, which shares the CPU with everything else on the machine). Prints the load average too.

Run: python benchmarks/retrieval.py [--n 200]   (uses DATA_DIR's index; builds it if missing)
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from assistant.evals.retrieval import load_questions, questions_path
from assistant.kb.retriever import build_retriever, normalise_query
from assistant.kb.store import Filters
from assistant.settings import get_settings


def _ms(samples: list[float]) -> str:
    arr = np.array(samples) * 1000
    return f"p50 {np.percentile(arr, 50):6.2f} ms   p95 {np.percentile(arr, 95):6.2f} ms"


def main() -> None:
    """Time each stage over the evaluation questions (cycled to ``--n`` queries)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    settings = get_settings()
    retriever = build_retriever(settings)
    path = questions_path(settings)
    queries = [q["q"] for q in load_questions(path)] if path.is_file() else ["提前结清要违约金吗"]
    queries = [queries[i % len(queries)] for i in range(args.n)]
    retriever.search("预热", k=5)
    stages: dict[str, list[float]] = {"normalise": [], "embed": [], "bm25": [], "chroma": [], "search": []}
    state = retriever._state
    for q in queries:
        t0 = time.perf_counter()
        nq = normalise_query(q)
        t1 = time.perf_counter()
        vec = retriever.embedder.embed_query(nq)
        t2 = time.perf_counter()
        state.bm25.top(nq, retriever.candidates)
        t3 = time.perf_counter()
        retriever.store.query(vec, retriever.candidates, Filters(), total=len(state.chunks))
        retriever.store.query(vec, len(state.first_chunk), Filters(), level="document", total=len(state.first_chunk))
        t4 = time.perf_counter()
        retriever.search(q, k=5)
        t5 = time.perf_counter()
        for name, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            stages[name].append(dt)
    print(f"{len(queries)} queries over {len(retriever.doc_ids)} documents / {len(retriever.chunks)} chunks; "
          f"embedder {retriever.embedder.name}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for name, samples in stages.items():
        print(f"{name:<10} {_ms(samples)}")
    print(json.dumps({name: float(np.percentile(np.array(s) * 1000, 95)) for name, s in stages.items()}))


if __name__ == "__main__":
    main()
