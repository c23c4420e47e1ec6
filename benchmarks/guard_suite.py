"""Output-guard precision/recall on the adversarial suites (``python benchmarks/guard_suite.py``).

Prints the figures for the suite the rules were developed against (tests/agent/guard_cases.yaml) and,
when present, the held-out suite written blind afterwards (eval/guard/heldout.yaml), which was never
used to change a rule.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from assistant.evals.guard_suite import SUITE, main, run

HELDOUT = Path(__file__).resolve().parents[1] / "eval" / "guard" / "heldout.yaml"

if __name__ == "__main__":
    for suite in (SUITE, HELDOUT):
        if not suite.exists():
            continue
        print(f"== {suite.relative_to(Path(__file__).resolve().parents[1])}")
        main(["--suite", str(suite)])
        started = time.perf_counter()
        result = run(suite)
        ms = (time.perf_counter() - started) * 1000 / max(result["cases"], 1)
        print(f"guard time per reply: {ms:.2f} ms")
    sys.exit(0)
