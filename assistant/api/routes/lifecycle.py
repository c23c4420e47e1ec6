"""The loan book for the lending team (API key with the ``lifecycle`` scope): dashboard, loans, repayments.

JSON: ``/v1/lifecycle/portfolio``, ``/roll-rates``, ``/warnings``, ``/loans/{id}`` (+ ``/collection``,
``/offers``), ``POST /loans`` (book an accepted quote), ``POST /repayments`` (reconciled events),
``/repayments/exceptions``, ``POST /contacts`` (conduct-checked), ``POST /monitor``, ``/customers/top``.
HTML: ``GET /lifecycle`` — the dashboard, server-rendered (key in ``X-API-Key`` or, from a browser, a
cookie set by the small form at ``POST /lifecycle/login``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.api.deps import check_api_key, get_services, require_scope
from assistant.domain.limits import MAX_OFFSET, MAX_PRICE_YUAN, LoanYuan
from assistant.errors import AssistantError, InvalidInput
from assistant.lifecycle import dashboard
from assistant.lifecycle.book import IssueLoan, LoanStatus, ReconcileReport, RepaymentIn
from assistant.lifecycle.collections import CollectionDesk
from assistant.lifecycle.monitoring import MonitorReport, run_monitor
from assistant.lifecycle.retention import top_customers
from assistant.tools.lifecycle import (
    CollectionOptionsIn,
    CollectionOptionsOut,
    LoanStatusIn,
    LoanStatusOut,
    RetentionOffersIn,
    RetentionOffersOut,
    collection_options,
    loan_status,
    retention_offers,
)
from assistant.tools.registry import ToolContext

SCOPE = "lifecycle"
COOKIE = "lifecycle_key"
router = APIRouter(tags=["lifecycle"])
KEYED = [Depends(require_scope(SCOPE))]


def staff_context(request: Request) -> ToolContext:
    """Tools run as staff: the key was checked, so any loan may be named."""
    return ToolContext(services=get_services(request), channel="staff")


# --- dashboard data ----------------------------------------------------------------------------------
@router.get("/v1/lifecycle/portfolio", dependencies=KEYED)
def get_portfolio(request: Request, simulated: bool | None = None) -> dict[str, Any]:
    """Open loans by warning level × delinquency bucket (counts, outstanding, arrears) and the latest pass."""
    return dashboard.portfolio(get_services(request).loans, simulated)


@router.get("/v1/lifecycle/roll-rates", dependencies=KEYED)
def get_roll_rates(request: Request) -> dict[str, Any]:
    """Month-end to month-end bucket transitions: latest month, each month, and the average."""
    return dashboard.roll_rates(get_services(request).loans)


@router.get("/v1/lifecycle/warnings", dependencies=KEYED)
def get_warnings(request: Request, min_level: int = Query(2, ge=1, le=3), limit: int = Query(50, ge=1, le=500),
                 offset: int = Query(0, ge=0, le=MAX_OFFSET), simulated: bool | None = None) -> dict[str, Any]:
    """Open warnings of the latest pass, most severe first, with reasons and the suggested action."""
    return dashboard.warnings_to_act(get_services(request).loans, min_level=min_level, limit=limit, offset=offset,
                                     simulated=simulated)


@router.get("/v1/lifecycle/customers/top", dependencies=KEYED)
def get_top_customers(request: Request, limit: int = Query(20, ge=1, le=200)) -> dict[str, Any]:
    """Customers ranked by lifetime value (approximate, aggregated in SQL)."""
    return {"customers": top_customers(get_services(request).loans, limit)}


# --- loans -------------------------------------------------------------------------------------------
@router.get("/v1/lifecycle/loans/{loan_id}", response_model=LoanStatusOut, dependencies=KEYED)
def get_loan(loan_id: str, ctx: ToolContext = Depends(staff_context)) -> LoanStatusOut:
    """Where a loan stands today."""
    return loan_status(ctx, LoanStatusIn(loan_id=loan_id))


@router.get("/v1/lifecycle/loans/{loan_id}/collection", response_model=CollectionOptionsOut, dependencies=KEYED)
def get_collection(loan_id: str, message: str | None = Query(None, max_length=2000),
                   ctx: ToolContext = Depends(staff_context)) -> CollectionOptionsOut:
    """The collection plan: segment, conduct-checked contacts, options with APR, consequences."""
    return collection_options(ctx, CollectionOptionsIn(loan_id=loan_id, message=message))


@router.get("/v1/lifecycle/loans/{loan_id}/offers", response_model=RetentionOffersOut, dependencies=KEYED)
def get_offers(loan_id: str, target_vehicle_price: Decimal | None = Query(None, gt=0, le=MAX_PRICE_YUAN),
               ctx: ToolContext = Depends(staff_context)) -> RetentionOffersOut:
    """Retention offers (each with APR) and the customer's lifetime value."""
    return retention_offers(ctx, RetentionOffersIn(loan_id=loan_id, target_vehicle_price=target_vehicle_price))


@router.post("/v1/lifecycle/loans", response_model=LoanStatus, status_code=201, dependencies=KEYED)
def post_loan(body: IssueLoan, request: Request) -> LoanStatus:
    """Book a loan from an accepted offer's terms (schedule and APR recomputed by the money core)."""
    return get_services(request).loans.issue_loan(body)


