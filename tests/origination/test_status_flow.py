"""The ``application_status`` flow and tool: started by the command the tracker will emit
(``StartFlow(flow="application_status")``), it tells the customer the real status of this session's
latest application, in their language; a chat can ask only about its own session."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.agent.commands import StartFlow
from assistant.agent.types import SessionState
from assistant.domain.application_state import Actor
from assistant.errors import Forbidden, InvalidInput
from assistant.services import Services
from assistant.tools.registry import REGISTRY, ToolContext, load_all_tools
from tests.origination.conftest import TERMS


def _turn(services: Services, session_id: str, lang: str = "zh") -> Any:
    """One turn of the dialogue manager with the command the tracker will emit for "我的申请到哪一步了"."""
    state = SessionState(session_id=session_id, channel="app", lang=lang)
    ctx = ToolContext(services=services, session_id=session_id, channel="app")
    return services.chat.offline.manager.handle(state, [StartFlow(flow="application_status")], "我的申请到哪一步了",
                                                ctx, intent="application_status")


def test_the_command_runs_the_flow_with_the_real_status(services: Services) -> None:
    sid = "s" * 32
    none_yet = _turn(services, sid)
    assert "还没有提交贷款申请" in none_yet.reply and [c.name for c in none_yet.tool_calls] == ["application_status"]
    svc = services.applications
    app = svc.create(TERMS, actor=Actor("customer"), channel="app", session_id=sid)
    assert _turn(services, sid).reply.startswith(f"您的申请（编号{app.id[:8].upper()}）已保存为草稿")
    svc.decide(svc.submit(app.id, actor=Actor("customer")).id, "decline", officer_id="o1", reasons=["收入证明不足"])
    declined = _turn(services, sid)
    assert "未通过审核" in declined.reply and "收入证明不足" in declined.reply
    english = _turn(services, sid, "en")
    assert english.reply.startswith("We are sorry: your application") and "收入证明不足" in english.reply


def test_the_tool_is_registered_and_only_answers_for_its_own_session(services: Services) -> None:
    tool = load_all_tools().get("application_status")
    assert "我的申请到哪一步了" in tool.description and tool.openai_schema()["function"]["parameters"]["properties"]
    ctx = ToolContext(services=services, session_id="a" * 32, channel="app")
    with pytest.raises(Forbidden):
        REGISTRY.get("application_status").invoke(ctx, {"session_id": "b" * 32})
    with pytest.raises(InvalidInput):
        REGISTRY.get("application_status").invoke(ToolContext(services=services, channel="api"), {})
    out = REGISTRY.get("application_status").invoke(ToolContext(services=services, channel="api"),
                                                    {"session_id": "b" * 32, "lang": "en"})
    assert out.found is False and out.message.startswith("There is no loan application")


def test_the_customer_asks_in_chat_and_hears_the_real_status(services: Services) -> None:
    """The words, not the command: the offline tracker reads the question and the flow answers it."""
    first = services.chat.handle("我的申请现在到哪一步了？", None)
    assert first.intent == "application_status" and "还没有提交贷款申请" in first.reply
    svc = services.applications
    app = svc.create(TERMS, actor=Actor("customer"), channel="app", session_id=first.session_id)
    svc.submit(app.id, actor=Actor("customer"))
    again = services.chat.handle("审核进度怎么样了", first.session_id)
    assert again.intent == "application_status" and app.id[:8].upper() in again.reply
    assert "score_applicant" not in [c.name for c in again.tool_calls]  # a status question re-runs nothing


@pytest.mark.parametrize("message", ["申请需要准备哪些材料", "审批一般要几天", "我想申请车贷"])
def test_questions_about_applying_are_not_status_questions(services: Services, message: str) -> None:
    assert services.chat.handle(message, None).intent != "application_status"
