"""The LLM engine: the model understands (commands), the dialogue manager acts, the model may phrase.

Per turn: one model call returns the turn's commands (``assistant.agent.llm_commands``), validated
against the command and slot schemas; invalid or failed output falls back to the offline generator for
that turn. The dialogue manager runs the flows and tools and owns every number. A reply that is a
template (offers, quotes, questions, consent) reaches the customer verbatim; only knowledge answers and
small talk get a second call to phrase them. So a turn costs one or two calls, and the output guard
checks every model sentence before it is shown.

Personal data never leaves: ID numbers, phone numbers, bank cards and names are replaced by
placeholders before any text goes to the model, and restored only locally.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assistant.agent.guard import DEFAULT_ALLOWED_HOSTS, GuardFinding, check_text, figures_in, is_injection
from assistant.agent.llm_commands import InvalidCommands, LLMCommandGenerator
from assistant.agent.model import ChatModel, DeltaCallback, ModelReply
from assistant.agent.offline import OfflineEngine, TurnDraft
from assistant.agent.prompts import PromptLibrary
from assistant.agent.types import SessionState
from assistant.errors import AssistantError, UpstreamUnavailable
from assistant.logs import get_logger
from assistant.privacy import PiiVault
from assistant.tools.registry import ToolContext

log = get_logger(__name__)

HISTORY_TURNS = 2  # the phrasing call sees the last exchanges (cut short): the reference reply carries the facts
HISTORY_CHARS = 300
LEAK_RUN = 16  # characters shared verbatim with the system prompt that count as a leak


@dataclass
class LLMStats:
    """Counters for benchmarks and metrics."""

    turns: int = 0
    model_calls: int = 0
    prompt_tokens: int = 0
    fallbacks: int = 0  # turns whose model call failed (the offline engine answered)
    command_fallbacks: int = 0  # turns whose commands were invalid (the offline generator understood)
    guard_blocks: int = 0
    phrased: int = 0  # turns given a second call to phrase the reply


class LLMEngine:
    """Model commands + the dialogue manager; a second call to phrase only where a template won't do."""

    def __init__(self, offline: OfflineEngine, model: ChatModel, prompts: PromptLibrary, *,
                 budget_s: float = 20.0, allowed_hosts: Iterable[str] = DEFAULT_ALLOWED_HOSTS) -> None:
        self.offline = offline
        self.model = model
        self.prompts = prompts
        self.budget_s = budget_s  # the whole turn's model time, every call and retry together
        self.allowed_hosts = tuple(allowed_hosts)
        self.generator = LLMCommandGenerator(model, prompts)
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
        """Handle one message; on any model failure the offline engine's understanding is used."""
        self.stats.turns += 1
        budget = _Budget(self.budget_s)
        plan_state = state.model_copy(deep=True)
        vault = PiiVault()
        engine = "llm"
        if is_injection(message):
            # An attempt on the instructions never reaches the model; the refusal is a fixed text.
            commands, intent, confidence = self.offline.generator.generate(plan_state, message)
        else:
            try:
                self.stats.model_calls += 1
                with budget.spend() as deadline:
                    generated = self.generator.generate(plan_state, message, history, vault, deadline)
                self.stats.prompt_tokens += generated.prompt_tokens
                commands, intent, confidence = generated.commands, generated.intent, 1.0
            except (InvalidCommands, AssistantError) as exc:
                reason = exc.en if isinstance(exc, AssistantError) else str(exc)
                log.warning("llm_commands_fallback", reason=reason[:200])
                if isinstance(exc, AssistantError):
                    self.stats.fallbacks += 1
                else:
                    self.stats.command_fallbacks += 1
                engine = "offline-fallback"
                commands, intent, confidence = self.offline.generator.generate(plan_state, message)
        draft = self.offline.manager.handle(plan_state, commands, message.strip(), ctx, intent=intent,
                                            confidence=confidence)
        draft.engine = engine
        state.__dict__.update(plan_state.__dict__)
        if draft.fixed or not draft.phrase or engine != "llm":
            return draft  # a template: its numbers and wording reach the customer exactly as computed
        # The figures this turn may state: what the tools computed (the reference reply) and what the
        # customer said. Anything else that looks like a price is invented.
        figures = figures_in(draft.reply, message)
        # Stream only what the guard has seen: model text is released sentence by sentence, each after the
        # whole guard; the whole reply is checked again at the end.
        guarded = _GuardedStream(on_delta, vault, self, figures) if on_delta is not None else None
        try:
            with budget.spend() as deadline:
                text = self._phrase(state, message, history, draft, vault, guarded.feed if guarded else None,
                                    deadline)
        except AssistantError as exc:
            log.warning("llm_fallback", reason=exc.en)
            self.stats.fallbacks += 1
            draft.engine = "offline-fallback"
            return draft
        self.stats.phrased += 1
        text = vault.reveal(text).strip()
        findings = self.check(text, figures)
        if not text or findings:
            if findings:
                self.stats.guard_blocks += 1
                log.warning("llm_output_blocked", findings=[f.code for f in findings])
            draft.engine = "offline-guarded"
        else:
            draft.reply = text
            if guarded is not None:
                guarded.flush()
        return draft

    def check(self, text: str, figures: set[Decimal]) -> list[GuardFinding]:
        """The output guard for model text, plus verbatim runs of the system prompts."""
        findings = check_text(text, figures=figures, allowed_hosts=self.allowed_hosts)
        if self._leaks_system_prompt(text) and not any(f.code == "prompt_leak" for f in findings):
            findings.append(GuardFinding(code="prompt_leak", zh="复述了系统提示词", en="repeats the system prompt"))
        return findings

    def _leaks_system_prompt(self, text: str) -> bool:
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
            messages.append({"role": role, "content": vault.mask(item["text"][:HISTORY_CHARS])})
        messages.append({"role": "user", "content": vault.mask(message)})
        return messages

    def _call(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
              on_delta: DeltaCallback | None, deadline: float) -> ModelReply:
        self.stats.model_calls += 1
        reply = self.model.complete(messages, tools=tools, on_delta=on_delta, deadline=deadline)
        if reply.prompt_tokens is None:
            # Servers that don't report usage: estimate (≈1.5 characters a token for Chinese text).
            reply.prompt_tokens = int(sum(len(str(m.get("content") or "")) for m in messages) / 1.5)
        self.stats.prompt_tokens += reply.prompt_tokens
        return reply

    def _phrase(
        self, state: SessionState, message: str, history: list[dict[str, str]], draft: TurnDraft,
        vault: PiiVault, on_delta: DeltaCallback | None, deadline: float,
    ) -> str:
        messages = self._base_messages(state, message, history, vault)
        reference = vault.mask(draft.reply)
        guide = (
            "工具结果与参考回复（数字必须原样引用，保留年化利率和免责声明）：\n" if state.lang == "zh"
            else "Tool results and reference reply (quote numbers exactly; keep the APR and disclaimers):\n"
        )
        messages.append({"role": "system", "content": guide + reference})
        reply = self._call(messages, None, on_delta, deadline)
        if not reply.text.strip():
            raise UpstreamUnavailable("大模型返回空内容", "LLM returned an empty reply")
        return reply.text


