"""The web chat page and the agent desk in a real headless Chromium (Debian's ``chromium``, Playwright).

A customer types a question and the streamed reply arrives with offer cards (car, monthly payment, APR,
total interest) from the real engine, then a repayment chart; the 转人工 button hands over. A scripted
engine covers citations that open, document links, reloads and refused messages. Screenshots go to
``artifacts/`` (and ``docs/images/web_chat.png``, ``web_chat_mobile.png`` for the README: desktop 1280×800
and phone 390×844, the real engine's reply). Layout at both sizes: ``test_web_chat_layout.py``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings
from tests.channels.fakes import FakeChat
from tests.channels.layout import DESKTOP, MOBILE, assert_chat_fits
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
def real_page(browser: Browser, settings: Settings) -> Iterator[Page]:
    """The page served by the real app: real NLU, engine, catalogue and matching."""
    with serve(create_app(settings, Services(settings))) as base_url:
        context = browser.new_context(viewport=DESKTOP, base_url=base_url, locale="zh-CN")
        yield context.new_page()
        context.close()


@pytest.fixture
def page(browser: Browser, settings: Settings) -> Iterator[Page]:
    """The page over a scripted engine (citations, documents and errors on demand)."""
    services = Services(settings)
    services.chat = FakeChat()  # type: ignore[misc]
    with serve(create_app(settings, services)) as base_url:
        context = browser.new_context(viewport={"width": 900, "height": 1100}, base_url=base_url, locale="zh-CN")
        yield context.new_page()
        context.close()


def test_real_engine_offer_cards_chart_and_handoff(real_page: Page) -> None:
    page = real_page
    page.goto("/")
    expect(page.locator("h1")).to_have_text("汽车金融智能助手")
    page.fill("#input", "预算15万想买SUV有什么推荐")
    page.press("#input", "Enter")
    page.wait_for_selector(".offer-card", timeout=120_000)
    cards = page.locator(".offer-card")
    assert cards.count() >= 1
    first = cards.first
    expect(first.locator(".offer-car")).not_to_be_empty()
    expect(first.locator(".monthly-payment")).to_contain_text("元")
    expect(first.locator(".apr")).to_contain_text("%")
    expect(first.locator(".total-interest")).to_contain_text("元")
    reasons = first.locator(".offer-reasons li")
    assert reasons.count() >= 1 and "object" not in reasons.first.inner_text()
    expect(page.locator(".msg.assistant").last.locator(".bubble")).to_contain_text("年化利率")

    page.fill("#input", "车价20万首付三成分36期月供多少")
    page.press("#input", "Enter")
    page.wait_for_selector("svg.repayment-chart", timeout=120_000)
    expect(page.locator("svg.repayment-chart g.bar")).to_have_count(36)
    expect(page.locator(".quote-chart figcaption")).to_contain_text("年化利率(IRR) 4.50%")

    assert_chat_fits(page)
    # After a reload the real store gives back both replies' parts: the offer cards and the 36-bar chart.
    cards = page.locator(".offer-card").count()
    page.reload()
    expect(page.locator(".msg.customer")).to_have_count(2)
    expect(page.locator(".offer-card")).to_have_count(cards)
    expect(page.locator("svg.repayment-chart g.bar")).to_have_count(36)
    assert page.locator("#suggestions").is_hidden()
    assert_chat_fits(page)

    # The README's pictures: the first reply's offer cards in view on a desktop, the newest (the chart)
    # on a phone, each with the composer at the bottom of the screen.
    page.evaluate("""() => { const pane = document.getElementById('messages');
      const asked = pane.querySelector('.msg.customer');
      pane.scrollTop = asked.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop - 12; }""")
    _readme_shot(page, "web_chat.png")
    page.set_viewport_size(MOBILE)
    page.evaluate("document.getElementById('messages').scrollTop = 1e9")
    assert_chat_fits(page)
    _readme_shot(page, "web_chat_mobile.png")
    page.set_viewport_size(DESKTOP)

    page.click("#handoff")
    expect(page.locator(".handoff-note")).to_be_visible(timeout=60_000)
    expect(page.locator(".msg.customer").last).to_have_text("转人工")


def test_citation_popover_document_link_and_reload(page: Page) -> None:
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


def test_agent_desk_analyses_and_checks_a_draft(page: Page) -> None:
    page.goto("/desk")  # staff only: the login form first, then the desk with the key already filled in
    page.fill("#login-key", "test-key")
    page.click("#login")
    expect(page.locator("#api-key")).to_have_value("test-key")
    page.fill("#transcript", "客户：我失业了，这个月月供还不上了\n坐席：请问逾期几天了？\n客户：十来天吧")
    page.click("#analyse")
    expect(page.locator("#alerts li[data-code='customer_hardship']")).to_be_visible(timeout=60_000)
    expect(page.locator("#actions li[data-code='hardship_options']")).to_be_visible()
    expect(page.locator("#draft")).to_have_value(re.compile("延期"))
    page.fill("#draft", "别担心，我们保证能批，月供3000元")
    page.click("#check-draft")
    expect(page.locator("#alerts li[data-code='approval_promise']")).to_be_visible(timeout=60_000)
    expect(page.locator("#alerts li[data-code='price_without_apr']")).to_be_visible()
    page.screenshot(path=str(_artifact("desk.png")), full_page=True)
    page.fill("#api-key", "wrong")
    page.click("#analyse")
    expect(page.locator("#desk-error")).to_contain_text("API")


def test_agent_desk_shows_the_customers_facts_as_people_read_them(page: Page) -> None:
    page.goto("/desk")
    page.fill("#login-key", "test-key")
    page.click("#login")
    expect(page.locator("#api-key")).to_have_value("test-key")
    page.fill("#transcript", "客户：预算15万想买电车，首付四成")
    page.click("#analyse")
    row = page.locator("#slots tr[data-slot='down_payment_ratio']")
    expect(row).to_have_text("首付比例40%", timeout=60_000)
    expect(page.locator("#slots tr[data-slot='budget']")).to_have_text("预算15万元")
    expect(page.locator("#slots tr[data-slot='energy_type']")).to_have_text("能源类型纯电")
    table = page.locator("#slots").inner_text()
    assert "down_payment_ratio" not in table and "0.4" not in table and "bev" not in table


def _readme_shot(page: Page, name: str) -> None:
    """A viewport screenshot into ``artifacts/`` and ``docs/images/`` (the README shows it)."""
    shot = _artifact(name)
    page.screenshot(path=str(shot))
    docs = ROOT / "docs" / "images"
    docs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, docs / name)


def _artifact(name: str) -> Path:
    out = ROOT / "artifacts"
    out.mkdir(exist_ok=True)
    return out / name
