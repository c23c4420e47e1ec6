"""The retrieval evaluation suite computes its figures from a labelled file."""

from __future__ import annotations

import json

import pytest

from assistant.evals import suites
from assistant.evals.retrieval import load_questions, run
from assistant.settings import Settings


def test_suite_reports_all_modes(kb_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    path = kb_settings.resources_dir / "eval" / "retrieval" / "questions.jsonl"
    path.parent.mkdir(parents=True)
    rows = [
        {"q": "提前结清要违约金吗", "doc_ids": ["early-repayment"], "lang": "zh"},
        {"q": "晚还几天会上征信吗", "doc_ids": ["overdue-consequences"], "lang": "zh"},
        {"q": "can the GPS track me all the time", "doc_ids": ["gps-installation-privacy"], "lang": "en"},
        {"q": "绿本什么时候还给我", "doc_ids": ["mortgage-release", "no-such-doc"], "lang": "zh"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8")
    assert "retrieval" in suites()
    figures = run(kb_settings)
    assert figures["questions"] == 4 and figures["documents"] == 5
    assert figures["unknown_doc_ids"] == ["no-such-doc"]
    for mode in ("bm25", "vector", "hybrid"):
        m = figures["modes"][mode]
        assert 0 <= m["hit@1"] <= m["hit@3"] <= 1 and 0 <= m["mrr"] <= 1
        assert 0 < m["p50_ms"] <= m["p95_ms"]
    assert figures["modes"]["hybrid"]["hit@3"] == 1.0
    out = capsys.readouterr().out
    assert "hybrid" in out and "p95 ms" in out


def test_bad_label_lines_are_reported(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "q.jsonl"
    path.write_text('{"q": "x", "doc_ids": []}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="doc_ids"):
        load_questions(path)
