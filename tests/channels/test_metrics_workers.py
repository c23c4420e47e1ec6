"""Operable across processes: ``serve --workers 2`` for real. ``/metrics`` — whichever worker answers the
scrape — counts the requests and turns of both; the logs are JSON lines only, one line per request, each
naming the process that wrote it, and one event per chat turn with nothing the customer said."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.settings import Settings

from .test_workers import WORKERS, _Server, server_env, settings_for_workers

SCRAPER = "scrape-key"
QUOTE = {"principal": 120000, "annual_rate": 0.045, "term_months": 36}
CONVERSATION = ["预算15万想买SUV", "首付三成分3年", "月供多少"]
CLIENTS = 8
PHONE = "13812345678"


@pytest.fixture
def worker_settings(settings: Settings, tmp_path: Path) -> Settings:
    """On SQLite (the PostgreSQL run of the same workers is tests/channels/test_workers.py)."""
    return settings_for_workers(settings, tmp_path)


@pytest.fixture
def server(worker_settings: Settings, tmp_path: Path) -> Iterator[_Server]:
    env = server_env(worker_settings) | {"LOAN_ASSISTANT_API_KEYS": f"{SCRAPER}:metrics"}
    running = _Server(env, tmp_path)
    try:
        assert running.ready.wait(600), "the workers did not start"
        assert not running.exited.is_set(), "".join(running.lines[-40:])
        yield running
    finally:
        running.stop()


def _samples(text: str, name: str) -> dict[str, float]:
    """Every sample of one metric: its label set (as written) → value."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, value = line.rsplit(" ", 1)
            out[labels[len(name):]] = float(value)
    return out


def _records(lines: list[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines if line.strip()]


def _quote_pids(server: _Server) -> set[object]:
    return {r.get("pid") for r in server.events("request") if r.get("path") == "/v1/quote"}


def test_metrics_and_logs_cover_both_workers(server: _Server, worker_settings: Settings) -> None:
    sent: Counter[str] = Counter()
    failures: list[str] = []
    lock = threading.Lock()

    def quotes(n: int) -> None:
        for _ in range(n):
            # A connection of its own per request: the kernel hands each to whichever worker accepts first.
            reply = httpx.post(f"{server.url}/v1/quote", json=QUOTE, timeout=120)
            with lock:
                sent["/v1/quote"] += 1
                if reply.status_code != 200:
                    failures.append(f"{reply.status_code} {reply.text}")

    # Concurrent batches until the request lines show both workers answering (bounded: 10 batches).
    for _batch in range(10):
        threads = [threading.Thread(target=quotes, args=(3,)) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        if len(_quote_pids(server)) == WORKERS:
            break
    assert not failures

    sid = None
    with httpx.Client(base_url=server.url, timeout=120) as http:
        for text in CONVERSATION:
            body = {"message": f"{text}，我的手机{PHONE}"} if sid is None else {"session_id": sid, "message": text}
            reply = http.post("/v1/chat", json=body)
            assert reply.status_code == 200, reply.text
            sid = reply.json()["session_id"]
            sent["/v1/chat"] += 1
        assert http.get(f"/no/such/{sid}").status_code == 404
        sent["unmatched"] += 1

        # A worker counts a request once its answer is sent, so the last few may land just after the
        # client has it: scrape until the totals are in (each scrape is answered by either worker).
        deadline = time.monotonic() + 60
        while True:
            scrape = http.get("/metrics", headers={"X-API-Key": SCRAPER})
            assert scrape.status_code == 200, scrape.text
            requests = _samples(scrape.text, "loan_assistant_http_requests_total")
            quotes_counted = requests.get('{method="POST",route="/v1/quote",status="200"}', 0)
            if quotes_counted >= sent["/v1/quote"] or time.monotonic() > deadline:
                break
    assert quotes_counted == sent["/v1/quote"]
    assert requests['{method="POST",route="/v1/chat",status="200"}'] == sent["/v1/chat"]
    assert requests['{method="GET",route="unmatched",status="404"}'] == 1  # no series per scanned path
    assert not any(sid in labels for labels in requests)
    latency = _samples(scrape.text, "loan_assistant_http_request_duration_seconds_count")
    assert latency['{method="POST",route="/v1/quote"}'] == sent["/v1/quote"]
    turns = _samples(scrape.text, "loan_assistant_turns_total")
    assert sum(turns.values()) == len(CONVERSATION)
    assert all('intent="' in labels and 'engine="offline' in labels for labels in turns)
    memory = _samples(scrape.text, "loan_assistant_process_resident_memory_bytes")
    assert len(memory) == WORKERS and all('pid="' in labels and value > 10e6 for labels, value in memory.items())
    metrics_dir = worker_settings.data_dir.resolve() / "prometheus"
    assert {p.name.rsplit("_", 1)[0] for p in metrics_dir.glob("*.db")} >= {"counter", "histogram", "gauge_liveall"}

    server.stop()  # every line is in once the process has exited
    records = _records(server.lines)  # every line is a JSON object: no plain uvicorn or library line
    assert all(isinstance(r, dict) and r.get("pid") and r.get("worker") for r in records)
    request_lines = Counter(r["path"] for r in records if r.get("event") == "request")
    assert request_lines["/v1/quote"] == sent["/v1/quote"]  # exactly one line per request
    assert request_lines["/v1/chat"] == sent["/v1/chat"]
    assert len(_quote_pids(server)) == WORKERS
    assert len({r["pid"] for r in records if r.get("event") == "startup"}) == WORKERS
    turn_events = [r for r in records if r.get("event") == "turn"]
    assert len(turn_events) == len(CONVERSATION)
    assert all({"intent", "engine", "ms", "tools"} <= set(r) for r in turn_events)
    written = "\n".join(server.lines)
    assert PHONE not in written and "预算15万" not in written and sid not in written
    # The workers marked their live gauges dead as they stopped: no stale memory sample of a gone pid.
    assert not list(metrics_dir.glob("gauge_liveall_*.db"))
