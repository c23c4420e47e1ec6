"""Benchmark: the channel plumbing that runs on every request — audit appends and verification, the
rate limiter, WeChat safe-mode crypto and message handling (with a scripted engine, so the figure is
the channel's own cost, not the engine's).

Prints numbers; asserts nothing.

Run: python benchmarks/channels.py [--audit 2000] [--wechat 500]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.agent.types import ChatTurn
from assistant.api.ratelimit import SlidingWindowLimiter
from assistant.services import Services
from assistant.settings import Settings
from assistant.wechat.bridge import WeChatBridge
from assistant.wechat.crypto import MessageCrypto
from assistant.wechat.messages import parse_xml, to_message


class _EchoChat:
    """A scripted engine: returns at once, so the WeChat figure is the channel's own cost."""

    def handle(self, message: str, session_id: str | None = None, channel: str = "app", **_: Any) -> ChatTurn:
        return ChatTurn(session_id=session_id or "s", reply="收到：" + message, intent="greeting")


def _pcts(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"median {statistics.median(ms):.3f} ms, p95 {p95:.3f} ms, n={len(ms)}"


def bench_audit(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        services = Services(Settings(data_dir=Path(tmp), _env_file=None))  # type: ignore[call-arg]
        audit = services.audit
        samples = []
        for i in range(n):
            start = time.perf_counter()
            audit.record("tool_call", f"session-{i % 50}", {"tool": "quote_loan", "arguments": {
                "principal": 140000 + i, "note": "客户手机13812345678"}})
            samples.append(time.perf_counter() - start)
        print(f"audit.record (SQLite, masked, chained): {_pcts(samples)}")
        start = time.perf_counter()
        report = audit.verify()
        elapsed = time.perf_counter() - start
        print(f"audit.verify over {report.entries} entries: {elapsed * 1000:.1f} ms "
              f"({report.entries / elapsed:,.0f} entries/s), ok={report.ok}")


def bench_limiter(n: int = 200_000) -> None:
    limiter = SlidingWindowLimiter(120, 60.0)
    keys = [f"key-{i}" for i in range(1000)]
    start = time.perf_counter()
    for i in range(n):
        limiter.hit(keys[i % 1000])
    elapsed = time.perf_counter() - start
    print(f"rate limiter hit: {elapsed / n * 1e6:.2f} µs per request ({n:,} hits over 1,000 keys)")


def bench_wechat(n: int) -> None:
    aes_key = base64.b64encode(bytes(range(32))).decode().rstrip("=")
    crypto = MessageCrypto("token", aes_key, "wx-app")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), wechat_token="token", wechat_app_id="wx-app",  # type: ignore[call-arg]
                            _env_file=None)
        services = Services(settings)
        services.chat = _EchoChat()  # type: ignore[misc]
        bridge = WeChatBridge(services)
        samples = []
        for i in range(n):
            inner = (f"<xml><ToUserName>gh</ToUserName><FromUserName>o{i % 20}</FromUserName>"
                     f"<CreateTime>{i}</CreateTime><MsgType>text</MsgType><Content>车价20万月供多少</Content>"
                     f"<MsgId>{i}</MsgId></xml>")
            envelope = crypto.encrypt_envelope(inner, "1700000000", "123")
            start = time.perf_counter()
            fields = parse_xml(envelope)
            message = to_message(parse_xml(crypto.decrypt_envelope(
                fields["Encrypt"], fields["MsgSignature"], "1700000000", "123")))
            reply = bridge.respond(message)
            assert reply is not None
            crypto.encrypt_envelope(reply, "1700000000", "123")
            samples.append(time.perf_counter() - start)
        bridge.close()
    print(f"WeChat safe-mode message (verify + decrypt + parse + dedupe + turn on a worker + encrypt reply): "
          f"{_pcts(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit", type=int, default=2000)
    parser.add_argument("--wechat", type=int, default=500)
    args = parser.parse_args()
    bench_audit(args.audit)
    bench_limiter()
    bench_wechat(args.wechat)


if __name__ == "__main__":
    main()
