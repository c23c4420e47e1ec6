"""Benchmark: the LLM engine against the local fake OpenAI server — model calls per turn, prompt tokens.

Every turn of ``eval/conversations/scenarios.yaml`` (a fresh chat session per scenario), plus a few unclear
messages (:data:`UNCLEAR`), goes through the chat service with the LLM engine configured against
:class:`assistant.testing.FakeOpenAIServer` on loopback, so the real ``openai`` client, streaming and the
tool-call wire format are in the path. Two model behaviours:

- ``phrasing``: a model that restates the engine's reference reply and answers unsure turns directly;
- ``tool-happy``: the same, but on unsure turns (where the engine offers tools) it always calls
  ``search_knowledge`` first and answers after the result — the worst case for calls per turn.

Figures: model calls per turn (target ≤ 1.3), prompt tokens per call (mean, p50, p95, max; tokens are
approximated by the server as characters ÷ 1.5 — see :mod:`assistant.testing.fake_openai`), how turns
split between fixed replies (no call), phrasing (one call) and tool use (two calls), and turn latency.
Prints numbers; asserts nothing.

Run: python benchmarks/llm_engine.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.evals.conversations import load_scenarios, scenarios_path
from assistant.services import Services
from assistant.settings import Settings
from assistant.testing import FakeOpenAIServer, FakeToolCall, last_user_text, phrasing_policy

TARGET_CALLS_PER_TURN = 1.3
# Real traffic also has messages the offline engine cannot place (symbols, fillers, vague requests): those
# turns offer the model the tools. The scenarios have none, so a few are mixed in.
UNCLEAR = [["🚗💰❓"], ["嗯……那个……"], ["🙂🙂"], ["你看着办吧"], ["那个啥，就是那个事"], ["hmm, not sure"]]


def tool_happy_policy() -> Any:
    """Calls search_knowledge whenever tools are offered, then answers from the result."""
    phrase = phrasing_policy("好的，")

    def policy(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> Any:
        if tools and not any(m.get("role") == "tool" for m in messages):
            return FakeToolCall("search_knowledge", {"query": last_user_text(messages)[:200], "k": 3})
        if any(m.get("role") == "tool" for m in messages):
            return "根据检索到的资料，建议您补充一下具体需求，比如预算、车价或期数，我再为您详细计算。"
        return phrase(messages, tools)

    return policy


def percentile(values: list[int] | list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


def run(label: str, policy: Any, scripts: list[list[str]], root: Path) -> None:
    """Play every script through the LLM engine against a fake server running ``policy``."""
    with FakeOpenAIServer(policy) as server:
        settings = Settings(data_dir=root / label, llm_base_url=server.base_url, llm_model="fake",
                            llm_api_key="bench", llm_timeout_s=10.0, llm_max_retries=0, log_level="WARNING",
                            _env_file=None)  # type: ignore[call-arg]
        chat = Services(settings).chat
        calls_per_turn: Counter[int] = Counter()
        engines: Counter[str] = Counter()
        latencies: list[float] = []
        turns = 0
        for script in scripts:
            session_id = None
            for message in script:
                before = len(server.completions)
                started = time.perf_counter()
                turn = chat.handle(message, session_id)
                latencies.append((time.perf_counter() - started) * 1000)
                session_id = turn.session_id
                calls_per_turn[len(server.completions) - before] += 1
                engines[turn.engine] += 1
                turns += 1
        requests = server.completions
        tokens = [r.prompt_tokens for r in requests]
        stats = chat.llm.stats
    calls = len(requests)
    rate = calls / turns
    verdict = "meets" if rate <= TARGET_CALLS_PER_TURN else "misses"
    print(f"[{label}] {turns} turns, {calls} model calls: {rate:.2f} calls/turn "
          f"[{verdict} ≤ {TARGET_CALLS_PER_TURN}]")
    print(f"  turns by model calls: {dict(sorted(calls_per_turn.items()))}; engines: {dict(engines)}")
    if tokens:
        print(f"  prompt tokens/call (≈ chars ÷ 1.5): mean {statistics.mean(tokens):.0f}, "
              f"p50 {percentile(tokens, 50):.0f}, p95 {percentile(tokens, 95):.0f}, max {max(tokens)}; "
              f"with tools offered: {sum(1 for r in requests if r.tools)} calls")
    print(f"  engine counters: calls {stats.model_calls}, prompt tokens {stats.prompt_tokens}, "
          f"fall-backs {stats.fallbacks}, guard blocks {stats.guard_blocks}")
    print(f"  turn latency (in-process, loopback model): p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {percentile(latencies, 95):.1f} ms")


def main() -> None:
    """Both model behaviours over all scenario turns."""
    with tempfile.TemporaryDirectory(prefix="bench-llm-") as tmp:
        root = Path(tmp)
        probe = Settings(data_dir=root / "probe", _env_file=None)  # type: ignore[call-arg]
        scripts = [[turn.user for turn in s.turns] for s in load_scenarios(scenarios_path(probe))] + UNCLEAR
        run("phrasing", phrasing_policy("好的，"), scripts, root)
        run("tool-happy", tool_happy_policy(), scripts, root)


if __name__ == "__main__":
    main()
