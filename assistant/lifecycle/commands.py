"""Command-line handlers: ``monitor``, ``book simulate|import|status``, ``train lifecycle``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from assistant.errors import InvalidInput


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"日期格式应为YYYY-MM-DD：{text}", f"dates are YYYY-MM-DD: {text}", field="as_of") from None


def _services():  # type: ignore[no-untyped-def]
    from assistant.services import Services
    from assistant.settings import get_settings

    return Services(get_settings())


def monitor_command(args: argparse.Namespace) -> int:
    """``loan-assistant monitor [--as-of DATE] [--rules-only] [--skip-collateral]``: one early-warning pass.

    First re-values collateral not valued in 30 days (real loans; simulated ones carry simulated values)
    with the valuation model, so the pass sees today's car values."""
    from assistant.lifecycle.monitoring import run_monitor
    from assistant.lifecycle.signals import default_valuer, refresh_collateral

    services = _services()
    book = services.loans
    day = _date(args.as_of) or book.today()
    if not args.skip_collateral:
        valuer = default_valuer(services)
        with book.sessions() as s:
            count = refresh_collateral(s, valuer, day)
        if count:
            print(f"collateral re-valued ({valuer.name}): {count} loans")
    report = run_monitor(book, models_dir=services.settings.models_dir, as_of=day, model=not args.rules_only)
    print(report.summary())
    return 0


def simulate_command(args: argparse.Namespace) -> int:
    """``loan-assistant book simulate [--loans N] [--seed S] [--as-of DATE]``: a labelled simulated book."""
    from assistant.catalogue import build_catalogue
    from assistant.lifecycle.simulate import simulate_book

    services = _services()
    book = services.loans
    day = _date(args.as_of) or book.today()
    report = simulate_book(book.sessions, build_catalogue(services.settings), n_loans=args.loans, seed=args.seed,
                           as_of=day, refresh=lambda: book.refresh_states(as_of=day))
    print(report.summary())
    print("next: loan-assistant monitor" + (f" --as-of {day}" if args.as_of else ""))
    return 0


def import_command(args: argparse.Namespace) -> int:
    """``loan-assistant book import CSV [--kind loans|repayments]``: loans or repayment events from CSV."""
    path = Path(args.csv)
    if not path.is_file():
        raise InvalidInput(f"找不到文件 {path}", f"no such file: {path}", field="csv")
    kind = args.kind
    if kind == "auto":
        header = path.read_text(encoding="utf-8-sig").splitlines()[0] if path.stat().st_size else ""
        kind = "repayments" if "event_id" in header else "loans"
    book = _services().loans
    if kind == "loans":
        report = book.import_loans_csv(path)
        print(f"loans: {report.rows} rows, {report.imported} imported, {report.skipped} already in the book, "
              f"{report.rejected} rejected")
        for problem in report.problems:
            print("  " + problem)
        return 0 if not report.rejected else 1
    result = book.import_repayments_csv(path)
    print(f"repayments: {result.received} received, {result.applied} applied ({result.applied_amount} yuan), "
          f"{result.duplicates} duplicates ignored, {result.reconciled} reconciled, {result.rejected} rejected")
    for record in result.records:
        print(f"  [{record.kind}/{record.action}] {record.event_id or '-'} {record.loan_id or '-'}: {record.detail}")
    return 0 if not result.rejected else 1


def status_command(args: argparse.Namespace) -> int:
    """``loan-assistant book status LOAN_ID``: where a loan stands (JSON)."""
    book = _services().loans
    print(json.dumps(book.status(args.loan_id, _date(args.as_of)).model_dump(mode="json"), ensure_ascii=False,
                     indent=2))
    return 0


def train_command(args: argparse.Namespace) -> int:
    """``loan-assistant train lifecycle``: fit the early-warning model on simulated books and export it."""
    from assistant.catalogue import build_catalogue
    from assistant.lifecycle.monitoring import MODEL_FILE
    from assistant.lifecycle.warning_training import fit_model, training_rows
    from assistant.settings import get_settings

    settings = get_settings()
    catalogue = build_catalogue(settings)
    xs: list[list[float]] = []
    ys: list[int] = []
    # several books at different dates so the stress flags and price shocks hit loans at different ages
    for i, as_of in enumerate((dt.date(2025, 12, 31), dt.date(2026, 3, 31), dt.date(2026, 6, 30))):
        x, y = training_rows(catalogue, n_loans=args.loans, seed=args.seed + i, as_of=as_of)
        xs += x
        ys += y
        print(f"book {i + 1}: {len(y)} loans, {sum(y)} went bad within 6 months", file=sys.stderr)
    spec = fit_model(xs, ys, version=f"ew-lr-{dt.date.today():%Y%m%d}")
    out = Path(args.out) if args.out else settings.models_dir / "lifecycle" / MODEL_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(spec, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"early-warning model → {out} (train AUC {spec['train_auc']}, thresholds {spec['thresholds']})")
    return 0