class RepaymentBatch(BaseModel):
    """Repayment events from a payment channel."""

    model_config = ConfigDict(extra="forbid")

    events: list[RepaymentIn] = Field(min_length=1, max_length=10_000)


@router.post("/v1/lifecycle/repayments", response_model=ReconcileReport, dependencies=KEYED)
def post_repayments(body: RepaymentBatch, request: Request) -> ReconcileReport:
    """Apply repayment events: unknown loans rejected, duplicates never counted twice, out-of-order dates
    reconciled — each with a record in the report (and in ``/repayments/exceptions``)."""
    return get_services(request).loans.record_repayments(body.events)


@router.get("/v1/lifecycle/repayments/exceptions", dependencies=KEYED)
def get_exceptions(request: Request, loan_id: str | None = None,
                   limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    """The latest rejected / ignored / reconciled events."""
    records = get_services(request).loans.exceptions(limit=limit, loan_id=loan_id)
    return {"records": [r.model_dump() for r in records]}


class ContactBody(BaseModel):
    """A collection contact to log (refused if it breaks a conduct rule)."""

    model_config = ConfigDict(extra="forbid")

    loan_id: str
    channel: str
    template: str
    at: dt.datetime | None = None
    party: str = "borrower"
    purpose: str = "collection"
    text: str | None = Field(default=None, max_length=2000)
    outcome: str | None = None
    promised_on: dt.date | None = None
    promised_amount: LoanYuan | None = None


@router.post("/v1/lifecycle/contacts", status_code=201, dependencies=KEYED)
def post_contact(body: ContactBody, request: Request) -> dict[str, Any]:
    """Log a contact; 422 ``rule_violation`` if it is outside 08:00–21:00, over the daily caps, addressed to a
    third party about the debt, or threatening."""
    services = get_services(request)
    desk = CollectionDesk(services.loans, audit=services.audit)
    contact_id = desk.record_contact(body.loan_id, body.channel, at=body.at or dt.datetime.now(dt.UTC),
                                     template=body.template, party=body.party, text=body.text, purpose=body.purpose,
                                     outcome=body.outcome, promised_on=body.promised_on,
                                     promised_amount=body.promised_amount)
    return {"contact_id": contact_id}


class MonitorBody(BaseModel):
    """Options of a monitoring pass."""

    model_config = ConfigDict(extra="forbid")

    as_of: dt.date | None = None
    rules_only: bool = False


@router.post("/v1/lifecycle/monitor", response_model=MonitorReport, dependencies=KEYED)
def post_monitor(request: Request, body: MonitorBody | None = None) -> MonitorReport:
    """Run a monitoring pass now (the same as ``loan-assistant monitor``)."""
    body = body or MonitorBody()
    services = get_services(request)
    return run_monitor(services.loans, models_dir=services.settings.models_dir, as_of=body.as_of,
                       model=not body.rules_only)


# --- the HTML dashboard ------------------------------------------------------------------------------
def _with_key(request: Request, key: str) -> Request:
    """The same request carrying ``key`` as its X-API-Key (so the one key check in deps applies)."""
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"x-api-key"]
    headers.append((b"x-api-key", key.encode("latin-1", "ignore")))
    return Request({**request.scope, "headers": headers}, request.receive)


_LOGIN = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>贷后监测看板 · 登录</title>
<style>body{{font-family:sans-serif;background:#f5f6f8;display:flex;justify-content:center;padding-top:12vh}}
form{{background:#fff;padding:24px 28px;border-radius:8px;box-shadow:0 1px 3px #0002}}input{{padding:6px;width:260px}}
p.err{{color:#c0262d}}</style></head><body><form method="post" action="/lifecycle/login">
<h3>贷后监测看板 · Loan book dashboard</h3>{error}<p>API密钥（lifecycle 权限） / API key with the lifecycle scope</p>
<input type="password" name="key" autocomplete="off" required>
<button type="submit">进入 Enter</button></form></body></html>"""


@router.get("/lifecycle", response_class=HTMLResponse, include_in_schema=False)
def get_dashboard(request: Request, min_level: int = Query(2, ge=1, le=3),
                  limit: int = Query(50, ge=1, le=500)) -> HTMLResponse:
    """The lending team's dashboard page."""
    if request.headers.get("x-api-key"):
        check_api_key(request, SCOPE)
    elif request.cookies.get(COOKIE):
        check_api_key(_with_key(request, request.cookies[COOKIE]), SCOPE)
    else:
        return HTMLResponse(_LOGIN.format(error=""), status_code=401)
    return HTMLResponse(dashboard.render_dashboard(get_services(request).loans, min_level=min_level, limit=limit))


@router.post("/lifecycle/login", include_in_schema=False)
async def post_login(request: Request) -> Any:
    """Check the key from the form, then keep it in an HttpOnly cookie scoped to the dashboard."""
    body = (await request.body()).decode("utf-8", "replace")
    key = (parse_qs(body).get("key") or [""])[0].strip()
    try:
        if not key:
            raise InvalidInput("请输入API密钥", "enter an API key")
        check_api_key(_with_key(request, key), SCOPE)
    except AssistantError as exc:
        return HTMLResponse(_LOGIN.format(error=f'<p class="err">{exc.message}</p>'), status_code=401)
    response = RedirectResponse("/lifecycle", status_code=303)
    response.set_cookie(COOKIE, key, httponly=True, samesite="strict", path="/lifecycle",
                        secure=request.url.scheme == "https", max_age=8 * 3600)
    return response
