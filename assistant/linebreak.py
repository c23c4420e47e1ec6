"""Line breaking for Chinese and mixed text on a terminal: never inside a number, a Latin word or a
Chinese word, never a closing mark at the start of a line.

A terminal (and rich, which treats a run of Chinese without spaces as one long word and cuts it at
the width) breaks "月供2,438.38元" anywhere. Here the text is cut into units first: a number with its
separators and unit (``2,438.38元``, ``2.99%``), a Latin word or a URL, a Chinese word (jieba, the
project's one segmenter), a space; closing punctuation sticks to the unit before it, opening
punctuation to the unit after. Lines are then filled greedily by display width (a Chinese character
is two cells). A unit wider than a whole line is the only thing ever cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.cells import cell_len, chop_cells

# A number (digits with thousands separators / decimals / ranges) with a unit or percent sign after it.
_NUMBER = r"[-+]?\d[\d,.]*(?:%|‰|元|万元|万|亿|期|个月|月|年|岁|天|日|次|km|公里|倍)?"
_LATIN = r"https?://\S+|[A-Za-z][A-Za-z0-9'’_./-]*[A-Za-z0-9]|[A-Za-z]"
_HAN = r"[\u3400-\u9fff\uf900-\ufaff]+"
_UNIT = re.compile(rf"(?P<num>{_NUMBER})|(?P<latin>{_LATIN})|(?P<han>{_HAN})|(?P<space>\s+)|(?P<other>.)", re.S)
_CLOSING = set("，。、；：！？）》」』】〕”’%,.;:!?)]}…·～")
_OPENING = set("（《「『【〔“‘([{")


def _segment_han(run: str) -> list[str]:
    from assistant.segmenter import tokenizer

    return [w for w in tokenizer().cut(run, HMM=True) if w]


def units(text: str) -> list[str]:
    """The unbreakable pieces of one line of text, in order (spaces kept as their own pieces)."""
    raw: list[str] = []
    for match in _UNIT.finditer(text):
        kind = match.lastgroup
        piece = match.group()
        raw.extend(_segment_han(piece) if kind == "han" else [piece])
    glued: list[str] = []
    carry = ""
    for piece in raw:
        if piece in _OPENING:
            carry += piece
            continue
        piece, carry = carry + piece, ""
        if glued and not piece.isspace() and piece[0] in _CLOSING and not glued[-1].isspace():
            glued[-1] += piece
        else:
            glued.append(piece)
    if carry:
        glued.append(carry)
    return glued


def wrap_line(text: str, width: int, indent: str = "") -> list[str]:
    """One paragraph (no newlines) as lines of at most ``width`` cells; later lines start with ``indent``."""
    width = max(width, 4)
    lines: list[str] = []
    line, used = "", 0
    for unit in units(text):
        size = cell_len(unit)
        if unit.isspace():
            if line:  # a space at a break is dropped, inside a line kept
                line, used = line + unit, used + size
            continue
        if used + size > width and line.strip():
            lines.append(line.rstrip())
            line, used = indent, cell_len(indent)
        room = width - used
        while size > room and room > 0 and size > width - cell_len(indent):
            # A single unit longer than a line (a long URL): the only case that is cut.
            head = chop_cells(unit, room)[0]
            lines.append((line + head).rstrip())
            unit = unit[len(head):]
            size = cell_len(unit)
            line, used = indent, cell_len(indent)
            room = width - used
        line, used = line + unit, used + size
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def wrap(text: str, width: int, indent: str = "") -> Iterable[str]:
    """Every line of ``text`` wrapped to ``width`` cells (its own line breaks kept)."""
    for paragraph in text.splitlines() or [""]:
        # A list item's continuation lines line up under its text ("1. ", "- ").
        marker = re.match(r"\s*(?:\d+[.、)]|[-*•])\s+", paragraph)
        extra = " " * cell_len(marker.group()) if marker else ""
        yield from wrap_line(paragraph, width, indent + extra)
