"""Prometheus metrics in a dedicated registry (so tests and several apps in one process don't clash).

The chat engine increments TURNS / TURN_LATENCY / TOOL_CALLS / FALLBACKS / HANDOFFS; the request
middleware HTTP_REQUESTS / HTTP_LATENCY and the worker's memory; the knowledge store KB_ERRORS; the WeChat
customer-service client WECHAT_RETRIES. ``GET /metrics`` renders them.

Several workers (``serve --workers N``): prometheus_client's multiprocess mode. ``serve`` makes a fresh
directory under DATA_DIR and names it in ``PROMETHEUS_MULTIPROC_DIR`` before the workers start; each
worker then keeps its samples in files there, and a scrape — whichever worker answers it — adds up the
files of all of them (:func:`render`). A worker that stops marks its live gauges dead.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from assistant.settings import Settings

# The variable prometheus_client reads when it is imported (in each worker); serve sets it, the settings
# object reads it back (Settings.prometheus_multiproc_dir).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REGISTRY = CollectorRegistry(auto_describe=True)

TURNS = Counter("loan_assistant_turns", "Chat turns answered, by intent and engine.", ["intent", "engine"],
                registry=REGISTRY)
TURN_LATENCY = Histogram(
    "loan_assistant_turn_latency_seconds",
    "Time to answer one chat turn, by engine.",
    ["engine"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0),
    registry=REGISTRY,
)
TOOL_CALLS = Counter("loan_assistant_tool_calls", "Tool invocations, by tool.", ["tool"], registry=REGISTRY)
FALLBACKS = Counter(
    "loan_assistant_fallbacks", "Turns where the engine fell back (LLM down -> offline engine).", registry=REGISTRY
)
HANDOFFS = Counter("loan_assistant_handoffs", "Conversations handed to a human agent.", registry=REGISTRY)
WECHAT_RETRIES = Counter(
    "loan_assistant_wechat_retries",
    "Retries on the WeChat channel: WeChat re-sending a message we already had, and our own retries of "
    "the customer-service message API.",
    registry=REGISTRY,
)
WECHAT_MESSAGES = Counter(
    "loan_assistant_wechat_messages", "WeChat messages received, by type and how they were answered.",
    ["msg_type", "delivery"], registry=REGISTRY,
)
RATE_LIMITED = Counter("loan_assistant_rate_limited", "Requests refused with 429, by scope.", ["scope"],
                       registry=REGISTRY)
AUDIT_EVENTS = Counter("loan_assistant_audit_events", "Entries appended to the audit trail, by event.", ["event"],
                       registry=REGISTRY)
HTTP_REQUESTS = Counter(
    "loan_assistant_http_requests", "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"], registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "loan_assistant_http_request_duration_seconds", "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
KB_ERRORS = Counter(
    "loan_assistant_knowledge_store_errors", "Knowledge-store failures (Chroma unreachable or broken), by operation.",
    ["operation"], registry=REGISTRY,
)
# liveall: one sample per live worker (a pid label in multiprocess mode); a stopped worker's is removed.
MEMORY = Gauge("loan_assistant_process_resident_memory_bytes", "Resident memory of each worker process.",
               registry=REGISTRY, multiprocess_mode="liveall")

# Route label of a request that matched no route: scanners' paths must not each become a series.
UNMATCHED_ROUTE = "unmatched"
_MEMORY_EVERY_S = 1.0
_memory_read_at = 0.0


def resident_bytes() -> int:
    """This process's resident set size (Linux: /proc/self/statm; elsewhere: the peak from getrusage)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)


def record_memory(force: bool = False) -> None:
    """Refresh this worker's memory gauge (at most once a second, unless forced)."""
    global _memory_read_at
    now = time.monotonic()
    if force or now - _memory_read_at >= _MEMORY_EVERY_S:
        _memory_read_at = now
        MEMORY.set(resident_bytes())


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    """Count one answered HTTP request (called by the request middleware)."""
    label = route or UNMATCHED_ROUTE
    HTTP_REQUESTS.labels(method=method, route=label, status=str(status)).inc()
    HTTP_LATENCY.labels(method=method, route=label).observe(seconds)
    record_memory()


def prepare_multiprocess_dir(settings: Settings) -> Path:
    """A fresh, empty metrics directory under DATA_DIR, named in the environment the workers inherit.

    Called by ``serve`` before it starts the workers: prometheus_client reads the variable when each
    worker imports it. The previous run's files are deleted (their pids are gone, their totals with them).
    """
    path = settings.ensure_data_dir().resolve() / "prometheus"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def mark_worker_exit(settings: Settings) -> None:
    """Drop this worker's live gauges from the shared directory (its counters stay in the totals)."""
    if settings.prometheus_multiproc_dir is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), str(settings.prometheus_multiproc_dir))


def render(settings: Settings | None = None) -> tuple[bytes, str]:
    """The metrics in the Prometheus text format, and its content type: this process's registry, or with
    several workers the sum over every worker's files."""
    record_memory(force=True)
    path = settings.prometheus_multiproc_dir if settings is not None else None
    if path is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(path))
    return generate_latest(registry), CONTENT_TYPE_LATEST
