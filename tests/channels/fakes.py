"""Small stand-ins for the components other parts own, so channel tests exercise the channel only.

``FakeChat`` has the ChatService interface (handle / stream / transcript / state); its numbers come
from the real quote tool, so offer cards and charts show real, consistent figures.
"""

from __future__ import annotations

import queue
import re
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from assistant.agent.service import REPLY_PARTS
from assistant.agent.types import ChatTurn, Citation, DocumentRef, SessionState
from assistant.domain.quote import QuoteRequest, build_quote
from assistant.errors import InvalidInput, NotFound
from assistant.tools.quote import quote_to_out

_WAN = re.compile(r"(\d+(?:\.\d+)?)\s*万")
_TERM = re.compile(r"(\d+)\s*期")


class FakeChat:
    """Deterministic engine double: a few rules, real quote maths, sessions in memory."""

    def __init__(self, reply_delay: threading.Event | None = None) -> None:
        self.sessions: dict[str, SessionState] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[tuple[str, str | None, str]] = []
        self.gate = reply_delay  # when set, handle() waits for the event (slow-engine tests)
        self.long_reply: str | None = None
        # When set, stream() sends deltas only as the test allows: each item put is how many more may go.
        self.paced: queue.Queue[int] | None = None

    def clean(self, message: Any) -> str:
        if not isinstance(message, str) or not message.strip():
            raise InvalidInput("消息不能为空", "message must not be empty", field="message")
        if len(message) > 2000:
            raise InvalidInput("消息过长", "message too long", field="message")
        return message.strip()

    def handle(self, message: Any, session_id: str | None = None, channel: str = "app", *,
               create: bool = False, on_delta: Any = None) -> ChatTurn:
        text = self.clean(message)
        if session_id is not None and session_id not in self.sessions and not create:
            raise NotFound("会话不存在或已过期", "unknown session id")
        if self.gate is not None:
            self.gate.wait(timeout=30)
        sid = session_id or uuid.uuid4().hex
        state = self.sessions.setdefault(sid, SessionState(session_id=sid, channel=channel))
        self.calls.append((text, sid, channel))
        turn = self._turn(state, text)
        state.turns += 1
        reply: dict[str, Any] = {"role": "assistant", "text": turn.reply}
        parts = {k: v for k, v in turn.model_dump(mode="json", include=set(REPLY_PARTS)).items() if v}
        if parts:  # as the real store keeps them
            reply["parts"] = parts
        self.messages.setdefault(sid, []).extend([{"role": "customer", "text": text}, reply])
        return turn

    def _turn(self, state: SessionState, text: str) -> ChatTurn:
        sid = state.session_id
        if "转人工" in text:
            state.handoff = True
            return ChatTurn(session_id=sid, reply="好的，正在为您转接人工客服，请稍候。", intent="human_handoff",
                            handoff=True)
        if self.long_reply is not None:
            return ChatTurn(session_id=sid, reply=self.long_reply, intent="policy_question")
        if "违约金" in text:
            return ChatTurn(
                session_id=sid, intent="policy_question",
                reply="提前还款一般需提前30天申请，部分产品收取剩余本金1%–3%的违约金，具体以合同为准。",
                citations=[Citation(doc_id="early_repayment", title="提前还款规则",
                                    snippet="借款人可申请提前还款，需提前30天提出，违约金按合同约定。")],
            )
        prices = [Decimal(m) * 10000 for m in _WAN.findall(text)]
        if prices:
            price = prices[0]
            term = int(m.group(1)) if (m := _TERM.search(text)) else 36
            down = (price * Decimal("0.3")).quantize(Decimal("1"))
            loan = price - down
            q = quote_to_out(build_quote(QuoteRequest(principal=loan, annual_rate=Decimal("0.045"),
                                                      term_months=term)))
            state.slots.update({"vehicle_price": int(price), "term_months": term})
            offer = {
                "vehicle": {"brand": "比亚迪", "series": "宋PLUS DM-i", "body_type": "suv", "energy_type": "phev",
                            "condition": "new"},
                "product": {"id": "nev-standard", "name": "新能源标准贷"},
                "vehicle_price": float(price), "down_payment": float(down), "loan_amount": float(loan),
                "term_months": term, "monthly_payment": float(q.monthly_payment), "apr": float(q.apr),
                "total_interest": float(q.total_interest), "reasons": ["价格在预算内", "新能源首付比例低"],
            }
            reply = (f"按车价{price / 10000:g}万、首付三成、{term}期测算，月供约{q.monthly_payment}元，"
                     f"总利息{q.total_interest}元，年化利率{q.apr_percent}（IRR法）。")
            return ChatTurn(
                session_id=sid, reply=reply, intent="payment_calculation", slots=dict(state.slots),
                offers=[offer], quote=q.model_dump(mode="json"),
                documents=[DocumentRef(document_id="doc1", kind="repayment_schedule",
                                       url="/v1/documents/doc1")],
                citations=[Citation(doc_id="apr_rules", title="年化利率说明", snippet="年化利率按IRR法计算。")],
            )
        return ChatTurn(session_id=sid, reply="您好，请问想了解车贷的哪方面？", intent="greeting")

    def stream(self, message: Any, session_id: str | None = None, channel: str = "web",
               *, create: bool = False) -> Iterator[dict[str, Any]]:
        try:
            turn = self.handle(message, session_id, channel, create=create)
        except (InvalidInput, NotFound) as exc:
            yield {"type": "error", "error": {"code": exc.code, "message": exc.message}}
            return
        allowed = 0
        for i in range(0, len(turn.reply), 8):
            while self.paced is not None and allowed <= 0:
                allowed = self.paced.get(timeout=60)
            allowed -= 1
            yield {"type": "delta", "text": turn.reply[i:i + 8]}
        yield {"type": "turn", "turn": turn.model_dump(mode="json")}

    def transcript(self, session_id: str, *, parts: bool = False) -> list[dict[str, Any]]:
        if session_id not in self.sessions:
            raise NotFound("会话不存在或已过期", "unknown session id")
        messages = self.messages.get(session_id, [])
        if parts:
            return [dict(m) for m in messages]
        return [{"role": m["role"], "text": m["text"]} for m in messages]

    def state(self, session_id: str) -> SessionState:
        if session_id not in self.sessions:
            raise NotFound("会话不存在或已过期", "unknown session id")
        return self.sessions[session_id]
