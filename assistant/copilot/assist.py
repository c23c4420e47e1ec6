"""The copilot's reasoning: profile from the customer's turns, situation, alerts, actions, a reply.

- slots: the session's state (if any), then every customer turn through the NLU, later turns winning;
- situation: hardship, complaint, handoff request, prompt injection (NLU intent or explicit wording);
- compliance alerts: the agent's draft and earlier assistant turns through the guard (approval
  promises, prices without APR, prompt leaks), plus the customer's situation;
- suggested reply: the chat engine answering the customer's recent turns in a scratch session (the
  real conversation is not touched); a template for the situation when the engine is not available;
- citations: the knowledge base searched for the customer's last question.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.agent.facts import describe_slots, slot_facts
from assistant.agent.guard import check_text, is_injection
from assistant.agent.types import Citation
from assistant.copilot.models import (
    ComplianceAlert,
    CopilotRequest,
    CopilotResponse,
    Fact,
    NextAction,
    TranscriptTurn,
)
from assistant.errors import AssistantError
from assistant.logs import get_logger
from assistant.privacy import contains_pii, mask_pii
from assistant.tools.registry import ToolContext, load_all_tools

log = get_logger(__name__)

HARDSHIP = re.compile(r"还不上|还不起|还不了|没钱还|逾期|失业|没了工作|丢了工作|下岗|裁员|降薪|收入(减少|下降|没了)|"
                      r"生病|住院|周转不开|困难|延期还款|缓几天|宽限|催收|停贷")
COMPLAINT = re.compile(r"投诉|乱收费|骗|坑人|坑钱|被坑|举报|315|监管|不合理|退钱|退款|欺诈|态度差|霸王条款")
HANDOFF = re.compile(r"转人工|人工客服|真人|找你们经理|人工服务")

INTENT_ZH = {
    "greeting": "问候", "goodbye": "结束对话", "product_inquiry": "了解贷款产品",
    "car_recommendation": "选车与方案推荐",
    "payment_calculation": "月供测算", "rate_check": "核实真实年化利率", "eligibility_check": "资质预审",
    "apply": "申请贷款", "document_request": "索取合同/文件", "policy_question": "政策与流程咨询",
    "collateral_loan": "车抵贷", "repayment_trouble": "还款困难", "complaint": "投诉", "human_handoff": "要求人工",
    "out_of_scope": "非车贷问题",
}
SLOT_ZH = {
    "budget": "预算", "vehicle_price": "车价", "down_payment": "首付金额", "down_payment_ratio": "首付比例",
    "loan_amount": "贷款金额", "term_months": "期限", "monthly_income": "月收入", "quoted_rate": "报价利率/费率",
    "rate_type": "利率类型", "body_type": "车型", "energy_type": "能源类型", "vehicle_condition": "新车/二手车",
    "brand": "品牌", "city": "城市", "age": "年龄", "vehicle_age_years": "车龄", "mileage_km": "里程",
    "overdue_days": "逾期天数", "repayment_method": "还款方式", "document_kind": "文件类型",
}
# What each task needs before the assistant can act (any one of a tuple will do).
NEEDS: dict[str, list[tuple[str, ...]]] = {
    "payment_calculation": [("vehicle_price", "loan_amount"), ("down_payment", "down_payment_ratio", "loan_amount"),
                            ("term_months",)],
    "car_recommendation": [("budget", "vehicle_price"), ("body_type", "energy_type", "brand")],
    "eligibility_check": [("monthly_income",), ("loan_amount", "vehicle_price")],
    "apply": [("vehicle_price", "loan_amount"), ("monthly_income",), ("term_months",)],
    "rate_check": [("quoted_rate",), ("term_months",)],
    "collateral_loan": [("vehicle_age_years",), ("mileage_km",), ("brand",)],
    "repayment_trouble": [("overdue_days",)],
    "document_request": [("document_kind",)],
}
TASKS = frozenset(NEEDS) | {"product_inquiry", "policy_question", "complaint", "human_handoff"}

TEMPLATES = {
    "hardship": ("非常理解您现在的难处。请问目前是否已经逾期、逾期了多少天，主要是什么原因呢？"
                 "我们可以协助您申请延期还款或调整还款计划，一般需要提供收入变化的相关证明。"
                 "也建议您尽快与我们保持联系，尽量减少对征信记录的影响。"),
    "complaint": ("非常抱歉给您带来了不好的体验。我已经记录下您反映的问题，并为您登记投诉工单，"
                  "会有专人在规定时限内回复您。"
                  "方便说一下具体涉及的费用项目、金额和办理时间吗？"),
    "handoff": "您好，我是人工客服，已经看到您之前的咨询内容。请问还有什么需要我为您处理的？",
    "ask": "为了给您准确的测算，还需要了解您的{missing}，方便告诉我吗？",
    "default": "您好，请问您想了解车贷的哪方面呢？我可以帮您测算月供和真实年化利率、推荐合适的车型和贷款方案。",
}
_ALERT_SEVERITY = {"approval_promise": "high", "prompt_leak": "high", "price_without_apr": "medium"}
_SCRATCH_TURNS = 6


def _customer_texts(transcript: list[TranscriptTurn]) -> list[str]:
    return [t.text for t in transcript if t.role == "customer" and t.text.strip()]


def _parse(services: Any, text: str) -> tuple[str | None, dict[str, Any]]:
    """Intent and slots of one customer turn (the NLU when installed, else the slot extractor alone)."""
    try:
        parsed = services.nlu.parse(text)
        return str(parsed.intent), dict(parsed.slots)
    except (AttributeError, ImportError):
        from assistant.nlu.slots import extract_slots

        return None, extract_slots(text)


def _main_intent(intents: list[str]) -> str | None:
    """The latest task intent (greetings and thanks don't change what the customer is after)."""
    for intent in reversed(intents):
        if intent in TASKS:
            return intent
    return intents[-1] if intents else None


def _missing(intent: str | None, slots: dict[str, Any]) -> list[str]:
    if intent not in NEEDS:
        return []
    return [group[0] for group in NEEDS[intent] if not any(s in slots for s in group)]


def _last_matching(messages: list[str], pattern: re.Pattern[str]) -> str:
    """The latest message ``pattern`` finds, else the latest message ('' when there is none)."""
    return next((t for t in reversed(messages) if pattern.search(t)), messages[-1] if messages else "")


def _excerpt(text: str, pattern: re.Pattern[str] | None = None) -> str:
    masked = mask_pii(text)
    if pattern is not None and (m := pattern.search(masked)):
        start = max(m.start() - 20, 0)
        return masked[start:m.end() + 20]
    return masked[:60]


def _alerts(transcript: list[TranscriptTurn], draft: str | None, flags: dict[str, bool]) -> list[ComplianceAlert]:
    alerts: list[ComplianceAlert] = []
    if draft:
        for f in check_text(draft):
            alerts.append(ComplianceAlert(code=f.code, severity=_ALERT_SEVERITY.get(f.code, "medium"), source="draft",
                                          zh=f"坐席草稿{f.zh}", en=f"agent draft: {f.en}", evidence=_excerpt(draft)))
    for turn in transcript:
        if turn.role != "assistant":
            continue
        for f in check_text(turn.text):
            alerts.append(ComplianceAlert(code=f.code, severity="medium", source="assistant",
                                          zh=f"此前的回复{f.zh}", en=f"an earlier reply: {f.en}",
                                          evidence=_excerpt(turn.text)))
    customer = [t.text for t in transcript if t.role == "customer"]
    if flags["hardship"]:
        text = _last_matching(customer, HARDSHIP)
        alerts.append(ComplianceAlert(
            code="customer_hardship", severity="high", source="customer",
            zh="客户可能存在还款困难：耐心倾听，不得施压或以征信、上门等方式威胁；如实说明逾期影响，介绍延期/调整还款计划的申请渠道",
            en="customer may be in financial hardship: no pressure or threats; explain the effect of arrears honestly "
               "and the ways to apply for deferral or a new schedule",
            evidence=_excerpt(text, HARDSHIP)))
    if flags["complaint"]:
        text = _last_matching(customer, COMPLAINT)
        alerts.append(ComplianceAlert(
            code="complaint", severity="high", source="customer",
            zh="客户投诉：登记投诉工单并在规定时限内答复，不得推诿；涉及收费争议须出示合同约定的收费依据",
            en="complaint: register a ticket and answer within the required time; for fee disputes show the "
               "contractual basis of each charge",
            evidence=_excerpt(text, COMPLAINT)))
    if flags["injection"]:
        text = next((t for t in customer if is_injection(t)), "")
        alerts.append(ComplianceAlert(
            code="prompt_injection", severity="medium", source="customer",
            zh="客户消息试图改变助手规则或索取系统提示词：不要照做，也不要复述内部规则",
            en="the customer tried to override the assistant's rules or extract its prompt: do not comply",
            evidence=_excerpt(text)))
    if any(contains_pii(t) for t in customer):
        alerts.append(ComplianceAlert(
            code="personal_data_shared", severity="low", source="customer",
            zh="客户在对话中提供了证件号/手机号/银行卡号：回复中不要复述，仅在核验流程中使用",
            en="the customer shared an ID, phone or card number: do not repeat it in replies"))
    return alerts


def _actions(intent: str | None, slots: dict[str, Any], flags: dict[str, bool], missing: list[str]) -> list[NextAction]:
    actions: list[NextAction] = []
    if flags["handoff"]:
        actions.append(NextAction(code="take_over", zh="客户要求人工服务：接手对话，先复述已了解的情况再确认需求",
                                  en="the customer asked for a human: take over, restate what is known, "
                                     "confirm the need"))
    if flags["complaint"]:
        actions.append(NextAction(code="register_complaint",
                                  zh="登记投诉工单，记录费用项目、金额与办理时间，必要时升级至投诉专员",
                                  en="register a complaint ticket (item, amount, date); escalate if needed"))
    if flags["hardship"]:
        actions.append(NextAction(code="hardship_options",
                                  zh="了解逾期天数与原因，介绍延期还款/调整还款计划及所需证明材料，提醒征信影响",
                                  en="ask overdue days and cause; explain deferral / rescheduling and the documents "
                                     "needed; mention the credit-report impact"))
    for slot in missing:
        actions.append(NextAction(code=f"ask_{slot}", zh=f"询问客户的{SLOT_ZH.get(slot, slot)}",
                                  en=f"ask for {slot.replace('_', ' ')}"))
    if intent in {"payment_calculation", "rate_check"} and not missing:
        actions.append(NextAction(code="send_quote", zh="用报价工具给出月供、总利息和年化利率(APR)，三者一起告知",
                                  en="give the monthly payment, total interest and APR together (quote tool)"))
    if intent == "car_recommendation" and not missing:
        actions.append(NextAction(code="match_offers", zh="按预算和偏好匹配车型与贷款方案，报价同时展示年化利率",
                                  en="match cars and finance plans; show each price with its APR"))
    if intent in {"eligibility_check", "apply"} and not missing:
        actions.append(NextAction(code="prequalify", zh="征得授权后做预审；说明预审结果不代表最终审批",
                                  en="pre-qualify with consent; say that pre-qualification is not approval"))
    if intent == "document_request" and not missing:
        actions.append(NextAction(code="issue_document", zh="生成并发送客户所需文件（核对贷款要素后）",
                                  en="issue the requested document after checking the loan terms"))
    if intent == "policy_question":
        actions.append(NextAction(code="answer_with_source", zh="按知识库条款答复，并告知依据",
                                  en="answer from the knowledge base and cite it"))
    if not actions:
        actions.append(NextAction(code="clarify_need", zh="确认客户的具体需求（测算、选车、预审或政策咨询）",
                                  en="clarify what the customer needs (quote, car, pre-qualification, policy)"))
    return actions


def _template_reply(flags: dict[str, bool], missing: list[str]) -> str:
    if flags["hardship"]:
        return TEMPLATES["hardship"]
    if flags["complaint"]:
        return TEMPLATES["complaint"]
    if flags["handoff"]:
        return TEMPLATES["handoff"]
    if missing:
        return TEMPLATES["ask"].format(missing="、".join(SLOT_ZH.get(s, s) for s in missing))
    return TEMPLATES["default"]


def _engine_reply(services: Any, customer: list[str]) -> tuple[str, list[Citation]] | None:
    """The chat engine's answer to the customer's recent turns, replayed in a scratch session."""
    chat = getattr(services, "chat", None)
    if chat is None or not customer:
        return None
    session_id: str | None = None
    turn = None
    try:
        for text in customer[-_SCRATCH_TURNS:]:
            turn = chat.handle(text, session_id=session_id, channel="copilot")
            session_id = turn.session_id
    except AssistantError as exc:
        log.warning("copilot_scratch_failed", code=exc.code)
        return None
    if turn is None or not turn.reply:
        return None
    return turn.reply, list(turn.citations)


def _citations(services: Any, query: str) -> list[Citation]:
    """Knowledge-base passages for ``query`` (empty when the knowledge tool is not installed)."""
    if not query:
        return []
    try:
        tool = load_all_tools().get("search_knowledge")
        out = tool.invoke(ToolContext(services=services, channel="copilot"), {"query": query[:500], "k": 3})
    except AssistantError as exc:
        log.info("copilot_no_citations", code=exc.code)
        return []
    results = out.model_dump(mode="json").get("results", [])
    return [Citation(doc_id=r["doc_id"], title=r.get("title", r["doc_id"]), snippet=r.get("snippet", ""))
            for r in results if r.get("doc_id")]


def _kb_query(flags: dict[str, bool], customer: list[str]) -> str:
    """What to look up: the customer's situation when it is delicate, else their last words."""
    if flags["hardship"]:
        return "还款困难 逾期后果 延期还款 调整还款计划"
    if flags["complaint"]:
        return "投诉处理 收费标准 费用说明"
    return customer[-1] if customer else ""


def assist(services: Any, request: CopilotRequest) -> CopilotResponse:
    """Everything the agent desk shows for one conversation."""
    slots: dict[str, Any] = {}
    handoff_state = False
    if request.session_id:
        state = services.chat.state(request.session_id)  # NotFound for an unknown session
        slots.update(state.slots)
        handoff_state = bool(state.handoff)
        transcript = [TranscriptTurn(**t) for t in services.chat.transcript(request.session_id)]
        if request.transcript:
            transcript.extend(request.transcript)
    else:
        transcript = list(request.transcript or [])

    customer = _customer_texts(transcript)
    intents: list[str] = []
    for text in customer:
        intent, found = _parse(services, text)
        if intent:
            intents.append(intent)
        slots.update(found)
    joined = "\n".join(customer)
    flags = {
        "hardship": "repayment_trouble" in intents or bool(HARDSHIP.search(joined)),
        "complaint": "complaint" in intents or bool(COMPLAINT.search(joined)),
        "handoff": handoff_state or "human_handoff" in intents or bool(HANDOFF.search(joined)),
        "injection": any(is_injection(t) for t in customer),
    }
    intent = _main_intent(intents)
    missing = _missing(intent, slots)

    citations = _citations(services, _kb_query(flags, customer))
    source = "template"
    suggested = _template_reply(flags, missing)
    if request.suggest and not flags["injection"]:
        produced = _engine_reply(services, customer)
        # The engine answers the customer; for hardship / complaints the agent's careful template leads.
        if produced is not None and not (flags["hardship"] or flags["complaint"]):
            suggested, engine_citations = produced
            source = "engine"
            known = {c.doc_id for c in citations}
            citations.extend(c for c in engine_citations if c.doc_id not in known)

    alerts = _alerts(transcript, request.draft, flags)
    for f in check_text(suggested):
        alerts.append(ComplianceAlert(code=f.code, severity=_ALERT_SEVERITY.get(f.code, "medium"),
                                      source="suggested_reply", zh=f"建议回复{f.zh}，请修改后发送",
                                      en=f"suggested reply: {f.en}; edit before sending"))
    return CopilotResponse(
        summary=_summary(intent, slots, flags, len(customer)),
        slots=slots,
        facts=facts(slots),
        suggested_reply=suggested,
        next_actions=_actions(intent, slots, flags, missing),
        compliance_alerts=alerts,
        citations=citations[:5],
        intent=intent,
        situation=flags,
        suggested_reply_source=source,
    )


def facts(slots: dict[str, Any]) -> list[Fact]:
    """The customer's slots for the desk, formatted by the one formatter the chat replies use too."""
    english = {name: (label, text) for name, label, text in slot_facts(slots, "en")}
    return [Fact(name=name, label=label, value=text, label_en=english[name][0], value_en=english[name][1])
            for name, label, text in slot_facts(slots, "zh")]


def _summary(intent: str | None, slots: dict[str, Any], flags: dict[str, bool], customer_turns: int) -> str:
    parts = [f"客户诉求：{INTENT_ZH.get(intent or '', '尚不明确')}。"]
    known = describe_slots(slots)  # the same wording as the facts table and the chat's own recaps
    parts.append(f"已知信息：{known}。" if known else "已知信息：暂无。")
    situation = [label for key, label in (("hardship", "疑似还款困难"), ("complaint", "有投诉"),
                                          ("handoff", "要求人工服务"), ("injection", "有试图绕过规则的消息"))
                 if flags[key]]
    if situation:
        parts.append(f"需关注：{'、'.join(situation)}。")
    parts.append(f"客户共发言{customer_turns}次。")
    return "".join(parts)
