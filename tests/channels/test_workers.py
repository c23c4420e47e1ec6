"""``loan-assistant serve --workers 2`` for real, on SQLite and on PostgreSQL: several clients chatting in
one session at once, their requests spread over two worker processes. Every turn is stored, and the
session ends exactly as the same messages sent one after the other would leave it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from assistant.agent.service import ChatService
from assistant.agent.store import SessionStore
from assistant.services import Services
from assistant.settings import Settings
from assistant.storage.db import create_all, make_engine, make_session_factory
from tests.kb.conftest import copy_other_resources, write_corpus

from .live_server import free_port

pytestmark = pytest.mark.usefixtures("backend")

REPO = Path(__file__).resolve().parents[2]
WORKERS = 2
CLIENTS = 6
MESSAGES = ["车价20万", "首付三成", "分36期", "我月收入2万", "首付改成四成", "预算15万想买SUV", "分24期", "车价25万",
            "我在上海工作", "分48期", "首付两成", "车价18万"]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("loan-assistant")
    return [str(script) if script.exists() else shutil.which("loan-assistant") or "loan-assistant"]


class _Server:
    """The spawned server: its URL, and its log lines as they come (read on a thread)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.exited = threading.Event()
        # Own process group: stopping it stops uvicorn's supervisor and both workers it started.
        self.proc = subprocess.Popen([*_command(), "serve", "--workers", str(WORKERS), "--host", "127.0.0.1",
                                      "--port", str(self.port)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        started = 0
        for line in self.proc.stdout:
            self.lines.append(line)
            # Each worker logs "startup" once its warm-up is done and it takes requests. Two workers writing
            # to one pipe in the same millisecond can land on one line, so count occurrences, not lines.
            started += line.count('"event": "startup"')
            if started >= WORKERS:
                self.ready.set()
        self.exited.set()
        self.ready.set()  # wake the waiter: the server died

    def events(self, name: str) -> list[dict[str, object]]:
        out = []
        for line in self.lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("event") == name:
                out.append(record)
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)


@pytest.fixture
def worker_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test's settings (DATA_DIR, the backend's database) for spawned workers."""
    return settings_for_workers(settings, tmp_path)


def settings_for_workers(settings: Settings, tmp_path: Path) -> Settings:
    """``settings`` with a tiny knowledge base, the keys from outside DATA_DIR (every worker must use the
    same), and no rate limit in the way."""
    resources = tmp_path / "resources"
    write_corpus(resources)
    copy_other_resources(resources)
    return settings.model_copy(update={
        "resources_dir": resources, "pii_key": SecretStr(Fernet.generate_key().decode()),
        "audit_key": SecretStr(Fernet.generate_key().decode()), "rate_limit_per_minute": 0,
        "session_rate_limit_per_minute": 0,
    })


def server_env(s: Settings) -> dict[str, str]:
    """The environment of a spawned ``serve`` for these settings (none of the test process's own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOAN_ASSISTANT_")}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "LOAN_ASSISTANT_DATA_DIR": str(s.data_dir), "LOAN_ASSISTANT_RESOURCES_DIR": str(s.resources_dir),
        "LOAN_ASSISTANT_PII_KEY": s.pii_key.get_secret_value(),  # type: ignore[union-attr]
        "LOAN_ASSISTANT_AUDIT_KEY": s.audit_key.get_secret_value(),  # type: ignore[union-attr]
        "LOAN_ASSISTANT_RATE_LIMIT_PER_MINUTE": "0", "LOAN_ASSISTANT_SESSION_RATE_LIMIT_PER_MINUTE": "0",
        "LOAN_ASSISTANT_LOG_JSON": "true",
    })
    if s.database_url:
        env["LOAN_ASSISTANT_DATABASE_URL"] = s.database_url
    return env


@pytest.fixture
def server(worker_settings: Settings, tmp_path: Path) -> Iterator[_Server]:
    running = _Server(server_env(worker_settings), tmp_path)
    try:
        # Warm-up loads every model in each worker: up to minutes on a cold, busy machine.
        assert running.ready.wait(600), "the workers did not start"
        assert not running.exited.is_set(), "".join(running.lines[-40:])
        yield running
    finally:
        running.stop()


def _replay(services: Services, tmp_path: Path, sid: str, texts: list[str]) -> tuple[object, list[dict[str, str]]]:
    """The same messages one after the other, in a separate database, under the same session id."""
    engine = make_engine(f"sqlite:///{tmp_path / 'replay.db'}")
    create_all(engine)
    store = SessionStore(make_session_factory(engine), services.session_store._cipher)
    serial = ChatService(services, store, services.prompts)
    for text in texts:
        serial.handle(text, sid, create=True)
    return serial.state(sid), serial.transcript(sid)


def test_clients_in_one_session_across_two_workers_lose_no_turn(server: _Server, worker_settings: Settings,
                                                                tmp_path: Path) -> None:
    with httpx.Client(base_url=server.url, timeout=120) as http:
        assert http.get("/health").json()["status"] == "ok"
        first = http.post("/v1/chat", json={"message": "你好"})
        assert first.status_code == 200, first.text
    sid = first.json()["session_id"]
    start = threading.Barrier(CLIENTS)
    failures: list[str] = []

    def client(n: int) -> None:
        # A connection of its own per request: the kernel spreads them over both workers' accept().
        try:
            start.wait(60)
            for text in MESSAGES[n::CLIENTS]:
                reply = httpx.post(f"{server.url}/v1/chat", json={"session_id": sid, "message": text}, timeout=120)
                if reply.status_code != 200:
                    failures.append(f"{reply.status_code} {reply.text}")
        except Exception as exc:
            failures.append(repr(exc))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    server.stop()
    assert not failures

    services = Services(worker_settings)
    transcript = services.chat.transcript(sid)
    customer = [m["text"] for m in transcript if m["role"] == "customer"]
    assert len(transcript) == 2 * (1 + len(MESSAGES))  # every turn stored, both its messages
    assert sorted(customer) == sorted(["你好", *MESSAGES])
    assert customer[0] == "你好"
    state, replayed = _replay(services, tmp_path, sid, customer)
    final = services.chat.state(sid)
    assert final.turns == 1 + len(MESSAGES)
    assert (final.turns, final.slots, final.last_intent) == (state.turns, state.slots, state.last_intent)  # type: ignore[attr-defined]
    assert transcript == replayed  # each turn ran on the state all earlier turns left
    assert len(server.events("startup")) == WORKERS
