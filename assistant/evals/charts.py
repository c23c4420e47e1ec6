"""Small SVG charts for the eval report, drawn here: no matplotlib (an optional extra), no script, no CDN.

Three shapes, each a function returning one ``<svg>`` element as a string (inlined in the HTML):
a bar chart of rates, a confusion matrix, a calibration (reliability) curve. Text is escaped; sizes
are fixed so a report reads the same in any browser and prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

FONT = "font-family='Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif'"
BLUE = "#2f6fb0"


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title)}' {FONT} font-size='12'>"
            f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def bar_chart(title: str, rates: Mapping[str, float], *, limit: float = 1.0) -> str:
    """Horizontal bars, one per label, value printed at the end (rates as percentages when limit is 1)."""
    label_w, bar_w, row_h = 170, 300, 22
    height = 34 + row_h * len(rates)
    body = [f"<text x='0' y='16' font-weight='bold'>{escape(title)}</text>"]
    for i, (label, value) in enumerate(rates.items()):
        y = 28 + i * row_h
        width = 0 if limit <= 0 else max(0.0, min(1.0, float(value) / limit)) * bar_w
        shown = f"{float(value):.1%}" if limit == 1.0 else f"{float(value):.3g}"
        body.append(f"<text x='{label_w - 6}' y='{y + 14}' text-anchor='end'>{escape(str(label))}</text>"
                    f"<rect x='{label_w}' y='{y + 2}' width='{bar_w}' height='{row_h - 6}' fill='#eef2f7'/>"
                    f"<rect class='bar' x='{label_w}' y='{y + 2}' width='{width:.1f}' height='{row_h - 6}' "
                    f"fill='{BLUE}'/><text x='{label_w + bar_w + 6}' y='{y + 14}'>{shown}</text>")
    return _svg(label_w + bar_w + 60, height, body, title)


def confusion_matrix(title: str, labels: Sequence[str], counts: Sequence[Sequence[int]], *,
                     rows: str = "actual", cols: str = "predicted", col_labels: Sequence[str] | None = None) -> str:
    """A heat-map grid: row = actual, column = predicted, the count in each cell, shaded by row share."""
    columns = list(col_labels) if col_labels is not None else list(labels)
    n = len(columns)
    cell = 34 if max(n, len(labels)) <= 12 else 22
    left, top = 150, 130
    size = cell * n
    height = cell * len(labels)
    body = [f"<text x='0' y='16' font-weight='bold'>{escape(title)}</text>",
            f"<text x='{left + size / 2}' y='{top - 112}' text-anchor='middle' fill='#555'>{escape(cols)} →</text>",
            f"<text x='10' y='{top + height / 2}' fill='#555' transform='rotate(-90 10 {top + height / 2})' "
            f"text-anchor='middle'>{escape(rows)} →</text>"]
    for j, label in enumerate(columns):
        x = left + j * cell + cell / 2
        body.append(f"<text x='{x}' y='{top - 6}' transform='rotate(-60 {x} {top - 6})' font-size='11'>"
                    f"{escape(str(label))}</text>")
    for i, label in enumerate(labels):
        total = sum(counts[i]) or 1
        y = top + i * cell
        body.append(f"<text x='{left - 6}' y='{y + cell / 2 + 4}' text-anchor='end' font-size='11'>"
                    f"{escape(str(label))}</text>")
        for j in range(n):
            value = counts[i][j]
            share = value / total
            colour = f"rgba(47,111,176,{0.08 + 0.92 * share:.3f})" if value else "#fafafa"
            ink = "#fff" if share > 0.55 else "#222"
            body.append(f"<rect class='cell' x='{left + j * cell}' y='{y}' width='{cell}' height='{cell}' "
                        f"fill='{colour}' stroke='#ddd'/>")
            if value:
                body.append(f"<text x='{left + j * cell + cell / 2}' y='{y + cell / 2 + 4}' text-anchor='middle' "
                            f"fill='{ink}' font-size='11'>{value}</text>")
    return _svg(left + size + 90, top + height + 10, body, title)  # room for the last rotated label


def calibration_curve(title: str, points: Sequence[Mapping[str, float]]) -> str:
    """Observed rate against mean predicted probability per bin, with the diagonal of perfect calibration."""
    size, left, top = 260, 46, 28
    body = [f"<text x='0' y='16' font-weight='bold'>{escape(title)}</text>",
            f"<rect x='{left}' y='{top}' width='{size}' height='{size}' fill='#fff' stroke='#bbb'/>",
            f"<line x1='{left}' y1='{top + size}' x2='{left + size}' y2='{top}' stroke='#999' stroke-dasharray='4 3'/>"]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = left + tick * size, top + size - tick * size
        body.append(f"<text x='{x}' y='{top + size + 14}' text-anchor='middle' font-size='10'>{tick:g}</text>"
                    f"<text x='{left - 4}' y='{y + 3}' text-anchor='end' font-size='10'>{tick:g}</text>")
    xy = [(left + float(p["predicted"]) * size, top + size - float(p["observed"]) * size) for p in points]
    if xy:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        body.append(f"<polyline class='curve' points='{path}' fill='none' stroke='{BLUE}' stroke-width='2'/>")
        body.extend(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{BLUE}'/>" for x, y in xy)
    body.append(f"<text x='{left + size / 2}' y='{top + size + 30}' text-anchor='middle' fill='#555'>"
                "predicted 预测概率</text>"
                f"<text x='12' y='{top + size / 2}' fill='#555' transform='rotate(-90 12 {top + size / 2})' "
                "text-anchor='middle'>observed 实际比例</text>")
    return _svg(left + size + 20, top + size + 40, body, title)
