"""``loan-assistant eval dialogue``: realistic WeChat-style conversations, checked turn by turn.

Reads ``eval/dialogue/{dev,test_a,test_b}.yaml`` (format in ``eval/dialogue/README.md``, schema in
:mod:`assistant.evals.dialogue_format`). Each conversation runs in a fresh session of the chat service;
after every turn the expectations written for it and the invariants every turn must meet are checked:
no approval promise, the APR beside every price, every offer within the customer's monthly-payment cap
and affordable after their debts, a non-empty reply, no crash.

The figure is the pass rate per category (a conversation passes when every check of every turn
holds), for the dev split (studied and fixed against) and the held-out test splits (run, never tuned
to). With an LLM configured, ``--engine llm`` runs each conversation k times and reports pass^k.

Debug one conversation: ``python -m assistant.evals.dialogue --only refer_back_dev_01 -v``.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.evals.conversations import _chat_for, _same, check_invariants, check_slots
from assistant.evals.dialogue_format import CATEGORIES, Conversation, Expect, load_conversations

if TYPE_CHECKING:
    from assistant.agent.types import ChatTurn, SessionState
    from assistant.settings import Settings

SPLITS = ("dev", "test_a", "test_b", "test_c", "test_d", "test_e", "test_f", "test_g", "test_h", "test_i",
          "test_j", "test_k", "test_l", "test_m",
          "test_n")
HELD_OUT = ("test_a", "test_b", "test_c", "test_d", "test_e", "test_f", "test_g", "test_h", "test_i", "test_j",
            "test_k", "test_l", "test_m", "test_n")
# Written blind at the end of a session and never run: the next honest figure. Run it once with
# ``--split NAME`` before tuning anything, then move it into SPLITS/HELD_OUT.
UNSEEN: tuple[str, ...] = ()
K_TRIALS = 3
# Affordability: the monthly payment plus existing debts may take at most this share of income (the
# matcher's rule, checked here independently of it).
MAX_DEBT_SERVICE = Decimal("0.5")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ASK_WORDS = re.compile(r"[？?]|请问|请告诉|告诉我|您指的|哪一个|哪个|which|could you|can you tell|please tell", re.I)
_CONSENT_ASK = re.compile(r"授权|同意|consent|agree", re.I)


def dialogue_dir(settings: Settings) -> Path:
    """Where the conversation files live."""
    return settings.resources_dir / "eval" / "dialogue"


# ---------------------------------------------------------------------------------------------- checks
def _figure(value: Any) -> str:
    from assistant.domain.money import yuan_str

    return yuan_str(Decimal(str(value)))


def _vehicle_value(offer: dict[str, Any], key: str) -> Any:
    vehicle = offer.get("vehicle", {})
    return vehicle.get(key, offer.get(key))


def _matches(offer: dict[str, Any], key: str, want: Any) -> bool:
    value = _vehicle_value(offer, key)
    if key == "brand":
        names = {str(_vehicle_value(offer, name) or "").lower() for name in ("brand", "brand_en")}
        return str(want).lower() in names
    if key == "energy_type" and want == "nev":
        return value in ("bev", "phev")
    return _same(want, value)


def _selected_rank(state: SessionState) -> int | None:
    """The rank among the latest list shown of the offer the session works with."""
    from assistant.agent.offers import application_from_offer

    if state.application is None:
        return None
    for rank, offer in enumerate(state.last_offers, start=1):
        if application_from_offer(offer) == state.application:
            return rank
    return None


def check_expect(expect: Expect, turn: ChatTurn, state: SessionState, shown: list[dict[str, Any]]) -> list[str]:
    """The turn's written expectations that do not hold. ``shown`` is the latest list of offers shown."""
    problems: list[str] = []
    called = sorted({c.name for c in turn.tool_calls if c.error is None})
    if expect.intent is not None:
        allowed = [expect.intent] if isinstance(expect.intent, str) else expect.intent
        if turn.intent not in allowed:
            problems.append(f"intent {turn.intent}, expected {' | '.join(allowed)}")
    if expect.tools is not None and called != sorted(set(expect.tools)):
        problems.append(f"tools {called}, expected {sorted(set(expect.tools))}")
    problems += [f"tool {t} did not run" for t in expect.tools_include if t not in called]
    problems += [f"tool {t} ran" for t in expect.tools_exclude if t in {c.name for c in turn.tool_calls}]
    for tool, wanted in expect.tool_args.items():
        calls = [c for c in turn.tool_calls if c.name == tool]
        if not any(all(k in c.arguments and _same(v, c.arguments[k]) for k, v in wanted.items()) for c in calls):
            got = [c.arguments for c in calls]
            problems.append(f"{tool} not called with {wanted} (calls: {got})")
    problems += check_slots(expect.slots, state.slots)
    problems += [f"slot {s} = {state.slots[s]!r}, expected absent" for s in expect.slots_absent if s in state.slots]
    problems += [f"slot {s} = {v!r}" for s, v in expect.slots_not.items()
                 if s in state.slots and _same(v, state.slots[s])]
    offers = turn.offers
    if expect.offers_min is not None and len(offers) < expect.offers_min:
        problems.append(f"{len(offers)} offers, expected ≥ {expect.offers_min}")
    if expect.offers_max is not None and len(offers) > expect.offers_max:
        problems.append(f"{len(offers)} offers, expected ≤ {expect.offers_max}")
    if expect.max_monthly_payment is not None:
        over = [o["monthly_payment"] for o in offers if float(o["monthly_payment"]) > expect.max_monthly_payment + 1e-6]
        if over:
            problems.append(f"offers over {expect.max_monthly_payment}: {over}")
    for key, want in expect.offers_exclude.items():
        bad = [o for o in offers if _matches(o, key, want)]
        if bad:
            problems.append(f"{len(bad)} offers have {key}={want}")
    for key, want in expect.offers_all.items():
        bad = [o for o in offers if not _matches(o, key, want)]
        if bad:
            problems.append(f"{len(bad)} offers lack {key}={want} ({[_vehicle_value(o, key) for o in bad]})")
    if expect.selected is not None:
        problems += _check_selected(expect, state, shown)
    if expect.reply_mentions_offer is not None:
        ref = expect.reply_mentions_offer
        if ref.rank > len(shown):
            problems.append(f"no offer {ref.rank} was shown ({len(shown)} shown)")
        else:
            figure = _figure(shown[ref.rank - 1][ref.field])
            if figure not in turn.reply:
                problems.append(f"reply lacks offer {ref.rank}'s {ref.field} {figure}")
    if expect.citations_min is not None and len(turn.citations) < expect.citations_min:
        problems.append(f"{len(turn.citations)} citations, expected ≥ {expect.citations_min}")
    if expect.documents_min is not None and len(turn.documents) < expect.documents_min:
        problems.append(f"{len(turn.documents)} documents, expected ≥ {expect.documents_min}")
    if expect.asks is not None and state.pending_slot != expect.asks:
        problems.append(f"asks for {state.pending_slot}, expected {expect.asks}")
    if expect.clarifies is not None:
        clarified = not called and bool(_ASK_WORDS.search(turn.reply))
        if clarified != expect.clarifies:
            problems.append(f"clarifies {clarified} (tools {called}), expected {expect.clarifies}")
    if expect.consent_asked is not None:
        asked = state.awaiting_consent and bool(_CONSENT_ASK.search(turn.reply))
        if asked != expect.consent_asked:
            problems.append(f"consent asked {asked}, expected {expect.consent_asked}")
    if expect.scored is not None and ("score_applicant" in called) != expect.scored:
        problems.append(f"scored {'score_applicant' in called}, expected {expect.scored}")
    for item in expect.reply_contains:
        options = [item] if isinstance(item, str) else item
        if not any(option.lower() in turn.reply.lower() for option in options):
            problems.append(f"reply lacks {' | '.join(options)!r}")
    problems += [f"reply contains {t!r}" for t in expect.reply_not_contains if t.lower() in turn.reply.lower()]
    if expect.reply_lang is not None:
        lang = _reply_lang(turn.reply)
        if lang != expect.reply_lang:
            problems.append(f"reply is {lang}, expected {expect.reply_lang}")
    if expect.handoff is not None and turn.handoff != expect.handoff:
        problems.append(f"handoff {turn.handoff}, expected {expect.handoff}")
    return problems


