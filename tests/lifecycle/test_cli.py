"""``loan-assistant book simulate|import|status`` and ``loan-assistant monitor``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.settings import get_settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh DATA_DIR for commands that read their settings from the environment."""
    monkeypatch.setenv("LOAN_ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_simulate_then_monitor(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["book", "simulate", "--loans", "150", "--seed", "3", "--as-of", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    assert "模拟数据" in out and "150 loans" in out
    assert main(["monitor", "--as-of", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("monitor run 1 as of 2026-11-20") and "高危/critical" in out
    assert main(["book", "status", "SIM-000001", "--as-of", "2026-11-20"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["loan_id"] == "SIM-000001" and status["simulated"] is True


def test_import_csv_reports_every_row(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loans = env / "loans.csv"
    loans.write_text("loan_id,customer_id,product_id,principal,annual_rate,term_months,disbursed_on,vehicle_price\n"
                     "A1,C1,bank_auto_loan,50000,0.04,12,2026-01-05,80000\n", encoding="utf-8")
    assert main(["book", "import", str(loans)]) == 0
    assert "1 imported" in capsys.readouterr().out
    pays = env / "pay.csv"
    pays.write_text("event_id,loan_id,paid_on,amount\nP1,A1,2026-02-05,4257.49\nP1,A1,2026-02-05,4257.49\n"
                    "P2,B9,2026-02-05,10\n", encoding="utf-8")
    assert main(["book", "import", str(pays)]) == 1  # something was rejected: a non-zero exit for scripts
    out = capsys.readouterr().out
    assert "1 applied" in out and "1 duplicates ignored" in out and "[unknown_loan/rejected]" in out
    assert main(["book", "import", str(env / "missing.csv")]) == 2
    assert main(["monitor", "--as-of", "not-a-date"]) == 2
