"""The LLM engine: the offline engine plans and runs the tools locally; the model phrases the reply.

Why this shape: most turns need one model call (≤ 1.3 calls per turn), the numbers in the reply are
the tools' numbers (the model is told to quote them verbatim, and the output guard checks it), and
when the model is down, slow or says something non-compliant, the offline reply is already there.
Only turns the offline engine is unsure about give the model the tools to call itself.

Personal data never leaves: ID numbers, phone numbers, bank cards and names are replaced by
placeholders before any text goes to the model, and restored only inside local tool calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from assistant.agent.guard import GuardFinding, check_text
from assistant.agent.model import ChatModel, DeltaCallback, ModelReply
from assistant.agent.offline import OfflineEngine, TurnDraft
from assistant.agent.prompts import PromptLibrary
from assistant.agent.types import SessionState, ToolCallRecord
from assistant.errors import AssistantError, UpstreamUnavailable
from assistant.logs import get_logger
from assistant.privacy import PiiVault, mask_pii
from assistant.tools.registry import REGISTRY, ToolContext

log = get_logger(__name__)

# Below this NLU confidence (or when the offline engine could only ask for clarification) the model
# gets the tools and decides itself.
UNSURE_CONFIDENCE = 0.5
MAX_TOOL_RESULT_CHARS = 3000
HISTORY_TURNS = 6
# The customer-facing tools the model may call itself (staff-only lifecycle tools stay out, and the
# schemas are what most of an unsure turn's prompt tokens are spent on).
CHAT_TOOLS = ("quote_loan", "match_offers", "explain_exclusion", "value_vehicle", "score_applicant",
              "search_knowledge", "generate_documents")
LEAK_RUN = 16  # characters shared verbatim with the system prompt that count as a leak


@dataclass
class LLMStats:
    """Counters for benchmarks and metrics."""

    turns: int = 0
    model_calls: int = 0
    prompt_tokens: int = 0
    fallbacks: int = 0
    guard_blocks: int = 0


class LLMEngine:
    """Offline planning + one model call to phrase; tools for the model when the plan is unsure."""

    def __init__(self, offline: OfflineEngine, model: ChatModel, prompts: PromptLibrary) -> None:
        self.offline = offline
        self.model = model
        self.prompts = prompts
        self.stats = LLMStats()
        # Every 16-character run of both system prompts, built once (checked per turn and per sentence).
        self._prompt_runs: set[str] = set()
        for prompt_lang in ("zh", "en"):
            prompt = "".join(prompts.system(prompt_lang).split())
            self._prompt_runs.update(prompt[i:i + LEAK_RUN] for i in range(max(len(prompt) - LEAK_RUN, 0) + 1))

    def turn(
        self, state: SessionState, message: str, ctx: ToolContext, history: list[dict[str, str]],
        on_delta: DeltaCallback | None = None,
    ) -> TurnDraft:
        """Handle one message; on any model failure the offline reply is used (counted as a fall-back)."""
        self.stats.turns += 1
        plan_state = state.model_copy(deep=True)
        draft = self.offline.turn(plan_state, message, ctx)
        vault = PiiVault()
        unsure = draft.confidence < UNSURE_CONFIDENCE and not draft.tool_calls and not draft.handoff
        # Stream only what the guard has seen: model text is released sentence by sentence after the
        # per-sentence checks (approval promises, prompt leaks); the whole reply is checked at the end.
        guarded = _GuardedStream(on_delta, vault, self) if on_delta is not None else None
        on_delta = guarded.feed if guarded is not None else None
        try:
            if draft.fixed:
                # Consent wording, injection refusals: exact text, no paraphrase, no model call.
                state.__dict__.update(plan_state.__dict__)
                return draft
            elif unsure:
                text = self._with_tools(state, message, history, ctx, draft, vault, on_delta)
            else:
                text = self._phrase(state, message, history, draft, vault, on_delta)
        except AssistantError as exc:
            log.warning("llm_fallback", reason=exc.en)
            self.stats.fallbacks += 1
            draft.engine = "offline-fallback"
            state.__dict__.update(plan_state.__dict__)
            return draft
        text = vault.unmask(text).strip()
        findings = check_text(text)
        if self._leaks_system_prompt(text, state.lang):
            findings.append(GuardFinding(code="prompt_leak", zh="复述了系统提示词", en="repeats the system prompt"))
        if not text or findings:
            if findings:
                self.stats.guard_blocks += 1
                log.warning("llm_output_blocked", findings=[f.code for f in findings])
            draft.engine = "offline-guarded"
        else:
            draft.reply = text
            draft.engine = "llm"
            if guarded is not None:
                guarded.flush()
        state.__dict__.update(plan_state.__dict__)
        return draft

    def _leaks_system_prompt(self, text: str, lang: str) -> bool:
        """True when the reply repeats any 16-character run of a system prompt (a partial leak)."""
        compact = "".join(text.split())
        return any(compact[i:i + LEAK_RUN] in self._prompt_runs for i in range(max(len(compact) - LEAK_RUN, 0) + 1))

    # -------------------------------------------------------------- model calls
    def _base_messages(
        self, state: SessionState, message: str, history: list[dict[str, str]], vault: PiiVault
    ) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.prompts.system(state.lang)}]
        for item in history[-2 * HISTORY_TURNS:]:
            role = "user" if item["role"] == "customer" else "assistant"
            messages.append({"role": role, "content": vault.mask(item["text"])})
        messages.append({"role": "user", "content": vault.mask(message)})
        return messages

    def _call(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
              on_delta: DeltaCallback | None) -> ModelReply:
        self.stats.model_calls += 1
        reply = self.model.complete(messages, tools=tools, on_delta=on_delta)
        if reply.prompt_tokens is None:
            # Servers that don't report usage: estimate (≈1.5 characters a token for Chinese text).
            reply.prompt_tokens = int(sum(len(str(m.get("content") or "")) for m in messages) / 1.5)
        self.stats.prompt_tokens += reply.prompt_tokens
        return reply

    def _phrase(
        self, state: SessionState, message: str, history: list[dict[str, str]], draft: TurnDraft,
        vault: PiiVault, on_delta: DeltaCallback | None,
    ) -> str:
        messages = self._base_messages(state, message, history, vault)
        reference = vault.mask(draft.reply)
        guide = (
            "工具结果与参考回复（数字必须原样引用，保留年化利率和免责声明）：\n" if state.lang == "zh"
            else "Tool results and reference reply (quote numbers exactly; keep the APR and disclaimers):\n"
        )
        messages.append({"role": "system", "content": guide + reference})
        reply = self._call(messages, None, on_delta)
        if not reply.text.strip():
            raise UpstreamUnavailable("大模型返回空内容", "LLM returned an empty reply")
        return reply.text

    def _with_tools(
        self, state: SessionState, message: str, history: list[dict[str, str]], ctx: ToolContext,
        draft: TurnDraft, vault: PiiVault, on_delta: DeltaCallback | None,
    ) -> str:
        messages = self._base_messages(state, message, history, vault)
        tools = [REGISTRY.get(name).openai_schema() for name in CHAT_TOOLS if name in REGISTRY.names()]
        first = self._call(messages, tools, None)
        if not first.tool_calls:
            if on_delta is not None and first.text:
                on_delta(first.text)
            return first.text
        messages.append({"role": "assistant", "content": first.text,
                         "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments}
                                        for c in first.tool_calls]})
        for call in first.tool_calls[:3]:
            arguments = vault.unmask_obj(call.arguments)
            assert isinstance(arguments, dict)
            record = ToolCallRecord(name=call.name, arguments={k: mask_pii(v) if isinstance(v, str) else v
                                                               for k, v in arguments.items()})
            try:
                result = REGISTRY.get(call.name).invoke(ctx, arguments)
                payload = result.model_dump(mode="json")
                record.result = payload
                content = _compact_json(payload)
            except AssistantError as exc:
                record.error = exc.message
                content = json.dumps({"error": exc.message}, ensure_ascii=False)
            draft.tool_calls.append(record)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": vault.mask(content)})
        final = self._call(messages, None, on_delta)
        return final.text


def _compact_json(payload: dict[str, Any]) -> str:
    """A tool result for the model: long lists (schedules, factors) summarised so the JSON stays valid
    and short."""
    def shrink(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shrink(v) for k, v in value.items() if k not in {"schedule", "factors", "shadow"}}
        if isinstance(value, list):
            return [shrink(v) for v in value[:5]]
        return value

    text = json.dumps(shrink(payload), ensure_ascii=False, default=str)
    if len(text) > MAX_TOOL_RESULT_CHARS:
        text = json.dumps({"summary": text[: MAX_TOOL_RESULT_CHARS - 200] + "…"}, ensure_ascii=False)
    return text


class _GuardedStream:
    """Buffers streamed model text and releases whole sentences that pass the guard."""

    _END = "。！？!?；;\n"

    def __init__(self, sink: DeltaCallback, vault: PiiVault, engine: LLMEngine) -> None:
        self.sink = sink
        self.vault = vault
        self.engine = engine
        self.buffer = ""
        self.blocked = False

    def feed(self, text: str) -> None:
        """Take a streamed piece; emit complete sentences that are safe to show."""
        if self.blocked:
            return
        self.buffer += text
        cut = max(self.buffer.rfind(ch) for ch in self._END)
        if cut < 0:
            return
        ready, self.buffer = self.buffer[: cut + 1], self.buffer[cut + 1:]
        shown = self.vault.unmask(ready)
        codes = {f.code for f in check_text(shown)} - {"price_without_apr"}  # APR may follow later
        if codes or self.engine._leaks_system_prompt(shown, "zh"):
            self.blocked = True  # the final guard replaces the reply; nothing more is streamed
            return
        self.sink(shown)

    def flush(self) -> None:
        """After the whole reply passed the guard: release what is left in the buffer."""
        if not self.blocked and self.buffer.strip():
            self.sink(self.vault.unmask(self.buffer).rstrip())
        self.buffer = ""
