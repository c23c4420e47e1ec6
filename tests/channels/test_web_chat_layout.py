"""The web chat's layout in headless Chromium at a desktop (1280×800) and a phone (390×844) size, asserted
on bounding boxes and scroll positions: the composer stays on screen after many turns and the message
pane follows the newest message (also while a reply streams in); a reload draws each reply's offer cards,
chart, citations and document links again; the header buttons keep their labels on one line, the input's
hint is never clipped, and the suggestion chips go once the conversation has started.

One server over the scripted engine for the module (its figures come from the real quote maths); one
browser context per test and size.
"""

from __future__ import annotations

import math
import queue
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings
from tests.channels.fakes import FakeChat
from tests.channels.layout import DESKTOP, MOBILE, assert_chat_fits, header_buttons, measure, placeholder_fit
from tests.channels.live_server import serve
from tests.channels.test_web_chat_browser import browser  # noqa: F401 — the one Chromium fixture
from tests.conftest import TEST_API_KEY

PRICED = "车价20万首付三成分36期月供多少"
POLICY = "提前还款有违约金吗"
SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(MOBILE, id="mobile")]


@pytest.fixture(scope="module")
def fake_chat() -> FakeChat:
    return FakeChat()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, fake_chat: FakeChat) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("web-layout") / "data", api_keys=[TEST_API_KEY],
                        _env_file=None)  # type: ignore[call-arg]
    services = Services(settings)
    services.chat = fake_chat  # type: ignore[misc]
    with serve(create_app(settings, services)) as url:
        yield url


@pytest.fixture(params=SIZES)
def page(request: pytest.FixtureRequest, browser: Browser, base_url: str,  # noqa: F811
         fake_chat: FakeChat) -> Iterator[Page]:
    fake_chat.long_reply, fake_chat.paced = None, None
    context = browser.new_context(viewport=request.param, base_url=base_url, locale="zh-CN")
    tab = context.new_page()
    tab.goto("/")
    yield tab
    context.close()


def send(page: Page, text: str) -> None:
    """Type ``text``, press Enter, and wait until its whole reply (with its parts) has been drawn."""
    replies = page.locator(".msg.assistant:not(.welcome)")
    before = replies.count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    expect(replies).to_have_count(before + 1)
    expect(page.locator(".msg.streaming")).to_have_count(0)
    expect(page.locator("#send")).to_be_enabled()


def test_the_composer_stays_in_view_and_the_pane_follows_the_newest_message(page: Page) -> None:
    assert_chat_fits(page, overflowing=False)
    for turn in range(3):
        send(page, PRICED if turn != 1 else POLICY)
        m = assert_chat_fits(page, overflowing=turn > 0)
    assert page.locator(".offer-card").count() == 2 and page.locator("svg.repayment-chart").count() == 2
    # The newest reply is the one in view: its chart's bottom is inside the pane.
    chart = page.locator("svg.repayment-chart").last.bounding_box()
    assert chart is not None and chart["y"] + chart["height"] <= m["pane"]["bottom"] + 1

    # Scrolled up to read an older reply, the reader stays there while nothing new arrives...
    page.evaluate("document.getElementById('messages').scrollTop = 0")
    page.wait_for_function("document.getElementById('messages').scrollTop === 0")
    assert measure(page)["pane"]["scrollTop"] == 0
    # ...and their own next message brings the pane back to the newest.
    send(page, POLICY)
    assert_chat_fits(page)


def test_the_pane_follows_a_streamed_reply_as_it_grows(page: Page, fake_chat: FakeChat) -> None:
    reply = "".join(f"第{n}条：提前还款需提前30天申请，违约金按合同约定。\n" for n in range(1, 61))
    fake_chat.long_reply = reply
    fake_chat.paced = queue.Queue()
    chunks = math.ceil(len(reply) / 8)  # FakeChat streams 8 characters a delta
    steps = 12
    per_step = math.ceil(chunks / steps)
    page.fill("#input", POLICY)
    page.press("#input", "Enter")
    gaps = []
    for step in range(1, steps + 1):  # let the reply grow a twelfth at a time, and look at the pane each time
        fake_chat.paced.put(per_step)
        shown = min(len(reply), step * per_step * 8)
        page.wait_for_function("n => document.querySelector('#messages > .msg:last-child .bubble')"
                               ".textContent.length >= n", arg=shown)
        pane = measure(page)["pane"]
        gaps.append((pane["scrollHeight"] - pane["scrollTop"] - pane["clientHeight"],
                     pane["scrollHeight"] > pane["clientHeight"]))
    overflowing = [gap for gap, over in gaps if over]
    assert len(overflowing) >= steps // 2, gaps  # the reply outgrew the pane while it streamed...
    assert max(overflowing) <= 1, gaps  # ...and the pane kept its newest line in view all along
    expect(page.locator(".msg.streaming")).to_have_count(0)
    assert_chat_fits(page)


