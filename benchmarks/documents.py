"""Benchmark: contract + risk disclosure + repayment schedule for a 60-month loan, issued as PDFs.

Issue 6's figure (target: all three ≤ 1 s). One timed call is ``services.documents.generate`` for the
three kinds: quote, consistency checks, three renders through WeasyPrint, the read-back checks and the
all-or-nothing write to the store — what ``POST /v1/documents`` or the chat tool does. Reports wall-clock
and process-CPU time (CPU time is what the work costs; wall time also counts other processes on a busy
machine), plus the per-kind render time and the PDF sizes.

Run: python benchmarks/documents.py [--n 20] [--sample docs/images/sample_contract_page1.png]

``--sample`` also writes page 1 of the contract as a small PNG (needs poppler's pdftoppm), the image the
README shows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from assistant.logs import configure_logging
from assistant.services import Services
from assistant.settings import Settings

KINDS = ["loan_contract", "risk_disclosure", "repayment_schedule"]
APPLICATION = {
    "principal": 150000, "annual_rate": 0.045, "term_months": 60, "upfront_fees": 800,
    "borrower": {"name": "张三", "id_number": "11010519491231002X", "phone": "13800138000",
                 "address": "北京市朝阳区建国路88号"},
    "vehicle": {"brand": "比亚迪", "series": "秦PLUS DM-i", "price": 200000, "energy_type": "phev",
                "vin": "LGXCE6CB0N0123456"},
    "lender": {"name": "示例汽车金融有限责任公司", "address": "上海市浦东新区世纪大道100号",
               "credit_code": "91310000MA1K000001", "hotline": "400-800-0000"},
}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


def main() -> None:
    """Time n issues of the three documents (PDF, or --format html / md); print median and p95 (ms)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--sample", type=Path, help="write page 1 of the contract here as a PNG (pdf only)")
    parser.add_argument("--format", default="pdf", choices=["pdf", "html", "md"],
                        help="pdf (the API default) or html (what the chat issues)")
    args = parser.parse_args()
    configure_logging("WARNING", json=False)
    with tempfile.TemporaryDirectory() as tmp:
        services = Services(Settings(data_dir=Path(tmp), _env_file=None))  # type: ignore[call-arg]
        start = time.perf_counter()
        documents = services.documents
        print(f"startup (templates, font check, compact font build): {(time.perf_counter() - start) * 1000:.0f} ms")
        for _ in range(2):  # warm-up: WeasyPrint import, font configuration
            documents.generate(KINDS, APPLICATION, fmt=args.format)
        wall: list[float] = []
        cpu: list[float] = []
        for _ in range(args.n):
            w0, c0 = time.perf_counter(), time.process_time()
            issued = documents.generate(KINDS, APPLICATION, fmt=args.format)
            wall.append((time.perf_counter() - w0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        per_kind: dict[str, list[float]] = {k: [] for k in KINDS}
        for _ in range(max(3, args.n // 4)):
            for kind in KINDS:
                c0 = time.process_time()
                documents.render([kind], documents_app(), fmt=args.format)
                per_kind[kind].append((time.process_time() - c0) * 1000)
        sizes = {r.kind: r.size_bytes for r in issued.documents}
        if args.sample and args.format == "pdf":
            # Stored files are encrypted at rest: the sample is the decrypted contract.
            contract = Path(tempfile.mkdtemp()) / issued.documents[0].filename
            contract.write_bytes(documents.store.read(issued.documents[0]))
            write_sample(contract, args.sample)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"contract+disclosure+schedule (60 months) as {args.format}, n={args.n}, load average {load:.1f} on "
          f"{os.cpu_count()} CPUs")
    print(f"  wall: median={statistics.median(wall):.0f} ms p95={_p95(wall):.0f} ms")
    print(f"  cpu:  median={statistics.median(cpu):.0f} ms p95={_p95(cpu):.0f} ms")
    for kind in KINDS:
        print(f"  {kind:<20} render cpu median={statistics.median(per_kind[kind]):.0f} ms, "
              f"{args.format} {sizes[kind] / 1024:.0f} KiB")


def write_sample(pdf: Path, target: Path) -> None:
    """Page 1 of ``pdf`` as a small palette PNG (for the README)."""
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm not found: apt-get install poppler-utils")
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / "page"
        subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                       check=True, timeout=60)
        image = Image.open(stem.with_suffix(".png")).convert("L").quantize(colors=16)
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, optimize=True)
    print(f"sample page: {target} ({target.stat().st_size / 1024:.0f} KiB)")


def documents_app() -> object:
    """The benchmark application as the model (render-only timings skip the store)."""
    from assistant.documents.application import parse_application

    return parse_application(APPLICATION)


if __name__ == "__main__":
    main()
