"""A throwaway Chroma server for the tests: the chromadb package's own ``chroma run``, on a free loopback
port, its data in a temporary directory; it can be stopped and started again on the same port and path
(a replica's store going away and coming back).

The ``chroma`` binary ships with chromadb, a dependency: a missing one is a failure, never a skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from pathlib import Path

import pytest

_START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binary() -> str:
    beside = Path(sys.executable).parent / "chroma"  # the chromadb package's CLI, in this environment
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the chroma server binary (chromadb's `chroma run`) was not found beside the Python in use",
                    pytrace=False)
    return found


class ChromaServer:
    """One server; :attr:`url` is what ``CHROMA_URL`` is set to."""

    def __init__(self, root: Path | None = None) -> None:
        self.exe = _binary()
        self.port = _free_port()
        self.root = root or Path(tempfile.mkdtemp(prefix="loan-assistant-chroma-"))
        self._own_root = root is None
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None
        self.output: deque[str] = deque(maxlen=200)

    def start(self) -> None:
        """Start and return once the server says it listens and its heartbeat answers."""
        listening, exited = threading.Event(), threading.Event()
        self.proc = subprocess.Popen(
            [self.exe, "run", "--path", str(self.root / "data"), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        proc = self.proc

        def drain() -> None:  # keeps reading, so a chatty server never blocks on a full pipe
            assert proc.stdout is not None
            for line in proc.stdout:
                self.output.append(line)
                if "listening on address" in line.lower():
                    listening.set()
            exited.set()
            listening.set()  # exited: stop waiting

        threading.Thread(target=drain, name=f"chroma-{self.port}", daemon=True).start()
        deadline = time.monotonic() + _START_TIMEOUT
        listening.wait(_START_TIMEOUT)
        # It logs "listening" a moment before it accepts: wait for the heartbeat itself.
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                exited.wait(0.05)  # woken early if the server dies
        self.stop()
        pytest.fail(f"chroma server did not start on port {self.port}:\n{''.join(self.output)}", pytrace=False)

    def stop(self) -> None:
        """Stop the server (its data stays, for :meth:`start` again)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self.proc = None

    def close(self) -> None:
        """Stop and delete its data."""
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)
