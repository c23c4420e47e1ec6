"""``loan-assistant eval nlu``: intent accuracy and slot precision / recall on the TEST split.

Reads eval/nlu/utterances.jsonl, keeps the test split (:func:`assistant.nlu.dataset.split_of`),
parses every text with the shipped model and compares:

* intents — accuracy, macro-F1, per-intent precision / recall / F1, the most frequent confusions,
  accuracy by language, and the calibration of the confidence (expected calibration error, 10 bins);
* slots — micro precision / recall / F1 over (slot, value) pairs, a value counting only when it is
  exactly right (numbers equal to 1e-9), and the same per slot;
* the parse latency per message (p50 / p95, warm, one thread).

Targets (issue 7): intent accuracy ≥ 0.95, slot precision ≥ 0.95, slot recall ≥ 0.95.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from assistant.evals.report import reliability
from assistant.nlu.dataset import default_path, load_utterances
from assistant.nlu.parser import NLU

TARGET = 0.95
#: the labels' calendar: eval/nlu/README.md dates model years against 2026
LABEL_TODAY = date(2026, 6, 1)


def _same(gold: Any, pred: Any) -> bool:
    if isinstance(gold, bool) or isinstance(pred, bool):
        return gold == pred
    if isinstance(gold, int | float) and isinstance(pred, int | float):
        return math.isclose(float(gold), float(pred), rel_tol=0.0, abs_tol=1e-9)
    return gold == pred


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _ece(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    total = len(confidences)
    if not total:
        return 0.0
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if lo < c <= hi or (b == 0 and c == 0)]
        if idx:
            acc = sum(correct[i] for i in idx) / len(idx)
            conf = sum(confidences[i] for i in idx) / len(idx)
            ece += len(idx) / total * abs(acc - conf)
    return ece


def evaluate(nlu: NLU, rows: list[Any], today: date = LABEL_TODAY) -> dict[str, Any]:
    """Parse ``rows`` (utterances) with ``nlu`` and score intents and slots."""
    nlu.warm_up()
    before = nlu.classifier.usage.copy()
    intent_pairs: list[tuple[str, str]] = []
    confidences: list[float] = []
    by_lang: dict[str, list[bool]] = defaultdict(list)
    slot_counts: dict[str, Counter[str]] = defaultdict(Counter)
    latencies: list[float] = []
    errors: list[dict[str, Any]] = []
    for row in rows:
        started = time.perf_counter()
        result = nlu.parse(row.text, today=today)
        latencies.append((time.perf_counter() - started) * 1000)
        intent_pairs.append((row.intent, result.intent))
        confidences.append(result.confidence)
        by_lang[row.lang].append(row.intent == result.intent)
        wrong_slots = {}
        for slot in set(row.slots) | set(result.slots):
            gold, pred = row.slots.get(slot), result.slots.get(slot)
            if gold is not None and pred is not None and _same(gold, pred):
                slot_counts[slot]["tp"] += 1
                continue
            if pred is not None:
                slot_counts[slot]["fp"] += 1
            if gold is not None:
                slot_counts[slot]["fn"] += 1
            wrong_slots[slot] = {"gold": gold, "pred": pred}
        if wrong_slots or row.intent != result.intent:
            errors.append({"text": row.text, "gold_intent": row.intent, "pred_intent": result.intent,
                           "confidence": result.confidence, "slots": wrong_slots})

    correct = [g == p for g, p in intent_pairs]
    intents = sorted({g for g, _ in intent_pairs} | {p for _, p in intent_pairs})
    per_intent = {}
    for name in intents:
        tp = sum(1 for g, p in intent_pairs if g == p == name)
        fp = sum(1 for g, p in intent_pairs if p == name and g != name)
        fn = sum(1 for g, p in intent_pairs if g == name and p != name)
        p, r, f = _prf(tp, fp, fn)
        per_intent[name] = {"precision": p, "recall": r, "f1": f, "support": tp + fn}
    tp = sum(c["tp"] for c in slot_counts.values())
    fp = sum(c["fp"] for c in slot_counts.values())
    fn = sum(c["fn"] for c in slot_counts.values())
    sp, sr, sf = _prf(tp, fp, fn)
    per_slot = {}
    for slot, c in sorted(slot_counts.items()):
        p, r, f = _prf(c["tp"], c["fp"], c["fn"])
        per_slot[slot] = {"precision": p, "recall": r, "f1": f, "support": c["tp"] + c["fn"]}
    latencies.sort()
    usage = nlu.classifier.usage - before
    supported = [v for v in per_intent.values() if v["support"]]
    return {
        "n": len(rows),
        "intent_accuracy": sum(correct) / len(correct) if correct else 0.0,
        "intent_macro_f1": sum(v["f1"] for v in supported) / len(supported) if supported else 0.0,
        "intent_ece": _ece(confidences, correct),
        "intent_accuracy_by_lang": {k: sum(v) / len(v) for k, v in sorted(by_lang.items())},
        "per_intent": per_intent,
        "confusions": Counter((g, p) for g, p in intent_pairs if g != p).most_common(10),
        "slot_precision": sp,
        "slot_recall": sr,
        "slot_f1": sf,
        "slot_pairs": {"tp": tp, "fp": fp, "fn": fn},
        "per_slot": per_slot,
        "latency_ms_p50": latencies[len(latencies) // 2] if latencies else 0.0,
        "latency_ms_p95": latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] if latencies else 0.0,
        "embedded_share": usage["embedded"] / max(1, sum(usage.values())),
        # For the report (assistant.evals.report): every gold → predicted count, and the confidence's reliability.
        "confusion_matrix": {"labels": intents, "counts": [[sum(1 for g, p in intent_pairs if g == a and p == b)
                                                             for b in intents] for a in intents]},
        "calibration": reliability(confidences, correct),
        "cascade_threshold": nlu.classifier.cascade_threshold,
        "errors": errors,
    }


def _print(figures: dict[str, Any], meta: dict[str, Any]) -> None:
    def mark(value: float) -> str:
        return "✓" if value >= TARGET else "✗"

    print(f"NLU test split: {figures['n']} utterances (sha256(text) % 100 < 20)")
    print(f"  intent accuracy     {figures['intent_accuracy']:.4f} {mark(figures['intent_accuracy'])}"
          f"   macro-F1 {figures['intent_macro_f1']:.4f}   ECE {figures['intent_ece']:.4f}")
    langs = "  ".join(f"{k} {v:.4f}" for k, v in figures["intent_accuracy_by_lang"].items())
    print(f"  by language         {langs}")
    print(f"  slot precision      {figures['slot_precision']:.4f} {mark(figures['slot_precision'])}")
    print(f"  slot recall         {figures['slot_recall']:.4f} {mark(figures['slot_recall'])}")
    print(f"  slot F1             {figures['slot_f1']:.4f}   pairs {figures['slot_pairs']}")
    print(f"  parse latency       p50 {figures['latency_ms_p50']:.1f} ms   p95 {figures['latency_ms_p95']:.1f} ms")
    threshold = figures["cascade_threshold"]
    print(f"  embedding computed  {figures['embedded_share']:.1%} of messages"
          + (f" (skipped when the n-gram model is ≥ {threshold:.2f} sure)" if threshold is not None
             else " (cascade off)"))
    if meta:
        print(f"  model: train {meta.get('train_size')} utterances, 5-fold CV accuracy {meta.get('cv_accuracy')}")
    print("\n  per intent                 P      R      F1    n")
    for name, v in figures["per_intent"].items():
        print(f"  {name:<22} {v['precision']:.3f}  {v['recall']:.3f}  {v['f1']:.3f}  {v['support']:>3}")
    print("\n  per slot                   P      R      F1    n")
    for name, v in figures["per_slot"].items():
        print(f"  {name:<22} {v['precision']:.3f}  {v['recall']:.3f}  {v['f1']:.3f}  {v['support']:>3}")
    if figures["confusions"]:
        print("\n  most frequent intent confusions (gold → predicted):")
        for (gold, pred), count in figures["confusions"]:
            print(f"    {count:>2}  {gold} → {pred}")


def run(settings: Any) -> dict[str, Any]:
    """Evaluate the shipped model on the test split; print and return the figures."""
    rows = load_utterances(default_path(settings.resources_dir), split="test")
    nlu = NLU.from_settings(settings)
    figures = evaluate(nlu, rows)
    _print(figures, nlu.classifier.meta)
    return figures
