"""Issue documents: application → product terms → one quote → render → check → store (all or nothing).

``services.documents`` is a :class:`DocumentService`. The API route and the ``generate_documents`` tool
both call :meth:`DocumentService.generate`; nothing else computes or renders a document.

For the ``{"session_id"}`` form it asks ``services.session_application(session_id)``, expected to return
the session's latest agreed application as a dict in the :class:`Application` shape (slot names such as
``loan_amount`` are accepted), ``None`` when the session has none yet, and to raise
:class:`~assistant.errors.NotFound` for an unknown session.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from assistant.documents.application import Application, parse_application
from assistant.documents.kinds import DocumentFormat, DocumentKind, check_language, parse_format, parse_kind
from assistant.documents.render import Rendered, Renderer
from assistant.documents.store import DocumentRecord, DocumentStore
from assistant.documents.terms import ProductTerms, resolve_terms
from assistant.documents.view import build_view
from assistant.domain.catalogue import FinanceProduct
from assistant.domain.money import Money, Rate
from assistant.domain.quote import Quote, build_quote, check_consistency, quote_figures
from assistant.errors import AssistantError, ConsistencyError, InvalidInput, NotFound
from assistant.logs import get_logger

log = get_logger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")


class Issued(BaseModel):
    """The result of one request: the stored documents and the figures they state."""

    model_config = ConfigDict(frozen=True)

    documents: list[DocumentRecord]
    contract_number: str
    preview: bool
    monthly_payment: Money
    total_interest: Money
    total_paid: Money
    upfront_fees: Money
    apr: Rate
    apr_percent: str
    product_kind: str


def _quoted_check(app: Application, q: Quote) -> None:
    """The figures the customer accepted must be the figures we are about to print."""
    if app.quoted is None:
        return
    for name in ("monthly_payment", "total_interest", "total_paid", "apr"):
        shown = getattr(app.quoted, name)
        if shown is not None and shown != getattr(q, name):
            raise ConsistencyError(
                f"报价中的 {name}（{shown}）与重新计算结果（{getattr(q, name)}）不一致，已拒绝出具",
                f"quoted {name} {shown} differs from the computation {getattr(q, name)}, refusing to issue",
                field=f"application.quoted.{name}",
            )


def _cipher(services: Any) -> Any:
    """The services' cipher for data at rest (one built from the settings when a test double has none)."""
    cipher = getattr(services, "cipher", None)
    if cipher is not None:
        return cipher
    from assistant.storage.crypto import Cipher

    return Cipher.from_settings(services.settings)


class DocumentService:
    """Renders, checks and stores documents for the API and the chat."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.settings = services.settings
        self.renderer = Renderer(self.settings.contract_templates_dir, self.settings.data_dir / "fonts")
        self.renderer.check_pdf_ready()  # a missing CJK font is a startup error, never tofu in a PDF
        self.store = DocumentStore(self.settings.data_dir / "documents", services.sessions, _cipher(services))
        self.store.sweep()

    @property
    def house(self) -> Any:
        """The house terms in ``contract_templates/house_terms.yaml``."""
        return self.renderer.bundle.house

    # ------------------------------------------------------------------ inputs
    def session_application(self, session_id: str) -> dict[str, Any] | None:
        """The application a chat session agreed on (NotFound for an unknown session)."""
        lookup = getattr(self.services, "session_application", None)
        if lookup is None:
            raise NotFound("会话查询不可用", "session look-up is not available")
        return lookup(session_id)

    def _product(self, app: Application) -> FinanceProduct | None:
        if not app.product_id:
            return None
        try:
            catalogue = getattr(self.services, "catalogue", None)
        except ImportError:  # the catalogue loader is not installed: product terms fall back to house terms
            catalogue = None
        if catalogue is None:
            log.warning("document_product_catalogue_missing", product_id=app.product_id)
            return None
        try:
            return catalogue.product(app.product_id)
        except NotFound as exc:
            raise InvalidInput(exc.zh, exc.en, field="application.product_id") from exc

    def prepare(self, app: Application) -> tuple[ProductTerms, Quote]:
        """Product terms and the one quote every figure comes from (checked before use)."""
        terms, request = resolve_terms(app, self._product(app), self.house, self.services.lender_caps)
        try:
            q = build_quote(request)
        except InvalidInput as exc:
            field = f"application.{exc.field}" if exc.field else "application"
            raise InvalidInput(exc.zh, exc.en, field=field) from exc
        check_consistency(q)
        _quoted_check(app, q)
        return terms, q

    # ------------------------------------------------------------------ issuing
    def render(
        self,
        kinds: Sequence[DocumentKind | str],
        app: Application,
        *,
        fmt: DocumentFormat | str = DocumentFormat.PDF,
        lang: str = "zh",
        today: dt.date | None = None,
        number: str | None = None,
    ) -> tuple[list[Rendered], Quote, ProductTerms, str]:
        """Render without storing (benchmarks, previews); see :meth:`generate`."""
        fmt = parse_format(fmt)
        wanted = list(dict.fromkeys(parse_kind(k, field="kinds") for k in kinds))
        if not wanted:
            raise InvalidInput("请至少选择一种文件", "ask for at least one document kind", field="kinds")
        for kind in wanted:
            check_language(kind, lang)
        terms, q = self.prepare(app)
        signing = app.signing_date or today or dt.datetime.now(CHINA).date()
        number = number or f"QC{signing:%Y%m%d}{secrets.token_hex(4).upper()}"
        view = build_view(q, app, terms, self.house, number=number, signing=signing)
        return [self.renderer.render(kind, fmt, lang, view, q) for kind in wanted], q, terms, number

    def generate(
        self,
        kinds: Sequence[DocumentKind | str],
        application: Application | dict[str, Any] | None = None,
        *,
        fmt: DocumentFormat | str = DocumentFormat.PDF,
        lang: str = "zh",
        session_id: str | None = None,
        api_key_id: str | None = None,
    ) -> Issued:
        """Issue ``kinds`` for ``application`` (or the session's application) and store them all or none.

        ``session_id`` makes that chat session the owner (it may fetch the files without an API key).
        """
        if application is None:
            if not session_id:
                raise InvalidInput("请提供申请信息 application 或会话 session_id",
                                   "give an application or a session_id", field="application")
            stored = self.session_application(session_id)
            if not stored:
                raise InvalidInput("该会话还没有确定的贷款方案，请先在对话中完成报价",
                                   "this session has no agreed loan terms yet: get a quote in the chat first",
                                   field="session_id")
            app = parse_application(stored)
        else:
            app = parse_application(application)
        try:
            rendered, q, terms, number = self.render(kinds, app, fmt=fmt, lang=lang)
        except AssistantError as exc:
            log.info("document_refused", code=exc.code, field=exc.field)
            raise
        records = self.store.save_all(
            rendered, contract_number=number, preview=app.is_preview, session_id=session_id, api_key_id=api_key_id,
            borrower_id_number=app.borrower.id_number if app.borrower else None,
        )
        return Issued(documents=records, contract_number=number, preview=app.is_preview,
                      **quote_figures(q, Issued.model_fields), product_kind=terms.kind.value)

    # ------------------------------------------------------------------ reading
    def open(self, document_id: str) -> tuple[DocumentRecord, bytes]:
        """A stored document and its verified bytes."""
        record = self.store.get(document_id)
        return record, self.store.read(record)