class _Budget:
    """The turn's model time: each call may use what earlier calls left (tool time does not count)."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds

    @contextmanager
    def spend(self) -> Iterator[float]:
        """A deadline (``time.monotonic()``) for one call; the time it took is taken off the budget."""
        start = time.monotonic()
        try:
            yield start + self.left
        finally:
            self.left = max(self.left - (time.monotonic() - start), 0.0)


class _GuardedStream:
    """Buffers streamed model text and releases whole sentences only after they pass the guard.

    A sentence with a price waits until the APR has appeared (in it or a later sentence); any other
    finding stops the stream for good (the final check then replaces the reply). So no text leaves
    unchecked, and nothing shown is later contradicted by a block.
    """

    _END = "。！？!?；;\n"

    def __init__(self, sink: DeltaCallback, vault: PiiVault, engine: LLMEngine, figures: set[Decimal]) -> None:
        self.sink = sink
        self.vault = vault
        self.engine = engine
        self.figures = figures
        self.buffer = ""
        self.held = ""  # checked sentences waiting for the APR
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
        shown = self.held + self.vault.reveal(ready)
        codes = {f.code for f in self.engine.check(shown, self.figures)}
        if codes - {"price_without_apr"}:
            self.blocked = True
            return
        if codes:
            self.held = shown  # the APR may follow in the next sentence
            return
        self.held = ""
        self.sink(shown)

    def flush(self) -> None:
        """After the whole reply passed the guard: release what is left."""
        rest = self.held + self.vault.reveal(self.buffer)
        if not self.blocked and rest.strip():
            self.sink(rest.rstrip())
        self.buffer = self.held = ""
