"""The rate limiters themselves: windows on a fake clock, and one limit shared by worker processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from assistant.api.ratelimit import DatabaseLimiter, SlidingWindowLimiter, build_limiter
from assistant.storage.db import create_all, make_engine
from assistant.storage.ratelimit import RateLimitCounterRow

WINDOW = 60.0
T0 = 6000.0  # a window boundary (6000 / 60 = 100)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'limits.db'}")
    create_all(engine)
    return engine


class FakeClock:
    """Wall time the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_database_limiter_counts_a_window_and_slides_the_previous_one_out(engine: Engine) -> None:
    clock = FakeClock()
    limiter = DatabaseLimiter(engine, 3, WINDOW, scope="t", clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    # Fourth hit: refused; room comes back when a third of the next window has passed (3·⅔ + 1 ≤ 3).
    assert limiter.hit("a") == pytest.approx(80.0)
    assert limiter.peek("a") == pytest.approx(80.0)
    assert limiter.hit("b") is None  # another key has its own count
    clock.now = T0 + 60  # the next window: all three previous hits still weigh fully
    assert limiter.hit("a") == pytest.approx(20.0)
    clock.now = T0 + 90  # half of the previous window has slid out: 1.5 weighted hits, room for one
    assert limiter.hit("a") is None
    assert limiter.hit("a") == pytest.approx(10.0)
    clock.now = T0 + 240  # long idle: a clean slate
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]


def test_refused_hits_are_not_counted_and_peek_counts_nothing(engine: Engine) -> None:
    clock = FakeClock()
    limiter = DatabaseLimiter(engine, 2, WINDOW, scope="t", clock=clock)
    assert limiter.peek("a") is None
    assert limiter.hit("a") is None and limiter.hit("a") is None
    for _ in range(10):
        assert limiter.hit("a") is not None
    with engine.connect() as conn:
        assert conn.execute(select(func.sum(RateLimitCounterRow.count))).scalar() == 2
    clock.now = T0 + 120  # the window after next: the refused hits left nothing behind
    assert limiter.hit("a") is None


def test_scopes_share_the_table_not_the_counts_and_old_rows_are_deleted(engine: Engine) -> None:
    clock = FakeClock()
    session = DatabaseLimiter(engine, 1, WINDOW, scope="session", clock=clock)
    auth = DatabaseLimiter(engine, 1, WINDOW, scope="auth", clock=clock)
    assert session.hit("x") is None and auth.hit("x") is None
    assert session.hit("x") is not None
    clock.now = T0 + 600
    assert session.hit("y") is None
    with engine.connect() as conn:
        rows = conn.execute(select(RateLimitCounterRow.scope, RateLimitCounterRow.bucket)).all()
    # session's old row is gone, auth's stays until auth itself runs again; no key is stored in clear.
    assert sorted(scope for scope, _ in rows) == ["auth", "session"]
    assert all(bucket not in {"x", "y"} and len(bucket) == 40 for _, bucket in rows)


def test_zero_switches_a_limit_off(engine: Engine) -> None:
    limiter = DatabaseLimiter(engine, 0, WINDOW, clock=FakeClock())
    assert all(limiter.hit("a") is None for _ in range(5))
    assert SlidingWindowLimiter(0).peek("a") is None


def test_memory_limiter_peek_counts_nothing() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, WINDOW, clock=clock)
    assert limiter.peek("k") is None and limiter._hits == {}
    limiter.hit("k")
    assert limiter.peek("k") is None
    limiter.hit("k")
    assert limiter.peek("k") == pytest.approx(60.0)
    clock.now += 60.001
    assert limiter.peek("k") is None


def test_the_store_setting_picks_the_limiter(engine: Engine) -> None:
    assert isinstance(build_limiter("database", 5, "key", lambda: engine), DatabaseLimiter)

    def no_engine() -> Engine:
        raise AssertionError("the memory store needs no database")

    assert isinstance(build_limiter("memory", 5, "key", no_engine), SlidingWindowLimiter)


def test_the_postgresql_statement_is_one_atomic_upsert() -> None:
    from sqlalchemy.dialects.postgresql import insert

    t = RateLimitCounterRow.__table__
    stmt = insert(t).values(bucket="b", window=1, scope="s", count=1).on_conflict_do_update(
        index_elements=[t.c.bucket, t.c.window], set_={"count": t.c.count + 1}, where=t.c.count + 1 <= 2.5,
    ).returning(t.c.count)
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert 'ON CONFLICT (bucket, "window") DO UPDATE SET count = (rate_limit_counters.count + ' in sql
    assert " WHERE rate_limit_counters.count + " in sql and sql.endswith("RETURNING rate_limit_counters.count")


# ------------------------------------------------------------------------------------ worker processes
LIMIT = 50
WORKERS = 4
HITS_EACH = 40


def _worker(url: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue) -> None:
    """One "worker process": its own engine and limiter on the shared file, all on the same instant."""
    engine = make_engine(url)
    limiter = DatabaseLimiter(engine, LIMIT, WINDOW, scope="key", clock=lambda: T0 + 1)
    barrier.wait(timeout=60)
    allowed = sum(1 for _ in range(HITS_EACH) if limiter.hit("ip:203.0.113.9") is None)
    engine.dispose()
    results.put(allowed)


def test_worker_processes_on_one_sqlite_file_share_one_limit_exactly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    create_all(make_engine(url))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    processes = [ctx.Process(target=_worker, args=(url, barrier, results)) for _ in range(WORKERS)]
    for process in processes:
        process.start()
    allowed = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    # 160 concurrent attempts: exactly the limit got through, however the processes interleaved.
    assert sum(allowed) == LIMIT
