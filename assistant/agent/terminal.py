"""``loan-assistant chat``: a conversation in the terminal, on the same chat service as the HTTP API."""

from __future__ import annotations

import argparse
import sys

from assistant.errors import AssistantError


def run(args: argparse.Namespace) -> int:
    """Read customer lines from stdin and print the assistant's replies until EOF / 再见 / exit."""
    from assistant.logs import configure_logging
    from assistant.services import Services
    from assistant.settings import get_settings

    settings = get_settings()
    configure_logging("WARNING", json=False)
    services = Services(settings)
    chat = services.chat
    session_id: str | None = args.session
    engine = "LLM" if settings.llm_configured else "offline"
    print(f"汽车金融智能助手（{engine}引擎）。输入消息开始对话，输入 exit 退出。", flush=True)
    while True:
        try:
            line = input("你> " if sys.stdin.isatty() else "")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip().lower() in {"exit", "quit", ":q"}:
            return 0
        if not line.strip():
            continue
        try:
            turn = chat.handle(line, session_id, channel="app", create=session_id is not None)
        except AssistantError as exc:
            print(f"助手> {exc.message}", flush=True)
            continue
        session_id = turn.session_id
        print(f"助手> {turn.reply}", flush=True)
        for doc in turn.documents:
            print(f"      📄 {doc.kind}: {doc.url}", flush=True)
        if turn.handoff:
            print("      （已转人工 / handed off to a human agent）", flush=True)
