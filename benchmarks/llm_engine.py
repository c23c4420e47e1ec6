"""Benchmark: the LLM engine against the local fake OpenAI server — model calls per turn, prompt tokens.

Every turn of ``eval/conversations/scenarios.yaml`` and of the realistic dev conversations
(``eval/dialogue/dev.yaml``; a fresh chat session each) goes through the chat service with the LLM
engine configured against :class:`assistant.testing.FakeOpenAIServer` on loopback, so the real
``openai`` client, streaming and the tool-call wire format are in the path. The fake model understands
as the offline tracker does (it answers ``emit_commands`` with the tracker's commands) and restates the
reference reply when asked to phrase.

Figures: model calls per turn (target ≤ 2: one commands call, a second only to phrase a knowledge
answer or small talk), prompt tokens per call (target ≤ 3,000; mean, p50, p95, max; approximated by the
server as characters ÷ 1.5 — see :mod:`assistant.testing.fake_openai`), how turns split by calls, and
turn latency. Prints numbers; asserts nothing.

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
from assistant.evals.dialogue_format import load_conversations
from assistant.services import Services
from assistant.settings import Settings
from assistant.testing import FakeOpenAIServer, phrasing_policy, understanding_policy

TARGET_CALLS_PER_TURN = 2.0
TARGET_PROMPT_TOKENS = 3000


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
    if tokens:
        over = sum(t > TARGET_PROMPT_TOKENS for t in tokens)
        print(f"  calls over {TARGET_PROMPT_TOKENS} prompt tokens: {over} of {len(tokens)}")
    print(f"  turns by model calls: {dict(sorted(calls_per_turn.items()))}; engines: {dict(engines)}")
    if tokens:
        print(f"  prompt tokens/call (≈ chars ÷ 1.5): mean {statistics.mean(tokens):.0f}, "
              f"p50 {percentile(tokens, 50):.0f}, p95 {percentile(tokens, 95):.0f}, max {max(tokens)}; "
              f"commands calls (emit_commands offered): {sum(1 for r in requests if r.tools)}")
    print(f"  engine counters: calls {stats.model_calls}, phrased {stats.phrased}, fall-backs {stats.fallbacks}, "
          f"invalid commands {stats.command_fallbacks}, guard blocks {stats.guard_blocks}")
    print(f"  turn latency (in-process, loopback model): p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {percentile(latencies, 95):.1f} ms")


def offline_generator(root: Path) -> Any:
    """What the fake model understands with: the offline tracker on the shipped NLU and catalogue."""
    from assistant.agent.tracker import OfflineCommandGenerator

    services = Services(Settings(data_dir=root / "fake-model", _env_file=None))  # type: ignore[call-arg]
    return OfflineCommandGenerator(services.nlu, services.catalogue)


def main() -> None:
    """The scenarios and the dev conversations through the LLM engine."""
    with tempfile.TemporaryDirectory(prefix="bench-llm-") as tmp:
        root = Path(tmp)
        probe = Settings(data_dir=root / "probe", _env_file=None)  # type: ignore[call-arg]
        scripts = [[turn.user for turn in s.turns] for s in load_scenarios(scenarios_path(probe))]
        dev = load_conversations(probe.resources_dir / "eval" / "dialogue" / "dev.yaml")
        scripts += [[turn.user for turn in c.turns] for c in dev]
        policy = understanding_policy(lambda: offline_generator(root), phrasing_policy("好的，"))
        run("commands+phrasing", policy, scripts, root)


if __name__ == "__main__":
    main()
