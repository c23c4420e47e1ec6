"""Layout measurements of the web chat in a real browser (bounding boxes, scroll positions), for the
Chromium tests: what a customer sees, asserted as numbers rather than judged from a screenshot."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}

_MEASURE = """() => {
  const box = (node) => {
    if (!node) return null;
    const b = node.getBoundingClientRect();
    return { top: b.top, bottom: b.bottom, left: b.left, right: b.right, width: b.width, height: b.height };
  };
  const pane = document.getElementById("messages");
  const root = document.scrollingElement;
  const before = root.scrollTop;
  window.scrollTo(0, 100000);  // a document that can scroll moves; the chat page must not
  const documentScrolled = root.scrollTop;
  window.scrollTo(0, before);
  return {
    viewport: { width: innerWidth, height: innerHeight },
    document: { scrollHeight: root.scrollHeight, scrollWidth: root.scrollWidth, scrolled: documentScrolled },
    composer: box(document.getElementById("composer")),
    input: box(document.getElementById("input")),
    send: box(document.getElementById("send")),
    pane: { ...box(pane), scrollTop: pane.scrollTop, scrollHeight: pane.scrollHeight, clientHeight: pane.clientHeight },
    last: box(pane.lastElementChild),
  };
}"""

_HEADER_BUTTONS = """() => [...document.querySelectorAll(".header-actions button")].map((button) => {
  const range = document.createRange();
  range.selectNodeContents(button);
  const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  const style = getComputedStyle(button);
  const box = button.getBoundingClientRect();
  const chrome = ["paddingTop", "paddingBottom", "borderTopWidth", "borderBottomWidth"]
    .reduce((sum, k) => sum + parseFloat(style[k]), 0);
  return { text: button.textContent, lines: lines.size, contentHeight: box.height - chrome,
           fontSize: parseFloat(style.fontSize), right: box.right, top: box.top, bottom: box.bottom };
})"""

# The hint as that very textarea draws it, on one line: its scroll width beyond its client width is the
# part a customer would not see.
_PLACEHOLDER = """() => {
  const input = document.getElementById("input");
  const saved = { value: input.value, wrap: input.getAttribute("wrap"), height: input.style.height };
  input.setAttribute("wrap", "off");
  input.value = input.placeholder;
  const out = { placeholder: input.placeholder, scrollWidth: input.scrollWidth, clientWidth: input.clientWidth };
  input.value = saved.value;
  if (saved.wrap === null) input.removeAttribute("wrap"); else input.setAttribute("wrap", saved.wrap);
  input.style.height = saved.height;
  return out;
}"""


def measure(page: Page) -> dict[str, Any]:
    """The boxes and scroll positions of the chat page right now."""
    return page.evaluate(_MEASURE)


def header_buttons(page: Page) -> list[dict[str, Any]]:
    """Each header button: how many lines its label takes, its content height and font size."""
    return page.evaluate(_HEADER_BUTTONS)


def placeholder_fit(page: Page) -> dict[str, Any]:
    """The input's hint and how wide it is drawn on one line against the room the input has."""
    return page.evaluate(_PLACEHOLDER)


def assert_chat_fits(page: Page, *, overflowing: bool = True) -> dict[str, Any]:
    """The composer is inside the viewport, the document does not scroll (no more than one viewport high,
    not wider than it), and the message pane is scrolled to its newest message. ``overflowing``: the pane
    holds more than it shows (so "at the bottom" means it scrolled)."""
    m = measure(page)
    vw, vh = m["viewport"]["width"], m["viewport"]["height"]
    for name in ("composer", "input", "send"):
        box = m[name]
        assert box["top"] >= 0 and box["bottom"] <= vh + 0.5, (name, box, vh)
        assert box["left"] >= 0 and box["right"] <= vw + 0.5, (name, box, vw)
    assert m["document"]["scrolled"] == 0, m["document"]
    assert m["document"]["scrollHeight"] <= vh, m["document"]
    assert m["document"]["scrollWidth"] <= vw, m["document"]
    pane = m["pane"]
    if overflowing:
        assert pane["scrollHeight"] > pane["clientHeight"], pane
    assert pane["scrollTop"] + pane["clientHeight"] >= pane["scrollHeight"] - 1, pane
    assert m["last"]["bottom"] <= pane["bottom"] + 1, (m["last"], pane)
    assert pane["bottom"] <= m["composer"]["top"] + 0.5, (pane, m["composer"])
    return m