def _check_selected(expect: Expect, state: SessionState, shown: list[dict[str, Any]]) -> list[str]:
    ref = expect.selected
    assert ref is not None
    if not shown:
        return ["an offer is expected selected but none was shown"]
    payments = [Decimal(str(o["monthly_payment"])) for o in shown]
    if ref.rank is not None:
        want = ref.rank
    elif ref.cheapest:
        want = payments.index(min(payments)) + 1
    elif ref.priciest:
        want = payments.index(max(payments)) + 1
    else:
        want = next((i for i, o in enumerate(shown, start=1) if _matches(o, "brand", ref.brand)), 0)
    got = _selected_rank(state)
    return [] if got == want else [f"selected offer {got}, expected {want}"]


def _reply_lang(reply: str) -> str:
    """zh when Chinese dominates; the Chinese car names an English reply quotes do not make it Chinese."""
    chinese = len(_CJK.findall(reply))
    latin = len(re.findall(r"[A-Za-z]", reply))
    return "zh" if chinese * 3 > latin else "en"


def check_turn_invariants(turn: ChatTurn, state: SessionState) -> list[str]:
    """What every turn must meet: the shared invariants, the cap, affordability after debts."""
    problems = check_invariants(turn)
    cap = state.slots.get("max_monthly_payment")
    income = state.slots.get("monthly_income")
    debts = Decimal(str(state.slots.get("monthly_debt_payments", 0) or 0))
    for offer in turn.offers:
        payment = Decimal(str(offer["monthly_payment"]))
        if cap is not None and payment > Decimal(str(cap)):
            problems.append(f"offer {offer.get('vehicle', {}).get('series')} pays {payment} over the cap {cap}")
        if income is not None and payment + debts > Decimal(str(income)) * MAX_DEBT_SERVICE:
            problems.append(f"offer pays {payment} + debts {debts} > half of income {income}")
    return problems


