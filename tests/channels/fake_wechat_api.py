"""A local stand-in for api.weixin.qq.com (token + customer-service send), on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeWeChatAPI:
    """Records calls; ``script`` holds (status, json) answers to use before the normal behaviour."""

    base_url: str = ""
    tokens_issued: int = 0
    sent: list[dict] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    script: list[tuple[int, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, dict]:
        with self.lock:
            self.calls.append(path)
            if self.script:
                return self.script.pop(0)
            if path == "/cgi-bin/token":
                if query.get("appid") != ["wx-app"] or query.get("secret") != ["app-secret"]:
                    return 200, {"errcode": 40013, "errmsg": "invalid appid"}
                self.tokens_issued += 1
                return 200, {"access_token": f"token-{self.tokens_issued}", "expires_in": 7200}
            if path == "/cgi-bin/message/custom/send":
                if query.get("access_token") != [f"token-{self.tokens_issued}"]:
                    return 200, {"errcode": 40001, "errmsg": "invalid credential"}
                self.sent.append(json.loads(body.decode("utf-8")))
                return 200, {"errcode": 0, "errmsg": "ok"}
            return 404, {"errcode": 404}


@contextmanager
def fake_wechat_api() -> Iterator[FakeWeChatAPI]:
    """Serve a FakeWeChatAPI on a free loopback port until the block ends."""
    api = FakeWeChatAPI()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body: bytes = b"") -> None:
            url = urlparse(self.path)
            status, data = api.answer(url.path, parse_qs(url.query), body)
            raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._reply()

        def do_POST(self) -> None:
            self._reply(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
