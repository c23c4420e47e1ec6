"""``loan-assistant chat``: a conversation in the terminal, on the same chat service as the HTTP API.

On a terminal: colour (the customer's prompt, the assistant's name, citations dimmed), replies wrapped
at the width without ever cutting a number or a Chinese word (:mod:`assistant.linebreak`), offers as a
table, a spinner while a turn runs, and on a fresh DATA_DIR the knowledge index's progress bar with
the time left (Ctrl-C starts the conversation at once; the index goes on building behind it).
``NO_COLOR`` turns the colour off. On a pipe: plain text, the replies' own lines unwrapped, the
build's progress on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from assistant.errors import AssistantError

ASSISTANT = "助手> "
CUSTOMER = "你> "
_POLL_S = 0.1
_INDENT = 6  # display cells of ASSISTANT: later lines and notes line up under the text


def _yuan(value: Any) -> str:
    from assistant.domain.money import yuan_str

    return "—" if value is None else yuan_str(Decimal(str(value)))


def _percent(value: Any) -> str:
    from assistant.domain.money import percent_str

    return "—" if value is None else percent_str(Decimal(str(value)))


def offers_table(offers: list[dict[str, Any]]) -> Table:
    """The offer cards as one table; amounts never wrap (a cramped name column does instead)."""
    table = Table(title="推荐方案 offers", title_justify="left", box=None, padding=(0, 1), show_edge=False,
                  header_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("车型", overflow="fold", min_width=6)
    table.add_column("产品", overflow="fold", min_width=6)
    for title in ("月供", "年化利率", "首付", "期数"):
        table.add_column(title, justify="right", no_wrap=True)
    for rank, offer in enumerate(offers, start=1):
        vehicle, product = offer.get("vehicle") or {}, offer.get("product") or {}
        car = " ".join(str(x) for x in (vehicle.get("brand"), vehicle.get("series")) if x) or "—"
        table.add_row(str(rank), car, str(product.get("name") or product.get("id") or "—"),
                      _yuan(offer.get("monthly_payment")), _percent(offer.get("apr")),
                      _yuan(offer.get("down_payment")), str(offer.get("term_months") or "—"))
    return table


class TerminalView:
    """How a turn is shown: wrapped and coloured on a terminal, plain on a pipe."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tty = console.is_terminal

    def say(self, label: str, text: str, *, style: str = "", label_style: str = "bold green") -> None:
        """``label`` then ``text``, its later lines indented under the text."""
        if not self.tty:
            print(f"{label}{text}", file=self.console.file, flush=True)
            return
        from rich.cells import cell_len

        from assistant.linebreak import wrap

        pad = " " * cell_len(label)
        for i, line in enumerate(wrap(text, self.console.width - cell_len(label) - 1)):
            out = Text(label if i == 0 else pad, style=label_style if i == 0 else "")
            out.append(line, style=style)
            self.console.print(out, no_wrap=True, crop=False, soft_wrap=True)

    def note(self, text: str, *, style: str = "dim") -> None:
        """A secondary line (citations, documents, hand-off), indented under the reply."""
        self.say(" " * _INDENT, text, style=style, label_style="")

    def turn(self, turn: Any) -> None:
        """Everything one turn produced."""
        self.say(ASSISTANT, turn.reply)
        if turn.offers:
            self.console.print(offers_table(turn.offers), crop=False)
        if turn.citations:
            titles = "、".join(f"《{c.title}》" for c in turn.citations)
            self.note(f"来源 sources: {titles}")
        for doc in turn.documents:
            self.note(f"📄 {doc.kind}: {doc.url}", style="")
        if turn.handoff:
            self.note("（已转人工 / handed off to a human agent）", style="yellow")


def _wait_for_index(services: Any, relabel: Any) -> None:
    """Until the background index build (if any) ends; Ctrl-C stops waiting, not the build."""
    relabel("加载知识索引 loading the knowledge index…")
    thread = getattr(services, "_index_thread", None)
    while thread is not None and thread.is_alive():
        thread.join(_POLL_S)


def _start(services: Any, reporter: Any, view: TerminalView) -> None:
    """Load the models and the knowledge index, with a spinner (and the build's bar) on a terminal."""
    if not view.tty:
        services.warm_up(index_in_background=True)
        return
    started = time.perf_counter()
    try:
        with reporter.waiting("加载模型 loading models…") as relabel:
            services.warm_up(index_in_background=True)
            _wait_for_index(services, relabel)
    except KeyboardInterrupt:
        reporter.quiet()
        view.note("知识索引仍在后台建立；报价、匹配现在就能用，知识问答会等它建好。"
                  "The index keeps building; quotes and matching work now.", style="yellow")
        return
    view.note(f"准备就绪 ready in {time.perf_counter() - started:.1f} s", style="dim")


def run(args: argparse.Namespace) -> int:
    """Read customer lines from stdin and print the assistant's replies until EOF / 再见 / exit."""
    from assistant.console import Spinner, index_reporter, make_console
    from assistant.logs import configure_logging
    from assistant.services import Services
    from assistant.settings import get_settings

    settings = get_settings()
    configure_logging("WARNING", json=False)
    console = make_console()
    view = TerminalView(console)
    services = Services(settings)
    reporter = index_reporter(json_logs=False, console=console if view.tty else make_console(stderr=True))
    services.index_progress = reporter
    chat = services.chat
    session_id: str | None = args.session
    engine = "LLM" if settings.llm_configured else "offline"
    banner = f"汽车金融智能助手（{engine}引擎）。输入消息开始对话，输入 exit 退出。"
    view.say("", banner, style="bold")
    _start(services, reporter, view)
    interactive = sys.stdin.isatty()
    try:
        while True:
            try:
                if view.tty and interactive:
                    line = console.input(Text(CUSTOMER, style="bold cyan"))
                else:
                    line = input(CUSTOMER if interactive else "")
            except (EOFError, KeyboardInterrupt):
                print(file=console.file)
                return 0
            if line.strip().lower() in {"exit", "quit", ":q"}:
                return 0
            if not line.strip():
                continue
            try:
                if view.tty:
                    with console.status(Spinner("思考中 thinking…", reporter), spinner="dots"):
                        turn = chat.handle(line, session_id, channel="app", create=session_id is not None)
                else:
                    turn = chat.handle(line, session_id, channel="app", create=session_id is not None)
            except AssistantError as exc:
                view.say(ASSISTANT, exc.message)
                continue
            session_id = turn.session_id
            view.turn(turn)
    finally:
        # A build left half-way is redone on the next start, but one that can finish should.
        thread = getattr(services, "_index_thread", None)
        if thread is not None and thread.is_alive():
            view.note("等待知识索引建完 waiting for the index build to finish (Ctrl-C: next start redoes it)…",
                      style="yellow")
        services.wait_for_index()
