"""The console side of the command line: rich output, and what a knowledge-index build shows while it runs.

Colour, width and whether the output is a terminal are rich's decisions (it honours ``NO_COLOR``,
``FORCE_COLOR``, ``COLUMNS`` and ``TERM``), so nothing here reads the environment. A build is reported
one of three ways, picked by :func:`index_reporter`: a progress bar on a terminal, plain lines on a pipe,
log events when the logs are JSON (a bar would corrupt the lines a collector parses).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from assistant.kb.progress import BuildEstimate, IndexProgress, duration_zh
from assistant.logs import get_logger

log = get_logger(__name__)


def make_console(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """A rich console on ``file`` (default stdout); colour only on a terminal and without ``NO_COLOR``."""
    return Console(file=file, stderr=stderr, highlight=False, emoji=False, soft_wrap=False)


def build_line(event: IndexProgress) -> str:
    """What is being built, in one line: documents, chunks, embedding model."""
    kind = "建立知识索引 building the knowledge index" if event.rebuilt else "更新知识索引 updating the knowledge index"
    embedded = "" if event.total == event.chunks else f"（嵌入其中 {event.total} 个 embedding {event.total}）"
    return (f"{kind}: {event.documents} 篇文档 documents, {event.chunks} 个片段 chunks{embedded}, "
            f"嵌入模型 embedding model {event.embedder}")


def eta_text(estimate: BuildEstimate) -> str:
    """``约剩 1 分 15 秒 (~75 s left)``, or that the estimate waits for the first batches."""
    eta = estimate.eta_s
    if eta is None:
        return "估算中 estimating…"
    return f"约剩 {duration_zh(eta)} (~{eta:.0f} s left)"


def done_line(event: IndexProgress, estimate: BuildEstimate) -> str:
    """The build's last line: how long it took (and what was first estimated)."""
    first = f"，最初估计 first estimate {estimate.first_eta_s:.0f} s" if estimate.first_eta_s is not None else ""
    return (f"知识索引已就绪 knowledge index ready: {event.chunks} 个片段 chunks, 嵌入 embedded {event.total}, "
            f"用时 {duration_zh(event.elapsed_s)} ({event.elapsed_s:.1f} s{first})")


