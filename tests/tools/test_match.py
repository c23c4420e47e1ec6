"""The matching tools (``match_offers``, ``explain_exclusion``, ``value_vehicle``) as the agent sees them."""

from __future__ import annotations

from assistant.tools.registry import load_all_tools


def test_tools_are_registered_for_the_agent() -> None:
    registry = load_all_tools()
    for name in ("match_offers", "explain_exclusion", "value_vehicle"):
        tool = registry.get(name)
        assert tool.description and tool.openai_schema()["function"]["parameters"]["properties"]
