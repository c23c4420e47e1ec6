"""The chat service every channel uses: one turn in, one :class:`ChatTurn` out, state persisted.

It validates the message, serialises turns per session, picks the engine (LLM when configured,
otherwise offline), saves the customer's words before anything can fail, and records tool calls,
decisions, documents and hand-offs to the audit trail.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from assistant import metrics
from assistant.agent.llm import LLMEngine
from assistant.agent.model import ChatModel, LangChainChatModel
from assistant.agent.offline import OfflineEngine, TurnDraft
from assistant.agent.prompts import PromptLibrary
from assistant.agent.store import Messages, SessionStore, StaleSession
from assistant.agent.types import ChatTurn, SessionState
from assistant.audit import recorder
from assistant.errors import AssistantError, InvalidInput, UpstreamUnavailable
from assistant.logs import get_logger
from assistant.tools.registry import ToolContext

log = get_logger(__name__)

# Control characters, replacement characters and lone surrogates (which cannot be stored as UTF-8).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ud800-\udfff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# A turn that lost the race to save runs once more optimistically, then holding the session (which
# cannot lose, but for a new session created meanwhile: hence two exclusive attempts).
_OPTIMISTIC_ATTEMPTS = 2
_EXCLUSIVE_ATTEMPTS = 2
# The fields of a ChatTurn that are drawn beside the reply's text, and stored with it for a reload.
REPLY_PARTS = ("offers", "quote", "citations", "documents", "handoff")


def detect_lang(text: str, previous: str = "zh") -> str:
    """Chinese when the message has Chinese characters; English when it is English words; else as before."""
    if _CJK.search(text):
        return "zh"
    if len(_LATIN_WORD.findall(text)) >= 2:
        return "en"
    return previous


class ChatService:
    """Turns for all channels (app, web, WeChat, CLI, copilot, rasa)."""

    def __init__(self, services: Any, store: SessionStore, prompts: PromptLibrary,
                 model: ChatModel | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.store = store
        self.prompts = prompts
        self.offline = OfflineEngine(services, prompts)
        if model is None and self.settings.llm_configured:
            key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else None
            model = LangChainChatModel(self.settings.llm_base_url, self.settings.llm_model, key,
                                       self.settings.llm_timeout_s, self.settings.llm_max_retries)
        self.llm = (LLMEngine(self.offline, model, prompts, budget_s=self.settings.llm_timeout_s,
                              allowed_hosts=self.settings.guard_allowed_hosts)
                    if model is not None else None)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # ------------------------------------------------------------------ public API
    def handle(self, message: Any, session_id: str | None = None, channel: str = "app", *,
               create: bool = False, on_delta: Any = None) -> ChatTurn:
        """One customer message → one reply. ``create``: an unknown ``session_id`` starts a new session
        with that id (channels that own their ids, e.g. WeChat); otherwise it is a NotFound."""
        text = self.clean(message)
        if session_id is not None and not self.store.exists(session_id) and not create:
            self.store.load(session_id)  # raises NotFound with the bilingual message
        sid = session_id or self.store.new_id()
        # In-process lock: this worker's turns of one session queue here instead of racing each other.
        # Other workers (and hosts) may still run a turn of it at the same time: see _run_and_save.
        with self._lock(sid):
            started = time.perf_counter()
            state, draft = self._run_and_save(sid, text, channel, on_delta)
            turn = self._to_turn(state, draft)
            self._record(state, draft, time.perf_counter() - started, channel)
            return turn

    def stream(self, message: Any, session_id: str | None = None, channel: str = "web",
               *, create: bool = False) -> Iterator[dict[str, Any]]:
        """Yield ``{"type": "delta", "text"}`` events while the reply is produced, then ``{"type": "turn"}``."""
        events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        streamed: list[str] = []

        def on_delta(text: str) -> None:
            streamed.append(text)
            events.put({"type": "delta", "text": text})

        def work() -> None:
            try:
                turn = self.handle(message, session_id, channel, create=create, on_delta=on_delta)
                if not streamed or "".join(streamed) != turn.reply:
                    # Offline replies (or a guarded LLM reply) are streamed in small pieces now.
                    if streamed:
                        events.put({"type": "reset"})
                    for i in range(0, len(turn.reply), 12):
                        events.put({"type": "delta", "text": turn.reply[i:i + 12]})
                events.put({"type": "turn", "turn": turn.model_dump(mode="json")})
            except AssistantError as exc:
                events.put({"type": "error", "error": {"code": exc.code, "message": exc.message}})
            finally:
                events.put(None)

        threading.Thread(target=work, daemon=True).start()
        while (event := events.get()) is not None:
            yield event

    def transcript(self, session_id: str, *, parts: bool = False) -> list[dict[str, Any]]:
        """The conversation so far (personal data masked); ``parts``: with each reply's structured parts."""
        return self.store.transcript(session_id, parts=parts)

    def state(self, session_id: str) -> SessionState:
        """The session's state (NotFound when unknown)."""
        return self.store.load(session_id)

    def application(self, session_id: str) -> dict[str, Any] | None:
        """The loan terms this session was last quoted (for documents by session)."""
        return self.store.load(session_id).application

    def clean(self, message: Any) -> str:
        """Validate a customer message: a non-empty string within the length limit."""
        if not isinstance(message, str):
            raise InvalidInput("消息必须是文本", "message must be a string", field="message")
        text = _CONTROL.sub("", message).strip()
        if not text:
            raise InvalidInput("消息不能为空", "message must not be empty", field="message")
        limit = self.settings.max_message_chars
        if len(text) > limit:
            raise InvalidInput(f"消息过长，请精简到{limit}字以内", f"message too long: at most {limit} characters",
                               field="message")
        return text

    # ------------------------------------------------------------------ internals
    def _lock(self, session_id: str) -> threading.Lock:
        with self._locks_guard:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            return self._locks.setdefault(session_id, threading.Lock())

    def _run_and_save(self, sid: str, text: str, channel: str, on_delta: Any) -> tuple[SessionState, TurnDraft]:
        """Run the turn on the stored state and save it, so that the result equals running concurrent turns
        one after the other. The save is a compare-and-swap on the session's version: when another worker
        saved the session meanwhile, nothing was written and the turn runs again on the new state (a turn
        has no side effect before its save but documents it issued; audit and metrics come after). Optimistic
        first, because contention is rare (a double submit, a WeChat retry) and a held lock costs every turn;
        the last attempt holds the session (store.exclusive) so a contended turn always ends."""
        for attempt in range(1, _OPTIMISTIC_ATTEMPTS + _EXCLUSIVE_ATTEMPTS + 1):
            if attempt <= _OPTIMISTIC_ATTEMPTS:
                state, version = self.store.load_for_turn(sid, channel)
                draft = self._run_turn(state, text, channel, on_delta)
                try:
                    self.store.save(state, self._messages(text, state, draft), version=version)
                    return state, draft
                except StaleSession:
                    log.info("turn_conflict", attempt=attempt)
                    continue
            try:
                with self.store.exclusive(sid, channel) as held:
                    state = held.load()
                    draft = self._run_turn(state, text, channel, on_delta)
                    held.save(state, self._messages(text, state, draft))
                    return state, draft
            except StaleSession:  # only a brand-new session, created meanwhile: now it exists, hold it
                log.info("turn_conflict", attempt=attempt)
        raise UpstreamUnavailable("会话正忙，请稍后再试", "this session is busy; please try again")

    def _run_turn(self, state: SessionState, text: str, channel: str, on_delta: Any) -> TurnDraft:
        """One run of the engine on ``state`` (mutated in place)."""
        state.lang = detect_lang(text, state.lang)
        draft = self._run_engine(state, text, channel, on_delta)
        state.turns += 1
        return draft

    def _messages(self, text: str, state: SessionState, draft: TurnDraft) -> Messages:
        """The turn's two messages; the reply keeps the structured parts the turn carries (as the response
        does), so a reloaded conversation shows its offer cards, chart, citations and links again."""
        return [("customer", text, draft.intent), ("assistant", draft.reply, draft.intent, self._parts(state, draft))]

    def _parts(self, state: SessionState, draft: TurnDraft) -> dict[str, Any] | None:
        """The reply's structured parts, as in the response (JSON), without the empty ones."""
        dumped = self._to_turn(state, draft).model_dump(mode="json", include=set(REPLY_PARTS))
        parts = {name: value for name, value in dumped.items() if value}
        return parts or None

    def _run_engine(self, state: SessionState, text: str, channel: str, on_delta: Any) -> TurnDraft:
        ctx = ToolContext(services=self.services, session_id=state.session_id, channel=channel)
        try:
            if self.llm is not None:
                history = self.store.transcript(state.session_id) if state.turns else []
                return self.llm.turn(state, text, ctx, history, on_delta)
            return self.offline.turn(state, text, ctx)
        except AssistantError as exc:
            # A tool or component refused: tell the customer why; the conversation continues.
            log.warning("turn_error", code=exc.code)
            reply = exc.zh if state.lang == "zh" else exc.en
            return TurnDraft(intent=state.last_intent or "out_of_scope", reply=reply)
        except Exception as exc:  # never lose the customer's words because of a bug
            log.error("turn_crash", error=type(exc).__name__)
            reply = ("抱歉，系统处理出现问题，您的消息已记录。请稍后再试或输入“转人工”。" if state.lang == "zh"
                     else "Sorry, something went wrong; your message is saved. Try again or type 'human'.")
            return TurnDraft(intent=state.last_intent or "out_of_scope", reply=reply)

    def _to_turn(self, state: SessionState, draft: TurnDraft) -> ChatTurn:
        return ChatTurn(
            session_id=state.session_id,
            reply=draft.reply,
            intent=draft.intent,
            slots={k: v for k, v in state.slots.items() if k != "has_delinquency"},
            tool_calls=draft.tool_calls,
            citations=draft.citations,
            documents=draft.documents,
            handoff=draft.handoff or state.handoff,
            offers=draft.offers,
            quote=draft.quote,
            engine=draft.engine,
            lang=state.lang,
        )

    def _record(self, state: SessionState, draft: TurnDraft, seconds: float, channel: str) -> None:
        """Audit trail and metrics.

        Decisions and documents go through ``assistant.audit.recorder``, as from every other channel; a
        copilot replay (a scratch session the agent desk runs) is one staff entry, not a customer session.
        """
        audit = self.services.audit
        scored = state.last_decision if any(c.name == "score_applicant" for c in draft.tool_calls) else None
        if channel == recorder.COPILOT_CHANNEL:
            if draft.tool_calls or draft.documents or draft.handoff:
                recorder.record_copilot_replay(self.services, tools=[c.name for c in draft.tool_calls],
                                               decision=scored, documents=draft.documents,
                                               handoff=bool(draft.handoff))
        else:
            for call in draft.tool_calls:
                audit.record("tool_call", state.session_id, {"tool": call.name, "arguments": call.arguments,
                                                             "error": call.error, "channel": channel})
            if scored:
                recorder.record_decision(self.services, scored, session_id=state.session_id, channel=channel)
            recorder.record_documents(self.services, draft.documents, session_id=state.session_id,
                                      channel=channel)
            if draft.handoff:
                audit.record("handoff", state.session_id, {"reason": state.handoff_reason, "channel": channel})
        # The turn's event: what ran and how long, nothing the customer said (ids and slots stay out).
        log.info("turn", intent=draft.intent, engine=draft.engine, ms=round(seconds * 1000, 2),
                 tools=[call.name for call in draft.tool_calls], channel=channel, handoff=bool(draft.handoff))
        metrics.TURNS.labels(intent=draft.intent or "none", engine=draft.engine).inc()
        metrics.TURN_LATENCY.labels(engine=draft.engine).observe(seconds)
        for call in draft.tool_calls:
            metrics.TOOL_CALLS.labels(tool=call.name).inc()
        if draft.engine.startswith("offline-"):
            metrics.FALLBACKS.inc()
        if draft.handoff:
            metrics.HANDOFFS.inc()
