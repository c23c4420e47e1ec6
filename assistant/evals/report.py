"""The eval report: one self-contained HTML page (inline SVG charts, no script, no CDN) over every suite run.

Generic over suites: a suite's ``run`` returns a dict of figures, and the report draws what it finds in
it, at any depth, by shape:

* ``confusion_matrix``: ``{"labels": [...], "counts": [[...], ...]}`` (rows actual, columns predicted;
  optional ``col_labels`` when the columns differ, ``rows`` / ``cols`` axis names) → a confusion matrix;
* ``calibration``: ``[{"predicted": p, "observed": o, "n": n}, ...]`` → a calibration curve;
* a key ``by_…`` or ``…_by_…`` holding ``{label: rate in [0, 1]}`` → a bar chart of rates;

plus a table of the scalar figures and the text the suite printed. A new suite gets its charts by
returning those shapes. Rendered from ``templates/eval_report.html.j2`` (Jinja2, StrictUndefined).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.evals import charts

if TYPE_CHECKING:
    from assistant.evals.runner import SuiteOutcome

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_CHARTS_PER_SUITE = 16  # the dialogue suite: 12 splits and the held-out total
MAX_SCALARS = 60


def _title(path: tuple[str, ...]) -> str:
    return " · ".join(path) if path else "figures"


def _is_rates(value: Any) -> bool:
    return (isinstance(value, Mapping) and 0 < len(value) <= 40
            and all(isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0
                    for v in value.values()))


def find_charts(figures: Any, path: tuple[str, ...] = ()) -> list[str]:
    """The SVG charts for every recognised shape in ``figures`` (depth first, in the dict's order)."""
    found: list[str] = []
    if not isinstance(figures, Mapping):
        return found
    for key, value in figures.items():
        here = (*path, str(key))
        if key == "confusion_matrix" and isinstance(value, Mapping) and {"labels", "counts"} <= value.keys():
            columns = value.get("col_labels")
            found.append(charts.confusion_matrix(_title(here), [str(x) for x in value["labels"]], value["counts"],
                                                 rows=value.get("rows", "actual 实际"),
                                                 cols=value.get("cols", "predicted 预测"),
                                                 col_labels=None if columns is None else [str(x) for x in columns]))
        elif key == "calibration" and isinstance(value, list) and value and all(
                isinstance(p, Mapping) and {"predicted", "observed"} <= p.keys() for p in value):
            found.append(charts.calibration_curve(_title(here), value))
        elif (str(key).startswith("by_") or "_by_" in str(key)) and _is_rates(value):
            found.append(charts.bar_chart(_title(here), {str(k): float(v) for k, v in value.items()}))
        elif isinstance(value, Mapping):
            found.extend(find_charts(value, here))
    return found[:MAX_CHARTS_PER_SUITE]


def scalars(figures: Any, path: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(dotted name, value) of the numbers, booleans and short strings in ``figures``."""
    rows: list[tuple[str, str]] = []
    if not isinstance(figures, Mapping):
        return rows
    for key, value in figures.items():
        name = ".".join((*path, str(key)))
        if isinstance(value, bool):
            rows.append((name, "✓ yes" if value else "✗ no"))
        elif isinstance(value, float):
            rows.append((name, f"{value:.4f}"))
        elif isinstance(value, int) or (isinstance(value, str) and len(value) <= 80):
            rows.append((name, str(value)))
        elif isinstance(value, Mapping) and not path:  # one level down (ab.arms…, not per_intent.x.f1)
            rows.extend(scalars(value, (*path, str(key))))
    return rows[:MAX_SCALARS]


def reliability(predicted: Sequence[float], outcome: Sequence[bool | int | float], bins: int = 10, *,
                quantiles: bool = False) -> list[dict[str, float]]:
    """The ``calibration`` shape: per bin, mean predicted probability, observed rate, count.

    Equal-width bins over [0, 1] by default; ``quantiles`` makes equal-count bins (for PDs crowded low).
    """
    pairs = sorted(zip((float(p) for p in predicted), (float(o) for o in outcome), strict=True))
    if not pairs:
        return []
    if quantiles:
        size = max(1, -(-len(pairs) // bins))
        groups = [pairs[i:i + size] for i in range(0, len(pairs), size)]
    else:
        buckets: dict[int, list[tuple[float, float]]] = {}
        for p, o in pairs:
            buckets.setdefault(min(bins - 1, int(p * bins)), []).append((p, o))
        groups = [buckets[b] for b in sorted(buckets)]
    return [{"predicted": sum(p for p, _ in g) / len(g), "observed": sum(o for _, o in g) / len(g), "n": len(g)}
            for g in groups]


def jsonable(value: Any) -> Any:
    """Figures as plain JSON (dataclasses, tuples, numpy numbers, Decimals, non-string keys)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def render(outcomes: list[SuiteOutcome], *, title: str = "loan-assistant eval") -> str:
    """The report's HTML."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"]))
    suites = [{"name": o.name, "status": o.status, "reason": o.reason, "seconds": o.seconds, "output": o.output,
               "scalars": scalars(o.figures or {}), "charts": find_charts(o.figures or {})} for o in outcomes]
    return env.get_template("eval_report.html.j2").render(
        title=title, generated=datetime.now(UTC).isoformat(timespec="seconds"), suites=suites)


def write(outcomes: list[SuiteOutcome], directory: Path) -> Path:
    """``report.html``, ``figures.json`` and one ``<suite>.txt`` per suite under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for outcome in outcomes:
        text = outcome.output + (f"\n{outcome.status}: {outcome.reason}\n" if outcome.reason else "")
        (directory / f"{outcome.name}.txt").write_text(text + outcome.traceback, encoding="utf-8")
    figures = {o.name: {"status": o.status, "reason": o.reason, "seconds": round(o.seconds, 2),
                        "figures": jsonable(o.figures)} for o in outcomes}
    (directory / "figures.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    path = directory / "report.html"
    path.write_text(render(outcomes), encoding="utf-8")
    return path
