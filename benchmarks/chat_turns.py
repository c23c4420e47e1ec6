"""Benchmark: chat-turn latency over HTTP on the offline engine, 1 and 16 concurrent sessions.

The real app (uvicorn in its own process on 127.0.0.1, fresh temporary DATA_DIR, no LLM) is driven by
httpx clients, one thread per session; each session plays the scripted scenarios of
``eval/conversations/scenarios.yaml`` (a new chat session per scenario, turns in order) until it has sent
its share of requests. Latency is
client-side wall time of ``POST /v1/chat``, after a warm-up that loads every component once.
Target (issue 7): p95 ≤ 100 ms with 16 concurrent sessions. Prints numbers; asserts nothing.

Two load models, both printed:

* **think time** (``--think-ms``, default 1,000): each session waits a random, exponentially
  distributed pause (mean 1 s) after a reply before it sends its next message — 16 customers
  chatting at once. Real customers read and type for several seconds, so 1 s is a harsh case.
* **saturation** (think time 0): every session sends its next message the instant the reply arrives,
  so 16 requests are always in flight. This measures capacity (turns/s); its latency is queueing
  (Little's law: 16 / throughput), not what a customer in a 16-person chat room sees.

The scenarios repeat, so the server runs with the NLU's embedding cache off
(``LOAN_ASSISTANT_NLU_EMBEDDING_CACHE=0``): every turn embeds its message as a new message would.

Run: python benchmarks/chat_turns.py [--turns 200] [--turns-each 50] [--concurrency 1 16]
         [--think-ms 1000] [--workers 1] [--cache]
(1 session × 200 turns, then 16 sessions × 50 turns with think time, then the same with none.)
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from assistant.evals.conversations import load_scenarios, scenarios_path
from assistant.settings import Settings

TARGET_P95_MS = 100.0


def free_port() -> int:
    """A free loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, workers: int, cache: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """``uvicorn`` serving the app in its own process (so the load generator does not share its GIL),
    configured through the environment like a deployment; returns once ``/health`` answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOAN_ASSISTANT_")}
    env.update(LOAN_ASSISTANT_DATA_DIR=str(data_dir), LOAN_ASSISTANT_RATE_LIMIT_PER_MINUTE="1000000",
               LOAN_ASSISTANT_SESSION_RATE_LIMIT_PER_MINUTE="0",
               LOAN_ASSISTANT_LOG_LEVEL="WARNING", LOAN_ASSISTANT_NLU_EMBEDDING_CACHE="2048" if cache else "0")
    # The product's own command, so that the benchmark runs what a deployment runs.
    command = [sys.executable, "-c", "import sys; from assistant.cli import main; sys.exit(main())", "serve",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600  # a fresh DATA_DIR builds the knowledge index first
    while True:
        if process.poll() is not None:
            log.close()
            tail = (data_dir / "server.log").read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"the server exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(base_url + "/health", timeout=1.0).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError("the server did not start within 600 s")
        time.sleep(0.1)


def conversations(settings: Settings) -> list[list[str]]:
    """The customer messages of every scenario, one list per conversation."""
    return [[turn.user for turn in s.turns] for s in load_scenarios(scenarios_path(settings))]


def session_worker(base_url: str, scripts: list[list[str]], offset: int, requests: int,
                   latencies: list[float], outcomes: Counter[str], lock: threading.Lock,
                   by_kind: dict[str, list[float]] | None = None, think_ms: float = 0.0) -> None:
    """Send ``requests`` turns, walking the scripts from ``offset`` (a new chat session per script),
    pausing an exponentially distributed think time (mean ``think_ms``) after each reply."""
    sent = 0
    index = offset
    pauses = random.Random(offset)
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        while sent < requests:
            session_id = None
            for message in scripts[index % len(scripts)]:
                if sent >= requests:
                    break
                body: dict[str, object] = {"message": message}
                if session_id:
                    body["session_id"] = session_id
                started = time.perf_counter()
                response = client.post("/v1/chat", json=body)
                elapsed = (time.perf_counter() - started) * 1000
                sent += 1
                data = response.json() if response.status_code == 200 else {}
                # What the turn did: the tools it ran, or "no tool" (questions, refusals, hand-offs).
                kind = "+".join(sorted({c["name"] for c in data.get("tool_calls", [])})) or "no tool"
                with lock:
                    latencies.append(elapsed)
                    outcomes[str(response.status_code)] += 1
                    if by_kind is not None:
                        by_kind.setdefault(kind, []).append(elapsed)
                if response.status_code != 200:
                    break
                session_id = data["session_id"]
                if think_ms > 0:
                    time.sleep(pauses.expovariate(1000.0 / think_ms))  # the customer reads and types
            index += 1


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def measure(base_url: str, scripts: list[list[str]], concurrency: int, turns_per_session: int,
            think_ms: float = 0.0) -> None:
    """Run ``concurrency`` sessions in parallel and print latency figures."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    by_kind: dict[str, list[float]] = {}
    lock = threading.Lock()
    step = max(1, len(scripts) // concurrency)
    threads = [threading.Thread(target=session_worker,
                                args=(base_url, scripts, i * step, turns_per_session, latencies, outcomes, lock,
                                      by_kind, think_ms))
               for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    p95 = percentile(latencies, 95)
    verdict = "meets" if p95 <= TARGET_P95_MS else "misses"
    load = f"think {think_ms / 1000:.1f} s" if think_ms else "saturation"
    print(f"concurrency {concurrency:>2} ({load}): {len(latencies)} turns in {wall:.1f} s "
          f"({len(latencies) / wall:.1f} turns/s) "
          f"p50 {statistics.median(latencies):.1f} ms  p95 {p95:.1f} ms  p99 {percentile(latencies, 99):.1f} ms  "
          f"max {max(latencies):.1f} ms  status {dict(outcomes)}"
          + (f"  [{verdict} p95 ≤ {TARGET_P95_MS:.0f} ms]" if concurrency >= 16 else ""))
    ranked = sorted(by_kind.items(), key=lambda item: -statistics.median(item[1]))
    print("    by what the turn ran (n, p50, p95 ms): " + "; ".join(
        f"{kind} {len(values)}, {statistics.median(values):.0f}, {percentile(values, 95):.0f}"
        for kind, values in ranked))


def main() -> None:
    """Start the app, warm it up, then measure at each concurrency level."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200, help="turns sent by the single session")
    parser.add_argument("--turns-each", type=int, default=50, help="turns sent by each of the concurrent sessions")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--think-ms", type=float, default=1000.0,
                        help="mean think time between a reply and the next message, concurrent sessions")
    parser.add_argument("--cache", action="store_true", help="keep the NLU embedding cache on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
        scripts = conversations(settings)
        process, base_url = start_server(data_dir, args.workers, args.cache)
        try:
            warm_latencies: list[float] = []
            warm_started = time.perf_counter()
            # Warm-up: every scenario once (twice per worker), so each component (NLU, matching, retrieval,
            # scoring, documents, valuation) is loaded in every worker before timing starts.
            turns = sum(len(s) for s in scripts)
            for _ in range(args.workers):
                session_worker(base_url, scripts, 0, turns, warm_latencies, Counter(), threading.Lock())
            print(f"server: uvicorn, {args.workers} worker(s), offline engine, fresh DATA_DIR, NLU embedding "
                  f"cache {'on' if args.cache else 'off'}; warm-up "
                  f"{len(warm_latencies)} turns in {time.perf_counter() - warm_started:.1f} s "
                  f"(first turn {warm_latencies[0]:.0f} ms)")
            for concurrency in args.concurrency:
                if concurrency == 1:
                    measure(base_url, scripts, 1, args.turns)
                    continue
                if args.think_ms > 0:
                    measure(base_url, scripts, concurrency, args.turns_each, args.think_ms)
                measure(base_url, scripts, concurrency, args.turns_each)
        finally:
            process.terminate()
            process.wait(timeout=30)
            log_lines = (data_dir / "server.log").read_text(encoding="utf-8", errors="replace").splitlines()
            errors = [line for line in log_lines if '"level": "error"' in line or "Traceback" in line]
            print(f"server log: {len(log_lines)} lines, {len(errors)} errors"
                  + (f" (first: {errors[0][:200]})" if errors else ""))


if __name__ == "__main__":
    main()
