"""``loan-assistant keys generate | rotate``: make a key, and re-encrypt everything under the current one.

A rotation, step by step:

1. ``loan-assistant keys generate`` prints a new key;
2. move the current key into ``LOAN_ASSISTANT_PII_PREVIOUS_KEYS`` and set the new one as
   ``LOAN_ASSISTANT_PII_KEY`` (or in ``PII_KEY_FILE``); restart — old data still reads (MultiFernet);
3. ``loan-assistant keys rotate`` re-encrypts every encrypted column and every stored document under the
   new key (documents stored in clear before encryption at rest are encrypted now) and reports counts;
4. once it reports nothing ``unreadable``, drop the old key from ``PII_PREVIOUS_KEYS``.

Documents keep the keyed hash of the borrower's ID number they were issued with (the number itself is not
stored, so it cannot be re-hashed): look-ups by ID number try every configured key, so keep a retired key
in ``PII_PREVIOUS_KEYS`` while documents issued under it must stay findable by ID number.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import Table, select, update

from assistant.logs import get_logger

log = get_logger(__name__)

# Encrypted columns not named ``*_encrypted`` (every ``*_encrypted`` column is found by its name).
EXTRA_ENCRYPTED: frozenset[tuple[str, str]] = frozenset({("chat_sessions", "state")})
_BATCH = 500


def encrypted_columns() -> list[tuple[Table, str]]:
    """Every (table, column) holding ciphertext, from the tables the storage package declares."""
    from assistant.storage.db import Base

    found: list[tuple[Table, str]] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith("_encrypted") or (table.name, column.name) in EXTRA_ENCRYPTED:
                found.append((table, column.name))
    return found


def rotate_column(engine: Any, cipher: Any, table: Table, column: str) -> dict[str, int]:
    """Re-encrypt one column under the current key; counts of ``rotated``, ``current``, ``unreadable``.

    Each row is updated only if it still holds the value read (a running service may have just written
    it, under the current key): a rotation never overwrites a newer value.
    """
    counts = {"rotated": 0, "current": 0, "unreadable": 0}
    pk = list(table.primary_key.columns)
    col = table.c[column]
    last: tuple[Any, ...] | None = None
    single = len(pk) == 1  # pages by primary key; a composite key is read in one go
    while True:
        query = select(*pk, col).order_by(*pk)
        if single:
            query = query.limit(_BATCH)
            if last is not None:
                query = query.where(pk[0] > last[0])
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            break
        with engine.begin() as conn:
            for row in rows:
                *key, token = row
                if not token or cipher.is_current(token):
                    counts["current"] += 1
                    continue
                fresh = cipher.rotate(token)
                if fresh is None:
                    counts["unreadable"] += 1
                    continue
                where = [c == v for c, v in zip(pk, key, strict=True)]
                conn.execute(update(table).where(*where, col == token).values({column: fresh}))
                counts["rotated"] += 1
        if not single or len(rows) < _BATCH:
            break
        last = tuple(rows[-1])[: len(pk)]
    return counts


def rotate_all(services: Any) -> dict[str, dict[str, int]]:
    """Every encrypted column and the document store under the current key: counts by ``table.column``."""
    engine = services.engine  # creates every table, importing each storage module
    report: dict[str, dict[str, int]] = {}
    for table, column in encrypted_columns():
        report[f"{table.name}.{column}"] = rotate_column(engine, services.cipher, table, column)
    report["documents (files)"] = services.documents.store.rotate()
    log.info("keys_rotated", **{name: sum(v for k, v in c.items() if k in ("rotated", "encrypted"))
                                 for name, c in report.items()})
    return report


def generate_command(args: argparse.Namespace) -> int:
    """``loan-assistant keys generate``: print a new random key (valid as PII_KEY and as AUDIT_KEY)."""
    from assistant.storage.crypto import generate_key

    print(generate_key())
    return 0


def rotate_command(args: argparse.Namespace) -> int:
    """``loan-assistant keys rotate``: re-encrypt everything under the current key; exit 1 if any is unreadable."""
    from assistant.services import Services
    from assistant.settings import get_settings

    report = rotate_all(Services(get_settings()))
    unreadable = 0
    for name, counts in report.items():
        shown = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"{name}: {shown}")
        unreadable += counts.get("unreadable", 0)
    changed = sum(c.get("rotated", 0) + c.get("encrypted", 0) for c in report.values())
    print(f"已用当前密钥重新加密 {changed} 项 / re-encrypted {changed} item(s) under the current key")
    if unreadable:
        print(f"{unreadable} 项无法用已配置的密钥解密，已保持原样；请勿删除旧密钥 / {unreadable} item(s) open "
              "with no configured key and were left as they are: do not drop the old keys yet")
        return 1
    return 0
