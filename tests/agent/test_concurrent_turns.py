"""Turns of one session run by several workers at once (each worker its own ChatService, so its own
in-process lock), on SQLite and PostgreSQL: no turn is lost, each ran on the state every earlier turn
left, and the result equals the same messages sent one after the other."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from assistant.agent.service import ChatService
from assistant.agent.store import SessionStore
from assistant.services import Services
from assistant.storage.db import create_all, make_engine, make_session_factory

pytestmark = pytest.mark.usefixtures("backend")

MESSAGES = ["车价20万", "首付三成", "分36期", "我月收入2万", "首付改成四成", "预算15万想买SUV", "分24期", "车价25万"]


def _worker(services: Services, store: SessionStore | None = None) -> ChatService:
    """Another worker process's chat service, on the same database."""
    return ChatService(services, store or services.session_store, services.prompts)


def _replay(services: Services, tmp_path: Path, sid: str, texts: list[str]) -> tuple[Any, list[dict[str, str]]]:
    """The same messages, one after the other, in a separate database under the same session id."""
    engine = make_engine(f"sqlite:///{tmp_path / 'replay.db'}")
    create_all(engine)
    store = SessionStore(make_session_factory(engine), services.session_store._cipher)
    serial = _worker(services, store)
    for text in texts:
        serial.handle(text, sid, create=True)
    return serial.state(sid), serial.transcript(sid)


def _comparable(state: Any) -> dict[str, Any]:
    return {"turns": state.turns, "slots": state.slots, "last_intent": state.last_intent, "lang": state.lang}


class _Interleave:
    """A store that lets another worker finish a whole turn right after this worker loaded the session,
    the first ``times`` times: this worker's save then finds the session stale."""

    def __init__(self, store: SessionStore, other: ChatService, texts: list[str], times: int) -> None:
        self._store = store
        self._other = other
        self._texts = list(texts)
        self._times = times
        self.loads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def load_for_turn(self, sid: str, channel: str) -> Any:
        loaded = self._store.load_for_turn(sid, channel)
        self.loads += 1
        if self.loads <= self._times:
            self._other.handle(self._texts.pop(0), sid, create=True)
        return loaded


@pytest.mark.parametrize("conflicts", [1, 2])
def test_a_turn_that_lost_the_race_runs_again_on_the_new_state(services: Services, tmp_path: Path,
                                                              conflicts: int) -> None:
    """1: the re-run wins; 2: both optimistic attempts lose, and the turn then holds the session."""
    sid = SessionStore.new_id()
    other = _worker(services)
    other.handle("你好", sid, create=True)
    interleave = _Interleave(services.session_store, other, MESSAGES[:conflicts], conflicts)
    mine = _worker(services, interleave)  # type: ignore[arg-type]
    with capture_logs() as logs:
        turn = mine.handle("车价30万，首付五成", sid)
    assert [e["attempt"] for e in logs if e["event"] == "turn_conflict"] == list(range(1, conflicts + 1))
    # Both optimistic attempts loaded here; the held attempt reads the session under its lock instead.
    assert interleave.loads == 2
    expected = ["你好", *MESSAGES[:conflicts], "车价30万，首付五成"]
    transcript = services.chat.transcript(sid)
    assert [m["text"] for m in transcript if m["role"] == "customer"] == expected
    state, replayed = _replay(services, tmp_path, sid, expected)
    assert _comparable(services.chat.state(sid)) == _comparable(state)
    assert transcript == replayed
    assert turn.reply == [m["text"] for m in replayed if m["role"] == "assistant"][expected.index("车价30万，首付五成")]


def test_many_clients_on_two_workers_lose_no_turn(services: Services, tmp_path: Path) -> None:
    sid = SessionStore.new_id()
    workers = [_worker(services), _worker(services)]
    workers[0].handle("你好", sid, create=True)
    clients = 6
    start = threading.Barrier(clients)
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            start.wait(30)
            for text in [*MESSAGES[n::clients], f"我叫客户{n}"]:
                workers[n % 2].handle(text, sid)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    sent = 1 + len(MESSAGES) + clients
    transcript = services.chat.transcript(sid)
    assert len(transcript) == 2 * sent
    customer = [m["text"] for m in transcript if m["role"] == "customer"]
    assert sorted(customer) == sorted(["你好", *MESSAGES, *(f"我叫客户{n}" for n in range(clients))])
    state, replayed = _replay(services, tmp_path, sid, customer)
    assert services.chat.state(sid).turns == sent
    assert _comparable(services.chat.state(sid)) == _comparable(state)
    assert transcript == replayed