def test_a_reload_draws_offer_cards_chart_citations_and_links_again(page: Page) -> None:
    send(page, PRICED)
    send(page, POLICY)
    send(page, "转人工")
    drawn = _parts_on_screen(page)
    assert drawn["cards"] == ["比亚迪 宋PLUS DM-i"] and drawn["bars"] == 36
    assert drawn["citations"] == ["[1] 年化利率说明", "[1] 提前还款规则"]
    assert drawn["links"][0].startswith("/v1/documents/doc1?session_id=") and drawn["handoff"] == 1

    page.reload()
    expect(page.locator(".msg.customer")).to_have_count(3)
    expect(page.locator(".offer-card")).to_have_count(1)
    assert _parts_on_screen(page) == drawn
    expect(page.locator(".offer-card .monthly-payment")).to_contain_text("元")
    expect(page.locator(".offer-card .apr")).to_have_text("4.50%")
    assert page.locator("#suggestions").is_hidden()
    assert_chat_fits(page)

    # A citation of a reloaded reply still opens, inside the viewport, though it sits above the composer.
    page.locator("button.citation").last.click()
    expect(page.locator("#popover .popover-title")).to_have_text("提前还款规则")
    pop = page.locator("#popover").bounding_box()
    view = page.viewport_size
    assert pop is not None and view is not None
    assert pop["y"] >= 0 and pop["y"] + pop["height"] <= view["height"]
    assert pop["x"] >= 0 and pop["x"] + pop["width"] <= view["width"]


def test_header_buttons_keep_one_line_and_the_hint_is_never_clipped(page: Page) -> None:
    buttons = header_buttons(page)
    view = page.viewport_size
    assert view is not None
    assert [b["text"] for b in buttons] == ["新对话", "转人工"]
    for b in buttons:
        assert b["lines"] == 1, b
        assert b["contentHeight"] <= 2 * b["fontSize"], b  # one line high, not one character per line
        assert b["right"] <= view["width"], b
    assert abs(buttons[0]["top"] - buttons[1]["top"]) < 1  # side by side

    hint = placeholder_fit(page)
    assert hint["placeholder"], hint
    assert hint["scrollWidth"] <= hint["clientWidth"], hint
    if view["width"] >= 1000:  # a desktop has room for the whole example
        assert hint["placeholder"] == "请输入您的问题，例如：车价20万首付三成分36期月供多少"


def test_the_suggestion_chips_go_once_the_conversation_has_started(page: Page) -> None:
    chips = page.locator("#suggestions")
    expect(chips).to_be_visible()
    chip = page.locator("#suggestions .chip").nth(1)
    assert (chip.bounding_box() or {"y": 1e9})["y"] < (page.viewport_size or {"height": 0})["height"]
    chip.click()
    expect(chips).to_be_hidden()
    expect(page.locator(".msg.customer")).to_have_text(["车价20万首付三成分36期月供多少"])
    expect(page.locator(".msg.streaming")).to_have_count(0)
    page.reload()  # a started conversation, reloaded: no chips
    expect(page.locator(".msg.customer")).to_have_count(1)
    expect(chips).to_be_hidden()
    page.click("#new-chat")  # a new conversation offers them again
    expect(chips).to_be_visible()
    expect(page.locator(".msg:not(.welcome)")).to_have_count(0)
    page.reload()  # and a fresh page (no session) shows them
    expect(chips).to_be_visible()


def _parts_on_screen(page: Page) -> dict[str, Any]:
    return page.evaluate("""() => ({
      cards: [...document.querySelectorAll(".offer-card .offer-car")].map((n) => n.textContent),
      bars: document.querySelectorAll("svg.repayment-chart g.bar").length,
      citations: [...document.querySelectorAll("button.citation")].map((n) => n.textContent),
      links: [...document.querySelectorAll("a.doc-link")].map((n) => n.getAttribute("href")),
      handoff: document.querySelectorAll(".handoff-note").length,
    })""")
