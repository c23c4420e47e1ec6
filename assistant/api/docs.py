"""The API docs (``/docs`` Swagger UI, ``/redoc`` ReDoc) served entirely from this server.

FastAPI's default pages load Swagger UI, ReDoc, a favicon and Google Fonts from CDNs, so on a server
without internet they stay blank. The JS/CSS come instead from the pinned ``fastapi-offline`` wheel
(``fastapi_offline/static``: ``swagger-ui-bundle.js``, ``swagger-ui.css``, ``redoc.standalone.js``,
``favicon.png``), mounted under :data:`ASSETS_URL`; we use only its files, not its app factory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from assistant.errors import ConfigurationError

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs-assets"
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
# The pages may load only from this server. ReDoc's bundle hard-codes a logo from cdn.redoc.ly in its
# sidebar; the policy stops the browser from fetching it (the link text stays). Inline script/style:
# FastAPI's page starts Swagger UI inline, and both UIs inject their styles at runtime.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
                           "connect-src 'self'; frame-ancestors 'self'")


def assets_dir() -> Path:
    """The directory holding Swagger UI's and ReDoc's files (inside the installed ``fastapi_offline``)."""
    try:
        path = Path(str(files("fastapi_offline") / "static"))
    except ModuleNotFoundError as exc:
        raise ConfigurationError("API 文档的静态文件缺失：请安装 fastapi-offline（见 pyproject.toml）",
                                 "API docs assets missing: install fastapi-offline (see pyproject.toml)") from exc
    missing = [name for name in ASSET_FILES if not (path / name).is_file()]
    if missing:
        raise ConfigurationError(f"API 文档的静态文件不完整，缺少 {', '.join(missing)}",
                                 f"API docs assets incomplete, missing {', '.join(missing)}")
    return path


def install_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/docs/oauth2-redirect`` and ``/redoc`` with local assets to ``app``.

    ``app`` must be created with ``docs_url=None, redoc_url=None`` (FastAPI's CDN-backed pages off).
    """
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")

    def _root(request: Request) -> str:
        # Behind a proxy that strips a prefix, the page must still point at the prefixed URLs.
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        assets = f"{root}{ASSETS_URL}"
        return _local_only(get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} · API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js", swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png", oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
            # No spec-validator badge: it is an image fetched from validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        ))

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        assets = f"{root}{ASSETS_URL}"
        return _local_only(get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} · ReDoc",
                                          redoc_js_url=f"{assets}/redoc.standalone.js",
                                          redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False))


def _local_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page
