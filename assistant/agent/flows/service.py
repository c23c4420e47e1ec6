"""Flows that serve rather than sell: knowledge answers, overdue help, complaints, a person, small talk."""

from __future__ import annotations

import uuid
from typing import Any

from assistant.agent.facts import describe_slots
from assistant.agent.flows.base import Flow, FlowRun
from assistant.agent.types import Citation
from assistant.privacy import mask_pii


def answer_question(run: FlowRun, question: str, *, category: str | None = None) -> tuple[str, list[Citation]]:
    """An extractive answer to one question from the knowledge base (in the customer's language) and
    its citations; an empty answer when nothing fits."""
    args: dict[str, Any] = {"query": question[:2000], "k": 3, "lang": run.lang}
    if category:
        args["category"] = category
    result = run.call("search_knowledge", args)
    data = result.model_dump(mode="json") if result is not None else {}
    answer = data.get("answer") or ""
    hits = data.get("results", [])
    if not answer or not hits:
        return "", []
    return answer, [Citation(doc_id=h["doc_id"], title=h["title"], snippet=h["snippet"]) for h in hits[:2]]


def answer_policy(run: FlowRun) -> None:
    """A rule or procedure question, answered with citations (or honestly not)."""
    answer, citations = answer_question(run, run.text)
    if not answer:
        run.draft.reply = run.reply("policy_none")
        return
    run.draft.citations.extend(citations)
    sources = run.pick("、", ", ").join(dict.fromkeys(c.title for c in citations))
    run.draft.reply = run.reply("policy_answer", answer=answer, sources=sources)
    run.draft.phrase = True


def overdue_help(run: FlowRun) -> None:
    """Options for a customer who cannot pay, the consequences, the rules, and a person when needed."""
    days = run.slots.get("overdue_days")
    args: dict[str, Any] = {"message": run.text[:2000]}
    if days is not None:
        args["overdue_days"] = int(days)
    result = run.call("collection_options", args)
    zh = run.lang == "zh"
    if result is None:
        run.draft.reply = run.last_error()
        return
    plan: Any = result
    lines = []
    from assistant.domain.money import yuan_str

    for option in plan.options:
        line = (f"{option.title_zh}：{option.detail_zh}" if zh else f"{option.title_en}: {option.detail_en}")
        if option.monthly_payment is not None and option.apr_percent:
            line += (f"（月供{yuan_str(option.monthly_payment)}元，年化利率APR {option.apr_percent}）" if zh
                     else f" (monthly payment {yuan_str(option.monthly_payment)} yuan, APR {option.apr_percent})")
        lines.append(line)
    consequences = "".join(plan.consequences_zh) if zh else " ".join(plan.consequences_en)
    answer_text, citations = answer_question(run, run.text + (" 还款困难 延期" if zh else " hardship deferral"))
    answer = ""
    if answer_text:
        run.draft.citations.extend(citations)
        answer = plan.next_steps_zh if zh else plan.next_steps_en
    run.draft.reply = run.reply(
        "repayment_trouble", empathy=plan.empathy_zh if zh else plan.empathy_en,
        consequences=consequences, options=lines, answer=answer,
        conduct=plan.conduct_zh if zh else plan.conduct_en,
    )
    if plan.handoff_recommended:
        run.draft.reply += "\n" + run.pick("建议由专员与您沟通具体方案，需要的话回复“转人工”。",
                                           "A specialist can arrange this with you: reply 'human' if you like.")


def complain(run: FlowRun) -> None:
    """Log the complaint with a ticket and hand over to a person."""
    ticket = "C" + uuid.uuid4().hex[:10].upper()
    run.state.complaints.append(f"{ticket}: {mask_pii(run.text)[:200]}")
    run.handoff("complaint")
    run.draft.reply = run.reply("complaint", ticket=ticket)


def to_person(run: FlowRun) -> None:
    """Hand over to a person with a summary of what the customer said."""
    run.handoff("customer_request")
    summary = describe_slots(run.slots, run.lang) or run.pick("客户要求人工服务", "customer asked for a human")
    run.draft.reply = run.reply("handoff", summary=summary)


def greet(run: FlowRun) -> None:
    """Hello."""
    run.draft.reply = run.reply("greeting")
    run.draft.phrase = True


def goodbye(run: FlowRun) -> None:
    """Goodbye: the task in hand is closed."""
    run.state.flow = None
    run.state.pending_slot = None
    run.draft.reply = run.reply("goodbye")
    run.draft.phrase = True


def out_of_scope(run: FlowRun) -> None:
    """Something outside auto finance: say what we can help with."""
    run.draft.reply = run.reply("out_of_scope")
    run.draft.phrase = True


FLOWS = (
    Flow("policy_question", ("", ""), answer_policy, task=False),
    Flow("repayment_trouble", ("", ""), overdue_help, task=False),
    Flow("complaint", ("", ""), complain, task=False),
    Flow("human_handoff", ("", ""), to_person, task=False),
    Flow("greeting", ("", ""), greet, task=False),
    Flow("goodbye", ("", ""), goodbye, task=False),
    Flow("out_of_scope", ("", ""), out_of_scope, task=False),
)
