"""The services a running assistant shares (database, catalogues, models, retriever, documents).

Built once from :class:`Settings`; each component is created lazily on first use so that the
command line and tests pay only for what they touch.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from assistant.domain.regulation import LenderCaps
from assistant.errors import UpstreamUnavailable
from assistant.logs import get_logger
from assistant.settings import Settings
from assistant.storage.db import create_all, make_engine, make_session_factory

log = get_logger(__name__)


class Services:
    """Lazily-built shared components."""

    #: Told how a knowledge-index build goes (``kb.progress.IndexProgress``): the console's bar or log events.
    index_progress: Any = None

    def __init__(self, settings: Settings) -> None:
        from assistant.storage.crypto import check_keys

        self.settings = settings
        settings.ensure_data_dir()
        # Production refuses to start without its keys (from outside DATA_DIR): here, before any traffic.
        check_keys(settings)

    @cached_property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, tables created."""
        engine = make_engine(self.settings.resolved_database_url)
        create_all(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker:
        """A session factory bound to the engine."""
        return make_session_factory(self.engine)

    @cached_property
    def prompts(self) -> Any:
        """Reply templates and system prompts (``prompts/``)."""
        from assistant.agent.prompts import PromptLibrary

        return PromptLibrary(self.settings.prompts_dir)

    @cached_property
    def cipher(self) -> Any:
        """Encryption of personal data and documents at rest (current key + retired ones, MultiFernet)."""
        from assistant.storage.crypto import Cipher

        return Cipher.from_settings(self.settings)

    @cached_property
    def session_store(self) -> Any:
        """Chat sessions and messages, personal data encrypted at rest."""
        from assistant.agent.store import SessionStore

        return SessionStore(self.sessions, self.cipher)

    @cached_property
    def chat(self) -> Any:
        """The chat service every channel uses (LLM engine when configured, else offline)."""
        from assistant.agent.service import ChatService

        return ChatService(self, self.session_store, self.prompts)

    def session_application(self, session_id: str) -> dict[str, Any] | None:
        """The loan terms a chat session was last quoted (documents by session id)."""
        return self.chat.application(session_id)

    @cached_property
    def lender_caps(self) -> LenderCaps:
        """The lender's own LTV caps for self-use cars (2024 rule)."""
        return LenderCaps(
            self_use_ice=self.settings.self_use_ltv_cap_ice, self_use_nev=self.settings.self_use_ltv_cap_nev
        )

    @cached_property
    def catalogue(self) -> Any:
        """Vehicle and finance-product catalogues (``knowledge_base/catalogue/*.yaml``), validated once."""
        from assistant.catalogue import build_catalogue

        return build_catalogue(self.settings)

    @cached_property
    def valuator(self) -> Any:
        """The used-car residual-value model (``assistant/models/valuation``), loaded on first use."""
        from assistant.valuation.service import Valuator
        from assistant.valuation.train import ARTIFACT_NAME

        return Valuator(self.settings.models_dir / "valuation" / ARTIFACT_NAME)

    @cached_property
    def scorer(self) -> Any:
        """The risk scorer (champion scorecard + LightGBM challenger, A/B), loaded once from the artifacts."""
        from assistant.scoring.model import Scorer

        return Scorer(self.settings.models_dir / "scoring", challenger_share=self.settings.challenger_share)

    @cached_property
    def audit(self) -> Any:
        """The hash-chained audit trail (``record(event, session_id, data)``, ``verify()``)."""
        from assistant.audit import AuditLog
        from assistant.storage.crypto import load_audit_key

        return AuditLog(self.sessions, head_path=self.settings.data_dir / "audit_head.log",
                        key=load_audit_key(self.settings))

    @cached_property
    def loans(self) -> Any:
        """The loan book after the sale (issue 9): loans, schedules, repayments, state; see assistant.lifecycle."""
        from assistant.lifecycle.book import LoanBook

        return LoanBook(self.sessions, audit=self.audit)

    @cached_property
    def applications(self) -> Any:
        """Loan applications (issue 16): create, submit, review, contract, sign; see assistant.origination."""
        from assistant.origination.service import ApplicationService

        return ApplicationService(self)

    @cached_property
    def documents(self) -> Any:
        """Contracts, disclosures, schedules and consents (templates → HTML/MD/PDF, stored under DATA_DIR)."""
        from assistant.documents.service import DocumentService

        return DocumentService(self)

    @cached_property
    def intake(self) -> Any:
        """Applicants' documents: upload checks, offline OCR, encrypted storage, cross-checks (assistant.intake)."""
        from assistant.intake.service import IntakeService

        return IntakeService(self.sessions, self.cipher, self.settings)

    @cached_property
    def retriever(self) -> Any:
        """The knowledge-base hybrid retriever; builds the index on first use, or refreshes a stale one."""
        from assistant.kb.retriever import build_retriever

        return build_retriever(self.settings, on_progress=self.index_progress)

    @cached_property
    def nlu(self) -> Any:
        """Offline understanding: ``nlu.parse(text, expected_slot=None)`` → intent, confidence, slots, lang."""
        from assistant.nlu.parser import NLU

        return NLU.from_settings(self.settings)

    def warm_up(self, *, index_in_background: bool = False) -> dict[str, Any]:
        """Build what the service needs before taking traffic; returns what was prepared.

        With ``index_in_background`` (the HTTP service) the knowledge index, which takes minutes on a
        fresh DATA_DIR, is built in a thread: ``/health`` answers at once and ``/ready`` says when the
        service can take traffic.
        """
        from assistant.storage.crypto import warn_development_keys

        warn_development_keys(self.settings)
        _ = self.engine
        # Load every model once, before the first customer waits for it; a missing CJK font or model
        # file fails here, at startup, with a clear ConfigurationError.
        _ = self.catalogue, self.nlu, self.scorer, self.documents, self.chat
        database = self.settings.resolved_database_url.split("://")[0]
        if index_in_background:
            self._knowledge_state = "building"
            self._index_thread = threading.Thread(target=self._build_index, name="kb-index", daemon=True)
            self._index_thread.start()
            return {"database": database, "kb_chunks": "building"}
        return {"database": database, "kb_chunks": self._build_index()}

    def wait_for_index(self, timeout: float | None = None) -> None:
        """Block until a background index build (if any) has finished; called at shutdown so no build is
        left writing into a data directory being torn down."""
        thread = getattr(self, "_index_thread", None)
        if thread is not None:
            thread.join(timeout)

    def _build_index(self) -> int | str:
        try:
            chunks: int | str = len(self.retriever.chunks)
            self._knowledge_state = "ready"
        except UpstreamUnavailable as exc:
            # A Chroma server that is down must not keep the whole service from starting: the knowledge
            # endpoints answer 503 and the index is built on the first request after it is back.
            chunks = f"unavailable: {exc.code}"
            self._knowledge_state = chunks
            _count_kb_error("build")
        except Exception as exc:  # reported by /ready; the thread must not die silently
            self._knowledge_state = f"error: {type(exc).__name__}"
            _count_kb_error("build")
            log.exception("kb_build_failed")
            chunks = self._knowledge_state
        return chunks

    def readiness(self) -> dict[str, Any]:
        """Whether this process can take traffic: the database answers and the knowledge index is built."""
        checks: dict[str, str] = {}
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready; the reason is reported
            checks["database"] = f"error: {type(exc).__name__}"
        state = getattr(self, "_knowledge_state", None)
        if state is None:  # no warm-up ran (a test client, a CLI): ready once the index exists
            state = "ready" if "retriever" in self.__dict__ else "not built"
        state = self._knowledge_check(state)
        checks["knowledge"] = state
        return {"ready": checks["database"] == "ok" and state == "ready", "checks": checks}

    def _knowledge_check(self, state: str) -> str:
        """The knowledge state checked against the store now: a built index whose store stops answering
        (or has lost the live collections) is not ready, and is ready again once the store is back; an
        index that could not be built because the store was down, or whose collections are gone, is
        (re)built in the background."""
        if state == "building":
            return state
        retriever = self.__dict__.get("retriever")
        if retriever is None:
            if state.startswith("unavailable"):  # the store was down: retry; a bug is not retried
                self._index_in_background(self._build_index)
            return state
        problem = retriever.health()
        if problem is None:
            return "ready"
        if problem.startswith("index missing"):
            self._index_in_background(self._replace_retriever)
        return f"store {problem}"

    def _replace_retriever(self) -> None:
        """Build a new retriever (rebuilding a lost index) and swap it in; the old one serves meanwhile."""
        from assistant.kb.retriever import build_retriever

        try:
            self.__dict__["retriever"] = build_retriever(self.settings)
            self._knowledge_state = "ready"
        except Exception as exc:  # reported by /ready (the old retriever's health); the thread must not die
            _count_kb_error("build")
            log.warning("kb_rebuild_failed", error=f"{type(exc).__name__}: {exc}"[:300])

    def _index_in_background(self, target: Any) -> None:
        """Run ``target`` in the index thread, unless an index build is running already."""
        thread = getattr(self, "_index_thread", None)
        if thread is not None and thread.is_alive():
            return
        self._index_thread = threading.Thread(target=target, name="kb-index", daemon=True)
        self._index_thread.start()


def _count_kb_error(operation: str) -> None:
    """One more knowledge-store failure in /metrics."""
    from assistant import metrics

    metrics.KB_ERRORS.labels(operation=operation).inc()
