"""A local HTTP server that speaks the OpenAI chat-completions wire protocol, scripted by a policy.

Tests and benchmarks point the real ``openai`` client (through LangChain's ``ChatOpenAI``) at it, so
the whole path — HTTP, JSON, Server-Sent Events, tool calls, usage, timeouts — runs for real while
no provider is ever called. It binds to 127.0.0.1 on a free port::

    with FakeOpenAIServer(lambda messages, tools: "您好") as server:
        settings = Settings(llm_base_url=server.base_url, llm_model="fake", ...)
        ...
        assert "13812345678" not in server.all_text()

What it serves: ``POST /v1/chat/completions``, non-streaming (one ``chat.completion`` object) and
streaming (``chat.completion.chunk`` objects as ``data: {...}`` lines: content deltas, tool-call deltas
with index / id / function name / argument pieces, a finish chunk, a usage chunk when
``stream_options.include_usage`` is set, then ``data: [DONE]``); ``GET /v1/models``.

Usage figures are approximate: a token is counted as 1.5 characters (about right for Chinese text
with a BPE vocabulary; English runs nearer 4 characters a token, so English prompts are over-counted).
The tool schemas sent with a request count towards its prompt tokens, as they do with real providers.

Failure modes (:meth:`FakeOpenAIServer.fail`): ``http_500``; ``garbage`` (a 200 whose body is not the
protocol); ``hang`` (no answer until :attr:`FakeOpenAIServer.release` is set — the client's timeout
fires first; nothing sleeps); ``stall`` (streams the first piece of the reply, then hangs). An endpoint
that is down altogether: :func:`unused_base_url`.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

FailureMode = Literal["ok", "http_500", "garbage", "hang", "stall"]
CHARS_PER_TOKEN = 1.5


@dataclass
class FakeToolCall:
    """A function call the fake model asks for (``arguments`` as a dict, or a raw JSON string)."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        """The arguments as the JSON string the protocol carries."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass
class FakeReply:
    """What the fake model answers: text, tool calls, or both."""

    text: str = ""
    tool_calls: list[FakeToolCall] = field(default_factory=list)


PolicyResult = str | FakeReply | FakeToolCall | list[FakeToolCall]
Policy = Callable[[list[dict[str, Any]], list[dict[str, Any]] | None], PolicyResult]


