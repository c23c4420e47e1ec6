"""A throwaway PostgreSQL server for the tests: initdb + pg_ctl from the Debian package's binaries, into
a temporary directory, on a free loopback port; one database per test, dropped after it.

The server binaries are required (``scripts/install.sh --test`` installs the ``postgresql`` package): a
missing server is a failure, never a skip. ``initdb`` refuses to run as root, so under root the server
runs as the ``postgres`` system user (the package creates it) in a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin — install the Debian "
                    "package: apt-get install postgresql (scripts/install.sh --test does)", pytrace=False)
    return Path(found[-1]).parent


class PostgresServer:
    """One running server; ``database()`` makes a fresh database and returns its SQLAlchemy URL."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="loan-assistant-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root and there is no 'postgres' user to run initdb as (the postgresql "
                            "package creates it)", pytrace=False)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._prefix, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            pytest.fail(f"{Path(args[0]).name} failed ({done.returncode}): {done.stdout}{done.stderr}\n{log}",
                        pytrace=False)

    def start(self) -> None:
        """initdb, then start and wait until it accepts connections (pg_ctl -w)."""
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "test", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "120", "start")

    def stop(self) -> None:
        """Stop the server and delete its files."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self._prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                            "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="test", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def database(self) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        self._admin(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://test@127.0.0.1:{self.port}/{name}"

    def drop(self, url: str) -> None:
        """Drop a database made by :meth:`database` (closing whatever is still connected to it)."""
        self._admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
