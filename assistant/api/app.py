"""The FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assistant import __version__, metrics
from assistant.api.docs import install_docs
from assistant.api.errors import install_error_handlers
from assistant.api.middleware import (
    UPLOAD_FORM_OVERHEAD,
    UPLOAD_PATHS,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
)
from assistant.api.openapi import annotate_routes, install_openapi
from assistant.api.routes import (
    applications,
    chat,
    chat_stream,
    copilot,
    documents,
    health,
    intake,
    kb,
    lifecycle,
    match,
    nlu,
    quote,
    score,
    valuation,
    web,
    wechat,
)
from assistant.api.routes import metrics as metrics_routes  # assistant.metrics is imported above
from assistant.logs import configure_logging, get_logger
from assistant.services import Services
from assistant.settings import Settings, get_settings

log = get_logger(__name__)

# Route modules, in the order their paths should appear in the docs.
ROUTE_MODULES = [
    health,
    quote,
    nlu,
    chat,
    chat_stream,
    score,
    match,
    valuation,
    kb,
    documents,
    copilot,
    wechat,
    lifecycle,
    applications,
    metrics_routes,
    web,
    intake,
]


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: the environment)."""
    settings = settings or get_settings()
    services = services or Services(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        prepared = services.warm_up(index_in_background=True)  # /health answers while the index builds
        log.info("startup", version=__version__, **prepared)
        metrics.record_memory(force=True)
        yield
        services.wait_for_index()
        metrics.mark_worker_exit(settings)

    app = FastAPI(
        title="汽车金融智能助手 Loan Assistant",
        version=__version__,
        description="Quotes with the true APR, matching, risk scoring, cited answers and documents.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load from CDNs; install_docs serves them locally
        redoc_url=None,
    )
    app.state.services = services
    app.state.settings = settings
    install_error_handlers(app)
    install_docs(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes,
                       path_limits=((UPLOAD_PATHS, settings.intake_max_bytes + UPLOAD_FORM_OVERHEAD),))
    app.add_middleware(RequestContextMiddleware)
    for module in ROUTE_MODULES:
        annotate_routes(module.router)  # error responses and security in the OpenAPI document
        app.include_router(module.router)
    install_openapi(app)
    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory entry point (``--factory assistant.api.app:app_from_env``)."""
    from assistant.console import index_reporter

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    _thread_lock_for_progress_bars()
    services = Services(settings)
    services.index_progress = index_reporter(json_logs=settings.log_json)  # the worker that builds the index says so
    return create_app(settings, services)


def _thread_lock_for_progress_bars() -> None:
    """tqdm (the index build's progress) otherwise makes a multiprocessing semaphore in each worker, which
    the worker leaves to the resource tracker as it exits: a bare warning line amid the JSON logs."""
    import threading

    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
