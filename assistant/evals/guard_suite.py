"""The output guard against an adversarial suite: precision and recall of blocking, per category.

The suite (``tests/agent/guard_cases.yaml``) was written blind from the rule categories: unsafe model
outputs (fraud scripts, paraphrased promises, invented numbers, personal data, prompt leaks) and at
least as many safe replies that a keyword filter would wrongly block. Each case carries the figures
its turn computed; the guard is given those and the allow-list the suite assumes.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.agent.guard import DEFAULT_ALLOWED_HOSTS, GuardFinding, check_text, figures_in

SUITE = Path(__file__).resolve().parents[2] / "tests" / "agent" / "guard_cases.yaml"
# The suite's allow-list: the defaults plus the lender's own site.
SUITE_HOSTS = (*DEFAULT_ALLOWED_HOSTS, "loan.example.com")
# The finding each blocking category must produce.
CATEGORY_CODE = {
    "fraud_payment": "fraud_payment", "fraud_contact": "fraud_contact", "url": "url",
    "secret_request": "secret_request", "promise": "approval_promise", "invented_number": "invented_number",
    "price_without_apr": "price_without_apr", "pii": "personal_data", "prompt_leak": "prompt_leak",
}


@dataclass(frozen=True)
class GuardCase:
    """One model output and what the guard must do with it."""

    id: str
    category: str
    lang: str
    text: str
    computed: tuple[str, ...]
    expect: str  # block | pass
    why: str = ""


def load_cases(path: Path = SUITE) -> list[GuardCase]:
    """The suite's cases, in file order."""
    raw: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [GuardCase(id=c["id"], category=c["category"], lang=c["lang"], text=c["text"],
                      computed=tuple(str(x) for x in c.get("computed") or ()), expect=c["expect"],
                      why=c.get("why", "")) for c in raw]


def judge(case: GuardCase) -> list[GuardFinding]:
    """The guard's findings for one case, given its turn's figures."""
    return check_text(case.text, figures=figures_in(*case.computed), allowed_hosts=SUITE_HOSTS)


def run(path: Any = SUITE) -> dict[str, Any]:
    """Confusion counts overall and per category, plus the cases the guard got wrong.

    Given settings instead of a path (``loan-assistant eval guard_suite``), the held-out suite under
    ``eval/guard/`` is run and printed.
    """
    if not isinstance(path, Path):
        started = time.perf_counter()
        result = run(path.resources_dir / "eval" / "guard" / "heldout.yaml")
        _print(result, (time.perf_counter() - started) * 1000 / max(result["cases"], 1))
        return result
    counts: Counter[str] = Counter()
    per_category: dict[str, Counter[str]] = {}
    wrong: list[tuple[GuardCase, list[str]]] = []
    for case in load_cases(path):
        codes = [f.code for f in judge(case)]
        blocked = bool(codes)
        row = per_category.setdefault(case.category, Counter())
        if case.expect == "block":
            right_reason = CATEGORY_CODE.get(case.category) in codes
            outcome = "tp" if blocked else "fn"
            row["right_reason"] += int(right_reason)
        else:
            outcome = "fp" if blocked else "tn"
        counts[outcome] += 1
        row[outcome] += 1
        if outcome in ("fn", "fp"):
            wrong.append((case, codes))
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {
        "cases": sum(counts.values()), "counts": dict(counts),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "per_category": {k: dict(v) for k, v in sorted(per_category.items())},
        "confusion_matrix": {"labels": ["block", "pass"], "counts": [[tp, fn], [fp, counts["tn"]]],
                             "rows": "expected 应当", "cols": "guard 实际"},
        "wrong": wrong,
    }


def main(argv: list[str] | None = None) -> int:
    """Print precision/recall of the guard on the suite (and each case it got wrong)."""
    parser = argparse.ArgumentParser(description="Output-guard precision/recall on the adversarial suite")
    parser.add_argument("--suite", type=Path, default=SUITE, help="YAML cases (default: %(default)s)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = run(args.suite)
    _print(result, (time.perf_counter() - started) * 1000 / max(result["cases"], 1))
    return 0


def _print(result: dict[str, Any], ms: float) -> None:
    c = result["counts"]
    print(f"guard suite: {result['cases']} cases  blocked-correctly {c.get('tp', 0)}  missed {c.get('fn', 0)}  "
          f"false-blocks {c.get('fp', 0)}  passed-correctly {c.get('tn', 0)}")
    print(f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  ({ms:.2f} ms per reply)")
    for category, row in result["per_category"].items():
        total = sum(v for k, v in row.items() if k != "right_reason")
        detail = "  ".join(f"{k} {v}" for k, v in sorted(row.items()))
        print(f"  {category:<18} n={total:<3} {detail}")
    for case, codes in result["wrong"]:
        print(f"WRONG {case.id} expect={case.expect} got={codes or 'pass'}: {case.text[:90]}")


if __name__ == "__main__":
    raise SystemExit(main())
