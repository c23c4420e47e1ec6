"""Render a document kind to Markdown, HTML or PDF from one quote, and check the output before issuing.

Markdown is the source form: the template renders Markdown, HTML is that Markdown (CommonMark + tables)
inside ``_layout.html.j2`` with the print CSS, and PDF is that HTML through WeasyPrint with a Noto CJK font.
Before anything is returned the rendered text is read back: every headline figure must be there, and the
schedule table must equal the quote's schedule row by row and add up to its totals.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from markupsafe import Markup

from assistant.documents.amounts import cn_number
from assistant.documents.fonts import document_fonts, font_face_css, require_cjk_font
from assistant.documents.kinds import CONTENT_TYPES, DocumentFormat, DocumentKind
from assistant.documents.templates import TemplateBundle
from assistant.documents.view import as_decimal, required_figures
from assistant.domain.money import ZERO
from assistant.domain.quote import Quote
from assistant.errors import ConfigurationError, ConsistencyError
from assistant.logs import get_logger

log = get_logger(__name__)

_MONEY = r"([\d,]+\.\d{2})"
_ROW = re.compile(
    rf"^\|\s*(\d+)\s*\|\s*(\d{{4}}-\d{{2}}-\d{{2}})\s*\|\s*{_MONEY}\s*\|\s*{_MONEY}\s*\|\s*{_MONEY}\s*\|\s*{_MONEY}\s*\|\s*$",
    re.M,
)
_BOLD_MONEY = rf"\s*\*\*{_MONEY}\*\*\s*\|"
_TOTAL = re.compile(rf"^\|\s*\*\*合计\*\*\s*\|[^|]*\|{_BOLD_MONEY}{_BOLD_MONEY}{_BOLD_MONEY}", re.M)
SCHEDULE_KINDS = frozenset({DocumentKind.REPAYMENT_SCHEDULE})


class Numbering:
    """Article / section numbers for one rendering (clauses are conditional, so they are counted)."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        if self.style == "article":
            return f"第{cn_number(self.count)}条"
        if self.style == "section":
            return f"{cn_number(self.count)}、"
        return f"{self.count}."


@dataclass(frozen=True)
class Rendered:
    """One rendered document, not yet stored."""

    kind: DocumentKind
    format: DocumentFormat
    lang: str
    title: str
    template_version: str
    content: bytes
    markdown: str

    @property
    def content_type(self) -> str:
        """The HTTP content type of :attr:`content`."""
        return CONTENT_TYPES[self.format]


def _refuse(kind: DocumentKind, problems: list[str]) -> ConsistencyError:
    return ConsistencyError(
        f"{kind.value} 渲染结果与报价不一致，已拒绝出具：" + "；".join(problems),
        f"rendered {kind.value} disagrees with the quote, refusing to issue: " + "; ".join(problems),
    )


def verify_schedule_table(kind: DocumentKind, text: str, q: Quote) -> None:
    """The rendered schedule equals the quote's rows, and its rows add up to its own totals line."""
    rows = _ROW.findall(text)
    problems: list[str] = []
    if len(rows) != q.term_months:
        problems.append(f"schedule has {len(rows)} rows, expected {q.term_months}")
    sums = [ZERO, ZERO, ZERO]
    for rendered, expected in zip(rows, q.schedule, strict=False):
        period, _date, payment, principal, interest, balance = rendered
        values = [as_decimal(v) for v in (payment, principal, interest, balance)]
        if int(period) != expected.period or values != [expected.payment, expected.principal, expected.interest,
                                                         expected.balance]:
            problems.append(f"row {period} differs from the quote")
            break
        if values[0] != values[1] + values[2]:
            problems.append(f"row {period}: payment ≠ principal + interest")
            break
        sums = [sums[0] + values[0], sums[1] + values[1], sums[2] + values[2]]
    totals = _TOTAL.findall(text)
    if len(totals) != 1:
        problems.append("schedule totals line missing")
    else:
        shown = [as_decimal(v) for v in totals[0]]
        if shown != [q.total_paid, q.principal, q.total_interest]:
            problems.append("totals line differs from the quote")
        if not problems and sums != shown:
            problems.append("rows do not add up to the totals line")
    if rows and as_decimal(rows[-1][5]) != Decimal("0"):
        problems.append("final balance is not 0.00")
    if problems:
        raise _refuse(kind, problems)


