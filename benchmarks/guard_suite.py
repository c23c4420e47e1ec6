"""Output-guard precision/recall on the adversarial suites (``python benchmarks/guard_suite.py``).

Prints the figures (and the time per reply) for the suite the rules were developed against
(tests/agent/guard_cases.yaml) and the held-out suite written blind afterwards (eval/guard/heldout.yaml),
which was run once and never used to change a rule.
"""

from __future__ import annotations

from pathlib import Path

from assistant.evals.guard_suite import SUITE, main

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "eval" / "guard" / "heldout.yaml"

if __name__ == "__main__":
    for suite in (SUITE, HELDOUT):
        if suite.exists():
            print(f"== {suite.relative_to(ROOT)}")
            main(["--suite", str(suite)])
