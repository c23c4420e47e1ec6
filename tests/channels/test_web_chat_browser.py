"""The web chat page in a real headless Chromium (Debian's ``chromium`` driven by Playwright).

A customer types a question, the streamed reply arrives with an offer card (car, monthly payment,
APR, total interest), a repayment chart, a citation that opens and a document link; the 转人工 button
hands over. Screenshots go to ``artifacts/`` (and ``docs/images/`` for the README).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings
from tests.channels.fakes import FakeChat
from tests.channels.live_server import serve

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required for the browser test: apt-get install chromium")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser, settings: Settings) -> Iterator[Page]:
    services = Services(settings)
    services.chat = FakeChat()  # type: ignore[misc]
    with serve(create_app(settings, services)) as base_url:
        context = browser.new_context(viewport={"width": 900, "height": 1100}, base_url=base_url,
                                      locale="zh-CN")
        tab = context.new_page()
        yield tab
        context.close()


def test_customer_gets_an_offer_card_chart_citation_and_handoff(page: Page) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_have_text("汽车金融智能助手")
    page.fill("#input", "车价20万首付三成分36期月供多少")
    page.press("#input", "Enter")

    card = page.wait_for_selector(".offer-card", timeout=15_000)
    assert card is not None
    expect(page.locator(".offer-card .offer-car")).to_have_text("比亚迪 宋PLUS DM-i")
    expect(page.locator(".offer-card .monthly-payment")).to_contain_text("元")
    expect(page.locator(".offer-card .apr")).to_have_text("4.50%")
    expect(page.locator(".offer-card .total-interest")).to_contain_text("元")
    # The streamed text ended as the turn's reply, with the APR in it.
    expect(page.locator(".msg.assistant").last.locator(".bubble")).to_contain_text("年化利率")
    # Repayment chart: one bar per period (36), drawn inline as SVG.
    expect(page.locator("svg.repayment-chart g.bar")).to_have_count(36)
    # The document link carries the session id (the customer's key to their own documents).
    href = page.locator("a.doc-link").get_attribute("href") or ""
    assert href.startswith("/v1/documents/doc1?session_id=")

    page.click("button.citation")
    expect(page.locator("#popover")).to_be_visible()
    expect(page.locator("#popover .popover-title")).to_have_text("年化利率说明")
    page.screenshot(path=str(_artifact("web_chat_citation.png")))
    page.click("#popover .popover-close")
    expect(page.locator("#popover")).to_be_hidden()

    shot = _artifact("web_chat.png")
    page.screenshot(path=str(shot), full_page=True)
    docs = ROOT / "docs" / "images"
    docs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, docs / "web_chat.png")

    page.click("#handoff")
    expect(page.locator(".handoff-note")).to_be_visible()
    expect(page.locator(".msg.customer").last).to_have_text("转人工")

    # Reloading keeps the conversation (the session id lives in the browser's storage).
    page.reload()
    expect(page.locator(".msg.customer")).to_have_count(2)


def test_a_stale_session_is_dropped_and_a_new_conversation_starts(page: Page) -> None:
    page.goto("/")
    page.evaluate("localStorage.setItem('loan-assistant.session', 'expired-session-id')")
    page.reload()
    page.fill("#input", "你好")
    page.click("#send")
    expect(page.locator(".msg.assistant").last.locator(".bubble")).to_have_text("您好，请问想了解车贷的哪方面？")
    stored = page.evaluate("localStorage.getItem('loan-assistant.session')")
    assert stored and stored != "expired-session-id"


def test_a_refused_message_shows_the_reason(page: Page) -> None:
    page.goto("/")
    page.evaluate("""() => { const i = document.getElementById('input'); i.removeAttribute('maxlength');
                             i.value = '长'.repeat(2100); }""")
    page.click("#send")
    expect(page.locator(".msg.error .bubble")).to_contain_text("消息过长")


def _artifact(name: str) -> Path:
    out = ROOT / "artifacts"
    out.mkdir(exist_ok=True)
    return out / name
