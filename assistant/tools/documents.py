"""The ``generate_documents`` tool: contracts, risk disclosures, repayment schedules and consents."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.documents.application import Application
from assistant.documents.kinds import DocumentFormat, DocumentKind
from assistant.domain.money import Money, Rate
from assistant.tools.registry import REGISTRY, ToolContext


class GenerateDocumentsIn(BaseModel):
    """Which documents to issue, and for which loan."""

    kinds: list[DocumentKind] = Field(
        min_length=1,
        description="One or more of: loan_contract (借款合同/融资租赁合同), risk_disclosure (风险提示书), "
        "repayment_schedule (还款计划表), privacy_consent (个人信息授权书)",
    )
    format: DocumentFormat = Field(default=DocumentFormat.PDF, description="pdf (default) | html | md")
    lang: Literal["zh", "en"] = Field(default="zh", description="zh; the risk disclosure is also in en")
    application: Application | None = Field(
        default=None,
        description="Loan terms (principal yuan, annual_rate fraction, term_months, …) and optional borrower, "
        "vehicle, lender, product_id. Omit to use the loan this chat session was quoted.",
    )


class IssuedDocumentOut(BaseModel):
    """One issued document."""

    document_id: str
    kind: str
    format: str
    title: str
    url: str
    sha256: str
    template_version: str


class GenerateDocumentsOut(BaseModel):
    """The issued documents and the figures they state (the same as the quote)."""

    documents: list[IssuedDocumentOut]
    contract_number: str
    preview: bool = Field(description="True when borrower or vehicle details are still blank")
    monthly_payment: Money
    total_interest: Money
    total_paid: Money
    upfront_fees: Money
    apr: Rate
    apr_percent: str


def issue_documents(ctx: ToolContext, args: GenerateDocumentsIn, api_key_id: str | None = None) -> GenerateDocumentsOut:
    """Issue the documents through ``services.documents`` (the API route adds the caller's key id)."""
    issued = ctx.services.documents.generate(
        args.kinds, args.application, fmt=args.format, lang=args.lang, session_id=ctx.session_id,
        api_key_id=api_key_id,
    )
    return GenerateDocumentsOut(
        documents=[IssuedDocumentOut(document_id=r.id, kind=r.kind, format=r.format, title=r.title, url=r.url,
                                     sha256=r.sha256, template_version=r.template_version)
                   for r in issued.documents],
        contract_number=issued.contract_number,
        preview=issued.preview,
        monthly_payment=issued.monthly_payment,
        total_interest=issued.total_interest,
        total_paid=issued.total_paid,
        upfront_fees=issued.upfront_fees,
        apr=issued.apr,
        apr_percent=issued.apr_percent,
    )


@REGISTRY.register("generate_documents")
def generate_documents(ctx: ToolContext, args: GenerateDocumentsIn) -> GenerateDocumentsOut:
    """Issue loan documents as files the customer can open: the loan contract (借款合同), the risk
    disclosure (风险提示书), the repayment schedule (还款计划表) and the personal-information consent
    (个人信息授权书). Use it when the customer asks for any of them ("把合同发我", "生成还款计划表",
    "帮我生成合同和风险提示书" → kinds ["loan_contract", "risk_disclosure"]); several kinds in one call share
    one contract number. Every figure comes from the same quote as quote_loan (money in yuan, rates as
    fractions: 4.5% -> 0.045). Without borrower or vehicle details the files are previews with blanks.
    Returns a url per document; the chat session that asked owns them."""
    return issue_documents(ctx, args)