def verify_text(kind: DocumentKind, text: str, view: dict[str, Any], q: Quote) -> None:
    """Every headline figure of ``kind`` appears in ``text``; schedules match the quote exactly."""
    missing = [name for name, value in required_figures(view, kind.value).items() if value not in text]
    if missing:
        raise _refuse(kind, [f"missing {name}" for name in missing])
    if kind in SCHEDULE_KINDS:
        verify_schedule_table(kind, text, q)


class Renderer:
    """Templates loaded once; WeasyPrint, its font configuration and the parsed stylesheet loaded on first PDF."""

    def __init__(self, templates_dir: Path, font_cache_dir: Path | None = None) -> None:
        self.bundle = TemplateBundle(templates_dir)
        self.font_cache_dir = font_cache_dir
        self._pdf_lock = threading.Lock()
        self._pdf_tools: tuple[Any, Any, Any] | None = None

    def check_pdf_ready(self) -> tuple[str, ...]:
        """Fonts and WeasyPrint present (a :class:`ConfigurationError` otherwise); returns the CJK families."""
        families = require_cjk_font()
        self._weasyprint()
        return families

    def _weasyprint(self) -> tuple[Any, Any, Any]:
        with self._pdf_lock:
            if self._pdf_tools is None:
                self._pdf_tools = self._load_weasyprint()
            return self._pdf_tools

    def _load_weasyprint(self) -> tuple[Any, Any, Any]:
        try:
            from weasyprint import CSS, HTML
            from weasyprint.text.ffi import harfbuzz_subset
            from weasyprint.text.fonts import FontConfiguration
        except (ImportError, OSError) as exc:  # OSError: Pango/HarfBuzz shared libraries missing
            raise ConfigurationError(
                "PDF组件WeasyPrint不可用，请安装 weasyprint 及其系统库（Pango）",
                f"WeasyPrint is not usable: {exc}",
            ) from exc
        if harfbuzz_subset is None:
            # Without it WeasyPrint subsets CJK fonts with fontTools: ~20× slower (seconds per PDF).
            log.warning("pdf_slow_font_subsetting", fix="apt-get install libharfbuzz-subset0")
        fonts = FontConfiguration()
        faces = document_fonts(self.font_cache_dir) if self.font_cache_dir is not None else []
        stylesheet = CSS(string=self.bundle.css + font_face_css(faces), font_config=fonts)
        return HTML, stylesheet, fonts

    def render(self, kind: DocumentKind, fmt: DocumentFormat, lang: str, view: dict[str, Any], q: Quote) -> Rendered:
        """Render ``kind`` in ``fmt``; raises :class:`ConsistencyError` if the output disagrees with ``q``."""
        info = self.bundle.info(kind, lang)
        doc = {**view["doc"], "title": info.title, "version": info.version, "kind": kind.value, "lang": lang}
        context = {**view, "doc": doc, "article": Numbering("article"), "section": Numbering("section"),
                   "en_section": Numbering("number")}
        markdown = self.bundle.render_markdown(info, context, for_html=fmt is not DocumentFormat.MD)
        verify_text(kind, markdown, view, q)
        if fmt is DocumentFormat.MD:
            content = markdown.encode("utf-8")
        else:
            body = self.bundle.markdown_to_html(markdown)
            _figures_only(kind, body, view)
            page = self.bundle.render_layout(
                doc=doc, body=Markup(body), css=Markup(self.bundle.css) if fmt is DocumentFormat.HTML else None
            )
            content = page.encode("utf-8") if fmt is DocumentFormat.HTML else self._pdf(page)
        return Rendered(kind=kind, format=fmt, lang=lang, title=info.title, template_version=info.version,
                        content=content, markdown=markdown)

    def _pdf(self, page: str) -> bytes:
        html_cls, stylesheet, fonts = self._weasyprint()
        with self._pdf_lock, _gc_paused():  # one FontConfiguration is shared; WeasyPrint promises no thread safety
            return html_cls(string=page, base_url=str(self.bundle.directory)).write_pdf(
                stylesheets=[stylesheet], font_config=fonts
            )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one PDF.

    WeasyPrint allocates hundreds of thousands of small objects per document, which triggers repeated
    full collections: pausing them makes a PDF ~20 % cheaper (benchmarks/documents.py). The collector
    resumes right after, so nothing is kept longer than one render.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _figures_only(kind: DocumentKind, html: str, view: dict[str, Any]) -> None:
    """The HTML still carries every headline figure (the table itself was checked in the Markdown)."""
    missing = [name for name, value in required_figures(view, kind.value).items() if value not in html]
    if missing:
        raise _refuse(kind, [f"missing {name} in HTML" for name in missing])
