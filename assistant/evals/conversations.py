"""``loan-assistant eval conversations``: scripted multi-turn scenarios through the chat service.

Reads ``eval/conversations/scenarios.yaml`` (format described at the top of that file). Every scenario
runs in a fresh session of ``services.chat`` on a fresh temporary DATA_DIR; each turn's expectations,
the assistant's invariants (no approval promise, no price without its APR, "review" hands over to a
person) and the scenario's goal (final slots, tools called, documents issued, hand-off) are checked.

Figures: the pass rate of the offline engine (a scenario passes when every check holds), per area and
overall, with each failure listed. When an LLM is configured (``settings.llm_configured``) every
scenario also runs k = 3 times on the LLM engine and **pass^k** is printed: the share of scenarios that
passed in all k runs (the reliability a customer sees), next to the mean single-run pass rate.

Run one scenario while debugging: ``python -m assistant.evals.conversations --only rec_one_shot_suv -v``.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from assistant.agent.types import ChatTurn, SessionState
    from assistant.settings import Settings

K_TRIALS = 3
FLOAT_TOLERANCE = 1e-6


# ---------------------------------------------------------------------------------------------- format
class TurnExpect(BaseModel):
    """What must hold after one turn (every key optional)."""

    model_config = ConfigDict(extra="forbid")

    intent: str | list[str] | None = None
    tools: list[str] | None = Field(default=None, description="The exact set of tools that ran (without error)")
    reply_contains: list[str | list[str]] = Field(default_factory=list, description="A list item = any of")
    reply_not_contains: list[str] = Field(default_factory=list)
    offers_min: int | None = None
    citations_min: int | None = None
    documents_min: int | None = None
    handoff: bool | None = None
    slots: dict[str, Any] = Field(default_factory=dict)


class ScriptedTurn(BaseModel):
    """One customer message and what must hold after it."""

    model_config = ConfigDict(extra="forbid")

    user: str
    expect: TurnExpect = Field(default_factory=TurnExpect)


class Goal(BaseModel):
    """What must hold at the end of the conversation."""

    model_config = ConfigDict(extra="forbid")

    slots: dict[str, Any] = Field(default_factory=dict)
    tools: list[str] | None = Field(default=None, description="The exact set of tools called over the scenario")
    documents: int | None = None
    handoff: bool | None = None


class Scenario(BaseModel):
    """A scripted conversation."""

    model_config = ConfigDict(extra="forbid")

    id: str
    description: str
    lang: Literal["zh", "en"]
    turns: list[ScriptedTurn] = Field(min_length=1)
    goal: Goal = Field(default_factory=Goal)

    @property
    def area(self) -> str:
        """The flow family the scenario belongs to (its id prefix: rec, pay, rate, …)."""
        return self.id.split("_", 1)[0]


def scenarios_path(settings: Settings) -> Path:
    """The scenarios file."""
    return settings.resources_dir / "eval" / "conversations" / "scenarios.yaml"


def load_scenarios(path: Path) -> list[Scenario]:
    """Parse and validate the scenarios (ids must be unique)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    scenarios = [Scenario.model_validate(item) for item in data["scenarios"]]
    duplicates = [sid for sid, n in Counter(s.id for s in scenarios).items() if n > 1]
    if duplicates:
        raise ValueError(f"{path}: duplicate scenario ids: {', '.join(duplicates)}")
    return scenarios


# ---------------------------------------------------------------------------------------------- checks
def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(float(expected), float(actual), rel_tol=0, abs_tol=FLOAT_TOLERANCE)
    return str(expected) == str(actual)


