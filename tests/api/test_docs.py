"""``/docs`` and ``/redoc`` work without internet: every asset comes from this server.

The HTTP checks read the pages and assets; the browser checks open both pages in headless Chromium with
every request that is not to the local server aborted, and assert that the operations render and that
nothing tried to leave the machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Route, expect

from assistant.api.app import create_app
from assistant.api.docs import ASSET_FILES, ASSETS_URL
from assistant.services import Services
from assistant.settings import Settings
from tests.channels.live_server import serve
from tests.channels.test_web_chat_browser import browser  # noqa: F401 — the one Chromium fixture

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
URL_ATTR = re.compile(r"""(?:src|href|url)\s*[=:(]\s*['"]?([^'")\s>]+)""")


@pytest.fixture
def app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The real app; startup does not warm models or build the knowledge index (the docs need neither)."""
    services = Services(settings)
    monkeypatch.setattr(services, "warm_up", lambda **_: {})
    return create_app(settings, services)


def test_docs_pages_reference_only_local_urls(app: FastAPI) -> None:
    http = TestClient(app)
    for path in ("/docs", "/redoc"):
        res = http.get(path)
        assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
        urls = URL_ATTR.findall(res.text)
        assert urls, f"{path} references no assets"
        external = [u for u in urls if urlsplit(u).netloc]
        assert external == [], f"{path} loads from elsewhere: {external}"
        assert "fonts.googleapis" not in res.text and "cdn." not in res.text
        assert "default-src 'self'" in res.headers["content-security-policy"]
    assert f"{ASSETS_URL}/swagger-ui-bundle.js" in http.get("/docs").text
    assert f"{ASSETS_URL}/redoc.standalone.js" in http.get("/redoc").text


def test_docs_assets_are_served_with_their_types(app: FastAPI) -> None:
    http = TestClient(app)
    types = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for name in ASSET_FILES:
        res = http.get(f"{ASSETS_URL}/{name}")
        assert res.status_code == 200 and len(res.content) > 1000, name
        assert types[name[name.rindex("."):]] in res.headers["content-type"], name
    assert http.get(f"{ASSETS_URL}/../docs.py").status_code == 404
    assert http.get("/docs/oauth2-redirect").status_code == 200
    # The pages are not operations of the API.
    assert not {"/docs", "/redoc"} & set(http.get("/openapi.json").json()["paths"])


@pytest.fixture
def offline_page(browser: Browser, app: FastAPI) -> Iterator[tuple[Page, list[str]]]:  # noqa: F811
    """A page on the live app with the network off: every request that reaches the network layer and is
    not for the local server is aborted and listed. (One the page's Content-Security-Policy stops never
    gets that far: the browser refuses it itself.)"""
    left: list[str] = []

    def only_local(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            left.append(url)
            route.abort("internetdisconnected")

    with serve(app) as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
        context.route("**/*", only_local)
        page = context.new_page()
        yield page, left
        context.close()


def test_swagger_ui_renders_the_operations_offline(offline_page: tuple[Page, list[str]]) -> None:
    page, left = offline_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    expect(page.locator(".opblock-summary-path[data-path='/v1/quote']")).to_be_visible()
    assert page.locator(".opblock").count() >= 10
    expect(page.locator(".info .title")).to_contain_text("Loan Assistant")
    # Opening an operation shows its schema (the bundle's JS works, not only its first paint).
    page.locator(".opblock-summary-path[data-path='/v1/quote']").click()
    expect(page.locator(".opblock.is-open .opblock-section-request-body")).to_be_visible()
    assert errors == [] and left == []


def test_redoc_renders_offline(offline_page: tuple[Page, list[str]]) -> None:
    """ReDoc's bundle links a logo on cdn.redoc.ly: the page's policy keeps the browser from asking."""
    page, left = offline_page
    page.goto("/redoc")
    expect(page.locator(".redoc-wrap")).to_be_visible(timeout=30_000)
    expect(page.locator(".api-info h1")).to_contain_text("Loan Assistant")
    expect(page.get_by_role("menuitem", name="quote")).to_be_visible()
    expect(page.locator(".api-content")).to_contain_text("/v1/quote")
    assert left == []
