"""Session storage on SQLite and PostgreSQL: saves are a compare-and-swap on the session's version, a held
session cannot be overwritten, two processes counting on one session lose nothing, an older database
gets the version column without losing its rows, and personal data is not in clear at rest."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, func, inspect, select, text

from assistant.agent.store import SessionStore, StaleSession
from assistant.agent.types import SessionState
from assistant.services import Services
from assistant.settings import Settings
from assistant.storage.crypto import Cipher, load_key
from assistant.storage.db import create_all, make_engine
from assistant.storage.sessions import ChatMessageRow, ChatSessionRow

pytestmark = pytest.mark.usefixtures("backend")

PHONE = "13912345678"


def _count_messages(services: Services, sid: str) -> int:
    with services.sessions() as db:
        return int(db.scalar(select(func.count()).where(ChatMessageRow.session_id == sid)) or 0)


def test_a_save_on_a_stale_version_writes_nothing(services: Services) -> None:
    store: SessionStore = services.session_store
    sid = store.new_id()
    state, version = store.load_for_turn(sid, "app")
    assert version is None
    store.save(state, [("customer", "你好", "greet")], version=None)

    first, v1 = store.load_for_turn(sid, "app")
    second, v2 = store.load_for_turn(sid, "app")
    assert v1 == v2 == 1
    first.turns, second.turns = 1, 99
    store.save(first, [("customer", "一", None)], version=v1)
    with pytest.raises(StaleSession):
        store.save(second, [("customer", "二", None)], version=v2)
    assert store.load(sid).turns == 1
    assert [m["text"] for m in store.transcript(sid)] == ["你好", "一"]


def test_two_first_saves_of_one_new_session_one_wins(services: Services) -> None:
    store: SessionStore = services.session_store
    sid = store.new_id()
    a, _ = store.load_for_turn(sid, "app")
    b, _ = store.load_for_turn(sid, "app")
    b.turns = 7
    store.save(a, [("customer", "甲", None)], version=None)
    with pytest.raises(StaleSession):
        store.save(b, [("customer", "乙", None)], version=None)
    assert store.load(sid).turns == 0 and _count_messages(services, sid) == 1


def test_a_held_session_cannot_be_overwritten_meanwhile(services: Services) -> None:
    """While one turn holds the session, another worker's save waits, then finds it stale; the holder's
    save lands whatever the order the two get to it."""
    store: SessionStore = services.session_store
    sid = store.new_id()
    state, _ = store.load_for_turn(sid, "app")
    store.save(state, [], version=None)

    other_loaded = threading.Event()
    other_saving = threading.Event()
    outcome: dict[str, object] = {}

    def other_worker() -> None:
        mine, version = store.load_for_turn(sid, "app")
        other_loaded.set()
        mine.turns = 50
        other_saving.set()
        try:
            store.save(mine, [("customer", "另一个进程", None)], version=version)
            outcome["other"] = "saved"
        except StaleSession:
            outcome["other"] = "stale"

    with store.exclusive(sid, "app") as held:
        current = held.load()
        thread = threading.Thread(target=other_worker)
        thread.start()
        assert other_loaded.wait(30) and other_saving.wait(30)
        current.turns = 1
        held.save(current, [("customer", "持有者", None)])
    thread.join(30)
    assert outcome["other"] == "stale"
    assert store.load(sid).turns == 1
    assert [m["text"] for m in store.transcript(sid)] == ["持有者"]


def _count_in_process(settings_json: str, keys: dict[str, str], sid: str, turns: int, ready: object,
                      go: object) -> None:
    """A worker process: ``turns`` read-modify-write turns on one session, re-run on conflict."""
    # The JSON masks secrets: the shared database's one PII_KEY/AUDIT_KEY are passed beside it.
    settings = Settings.model_validate_json(settings_json).model_copy(
        update={name: SecretStr(value) for name, value in keys.items()})
    store = Services(settings).session_store
    ready.set()  # type: ignore[attr-defined]
    go.wait(60)  # type: ignore[attr-defined]
    done = 0
    while done < turns:
        state, version = store.load_for_turn(sid, "app")
        state.turns += 1
        state.slots["log"] = [*state.slots.get("log", []), state.turns]
        try:
            store.save(state, [("customer", f"turn {state.turns}", None)], version=version)
            done += 1
        except StaleSession:
            continue


def _secrets(settings: Settings) -> dict[str, str]:
    return {name: value.get_secret_value() for name in ("pii_key", "audit_key")
            if (value := getattr(settings, name)) is not None}


def test_two_processes_counting_on_one_session_lose_nothing(settings: Settings, services: Services) -> None:
    store: SessionStore = services.session_store
    sid = store.new_id()
    state, _ = store.load_for_turn(sid, "app")
    store.save(state, [], version=None)
    ctx = multiprocessing.get_context("spawn")
    events = [(ctx.Event(), ctx.Event()) for _ in range(2)]
    go = ctx.Event()
    per_process = 25
    arguments = (settings.model_dump_json(), _secrets(settings), sid, per_process)
    procs = [ctx.Process(target=_count_in_process, args=(*arguments, ready, go)) for ready, _ in events]
    for proc in procs:
        proc.start()
    for ready, _ in events:
        assert ready.wait(120)
    go.set()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    final = store.load(sid)
    assert final.turns == 2 * per_process
    assert final.slots["log"] == list(range(1, 2 * per_process + 1))  # each turn saw every earlier one
    texts = [m["text"] for m in store.transcript(sid)]
    assert texts == [f"turn {n}" for n in range(1, 2 * per_process + 1)]  # stored in commit order


def test_an_older_database_gets_the_version_column_and_keeps_its_sessions(settings: Settings) -> None:
    url = settings.resolved_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    sid = SessionStore.new_id()
    state = SessionState(session_id=sid, channel="app", turns=3)
    legacy = create_engine(url)
    with legacy.begin() as conn:  # chat_sessions as it was before the version column, with one session
        conn.execute(text("CREATE TABLE chat_sessions (id VARCHAR(64) PRIMARY KEY, channel VARCHAR(16), "
                          "state TEXT NOT NULL, handoff INTEGER, created_at TIMESTAMP WITH TIME ZONE, "
                          "updated_at TIMESTAMP WITH TIME ZONE)"))
        conn.execute(text("INSERT INTO chat_sessions (id, channel, state, handoff) VALUES (:i, 'app', :s, 0)"),
                     {"i": sid, "s": Cipher(load_key(settings)).encrypt(state.model_dump_json())})
    legacy.dispose()

    store: SessionStore = Services(settings).session_store  # its engine runs create_all
    engine = make_engine(url)
    assert "version" in {c["name"] for c in inspect(engine).get_columns("chat_sessions")}
    loaded, version = store.load_for_turn(sid, "app")
    assert loaded.turns == 3 and version == 0
    loaded.turns = 4
    store.save(loaded, [("customer", "迁移后", None)], version=0)
    assert store.load(sid).turns == 4
    create_all(engine)  # idempotent: nothing left to add
    assert store.load(sid).turns == 4
    engine.dispose()


def test_personal_data_is_not_in_clear_at_rest(settings: Settings, services: Services, backend: str) -> None:
    store: SessionStore = services.session_store
    sid = store.new_id()
    state, _ = store.load_for_turn(sid, "app")
    state.slots["phone"] = PHONE
    store.save(state, [("customer", f"我的手机号{PHONE}", None)], version=None)
    assert PHONE not in store.transcript(sid)[0]["text"]
    assert store.transcript(sid, masked=False)[0]["text"] == f"我的手机号{PHONE}"
    if backend == "sqlite":
        db_files = [p for p in settings.data_dir.iterdir() if p.name.startswith("assistant.db")]
        assert db_files and not any(PHONE.encode() in p.read_bytes() for p in db_files)
    else:  # every column of every row, as the server stores it
        with services.engine.connect() as conn:
            dumped = [str(r) for t in ("chat_sessions", "chat_messages")
                      for r in conn.execute(text(f"SELECT t::text FROM {t} t")).scalars()]
        assert dumped and not any(PHONE in row for row in dumped)
    with services.sessions() as db:
        assert db.get(ChatSessionRow, sid).version == 1


def test_the_lock_files_stay_bounded(settings: Settings, services: Services, backend: str) -> None:
    store: SessionStore = services.session_store
    for _ in range(200):
        state, version = store.load_for_turn(store.new_id(), "app")
        store.save(state, [], version=version)
    locks = list((settings.data_dir / "locks").glob("assistant.db.session-*.lock"))
    if backend == "sqlite":
        assert 0 < len(locks) <= 64
    else:  # a server database needs no lock files
        assert locks == []


def test_a_replys_structured_parts_are_kept_encrypted_and_come_back(settings: Settings, services: Services,
                                                                    backend: str) -> None:
    """Offer cards, quote, citations and documents saved with the reply return with it (only when asked,
    so the plain transcript keeps its shape), and are ciphertext at rest."""
    store: SessionStore = services.session_store
    sid = store.new_id()
    state, _ = store.load_for_turn(sid, "app")
    parts = {"offers": [{"vehicle": {"brand": "比亚迪"}, "monthly_payment": "3617.63",
                         "reasons": ["月收入18888元的两成以内"]}],
             "citations": [{"doc_id": "apr_rules", "title": "年化利率说明", "snippet": "按IRR法计算"}]}
    store.save(state, [("customer", "推荐车型", "recommend"), ("assistant", "为您推荐", "recommend", parts),
                       ("assistant", "好的", None, None)], version=None)
    assert store.transcript(sid) == [{"role": "customer", "text": "推荐车型"},
                                     {"role": "assistant", "text": "为您推荐"}, {"role": "assistant", "text": "好的"}]
    with_parts = store.transcript(sid, parts=True)
    assert with_parts[1]["parts"] == parts
    assert "parts" not in with_parts[0] and "parts" not in with_parts[2]
    if backend == "sqlite":
        db_files = [p for p in settings.data_dir.iterdir() if p.name.startswith("assistant.db")]
        assert db_files and not any(b"18888" in p.read_bytes() for p in db_files)
    with services.sessions() as db:
        rows = db.scalars(select(ChatMessageRow).where(ChatMessageRow.session_id == sid)
                          .order_by(ChatMessageRow.id)).all()
        assert [r.parts_encrypted is None for r in rows] == [True, False, True]
        assert "18888" not in (rows[1].parts_encrypted or "")


def test_an_older_database_gets_the_parts_column_and_keeps_its_messages(settings: Settings) -> None:
    url = settings.resolved_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cipher = Cipher(load_key(settings))
    sid = SessionStore.new_id()
    state = SessionState(session_id=sid, channel="web", turns=1)
    legacy = create_engine(url)
    with legacy.begin() as conn:  # the two tables as they were before the parts column, with one turn
        conn.execute(text("CREATE TABLE chat_sessions (id VARCHAR(64) PRIMARY KEY, channel VARCHAR(16), "
                          "state TEXT NOT NULL, handoff INTEGER, version INTEGER DEFAULT 0 NOT NULL, "
                          "created_at TIMESTAMP WITH TIME ZONE, updated_at TIMESTAMP WITH TIME ZONE)"))
        serial = "SERIAL" if conn.dialect.name == "postgresql" else "INTEGER"  # as the model made it
        conn.execute(text(f"CREATE TABLE chat_messages (id {serial} PRIMARY KEY, session_id VARCHAR(64) "
                          "REFERENCES chat_sessions(id), role VARCHAR(16), text_masked TEXT NOT NULL, "
                          "text_encrypted TEXT NOT NULL, intent VARCHAR(32), created_at TIMESTAMP WITH TIME ZONE)"))
        conn.execute(text("INSERT INTO chat_sessions (id, channel, state, handoff, version) "
                          "VALUES (:i, 'web', :s, 0, 1)"), {"i": sid, "s": cipher.encrypt(state.model_dump_json())})
        for role, said in [("customer", "你好"), ("assistant", "您好")]:
            conn.execute(text("INSERT INTO chat_messages (session_id, role, text_masked, text_encrypted) "
                              "VALUES (:i, :r, :t, :e)"), {"i": sid, "r": role, "t": said, "e": cipher.encrypt(said)})
    legacy.dispose()

    store: SessionStore = Services(settings).session_store  # its engine runs create_all
    engine = make_engine(url)
    assert "parts_encrypted" in {c["name"] for c in inspect(engine).get_columns("chat_messages")}
    assert store.transcript(sid, parts=True) == [{"role": "customer", "text": "你好"},
                                                 {"role": "assistant", "text": "您好"}]
    loaded, version = store.load_for_turn(sid, "web")
    store.save(loaded, [("assistant", "引用", None, {"citations": [{"doc_id": "d", "title": "t", "snippet": "s"}]})],
               version=version)
    assert store.transcript(sid, parts=True)[-1]["parts"]["citations"][0]["doc_id"] == "d"
    engine.dispose()
