"""The document flow: contract, risk disclosure and repayment schedule for the offer or quote in focus."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from assistant.agent.flows.base import Flow, FlowRun
from assistant.agent.types import DocumentRef
from assistant.documents.kinds import LANGUAGES, DocumentKind
from assistant.domain.money import percent_str, yuan_str

DOC_KIND_WORDS = (
    ("loan_contract", re.compile(r"合同|contract", re.I)),
    ("risk_disclosure", re.compile(r"风险提示|风险告知|disclosure", re.I)),
    ("repayment_schedule", re.compile(r"还款计划|还款表|计划表|schedule", re.I)),
    ("privacy_consent", re.compile(r"授权书|隐私|个人信息|consent|privacy", re.I)),
)
# In chat, documents are issued as web pages: they open at once on a phone (and print), while a PDF
# takes ~0.2 s a document to lay out. A customer who asks for a PDF (or a file to download) gets PDFs.
PDF_WANTED = re.compile(r"pdf|下载|打印|附件|download|print", re.I)
DOC_NAMES = {
    "loan_contract": ("借款合同", "loan contract"),
    "risk_disclosure": ("风险提示书", "risk disclosure"),
    "repayment_schedule": ("还款计划表", "repayment schedule"),
    "privacy_consent": ("个人信息授权书", "personal-information consent"),
}


def issue_documents(run: FlowRun) -> None:
    """Issue the documents asked for, with the numbers of the offer or quote the customer is looking at."""
    state = run.state
    text = run.text
    kinds = [kind for kind, pattern in DOC_KIND_WORDS if pattern.search(text)]
    if not kinds and PDF_WANTED.search(text) and state.last_document_kinds:
        kinds = list(state.last_document_kinds)  # "要PDF版": the same documents again, as PDFs
    if not kinds and run.slots.get("document_kind"):
        kinds = [str(run.slots["document_kind"])]
    if not kinds:
        kinds = ["loan_contract", "risk_disclosure", "repayment_schedule"]
    if state.application is None:
        assumed: list[str] = []
        principal = run.principal(assumed)
        if principal is None or "term_months" not in run.slots:
            run.draft.reply = run.reply("documents_need_application")
            state.pending_slot = "loan_amount" if principal is None else "term_months"
            return
        rate = Decimal(str(run.slots.get("quoted_rate") or run.reference_rate(assumed)))
        state.application = {"principal": str(principal), "annual_rate": str(rate),
                             "term_months": int(run.slots["term_months"]),
                             "rate_type": run.slots.get("rate_type", "nominal"), "upfront_fees": "0"}
    state.pending_slot = None
    fmt = "pdf" if PDF_WANTED.search(text) else "html"
    # A kind with no version in the customer's language (the loan contract, the schedule in English) is
    # issued in Chinese, the binding text, and the customer is told so; never refused.
    by_lang: dict[str, list[str]] = {}
    for kind in kinds:
        lang = run.lang if run.lang in LANGUAGES.get(DocumentKind(kind), ("zh",)) else "zh"
        by_lang.setdefault(lang, []).append(kind)
    data: dict[str, Any] = {}
    for lang, group in by_lang.items():
        result = run.call("generate_documents",
                          {"kinds": group, "application": state.application, "format": fmt, "lang": lang})
        if result is None:
            run.draft.reply = run.last_error()
            return
        data = result.model_dump(mode="json")
        for doc in data.get("documents", []):
            run.draft.documents.append(DocumentRef(document_id=doc["document_id"], kind=doc["kind"],
                                                   url=doc["url"]))
    state.last_document_kinds = kinds
    names = [{"name": DOC_NAMES.get(d.kind, (d.kind, d.kind))[0 if run.lang == "zh" else 1], "url": d.url}
             for d in run.draft.documents]
    run.draft.reply = run.reply("documents", documents=names, pdf=fmt == "pdf",
                                monthly_payment=yuan_str(Decimal(str(data.get("monthly_payment", 0)))),
                                apr=percent_str(Decimal(str(data.get("apr", 0)))))
    in_chinese = [k for k in by_lang.get("zh", []) if run.lang != "zh"]
    if in_chinese:
        titles = ", ".join(DOC_NAMES.get(k, (k, k))[1] for k in in_chinese)
        verb = "is" if len(in_chinese) == 1 else "are"
        run.draft.reply += f"\n(The {titles} {verb} issued in Chinese, the binding version; ask me about any line.)"
    vehicle = (state.application or {}).get("vehicle") or {}
    if vehicle.get("series"):
        # Say which plan the papers are for, so a customer who meant another one can say so.
        run.draft.reply += "\n" + run.pick(f"（按方案：{vehicle.get('brand', '')} {vehicle['series']}）",
                                           f"(for the plan: {vehicle.get('brand', '')} {vehicle['series']})")


FLOWS = (
    Flow("document_request", ("准备合同文件", "preparing your documents"), issue_documents,
         uses=frozenset({"document_kind"})),
)
