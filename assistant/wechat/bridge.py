"""From a WeChat message to a reply: dedupe retries, answer inside the 5-second window or hand the
reply to the customer-service API, split long replies, and answer politely what we cannot read.

WeChat waits 5 seconds for an answer and then re-sends the same message (up to three times, same
MsgId). So: the turn runs on a worker thread; if it finishes within ``wechat_reply_timeout_s`` the
reply goes back passively (in the HTTP response), otherwise we answer ``success`` (= "no passive
reply, don't retry") and the finished reply is sent through the customer-service API. A re-sent
MsgId is never processed twice, by any worker or host (the ``wechat_seen`` table every worker shares): it
gets the same passive reply again, or ``success``.

A reply is never silently dropped: when the customer-service API fails too (or is not configured),
the unsent text is kept (encrypted, in the database every worker shares, see ``outbox.py``) and goes
out, with a word of apology, ahead of the answer to the follower's next message.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError, wait
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import AssistantError
from assistant.logs import get_logger
from assistant.wechat.client import CustomerServiceClient
from assistant.wechat.messages import InboundMessage, split_text, text_reply
from assistant.wechat.outbox import UndeliveredReplies

log = get_logger(__name__)

WELCOME = ("您好，欢迎关注！我是汽车金融智能助手，可以帮您算月供、看清真实年化利率、推荐适合预算的车型和贷款方案，"
           "也能解答提前还款、征信、抵押等问题。直接发文字给我就好，例如：车价20万首付三成分36期月供多少。"
           "需要人工服务请回复“转人工”。")
UNSUPPORTED = ("您好，目前我只能阅读文字消息，图片、语音、视频、位置等暂不支持。请用文字描述您的问题，"
               "例如：预算15万想买SUV有什么推荐。需要人工服务请回复“转人工”。")
BUSY = "抱歉，系统正忙，您的消息已收到并记录，请稍后再问一次，或回复“转人工”。"
MISSED = "抱歉，之前给您的回复未能及时送达，补发如下："
NOW = "关于您刚才的消息："
# Events that need no answer (and must not get one: WeChat cannot deliver to someone who unfollowed).
SILENT_EVENTS = frozenset({"unsubscribe", "location", "view", "templatesendjobfinish", "masssendjobfinish",
                           "view_miniprogram"})
WELCOME_EVENTS = frozenset({"subscribe", "scan"})


@dataclass
class _Entry:
    """What we did with one inbound message (for WeChat's retries of it)."""

    created: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    mode: str = "pending"  # pending | passive | async | silent
    reply_xml: str | None = None
    # True when another worker took the message: what it answered is read from the database each time.
    elsewhere: bool = False


class ReplayGuard:
    """MsgId → what we answered, kept ``ttl_s`` seconds (LRU-bounded): the second copy is not processed."""

    def __init__(self, ttl_s: float = 900.0, max_entries: int = 20_000,
                 clock: Any = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, key: str) -> tuple[_Entry, bool]:
        """The entry for ``key`` and True if this is the first time we see it."""
        now = self._clock()
        with self._lock:
            while self._entries:
                oldest_key, oldest = next(iter(self._entries.items()))
                if now - oldest.created < self.ttl_s and len(self._entries) < self.max_entries:
                    break
                del self._entries[oldest_key]
            entry = self._entries.get(key)
            if entry is not None:
                return entry, False
            entry = self._entries[key] = _Entry(created=now)
            return entry, True


class SharedReplayGuard:
    """The in-process :class:`ReplayGuard` in front of a table every worker shares (``wechat_seen``): a
    MsgId is processed once across workers and hosts, and a retry that reaches another worker gets the
    same passive reply (or ``success``)."""

    def __init__(self, sessions: Any, cipher: Any, secret: bytes, ttl_s: float = 900.0) -> None:
        self.local = ReplayGuard(ttl_s=ttl_s)
        self.ttl_s = ttl_s
        self._sessions = sessions
        self._cipher = cipher
        self._secret = secret
        self._pruned = 0.0

    def _digest(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def claim(self, key: str) -> tuple[_Entry, bool]:
        """The entry for ``key`` and True if no worker has seen it yet."""
        from sqlalchemy.exc import IntegrityError

        from assistant.storage.wechat_seen import WeChatSeenRow

        entry, first = self.local.claim(key)
        if not first and not entry.elsewhere:
            return entry, False
        digest = self._digest(key)
        try:
            if first:
                self._prune()
                try:
                    with self._sessions.begin() as db:
                        db.add(WeChatSeenRow(key=digest))
                    return entry, True
                except IntegrityError:
                    entry.elsewhere = True
            with self._sessions() as db:
                row = db.get(WeChatSeenRow, digest)
                mode, token = (row.mode, row.reply_encrypted) if row is not None else ("pending", None)
            with entry.lock:
                entry.mode = mode
                entry.reply_xml = self._cipher.decrypt(token) if token else None
            return entry, False
        except Exception as exc:  # the database is unreachable: dedupe in this worker only, still answer
            log.error("wechat_dedupe_unavailable", error=type(exc).__name__)
            return entry, first

    def settle(self, key: str, entry: _Entry) -> None:
        """Record what was answered to ``key`` (for retries that reach another worker)."""
        from sqlalchemy import update

        from assistant.storage.wechat_seen import WeChatSeenRow

        with entry.lock:
            mode, reply = entry.mode, entry.reply_xml
        try:
            with self._sessions.begin() as db:
                db.execute(update(WeChatSeenRow).where(WeChatSeenRow.key == self._digest(key)).values(
                    mode=mode, reply_encrypted=self._cipher.encrypt(reply) if reply else None))
        except Exception as exc:  # a retry elsewhere then answers ``success``: the reply still went
            log.error("wechat_dedupe_unrecorded", error=type(exc).__name__)

    def _prune(self) -> None:
        """Delete the keys WeChat no longer retries (at most once a minute per worker)."""
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import delete

        from assistant.storage.wechat_seen import WeChatSeenRow

        now = time.monotonic()
        if now - self._pruned < 60:
            return
        self._pruned = now
        cutoff = datetime.now(UTC) - timedelta(seconds=self.ttl_s)
        with self._sessions.begin() as db:
            db.execute(delete(WeChatSeenRow).where(WeChatSeenRow.created_at < cutoff))


class WeChatBridge:
    """Answers WeChat messages through the chat service (one per app; thread-safe)."""

    def __init__(self, services: Any, client: CustomerServiceClient | None = None, workers: int = 4) -> None:
        self.services = services
        self.settings = services.settings
        self._client = client
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wechat-turn")
        # Deliveries wait on turns: a separate pool, so a waiting delivery can never starve a turn.
        self._outbox = ThreadPoolExecutor(max_workers=2, thread_name_prefix="wechat-send")
        self._deliveries: set[Future[Any]] = set()
        self._deliveries_lock = threading.Lock()
        self.outbox = UndeliveredReplies(services.sessions, _cipher(services))
        secret = f"wechat-seen:{self.settings.wechat_token or ''}:{self.settings.wechat_app_id or ''}".encode()
        self.guard = SharedReplayGuard(services.sessions, _cipher(services), secret)

    # ------------------------------------------------------------------ wiring
    @property
    def client(self) -> CustomerServiceClient | None:
        """The customer-service API client, when AppID and AppSecret are configured."""
        if self._client is None and self.settings.wechat_app_id and self.settings.wechat_app_secret:
            self._client = CustomerServiceClient(self.settings.wechat_api_base, self.settings.wechat_app_id,
                                                 self.settings.wechat_app_secret.get_secret_value())
        return self._client

    def session_id_for(self, openid: str) -> str:
        """A stable session id per follower, not derivable from the OpenID without our token."""
        key = f"{self.settings.wechat_token or ''}:{self.settings.wechat_app_id or ''}".encode()
        return "wx" + hmac.new(key, openid.encode(), hashlib.sha256).hexdigest()[:30]

    # ------------------------------------------------------------------ the reply
    def respond(self, msg: InboundMessage) -> str | None:
        """The passive reply XML for ``msg``, or None for a bare ``success``."""
        from assistant import metrics

        entry, first = self.guard.claim(msg.dedupe_key)
        if not first:
            metrics.WECHAT_RETRIES.inc()
            with entry.lock:
                log.info("wechat_retry", mode=entry.mode)
                metrics.WECHAT_MESSAGES.labels(msg_type=msg.msg_type, delivery="retry").inc()
                return entry.reply_xml if entry.mode == "passive" else None

        text = self._text_of(msg)
        if text is None:
            reply = self._canned(msg)
            pieces = self._pieces(msg.from_user, reply) if reply else []
            with entry.lock:
                entry.mode = "passive" if reply else "silent"
                entry.reply_xml = text_reply(msg.from_user, msg.to_user, pieces[0]) if pieces else None
            self.guard.settle(msg.dedupe_key, entry)
            metrics.WECHAT_MESSAGES.labels(msg_type=msg.msg_type, delivery="canned" if reply else "silent").inc()
            if len(pieces) > 1:
                self._track(self._outbox.submit(self._send, msg.from_user, pieces[1:]))
            return entry.reply_xml

        future = self._pool.submit(self._turn, msg.from_user, text)
        try:
            pieces = self._pieces(msg.from_user, future.result(timeout=self.settings.wechat_reply_timeout_s))
        except TimeoutError:
            with entry.lock:
                entry.mode = "async"
            self.guard.settle(msg.dedupe_key, entry)
            metrics.WECHAT_MESSAGES.labels(msg_type=msg.msg_type, delivery="async").inc()
            self._track(self._outbox.submit(self._deliver_later, msg.from_user, future))
            return None
        with entry.lock:
            entry.mode = "passive"
            entry.reply_xml = text_reply(msg.from_user, msg.to_user, pieces[0] if pieces else BUSY)
        self.guard.settle(msg.dedupe_key, entry)
        metrics.WECHAT_MESSAGES.labels(msg_type=msg.msg_type, delivery="passive").inc()
        if len(pieces) > 1:
            self._track(self._outbox.submit(self._send, msg.from_user, pieces[1:]))
        return entry.reply_xml

    def _text_of(self, msg: InboundMessage) -> str | None:
        if msg.msg_type == "text" and msg.content.strip():
            return msg.content
        if msg.msg_type == "voice" and msg.recognition:
            return msg.recognition  # WeChat's own speech recognition, when the account turned it on
        return None

    def _canned(self, msg: InboundMessage) -> str | None:
        if msg.msg_type == "event":
            if msg.event in SILENT_EVENTS:
                return None
            if msg.event in WELCOME_EVENTS:
                return WELCOME
        return UNSUPPORTED

    def _turn(self, openid: str, text: str) -> str:
        """Run the chat turn; the reply as WeChat text."""
        try:
            turn = self.services.chat.handle(text, session_id=self.session_id_for(openid), channel="wechat",
                                             create=True)
        except AssistantError as exc:  # e.g. a message over the length limit: say why
            return exc.zh
        return format_turn(turn)

    def _pieces(self, openid: str, reply: str) -> list[str]:
        """What goes to the follower now: replies that earlier failed to reach them first, then ``reply``;
        split into pieces that each fit one WeChat text message."""
        try:
            missed = self.outbox.claim(self.session_id_for(openid))
        except Exception as exc:  # the kept replies wait for the next message; this one must still go
            log.error("wechat_outbox_unreadable", error=type(exc).__name__)
            missed = []
        if missed:
            reply = "\n\n".join([MISSED, *missed, NOW + "\n" + reply.strip()])
        return split_text(reply) or [BUSY]

    # ------------------------------------------------------------------ customer-service API
    def _deliver_later(self, openid: str, turn: Future[str]) -> int:
        """Wait for a turn that missed the window, then send its reply through the API."""
        try:
            reply = turn.result()
        except Exception as exc:  # the turn itself crashed: tell the customer rather than stay silent
            log.error("wechat_turn_failed", error=type(exc).__name__)
            reply = BUSY
        return self._send(openid, self._pieces(openid, reply))

    def _send(self, openid: str, pieces: list[str]) -> int:
        """Send ``pieces`` through the customer-service API; whatever does not go out is kept for the
        follower's next message. Returns how many pieces were sent."""
        from assistant import metrics

        client = self.client
        sent, reason = 0, "customer-service API not configured"
        if client is not None:
            try:
                for piece in pieces:
                    client.send_text(openid, piece)
                    sent += 1
                return sent
            except AssistantError as exc:
                reason = exc.en
            except Exception as exc:  # whatever broke, the reply must not vanish with it
                reason = type(exc).__name__
        log.error("wechat_reply_undeliverable", reason=reason, pieces=len(pieces) - sent)
        metrics.WECHAT_MESSAGES.labels(msg_type="text", delivery="kept").inc()
        try:
            self.outbox.record(self.session_id_for(openid), "".join(pieces[sent:]), reason)
        except Exception as exc:  # nothing more to try: at least the log says a reply was lost
            log.error("wechat_reply_lost", reason=reason, error=type(exc).__name__)
        return sent

    def _track(self, future: Future[Any]) -> None:
        with self._deliveries_lock:
            self._deliveries.add(future)
        future.add_done_callback(self._untrack)

    def _untrack(self, future: Future[Any]) -> None:
        with self._deliveries_lock:
            self._deliveries.discard(future)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until queued customer-service deliveries are done (tests, graceful shutdown)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._deliveries_lock:
                pending = set(self._deliveries)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait(pending, timeout=remaining)

    def close(self) -> None:
        """Stop the worker threads after the queued work."""
        self._pool.shutdown(wait=True)
        self._outbox.shutdown(wait=True)


def _cipher(services: Any) -> Any:
    """The services' cipher for data at rest (the one chat sessions use)."""
    cipher = getattr(services, "cipher", None)
    if cipher is not None:
        return cipher
    from assistant.storage.crypto import Cipher, load_key

    return Cipher(load_key(services.settings))


def format_turn(turn: Any) -> str:
    """The chat turn as WeChat text: the reply, then the sources it relied on."""
    text = str(turn.reply).strip()
    citations = list(getattr(turn, "citations", []) or [])
    if citations:
        titles = "、".join(dict.fromkeys(c.title for c in citations[:3]))
        text += f"\n\n参考：{titles}"
    return text