@dataclass
class RecordedRequest:
    """One request the server received, exactly as it came over the wire."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    raw: bytes
    body: Any = None
    mode: FailureMode = "ok"
    prompt_tokens: int = 0

    @property
    def text(self) -> str:
        """The body as readable text (JSON re-serialised without ``\\uXXXX`` escapes)."""
        if self.body is not None:
            return json.dumps(self.body, ensure_ascii=False)
        return self.raw.decode("utf-8", errors="replace")

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of a completions request (empty for anything else)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return self.body["messages"]
        return []

    @property
    def tools(self) -> list[dict[str, Any]] | None:
        """The tool schemas sent with the request, if any."""
        if isinstance(self.body, dict) and self.body.get("tools"):
            return list(self.body["tools"])
        return None

    @property
    def stream(self) -> bool:
        """True when the client asked for Server-Sent Events."""
        return bool(isinstance(self.body, dict) and self.body.get("stream"))


def _is_completions(path: str) -> bool:
    return path.split("?")[0].rstrip("/").endswith("/chat/completions")


def _content_text(content: Any) -> str:
    """Message content as text (a string, or OpenAI's list of typed parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def approx_tokens(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> int:
    """Approximate prompt tokens: characters of every message (content, tool calls) and tool schema ÷ 1.5."""
    chars = 0
    for message in messages:
        chars += len(_content_text(message.get("content")))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            chars += len(str(function.get("name", ""))) + len(str(function.get("arguments", "")))
    if tools:
        chars += len(json.dumps(tools, ensure_ascii=False))
    return math.ceil(chars / CHARS_PER_TOKEN)


def _text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def unused_base_url() -> str:
    """An OpenAI-style base URL on a loopback port where nothing listens (an endpoint that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def echo_user_policy(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> PolicyResult:
    """Default policy: answer with the last user message (enough to see the round trip)."""
    return "收到：" + last_user_text(messages)


def turn_context(messages: list[dict[str, Any]]) -> str | None:
    """The per-turn context a client appended as a later system message (tool results, a reference
    reply), or None when the request has only the leading system prompt."""
    system = [m for m in messages if m.get("role") == "system"]
    return _content_text(system[-1].get("content")) if len(system) > 1 else None


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the last user message ("" when there is none)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def phrasing_policy(prefix: str = "好的，") -> Policy:
    """A well-behaved model: restates the per-turn context (everything after its first, instruction
    line) behind ``prefix``; with no context (or tools offered), asks what the customer needs."""

    def policy(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> PolicyResult:
        context = turn_context(messages)
        if context and not tools:
            body = context.split("\n", 1)[1] if "\n" in context else context
            return prefix + body
        return "请问您想了解车贷的哪方面？比如月供、利率或者推荐车型。"

    return policy


def _normalise(result: PolicyResult) -> FakeReply:
    if isinstance(result, FakeReply):
        return result
    if isinstance(result, str):
        return FakeReply(text=result)
    if isinstance(result, FakeToolCall):
        return FakeReply(tool_calls=[result])
    if isinstance(result, list) and all(isinstance(c, FakeToolCall) for c in result):
        return FakeReply(tool_calls=list(result))
    raise TypeError(f"a policy returns str, FakeReply, FakeToolCall or a list of them, not {type(result)}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its connection (timeout, closed keep-alive) is normal here, not an error."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read :attr:`FakeOpenAIServer.requests` instead of a log."""

    # ------------------------------------------------------------------ routing
    def do_GET(self) -> None:
        """``GET /v1/models``: the one model this server pretends to be."""
        fake = self.server.fake
        fake._record(self, b"", None, "ok")
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(200, {"object": "list", "data": [{"id": fake.model, "object": "model",
                                                               "owned_by": "fake"}]})
        else:
            self._send_error(404, "not found")

    def do_POST(self) -> None:
        """``POST /v1/chat/completions`` (any other path is a 404)."""
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        mode = fake._take_mode()
        record = fake._record(self, raw, body, mode)
        try:
            self._answer(fake, mode, body, record)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            # The client gave up (its timeout fired while we hung): nothing left to tell it.
            self.close_connection = True

    def _answer(self, fake: FakeOpenAIServer, mode: FailureMode, body: Any, record: RecordedRequest) -> None:
        if mode == "hang":
            fake.release.wait(fake.max_hang_s)
            self._send_error(503, "released after hanging")
            return
        if mode == "http_500":
            self._send_error(500, "the fake model server failed on purpose")
            return
        if mode == "garbage":
            self._send_garbage(bool(isinstance(body, dict) and body.get("stream")))
            return
        if not _is_completions(self.path):
            self._send_error(404, f"no route {self.path}")
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send_error(400, "body must be a JSON object with messages")
            return
        tools = body.get("tools") or None
        try:
            reply = _normalise(fake.policy(body["messages"], tools))
        except Exception as exc:  # a broken policy is the test's bug: answer 500 and keep it for the test
            fake.errors.append(exc)
            self._send_error(500, f"policy failed: {type(exc).__name__}: {exc}")
            return
        fake._replies.append(reply)
        said = reply.text + "".join(c.arguments_json() for c in reply.tool_calls)
        usage = {"prompt_tokens": record.prompt_tokens, "completion_tokens": _text_tokens(said)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._send_stream(fake, body, reply, usage if include_usage else None, stall=mode == "stall")
        else:
            self._send_json(200, self._completion(fake, body, reply, usage))

    # ------------------------------------------------------------------ bodies
    @staticmethod
    def _tool_call_id(call: FakeToolCall, index: int) -> str:
        return call.id or f"call_{index}_{uuid.uuid4().hex[:12]}"

    def _completion(self, fake: FakeOpenAIServer, body: dict[str, Any], reply: FakeReply,
                    usage: dict[str, int]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": self._tool_call_id(c, i), "type": "function",
                 "function": {"name": c.name, "arguments": c.arguments_json()}}
                for i, c in enumerate(reply.tool_calls)
            ]
        return {
            "id": "chatcmpl-" + uuid.uuid4().hex[:16],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or fake.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
            "usage": usage,
        }

    def _send_stream(self, fake: FakeOpenAIServer, body: dict[str, Any], reply: FakeReply,
                     usage: dict[str, int] | None, *, stall: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:16]
        created = int(time.time())
        model = body.get("model") or fake.model

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        self._event(chunk({"role": "assistant", "content": ""}))
        size = max(1, fake.chunk_chars)
        for start in range(0, len(reply.text), size):
            self._event(chunk({"content": reply.text[start:start + size]}))
            if stall:
                # A model that starts answering and then goes silent: the client's read timeout decides.
                fake.release.wait(fake.max_hang_s)
                self._end_chunks()
                return
        for index, call in enumerate(reply.tool_calls):
            self._event(chunk({"tool_calls": [{"index": index, "id": self._tool_call_id(call, index),
                                               "type": "function",
                                               "function": {"name": call.name, "arguments": ""}}]}))
            arguments = call.arguments_json()
            for start in range(0, len(arguments), size * 2):
                piece = arguments[start:start + size * 2]
                self._event(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
                if stall:  # silent halfway through a tool call's arguments
                    fake.release.wait(fake.max_hang_s)
                    self._end_chunks()
                    return
        self._event(chunk({}, "tool_calls" if reply.tool_calls else "stop"))
        if usage is not None:
            self._event({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                         "model": model, "choices": [], "usage": usage})
        self._write_chunk(b"data: [DONE]\n\n")
        self._end_chunks()

    def _send_garbage(self, stream: bool) -> None:
        if stream:
            payload = b"data: {this is not json at all\n\ndata: <html>502 Bad Gateway</html>\n\n"
            content_type = "text/event-stream"
        else:
            payload = b"<html><body>502 Bad Gateway \xff\xfe not json</body></html>"
            content_type = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    # ------------------------------------------------------------------ wire helpers
    def _event(self, data: dict[str, Any]) -> None:
        self._write_chunk(b"data: " + json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_json(self, status: int, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_error(self, status: int, message: str) -> None:
        self._send_json(status, {"error": {"message": message, "type": "fake_error", "code": status}})


class FakeOpenAIServer:
    """An OpenAI-compatible chat-completions server on 127.0.0.1, scripted by ``policy``.

    ``policy(messages, tools)`` sees the request's messages (OpenAI dicts) and tool schemas and returns
    the reply: a string, a :class:`FakeReply`, a :class:`FakeToolCall` or a list of them. Every request is
    kept in :attr:`requests`. Use as a context manager (or :meth:`start` / :meth:`stop`).
    """

    def __init__(self, policy: Policy | None = None, *, model: str = "fake", chunk_chars: int = 4,
                 max_hang_s: float = 30.0) -> None:
        self.policy: Policy = policy or echo_user_policy
        self.model = model
        self.chunk_chars = chunk_chars
        # Upper bound on a hang, so a forgotten release cannot wedge a test run.
        self.max_hang_s = max_hang_s
        self.release = threading.Event()
        self.requests: list[RecordedRequest] = []
        self._replies: list[FakeReply] = []
        # Exceptions raised by the policy (each answered with a 500), for the test to re-raise or inspect.
        self.errors: list[Exception] = []
        self._lock = threading.Lock()
        self._mode: FailureMode = "ok"
        self._mode_left: int | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeOpenAIServer:
        """Bind to a free loopback port and serve in a background thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release any hanging request, stop serving and close the port."""
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("the fake server is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What ``LLM_BASE_URL`` should be: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # ------------------------------------------------------------------ scripting
    def fail(self, mode: FailureMode, times: int | None = None) -> None:
        """Answer the next ``times`` requests (all, when None) in failure ``mode``."""
        with self._lock:
            self._mode = mode
            self._mode_left = times
        if mode in ("hang", "stall"):
            self.release.clear()

    def recover(self) -> None:
        """Serve normally again and let any hanging request finish."""
        with self._lock:
            self._mode = "ok"
            self._mode_left = None
        self.release.set()

    def _take_mode(self) -> FailureMode:
        with self._lock:
            mode = self._mode
            if self._mode_left is not None:
                self._mode_left -= 1
                if self._mode_left <= 0:
                    self._mode, self._mode_left = "ok", None
            return mode

    def _record(self, handler: _Handler, raw: bytes, body: Any, mode: FailureMode) -> RecordedRequest:
        messages = body.get("messages") if isinstance(body, dict) else None
        tokens = approx_tokens(messages, body.get("tools")) if isinstance(messages, list) else 0
        record = RecordedRequest(method=handler.command, path=handler.path,
                                 headers={k.lower(): v for k, v in handler.headers.items()}, raw=raw, body=body,
                                 mode=mode, prompt_tokens=tokens)
        with self._lock:
            self.requests.append(record)
        return record

    # ------------------------------------------------------------------ inspection
    @property
    def completions(self) -> list[RecordedRequest]:
        """The chat-completions requests received so far."""
        with self._lock:
            return [r for r in self.requests if _is_completions(r.path)]

    @property
    def replies(self) -> list[FakeReply]:
        """What the policy answered, in order (failure modes answer nothing)."""
        with self._lock:
            return list(self._replies)

    def all_text(self) -> str:
        """Every request body received, as one readable string (to assert what never left)."""
        with self._lock:
            return "\n".join(r.text for r in self.requests)

    def reset(self) -> None:
        """Forget recorded requests and replies."""
        with self._lock:
            self.requests.clear()
            self._replies.clear()
