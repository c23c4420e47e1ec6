"""Progress of a knowledge-index build, for whoever shows it (a console bar, log events, a chat spinner).

:func:`assistant.kb.ingest.ingest` calls ``on_progress(IndexProgress)`` once before embedding, after every
batch and once at the end. :class:`BuildEstimate` turns those events into a rate and a time left,
measured after the first batches (the first one also pays for loading the model, so it is left out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Stage = Literal["start", "embed", "done"]


@dataclass(frozen=True)
class IndexProgress:
    """One step of a build: ``done`` of ``total`` chunks embedded, ``elapsed_s`` since embedding began."""

    stage: Stage
    done: int
    total: int
    documents: int
    chunks: int  # chunks in the index once built (the unchanged ones included)
    embedder: str
    elapsed_s: float = 0.0
    rebuilt: bool = True


ProgressCallback = Callable[[IndexProgress], None]


@dataclass
class BuildEstimate:
    """Rate and time left of a build, from the batches after the first one."""

    first: IndexProgress | None = None  # the first batch's event: the clock for the rate starts there
    latest: IndexProgress | None = None
    first_eta_s: float | None = None  # the first estimate made (to compare with the measured total)
    history: list[tuple[float, int]] = field(default_factory=list)

    def update(self, event: IndexProgress) -> None:
        """Record one event."""
        self.latest = event
        if event.stage == "embed":
            if self.first is None:
                self.first = event
            elif self.first_eta_s is None and self.eta_s is not None:
                self.first_eta_s = event.elapsed_s + self.eta_s

    @property
    def rate(self) -> float | None:
        """Chunks per second since the first batch (None until a second batch is measured)."""
        if self.first is None or self.latest is None or self.latest.done <= self.first.done:
            return None
        seconds = self.latest.elapsed_s - self.first.elapsed_s
        return (self.latest.done - self.first.done) / seconds if seconds > 0 else None

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the measured rate (None until there is one; 0 when done)."""
        if self.latest is not None and self.latest.stage == "done":
            return 0.0
        rate = self.rate
        if rate is None or self.latest is None:
            return None
        return (self.latest.total - self.latest.done) / rate


def duration_zh(seconds: float) -> str:
    """``75`` → ``1 分 15 秒`` (what a person reads, not ``0:01:15``)."""
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} 分 {secs} 秒" if minutes else f"{secs} 秒"
