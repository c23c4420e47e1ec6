"""The index build reports its progress: what is built, batch by batch, and a time left measured after
the first batches; shown as log events, plain lines or a bar."""

from __future__ import annotations

import io

from assistant.console import IndexLogEvents, PlainIndexLines
from assistant.kb.ingest import ingest
from assistant.kb.progress import BuildEstimate, IndexProgress, duration_zh
from assistant.settings import Settings


def _event(stage: str, done: int, elapsed: float, total: int = 100) -> IndexProgress:
    return IndexProgress(stage, done, total, documents=9, chunks=total, embedder="e5", elapsed_s=elapsed)  # type: ignore[arg-type]


def test_the_estimate_leaves_out_the_first_batch() -> None:
    estimate = BuildEstimate()
    estimate.update(_event("start", 0, 0.0))
    estimate.update(_event("embed", 10, 30.0))  # the first batch also loaded the model
    assert estimate.rate is None and estimate.eta_s is None
    estimate.update(_event("embed", 20, 35.0))
    assert estimate.rate == 2.0 and estimate.eta_s == 40.0
    assert estimate.first_eta_s == 75.0  # 35 s so far + 40 s to go
    estimate.update(_event("embed", 60, 55.0))
    assert estimate.eta_s == 20.0 and estimate.first_eta_s == 75.0
    estimate.update(_event("done", 100, 75.0))
    assert estimate.eta_s == 0.0
    assert duration_zh(75) == "1 分 15 秒" and duration_zh(4.6) == "5 秒"


def test_ingest_tells_the_callback_before_during_and_after(kb_settings: Settings) -> None:
    events: list[IndexProgress] = []
    report = ingest(kb_settings, on_progress=events.append)
    assert events[0].stage == "start" and events[-1].stage == "done"
    start, done = events[0], events[-1]
    assert start.documents == report.documents == 5 and start.chunks == report.chunks == start.total
    embeds = [e.done for e in events if e.stage == "embed"]
    assert embeds == sorted(embeds) and embeds[-1] == report.embedded_chunks == done.done
    assert done.elapsed_s >= events[1].elapsed_s > 0
    events.clear()
    ingest(kb_settings, on_progress=events.append)  # nothing changed: the live index stays, nothing is built
    assert events == []


def test_plain_lines_say_what_is_built_and_the_time_left() -> None:
    out = io.StringIO()
    lines = PlainIndexLines(out)
    for event in (_event("start", 0, 0.0), _event("embed", 16, 10.0), _event("embed", 32, 14.0),
                  _event("embed", 64, 22.0), _event("done", 100, 31.0)):
        lines(event)
    text = out.getvalue().splitlines()
    assert text[0] == ("建立知识索引 building the knowledge index: 9 篇文档 documents, 100 个片段 chunks, "
                       "嵌入模型 embedding model e5")
    assert text[1] == "  32/100 (32%) 约剩 17 秒 (~17 s left)"  # 4 chunks/s after the first batch
    assert text[2].startswith("  64/100 (64%) 约剩 9 秒")
    assert text[-1].startswith("知识索引已就绪 knowledge index ready: 100 个片段 chunks") and "31.0 s" in text[-1]


def test_json_log_mode_gets_events(capsys) -> None:
    from assistant.logs import configure_logging

    configure_logging("INFO", json=True)
    events = IndexLogEvents()
    for event in (_event("start", 0, 0.0), _event("embed", 10, 5.0), _event("embed", 20, 7.0),
                  _event("done", 100, 20.0)):
        events(event)
    err = capsys.readouterr().err
    assert '"event": "kb_index_build_started"' in err and '"to_embed": 100' in err
    assert '"event": "kb_index_progress"' in err and '"eta_s": 16.0' in err
    assert '"event": "kb_index_built"' in err and '"first_estimate_s": 23.0' in err