# ---------------------------------------------------------------------------------------------- running
@dataclass
class ConversationResult:
    """One run of one conversation."""

    conversation: Conversation
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    turns: int = 0

    @property
    def passed(self) -> bool:
        """True when every check of every turn held."""
        return not self.failures


def run_conversation(chat: Any, conv: Conversation, *, verbose: bool = False) -> ConversationResult:
    """Play one conversation in a fresh session and collect every failed check."""
    result = ConversationResult(conv)
    session_id: str | None = None
    shown: list[dict[str, Any]] = []
    started = time.perf_counter()
    for index, scripted in enumerate(conv.turns, start=1):
        try:
            turn = chat.handle(scripted.user, session_id)
        except Exception as exc:  # a refusal or a crash fails the conversation; the suite goes on
            result.failures.append(f"turn {index} ({scripted.user}): {type(exc).__name__}: {exc}")
            break
        session_id = turn.session_id
        result.turns += 1
        state = chat.state(session_id)
        if state.last_offers:
            shown = state.last_offers
        if verbose:
            tools = ", ".join(c.name + ("!" if c.error else "") for c in turn.tool_calls) or "-"
            print(f"  [{index}] 客户: {scripted.user}\n      intent={turn.intent} tools={tools} "
                  f"engine={turn.engine} slots={state.slots} offers={len(turn.offers)}\n      助手: {turn.reply[:400]}")
        for problem in check_expect(scripted.expect, turn, state, shown) + check_turn_invariants(turn, state):
            result.failures.append(f"turn {index} ({scripted.user}): {problem}")
    result.seconds = time.perf_counter() - started
    return result