class IndexBar:
    """A rich progress bar for a build, on a terminal.

    The build calls it from its own thread. A caller that waits for the index (``chat``) wraps the wait in
    :meth:`waiting`, which shows a spinner until the build starts and the bar after; otherwise (``serve``)
    the bar appears with the build's first event and goes with its last.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.estimate = BuildEstimate()
        self._lock = threading.RLock()
        self._progress: Progress | None = None
        self._task: Any = None
        self._owned = False  # the bar was started by the build (not by waiting())
        self._quiet = False

    def _start(self, label: str, total: float | None) -> None:
        if self._progress is None:
            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=24),
                MofNCompleteColumn(), TextColumn("{task.fields[eta]}"), TimeElapsedColumn(),
                console=self.console, transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(label, total=total, eta="")

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __call__(self, event: IndexProgress) -> None:
        with self._lock:
            self.estimate.update(event)
            if self._quiet:
                return
            if event.stage == "start":
                if not event.total:
                    return
                self.console.print(build_line(event), style="bold")
                if self._progress is None:
                    self._owned = True
                    self._start("嵌入 embedding", event.total)
                else:
                    assert self._task is not None
                    self._progress.update(self._task, description="嵌入 embedding", total=event.total,
                                          completed=0)
            elif event.stage == "embed" and self._progress is not None:
                self._progress.update(self._task, completed=event.done, eta=eta_text(self.estimate))
            elif event.stage == "done" and event.total:
                if self._owned:
                    self._stop()
                elif self._progress is not None:  # the caller still waits: the index is being opened
                    self._progress.update(self._task, description="打开索引 opening the index…", total=None, eta="")
                self.console.print(done_line(event, self.estimate), style="green")

    @contextmanager
    def waiting(self, label: str) -> Iterator[Callable[[str], None]]:
        """Show a spinner with ``label`` (the bar once a build starts) while the block runs; the block is
        given a function that changes the label (until the build starts)."""
        with self._lock:
            self._start(label, None)
            self._owned = False

        def relabel(text: str) -> None:
            with self._lock:
                if self._progress is not None and self._progress.tasks[0].total is None:
                    self._progress.update(self._task, description=text)

        try:
            yield relabel
        finally:
            with self._lock:
                self._stop()

    def quiet(self) -> None:
        """Stop drawing (the caller goes back to the prompt); later events only update the estimate."""
        with self._lock:
            self._quiet = True
            self._stop()

    def status(self) -> str:
        """One short line for a spinner while a build is under way (empty when none is)."""
        latest = self.estimate.latest
        if latest is None or latest.stage == "done" or not latest.total:
            return ""
        return f"知识索引 {latest.done}/{latest.total}，{eta_text(self.estimate)}"


class PlainIndexLines:
    """A build on a pipe or a log file: the start line, one line per quarter with the time left, the end."""

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file
        self.estimate = BuildEstimate()
        self._quarter = 0

    def _print(self, line: str) -> None:
        print(line, file=self.file or sys.stderr, flush=True)

    def __call__(self, event: IndexProgress) -> None:
        self.estimate.update(event)
        if not event.total:
            return
        if event.stage == "start":
            self._print(build_line(event))
        elif event.stage == "embed":
            quarter = 4 * event.done // event.total
            if quarter > self._quarter and event.done < event.total:
                self._quarter = quarter
                self._print(f"  {event.done}/{event.total} ({event.done / event.total:.0%}) {eta_text(self.estimate)}")
        else:
            self._print(done_line(event, self.estimate))

    def status(self) -> str:
        """As :meth:`IndexBar.status`."""
        latest = self.estimate.latest
        return "" if latest is None or latest.stage == "done" else f"知识索引 {latest.done}/{latest.total}"


class IndexLogEvents:
    """A build as structured log events: started, progress at every tenth, built (JSON-log mode)."""

    def __init__(self) -> None:
        self.estimate = BuildEstimate()
        self._tenth = 0

    def __call__(self, event: IndexProgress) -> None:
        self.estimate.update(event)
        if not event.total:
            return
        if event.stage == "start":
            log.info("kb_index_build_started", documents=event.documents, chunks=event.chunks,
                     to_embed=event.total, embedder=event.embedder, rebuilt=event.rebuilt)
        elif event.stage == "embed":
            tenth = 10 * event.done // event.total
            if tenth > self._tenth and event.done < event.total:
                self._tenth = tenth
                eta, rate = self.estimate.eta_s, self.estimate.rate
                log.info("kb_index_progress", done=event.done, total=event.total, percent=10 * tenth,
                         elapsed_s=round(event.elapsed_s, 1), chunks_per_s=None if rate is None else round(rate, 2),
                         eta_s=None if eta is None else round(eta, 1))
        else:
            first = self.estimate.first_eta_s
            log.info("kb_index_built", chunks=event.chunks, embedded=event.total,
                     seconds=round(event.elapsed_s, 1), first_estimate_s=None if first is None else round(first, 1))


def index_reporter(*, json_logs: bool, console: Console | None = None) -> IndexBar | PlainIndexLines | IndexLogEvents:
    """How a build is shown: log events with JSON logs, a bar on a terminal, else plain lines (stderr)."""
    if json_logs:
        return IndexLogEvents()
    console = console or make_console(stderr=True)
    if console.is_terminal:
        return IndexBar(console)
    return PlainIndexLines(console.file)


class Spinner:
    """What a spinner shows while a turn runs: a label, and the index build's progress if one is under way."""

    def __init__(self, label: str, reporter: Any = None) -> None:
        self.label = label
        self.reporter = reporter

    def __rich__(self) -> Text:
        extra = self.reporter.status() if self.reporter is not None else ""
        return Text(self.label + (f"（{extra}）" if extra else ""), style="dim")
