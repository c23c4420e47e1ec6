"""Drive a real command in a pseudo-terminal, expect-style: read until a pattern shows up or a timeout."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from pathlib import Path

# CSI (colour, cursor moves, erase), OSC and the two-byte escapes rich and readline write.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_COLOUR_PARAMS = {*range(30, 39), *range(40, 49), *range(90, 98), *range(100, 108)}


def strip_ansi(text: str) -> str:
    """The text a person sees, escape sequences removed (carriage returns kept)."""
    return _ANSI.sub("", text)


def colour_codes(text: str) -> list[str]:
    """The SGR sequences in ``text`` that set a colour (bold, dim and resets are not colour)."""
    found = []
    for match in _SGR.finditer(text):
        params = [int(p) for p in match.group(1).split(";") if p.isdigit()]
        if any(p in _COLOUR_PARAMS for p in params):
            found.append(match.group())
    return found


class PtySession:
    """A child process whose stdin and stdout are a pseudo-terminal of ``columns`` x ``rows``."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str], cwd: Path, stderr: Path,
                 columns: int = 60, rows: int = 40) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._stderr = stderr.open("wb")
        self.process = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=self._stderr, env=env,
                                        cwd=cwd, start_new_session=True)
        os.close(slave)
        self.master = master
        self.raw = ""  # everything read so far, escape sequences included
        self._seen = 0  # where the next expect() starts looking

    def expect(self, pattern: str, timeout: float) -> re.Match[str]:
        """Read until ``pattern`` matches the screen text after the previous match; fail on timeout/exit."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(strip_ansi(self.raw), self._seen)
            if match:
                self._seen = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                screen = strip_ansi(self.raw)[-3000:]
                raise AssertionError(f"timed out waiting for {pattern!r}; screen so far:\n{screen}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"process ended before {pattern!r}; screen:\n{strip_ansi(self.raw)[-3000:]}")
                self.raw += chunk.decode("utf-8", errors="replace")

    def send(self, line: str) -> None:
        """Type a line and Enter."""
        os.write(self.master, (line + "\r").encode())

    def close(self, timeout: float = 60) -> int:
        """Send EOF, wait for the exit status, release the terminal."""
        with contextlib.suppress(OSError):
            os.write(self.master, b"\x04")
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                self.raw += chunk.decode("utf-8", errors="replace")
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait()
        os.close(self.master)
        self._stderr.close()
        return code