def check_slots(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Differences between expected slot values and the session's."""
    problems = []
    for name, value in expected.items():
        if name not in actual:
            problems.append(f"slot {name} missing (expected {value!r})")
        elif not _same(value, actual[name]):
            problems.append(f"slot {name} = {actual[name]!r}, expected {value!r}")
    return problems


def check_turn(expect: TurnExpect, turn: ChatTurn, state: SessionState) -> list[str]:
    """The turn's expectations that do not hold."""
    problems: list[str] = []
    if expect.intent is not None:
        allowed = [expect.intent] if isinstance(expect.intent, str) else expect.intent
        if turn.intent not in allowed:
            problems.append(f"intent {turn.intent}, expected {' | '.join(allowed)}")
    called = sorted({c.name for c in turn.tool_calls if c.error is None})
    if expect.tools is not None and called != sorted(set(expect.tools)):
        failed = "".join(f"; {c.name} failed: {c.error}" for c in turn.tool_calls if c.error)
        problems.append(f"tools {called}, expected {sorted(set(expect.tools))}{failed}")
    for item in expect.reply_contains:
        options = [item] if isinstance(item, str) else item
        if not any(option in turn.reply for option in options):
            problems.append(f"reply lacks {' | '.join(options)!r}")
    for text in expect.reply_not_contains:
        if text in turn.reply:
            problems.append(f"reply contains {text!r}")
    if expect.offers_min is not None and len(turn.offers) < expect.offers_min:
        problems.append(f"{len(turn.offers)} offers, expected ≥ {expect.offers_min}")
    if expect.citations_min is not None and len(turn.citations) < expect.citations_min:
        problems.append(f"{len(turn.citations)} citations, expected ≥ {expect.citations_min}")
    if expect.documents_min is not None and len(turn.documents) < expect.documents_min:
        problems.append(f"{len(turn.documents)} documents, expected ≥ {expect.documents_min}")
    if expect.handoff is not None and turn.handoff != expect.handoff:
        problems.append(f"handoff {turn.handoff}, expected {expect.handoff}")
    problems += check_slots(expect.slots, state.slots)
    return problems


def check_invariants(turn: ChatTurn) -> list[str]:
    """What every reply must satisfy whatever the scenario."""
    from assistant.agent.guard import check_text

    problems = [f"compliance: {finding.en}" for finding in check_text(turn.reply)]
    if not turn.reply.strip():
        problems.append("empty reply")
    for call in turn.tool_calls:
        decision = call.result.get("decision") if isinstance(call.result, dict) else None
        if call.name == "score_applicant" and decision == "review" and not turn.handoff:
            problems.append("a 'review' decision did not hand the customer to a person")
    return problems


def check_goal(goal: Goal, turns: list[ChatTurn], state: SessionState) -> list[str]:
    """The goal checks that do not hold at the end of the conversation."""
    problems = check_slots(goal.slots, state.slots)
    called = sorted({c.name for t in turns for c in t.tool_calls if c.error is None})
    if goal.tools is not None and called != sorted(set(goal.tools)):
        problems.append(f"tools over the conversation {called}, expected {sorted(set(goal.tools))}")
    documents = sum(len(t.documents) for t in turns)
    if goal.documents is not None and documents != goal.documents:
        problems.append(f"{documents} documents issued, expected {goal.documents}")
    if goal.handoff is not None and state.handoff != goal.handoff:
        problems.append(f"handoff {state.handoff} at the end, expected {goal.handoff}")
    return problems


# ---------------------------------------------------------------------------------------------- running
@dataclass
class ScenarioResult:
    """One run of one scenario."""

    scenario: Scenario
    failures: list[str] = field(default_factory=list)
    engines: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every check held."""
        return not self.failures


def run_scenario(chat: Any, scenario: Scenario, *, verbose: bool = False) -> ScenarioResult:
    """Play the scenario in a fresh session; collect every failed check (a crash is a failure too)."""
    from assistant.errors import AssistantError

    result = ScenarioResult(scenario)
    turns: list[ChatTurn] = []
    session_id: str | None = None
    started = time.perf_counter()
    for index, scripted in enumerate(scenario.turns, start=1):
        try:
            turn = chat.handle(scripted.user, session_id)
        except AssistantError as exc:
            result.failures.append(f"turn {index} ({scripted.user}): error {exc.code}: {exc.message}")
            break
        except Exception as exc:  # report and go on: one broken scenario must not stop the suite
            result.failures.append(f"turn {index} ({scripted.user}): crash {type(exc).__name__}: {exc}")
            break
        session_id = turn.session_id
        turns.append(turn)
        result.engines[turn.engine] += 1
        state = chat.state(session_id)
        if verbose:
            tools = ", ".join(c.name + ("!" if c.error else "") for c in turn.tool_calls) or "-"
            print(f"  [{index}] 客户: {scripted.user}\n      intent={turn.intent} tools={tools} "
                  f"engine={turn.engine} slots={state.slots}\n      助手: {turn.reply[:300]}")
        for problem in check_turn(scripted.expect, turn, state) + check_invariants(turn):
            result.failures.append(f"turn {index} ({scripted.user}): {problem}")
    if session_id is not None and len(turns) == len(scenario.turns):
        result.failures += [f"goal: {p}" for p in check_goal(scenario.goal, turns, chat.state(session_id))]
    result.seconds = time.perf_counter() - started
    return result


def _chat_for(settings: Settings, data_dir: Path, *, llm: bool) -> Any:
    from assistant.services import Services

    update: dict[str, Any] = {"data_dir": data_dir}
    if not llm:
        update.update(llm_base_url=None, llm_model=None)
    services = Services(settings.model_copy(update=update))
    services.warm_up()  # build the knowledge index etc. first, so ms/turn measures turns, not set-up
    return services.chat


def run_all(chat: Any, scenarios: list[Scenario], *, verbose: bool = False) -> list[ScenarioResult]:
    """Every scenario once on ``chat``."""
    results = []
    for scenario in scenarios:
        if verbose:
            print(f"-- {scenario.id}: {scenario.description}")
        results.append(run_scenario(chat, scenario, verbose=verbose))
    return results


def _print_results(label: str, results: list[ScenarioResult]) -> float:
    passed = sum(r.passed for r in results)
    rate = passed / len(results) if results else 0.0
    turns = sum(len(r.scenario.turns) for r in results)
    seconds = sum(r.seconds for r in results)
    print(f"{label}: {passed}/{len(results)} scenarios passed — pass rate {rate:.3f} "
          f"({turns} turns, {1000 * seconds / max(turns, 1):.1f} ms/turn)")
    by_area: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_area[r.scenario.area].append(r.passed)
    print("  by area: " + ", ".join(f"{area} {sum(v)}/{len(v)}" for area, v in sorted(by_area.items())))
    for lang in ("zh", "en"):
        subset = [r.passed for r in results if r.scenario.lang == lang]
        if subset:
            print(f"  {lang}: {sum(subset)}/{len(subset)}")
    for r in results:
        if not r.passed:
            print(f"  FAIL {r.scenario.id}: " + "\n       ".join(r.failures))
    return rate


def run(settings: Settings, *, only: list[str] | None = None, verbose: bool = False, k: int = K_TRIALS) -> dict:
    """Run the scenarios on the offline engine (and k times on the LLM engine when one is configured)."""
    scenarios = load_scenarios(scenarios_path(settings))
    if only:
        scenarios = [s for s in scenarios if s.id in only]
    english = sum(s.lang == "en" for s in scenarios)
    print(f"{len(scenarios)} scenarios ({english} in English), "
          f"{sum(len(s.turns) for s in scenarios)} turns, from {scenarios_path(settings)}")
    figures: dict[str, Any] = {"scenarios": len(scenarios)}
    with tempfile.TemporaryDirectory(prefix="eval-conversations-") as tmp:
        offline = run_all(_chat_for(settings, Path(tmp) / "offline", llm=False), scenarios, verbose=verbose)
        figures["offline_pass_rate"] = _print_results("offline engine", offline)
        figures["offline_failures"] = {r.scenario.id: r.failures for r in offline if not r.passed}
        areas = sorted({r.scenario.area for r in offline})
        figures["offline_by_area"] = {a: sum(r.passed for r in offline if r.scenario.area == a)
                                      / sum(r.scenario.area == a for r in offline) for a in areas}
        if settings.llm_configured:
            figures.update(_run_llm(settings, scenarios, Path(tmp), k=k, verbose=verbose))
        else:
            print("LLM engine: not configured (set LOAN_ASSISTANT_LLM_BASE_URL and LLM_MODEL for pass^k)")
    return figures


def _run_llm(settings: Settings, scenarios: list[Scenario], tmp: Path, *, k: int, verbose: bool) -> dict:
    chat = _chat_for(settings, tmp / "llm", llm=True)
    trials: list[list[ScenarioResult]] = []
    for trial in range(k):
        results = run_all(chat, scenarios, verbose=verbose)
        trials.append(results)
        _print_results(f"LLM engine, run {trial + 1}/{k}", results)
    all_passed = [all(trial[i].passed for trial in trials) for i in range(len(scenarios))]
    pass_k = sum(all_passed) / len(scenarios) if scenarios else 0.0
    mean_pass = sum(r.passed for trial in trials for r in trial) / max(1, k * len(scenarios))
    engines: Counter[str] = Counter()
    for trial in trials:
        for r in trial:
            engines.update(r.engines)
    total = sum(engines.values())
    model_share = engines.get("llm", 0) / total if total else 0.0
    stats = chat.llm.stats if chat.llm is not None else None
    print(f"LLM engine: pass^{k} {pass_k:.3f} (mean single-run pass rate {mean_pass:.3f}); "
          f"turns phrased by the model {model_share:.1%}, engines {dict(engines)}")
    if stats is not None and stats.turns:
        print(f"  model calls/turn {stats.model_calls / stats.turns:.2f}, prompt tokens/call "
              f"{stats.prompt_tokens / max(1, stats.model_calls):.0f}, fall-backs {stats.fallbacks}, "
              f"guard blocks {stats.guard_blocks}")
    return {"llm_pass_k": pass_k, "llm_k": k, "llm_mean_pass_rate": mean_pass, "llm_model_share": model_share,
            "llm_engines": dict(engines)}


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.evals.conversations [--only ID ...] [-v] [--k N]``."""
    from assistant.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", nargs="+", help="scenario ids to run")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every turn")
    parser.add_argument("--k", type=int, default=K_TRIALS, help="LLM runs per scenario for pass^k")
    args = parser.parse_args(argv)
    figures = run(get_settings(), only=args.only, verbose=args.verbose, k=args.k)
    return 0 if figures["scenarios"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