def _print(label: str, results: list[ConversationResult]) -> dict[str, Any]:
    passed = sum(r.passed for r in results)
    turns = sum(r.turns for r in results)
    seconds = sum(r.seconds for r in results)
    rate = passed / len(results) if results else 0.0
    print(f"{label}: {passed}/{len(results)} conversations passed — pass rate {rate:.3f} "
          f"({turns} turns, {1000 * seconds / max(turns, 1):.1f} ms/turn)")
    by_cat: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_cat[r.conversation.category].append(r.passed)
    print("  by category: " + ", ".join(f"{c} {sum(by_cat[c])}/{len(by_cat[c])}" for c in CATEGORIES if c in by_cat))
    by_lang = {lang: [r.passed for r in results if r.conversation.lang == lang] for lang in ("zh", "en")}
    print("  by language: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in by_lang.items() if v))
    for r in results:
        if not r.passed:
            print(f"  FAIL {r.conversation.id}: " + "\n       ".join(r.failures))
    return {"pass_rate": rate, "passed": passed, "conversations": len(results),
            "by_category": {c: sum(v) / len(v) for c, v in by_cat.items()}}


def run(settings: Settings, *, splits: list[str] | None = None, only: list[str] | None = None,
        verbose: bool = False, engine: str = "offline", k: int = K_TRIALS,
        data_dir: Path | None = None) -> dict[str, Any]:
    """Run the splits on the offline engine (or k times on the LLM engine) and print the figures."""
    figures: dict[str, Any] = {}
    chosen = splits or list(SPLITS)
    with tempfile.TemporaryDirectory(prefix="eval-dialogue-") as tmp:
        chat = _chat_for(settings, data_dir or Path(tmp) / engine, llm=engine == "llm")
        if engine == "llm" and chat.llm is None:
            print("LLM engine: not configured (set LOAN_ASSISTANT_LLM_BASE_URL and LLM_MODEL)")
            return figures
        everything: list[ConversationResult] = []
        for split in chosen:
            path = dialogue_dir(settings) / f"{split}.yaml"
            conversations = load_conversations(path)
            if only:
                conversations = [c for c in conversations if c.id in only]
                if not conversations:
                    continue
            english = sum(c.lang == "en" for c in conversations)
            print(f"{split}: {len(conversations)} conversations ({english} English), "
                  f"{sum(len(c.turns) for c in conversations)} turns, from {path}")
            trials = [[run_conversation(chat, c, verbose=verbose) for c in conversations]
                      for _ in range(k if engine == "llm" else 1)]
            figures[split] = _print(f"{engine} engine, {split}", trials[0])
            if engine == "llm":
                all_ok = [all(t[i].passed for t in trials) for i in range(len(conversations))]
                figures[split]["pass_k"] = sum(all_ok) / max(1, len(all_ok))
                print(f"  pass^{k} {figures[split]['pass_k']:.3f}")
            if split in HELD_OUT:
                everything += trials[0]
        if len([s for s in chosen if s in HELD_OUT]) > 1 and everything:
            figures["held_out"] = _print(f"{engine} engine, held-out splits together", everything)
        if engine == "llm" and chat.llm is not None and chat.llm.stats.turns:
            stats = chat.llm.stats
            print(f"  model calls/turn {stats.model_calls / stats.turns:.2f}, prompt tokens/call "
                  f"{stats.prompt_tokens / max(1, stats.model_calls):.0f}, fall-backs {stats.fallbacks}")
    return figures


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.evals.dialogue [--split dev ...] [--only ID ...] [-v] [--engine llm]``."""
    from assistant.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--split", nargs="+", choices=SPLITS + UNSEEN,
                        help="which files (default: all but the unseen split)")
    parser.add_argument("--only", nargs="+", help="conversation ids to run")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every turn")
    parser.add_argument("--engine", choices=("offline", "llm"), default="offline")
    parser.add_argument("--k", type=int, default=K_TRIALS, help="LLM runs per conversation for pass^k")
    parser.add_argument("--data-dir", type=Path, help="reuse this DATA_DIR (and its knowledge index) between runs")
    args = parser.parse_args(argv)
    figures = run(get_settings(), splits=args.split, only=args.only, verbose=args.verbose, engine=args.engine,
                  k=args.k, data_dir=args.data_dir)
    return 0 if figures else 1


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["check_expect", "check_turn_invariants", "run", "run_conversation"]
