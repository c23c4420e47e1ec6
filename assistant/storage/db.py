"""The database engine and the declarative base every table shares."""

from __future__ import annotations

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker


class Base(DeclarativeBase):
    """Declarative base for all tables."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so concurrent turns don't fail."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker:
    """Sessions that keep objects readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def create_all(engine: Engine) -> None:
    """Create every table whose model module has been imported, and add the columns an older database
    lacks (idempotent). Serialised across processes: ``serve --workers N`` starts N of these at once."""
    import importlib
    import pkgutil

    import assistant.storage as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in {"db"}:
            importlib.import_module(f"assistant.storage.{info.name}")
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # A transaction-scoped advisory lock: the other workers wait here, then find the tables made.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            Base.metadata.create_all(conn)
            add_missing_columns(conn)
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:":
        from pathlib import Path

        from filelock import FileLock

        locks = Path(database).parent / "locks"  # as agent.store's session locks
        locks.mkdir(parents=True, exist_ok=True)
        with FileLock(locks / f"{Path(database).name}.schema.lock"):
            Base.metadata.create_all(engine)
            with engine.begin() as conn:
                add_missing_columns(conn)
        return
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        add_missing_columns(conn)


# Any constant: the key of the PostgreSQL advisory lock that serialises schema creation.
_SCHEMA_LOCK_KEY = 0x4C4F414E  # "LOAN"


def add_missing_columns(conn: Connection) -> list[str]:
    """Add the columns that the models have and an existing database lacks (``create_all`` only makes
    missing *tables*). Only columns that existing rows can take are added: nullable ones, or ones with a
    ``server_default`` (``chat_sessions.version``: 0 for every session saved before it existed). Data is
    never touched otherwise. Returns the ``table.column`` names added."""
    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    added: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name not in tables:
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable and column.server_default is None:
                raise RuntimeError(f"cannot add NOT NULL column {table.name}.{column.name} to existing rows: "
                                   "give it a server_default")
            ddl = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(conn.dialect)}"
            if column.server_default is not None:
                ddl += f" DEFAULT {column.server_default.arg}"
            if not column.nullable:
                ddl += " NOT NULL"
            conn.execute(text(ddl))
            added.append(f"{table.name}.{column.name}")
    return added
