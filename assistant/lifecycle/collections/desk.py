"""The collection desk: plans for a loan and the contact log in the shared database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from assistant.domain.money import from_fen
from assistant.errors import RuleViolation
from assistant.lifecycle.book import CHINA_TZ, LoanBook
from assistant.lifecycle.collections.conduct import check_contact, local, next_allowed
from assistant.lifecycle.collections.messages import TEMPLATES, render
from assistant.lifecycle.collections.models import (
    ACTION_CONTACT,
    ACTION_ZH,
    Action,
    CollectionPlan,
    ContactStats,
    PlannedAction,
    Segment,
)
from assistant.lifecycle.collections.options import consequences, repayment_options
from assistant.lifecycle.collections.strategy import actions_for, profile
from assistant.lifecycle.ledger import GRACE_DAYS, Ledger
from assistant.storage.loans import CollectionContactRow


class CollectionDesk:
    """Collection plans and the contact log for a book."""

    def __init__(self, book: LoanBook, *, audit: Any = None) -> None:
        self.book = book
        self.audit = audit

    def history(self, loan_id: str, since: dt.datetime | None = None) -> list[CollectionContactRow]:
        """Contacts made on this loan (oldest first)."""
        with self.book.sessions() as s:
            q = select(CollectionContactRow).where(CollectionContactRow.loan_id == loan_id)
            if since is not None:
                q = q.where(CollectionContactRow.at >= since)
            return list(s.scalars(q.order_by(CollectionContactRow.at)))

    def record_contact(self, loan_id: str, channel: str, *, at: dt.datetime, template: str, party: str = "borrower",
                       text: str | None = None, purpose: str = "collection", outcome: str | None = None,
                       promised_on: dt.date | None = None, promised_amount: Decimal | None = None) -> int:
        """Log a contact — refused with RuleViolation if it would break a conduct rule (nothing is logged)."""
        self.book.get_loan(loan_id)
        if text is None and template in TEMPLATES:
            text = TEMPLATES[template][0]
        past = [(c.channel, c.at) for c in self.history(loan_id, since=local(at) - dt.timedelta(days=1))]
        violations = check_contact(channel, party, at, past, text, purpose)
        if violations:
            raise RuleViolation("该联系违反催收行为规范：" + "；".join(v.zh for v in violations),
                                "this contact breaks the collection conduct rules: "
                                + "; ".join(v.en for v in violations),
                                field=violations[0].rule)
        with self.book.sessions() as s:
            row = CollectionContactRow(loan_id=loan_id, channel=channel, party=party, at=local(at), template=template,
                                       outcome=outcome, promised_on=promised_on,
                                       promised_fen=int(promised_amount * 100) if promised_amount is not None else None)
            s.add(row)
            s.commit()
            contact_id = row.id
        if self.audit is not None:
            self.audit.record("collection_contact", None, {"loan_id": loan_id, "channel": channel, "party": party,
                                                           "template": template, "outcome": outcome})
        return contact_id

    def stats(self, loan_id: str, led: Ledger, as_of: dt.date) -> ContactStats:
        """Promises kept / broken (checked against the repayments), reachability, refusals, hardship."""
        kept = broken = streak = refusals = 0
        hardship = False
        for c in self.history(loan_id):
            day = local(c.at).date()
            if c.outcome == "no_answer":
                streak += 1
            elif c.outcome:
                streak = 0
            if c.outcome == "refused":
                refusals += 1
            if c.outcome == "hardship_applied" and (as_of - day).days <= 21:  # 15 working days ≈ 3 weeks
                hardship = True
            if c.outcome == "promise" and c.promised_on is not None and c.promised_on + dt.timedelta(days=2) < as_of:
                paid = led.paid_by(c.promised_on + dt.timedelta(days=2)) - led.paid_by(day - dt.timedelta(days=1))
                if paid >= (c.promised_fen or 1):
                    kept += 1
                else:
                    broken += 1
        return ContactStats(kept, broken, streak, refusals, hardship)

    def plan(self, loan_id: str, *, now: dt.datetime | None = None, conversation: str | None = None,
             stress: int = 0) -> CollectionPlan:
        """The collection plan for a loan right now: segment, timed actions, options, consequences."""
        moment = local(now or dt.datetime.now(CHINA_TZ))
        day = moment.date()
        loan = self.book.get_loan(loan_id)
        with self.book.sessions() as s:
            led = self.book.load_ledgers(s, [loan_id])[loan_id]
        b = led.behaviour(day, loan.disbursed_on)
        stats = self.stats(loan_id, led, day)
        prof = profile(b, led, stats, conversation, stress)
        history = [(c.channel, c.at) for c in self.history(loan_id, since=moment - dt.timedelta(days=1))]
        actions: list[PlannedAction] = []
        if stats.hardship_applied:
            chosen: list[Action] = [Action.RESTRUCTURING]  # 停催: only the hardship follow-up while it is reviewed
        elif b.dpd <= 0:
            due_soon = b.next_due_on is not None and (b.next_due_on - day).days <= 3
            chosen = ([Action.APP_PUSH] if due_soon else []) + (
                [Action.RESTRUCTURING] if prof.segment is Segment.WILLING_UNABLE else [])
        else:
            chosen = actions_for(b.dpd, prof.segment)
        options = repayment_options(loan, b)
        summary_zh = "；".join(o.title_zh for o in options if o.kind in ("extension", "deferral")) or "延期或展期"
        summary_en = ("; ".join(o.title_en for o in options if o.kind in ("extension", "deferral"))
                      or "deferral or extension")
        amount = from_fen(b.arrears) if b.arrears else from_fen(b.next_due_amount or 0)
        for action in chosen:
            channel, template = ACTION_CONTACT[action]
            if b.dpd <= 0 and template == "reminder":
                template = "pre_due"
            at = next_allowed(channel, history, moment)
            values = {"amount": amount, "dpd": b.dpd, "due_on": b.next_due_on}
            actions.append(PlannedAction(
                action=action, action_zh=ACTION_ZH[action], channel=channel, template=template, scheduled_at=at,
                message_zh=render(template, "zh", options=summary_zh, **values),
                message_en=render(template, "en", options=summary_en, **values)))
            history.append((channel, at))
        return CollectionPlan(
            loan_id=loan_id, dpd=b.dpd, bucket=b.bucket, in_grace=0 < b.dpd <= GRACE_DAYS, arrears=from_fen(b.arrears),
            profile=prof, actions=actions, options=options, consequences_zh=consequences(b, loan, "zh"),
            consequences_en=consequences(b, loan, "en"), hardship_pause=stats.hardship_applied)

    def log_planned(self, plan: CollectionPlan) -> list[int]:
        """Record the plan's contacts as made (each one re-checked against the rules)."""
        return [self.record_contact(plan.loan_id, a.channel, at=a.scheduled_at, template=a.template, text=a.message_zh)
                for a in plan.actions]
