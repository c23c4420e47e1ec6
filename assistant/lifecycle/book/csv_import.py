"""Reading loans and repayment events from CSV (a path or the CSV text itself)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from assistant.domain.money import to_fen
from assistant.domain.quote import build_quote
from assistant.errors import InvalidInput
from assistant.lifecycle.book.models import ExceptionOut, ImportReport, IssueLoan, ReconcileReport, RepaymentIn
from assistant.lifecycle.book.rows import exception_row, rate_to_ppm
from assistant.storage.loans import LoanRow

if TYPE_CHECKING:
    from assistant.lifecycle.book.store import LoanBook


def csv_rows(source: Path | str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; ``source`` is a path or CSV text. A UTF-8 BOM (Excel) is accepted."""
    if isinstance(source, Path) or "\n" not in source:
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(f"找不到文件 {path}", f"no such file: {path}", field="path")
        text = path.read_text(encoding="utf-8-sig")
    else:
        text = str(source).lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InvalidInput("CSV 文件为空或缺少表头", "the CSV is empty or has no header row", field="path")
    for index, row in enumerate(reader, start=2):
        yield index, {(k or "").strip(): (v or "").strip() for k, v in row.items()}


def _opt(row: dict[str, str], key: str) -> str | None:
    value = row.get(key, "").strip()
    return value or None


def issue_from_csv(row: dict[str, str]) -> IssueLoan:
    """The loan a CSV row describes (ValueError / ValidationError when it cannot be one)."""
    if not _opt(row, "loan_id"):
        raise ValueError("缺少 loan_id / missing loan_id")
    vehicle = {
        "brand": _opt(row, "vehicle_brand"), "series": _opt(row, "vehicle_series"),
        "condition": _opt(row, "vehicle_condition") or "new", "energy_type": _opt(row, "energy_type"),
        "body_type": _opt(row, "body_type"), "vehicle_age_years": _opt(row, "vehicle_age_years") or 0,
        "mileage_km": _opt(row, "mileage_km"), "vehicle_price": row.get("vehicle_price", ""),
        "collateral_value": _opt(row, "collateral_value"), "insurance_expires_on": _opt(row, "insurance_expires_on"),
    }
    return IssueLoan.model_validate({
        "loan_id": row["loan_id"], "customer_id": row.get("customer_id", ""), "product_id": row.get("product_id", ""),
        "principal": row.get("principal", ""), "annual_rate": row.get("annual_rate", ""),
        "term_months": row.get("term_months", ""), "method": _opt(row, "method") or "equal_installment",
        "rate_type": _opt(row, "rate_type") or "nominal", "upfront_fees": _opt(row, "upfront_fees") or "0",
        "vehicle": vehicle, "grade": _opt(row, "grade"), "region": _opt(row, "region"),
        "industry": _opt(row, "industry"), "disbursed_on": row.get("disbursed_on", ""),
    })


def short_error(exc: Exception) -> str:
    """One line (zh / en) saying why a row was rejected."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        return f"字段 {field} 无效 / invalid field {field}: {first.get('msg', '')}"
    if isinstance(exc, InvalidInput):
        return exc.message
    return str(exc) or type(exc).__name__


def import_loans(book: LoanBook, source: Path | str) -> ImportReport:
    """Loans from CSV into the book (rules in :meth:`LoanBook.import_loans_csv`)."""
    report = ImportReport()
    for line, row in csv_rows(source):
        report.rows += 1
        try:
            req = issue_from_csv(row)
            q = build_quote(req.quote_request())
        except (ValidationError, InvalidInput, InvalidOperation, ValueError) as exc:
            report.rejected += 1
            report.problems.append(f"第{line}行 / line {line}: {short_error(exc)}")
            continue
        stated = row.get("monthly_payment", "").strip()
        if stated and abs(to_fen(stated) - to_fen(q.monthly_payment)) > 1:
            report.rejected += 1
            report.problems.append(
                f"第{line}行 / line {line}: 月供 {stated} 与按条款计算的 {q.monthly_payment} 不符 / monthly "
                f"payment {stated} disagrees with {q.monthly_payment} computed from the terms")
            continue
        with book.sessions() as s:
            existing = s.get(LoanRow, req.loan_id)
        if existing is not None:
            same = (existing.principal_fen, existing.term_months, existing.annual_rate_ppm) == (
                to_fen(req.principal), req.term_months, rate_to_ppm(req.annual_rate))
            if same:
                report.skipped += 1
            else:
                report.rejected += 1
                report.problems.append(f"第{line}行 / line {line}: 贷款 {req.loan_id} 已存在且条款不同 / loan "
                                       f"{req.loan_id} exists with different terms")
            continue
        book.issue_from_quote(q, req, source="imported")
        report.imported += 1
    return report


def import_repayments(book: LoanBook, source: Path | str) -> ReconcileReport:
    """Repayment events from CSV, reconciled (rules in :meth:`LoanBook.import_repayments_csv`)."""
    events: list[RepaymentIn] = []
    unreadable: list[ExceptionOut] = []
    for line, row in csv_rows(source):
        try:
            events.append(RepaymentIn(event_id=row.get("event_id", ""), loan_id=row.get("loan_id", ""),
                                      paid_on=row.get("paid_on", ""), amount=row.get("amount", ""),
                                      channel=row.get("channel") or "auto_debit"))
        except ValidationError as exc:
            detail = f"第{line}行无法读取 / line {line} unreadable: {short_error(exc)}"
            unreadable.append(ExceptionOut(event_id=row.get("event_id") or None,
                                           loan_id=row.get("loan_id") or None, kind="unreadable",
                                           action="rejected", detail=detail))
    report = book.record_repayments(events, source="csv")
    if unreadable:
        with book.sessions() as s:
            s.add_all(exception_row(rec, {"line": rec.detail}) for rec in unreadable)
            s.commit()
        report.received += len(unreadable)
        report.rejected += len(unreadable)
        report.records = unreadable + report.records
    return report
