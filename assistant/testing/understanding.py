"""A fake model that *understands*: it answers ``emit_commands`` calls as the offline tracker would.

For tests of the LLM path over the real wire protocol: the fake reads the state the engine sent in its
commands prompt (flow, pending question, consent, facts) and the customer's message, and returns the
offline generator's commands as a tool call; any other request goes to the phrasing policy given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from assistant.testing.fake_openai import FakeToolCall, Policy, PolicyResult, last_user_text

_FIELD = re.compile(r"^(flow|pending_slot|awaiting_consent|slots)=(.*)$", re.M)


def state_from_prompt(messages: list[dict[str, Any]]) -> Any:
    """The session state the engine described in its commands prompt (offers are not rebuilt)."""
    from assistant.agent.types import SessionState

    system = str(messages[0].get("content") or "") if messages else ""
    fields = dict(_FIELD.findall(system))
    state = SessionState(session_id="fake")
    state.flow = None if fields.get("flow", "-") == "-" else fields["flow"]
    state.pending_slot = None if fields.get("pending_slot", "-") == "-" else fields["pending_slot"]
    state.awaiting_consent = fields.get("awaiting_consent") == "true"
    try:
        state.slots = json.loads(fields.get("slots", "{}"))
    except json.JSONDecodeError:
        state.slots = {}
    if re.search(r"[\u4e00-\u9fff]", system[:40]) is None:
        state.lang = "en"
    return state


def understanding_policy(generator: Callable[[], Any], phrasing: Policy) -> Policy:
    """``emit_commands`` answered by ``generator()`` (an ``OfflineCommandGenerator``, built on first use)."""
    built: list[Any] = []

    def policy(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> PolicyResult:
        names = {t.get("function", {}).get("name") for t in tools or []}
        if "emit_commands" not in names:
            return phrasing(messages, tools)
        if not built:
            built.append(generator())
        from assistant.agent.commands import describe

        commands, intent, _ = built[0].generate(state_from_prompt(messages), last_user_text(messages))
        return FakeToolCall("emit_commands", {"intent": intent, "commands": describe(commands)})

    return policy
