"""``loan-assistant eval retrieval``: hit@1, hit@3 and MRR for BM25-only, vector-only and hybrid, plus latency.

Reads ``eval/retrieval/questions.jsonl`` (one ``{"q", "doc_ids": [...], "lang"}`` per line); a question is
a hit at k when any of its labelled documents is among the first k distinct documents returned.
Latency is the wall-clock time of one full ``search`` call (query embedding, BM25, Chroma, fusion), after
one warm-up query per mode. Targets: hybrid hit@3 ≥ 0.95 and above each single method; p95 ≤ 30 ms.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.jsonl import read_jsonl

if TYPE_CHECKING:
    from assistant.kb.retriever import HybridRetriever
    from assistant.settings import Settings

TARGET_HIT3 = 0.95
TARGET_P95_MS = 30.0
DEPTH = 10


def questions_path(settings: Settings) -> Path:
    """The labelled questions file."""
    return settings.resources_dir / "eval" / "retrieval" / "questions.jsonl"


def load_questions(path: Path) -> list[dict[str, Any]]:
    """Parse the JSONL file, skipping blank lines; each item has ``q``, ``doc_ids`` and ``lang``."""
    items = []
    for n, item in read_jsonl(path):
        if not item.get("q") or not item.get("doc_ids"):
            raise ValueError(f"{path}:{n}: needs 'q' and a non-empty 'doc_ids'")
        item.setdefault("lang", "zh")
        items.append(item)
    return items


def evaluate(retriever: HybridRetriever, questions: Sequence[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Score one retrieval mode over the questions."""
    retriever.search("预热 warm-up", k=DEPTH, mode=mode)  # type: ignore[arg-type]
    ranks: list[int | None] = []
    latencies: list[float] = []
    cpu: list[float] = []
    misses: list[dict[str, Any]] = []
    for item in questions:
        gold = set(item["doc_ids"])
        started, cpu_started = time.perf_counter(), time.process_time()
        results = retriever.search(item["q"], k=DEPTH, mode=mode)  # type: ignore[arg-type]
        latencies.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        rank = next((i for i, r in enumerate(results, start=1) if r.doc_id in gold), None)
        ranks.append(rank)
        if rank is None or rank > 3:
            misses.append({"q": item["q"], "gold": sorted(gold), "got": [r.doc_id for r in results[:3]]})
    n = max(len(ranks), 1)
    by_lang: dict[str, list[int | None]] = {}
    for item, rank in zip(questions, ranks, strict=True):
        by_lang.setdefault(item["lang"], []).append(rank)
    return {
        "hit@1": sum(1 for r in ranks if r == 1) / n,
        "hit@3": sum(1 for r in ranks if r is not None and r <= 3) / n,
        "mrr": sum(1 / r for r in ranks if r is not None) / n,
        "p50_ms": float(np.percentile(latencies, 50)) if latencies else 0.0,
        "p95_ms": float(np.percentile(latencies, 95)) if latencies else 0.0,
        # CPU time of this process (all its threads): what a query costs when it has a core to itself.
        "cpu_p50_ms": float(np.percentile(cpu, 50)) if cpu else 0.0,
        "cpu_p95_ms": float(np.percentile(cpu, 95)) if cpu else 0.0,
        "hit@3_by_lang": {
            lang: sum(1 for r in rs if r is not None and r <= 3) / len(rs) for lang, rs in sorted(by_lang.items())
        },
        "misses": misses,
    }


def run(settings: Settings, *, retriever: HybridRetriever | None = None, show_misses: bool = False) -> dict:
    """Build (or reuse) the index, score the three modes and print the table."""
    from assistant.kb.retriever import MODES, build_retriever

    path = questions_path(settings)
    if not path.is_file():
        print(f"没有找到评测集 / no questions at {path}")
        return {"questions": 0}
    questions = load_questions(path)
    retriever = retriever or build_retriever(settings)
    indexed = set(retriever.doc_ids)
    unknown = sorted({d for item in questions for d in item["doc_ids"]} - indexed)
    results = {mode: evaluate(retriever, questions, mode) for mode in ("bm25", "vector", "hybrid")}
    assert set(results) == set(MODES)

    langs = ", ".join(f"{lang} {sum(1 for q in questions if q['lang'] == lang)}"
                      for lang in sorted({q["lang"] for q in questions}))
    print(f"questions: {len(questions)} ({langs}); documents indexed: {len(indexed)}; "
          f"chunks: {len(retriever.chunks)}; embedder: {retriever.embedder.name}")
    if unknown:
        print(f"warning: {len(unknown)} labelled doc ids are not in the index: {', '.join(unknown[:10])}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"latency: wall clock per search; cpu = this process's CPU time (load average {load:.1f} "
          f"on {os.cpu_count()} CPUs)")
    print(f"{'mode':<8} {'hit@1':>7} {'hit@3':>7} {'MRR':>7} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
    for mode, r in results.items():
        print(f"{mode:<8} {r['hit@1']:>7.3f} {r['hit@3']:>7.3f} {r['mrr']:>7.3f} "
              f"{r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['cpu_p50_ms']:>8.1f} {r['cpu_p95_ms']:>8.1f}")
    hybrid = results["hybrid"]
    print("hybrid hit@3 by language: " + ", ".join(f"{k} {v:.3f}" for k, v in hybrid["hit@3_by_lang"].items()))
    passed = {
        "hybrid_hit3": hybrid["hit@3"] >= TARGET_HIT3,
        # Strictly better hit@3 than each single method; if a method already ties at the ceiling,
        # at least as good at hit@3 and strictly better MRR.
        "hybrid_beats_each": all(
            hybrid["hit@3"] > results[m]["hit@3"]
            or (hybrid["hit@3"] >= results[m]["hit@3"] and hybrid["mrr"] > results[m]["mrr"])
            for m in ("bm25", "vector")
        ),
        "p95": hybrid["p95_ms"] <= TARGET_P95_MS,
    }
    print(f"targets: hybrid hit@3 ≥ {TARGET_HIT3}: {'ok' if passed['hybrid_hit3'] else 'MISSED'}; "
          f"hybrid better than each alone: {'ok' if passed['hybrid_beats_each'] else 'MISSED'}; "
          f"p95 ≤ {TARGET_P95_MS:.0f} ms: {'ok' if passed['p95'] else 'MISSED'}")
    if show_misses:
        for miss in hybrid["misses"]:
            print(f"  miss: {miss['q']}  gold={miss['gold']} got={miss['got']}")
    return {
        "questions": len(questions),
        "documents": len(indexed),
        "chunks": len(retriever.chunks),
        "embedder": retriever.embedder.name,
        "modes": {m: {k: v for k, v in r.items() if k != "misses"} for m, r in results.items()},
        "targets_met": passed,
        "unknown_doc_ids": unknown,
    }
