"""Benchmark: the keyed audit chain (append with a signed head, verify) and documents encrypted at rest.

Run: python benchmarks/audit_keys.py [--n 2000] [--doc-kib 200]
Prints the append latency (median, p95: one transaction writing the entry and the signed head), the time
to verify the whole chain, and Fernet encrypt/decrypt time for a document of ``--doc-kib`` KiB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from assistant.services import Services
from assistant.settings import Settings


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    """Append n entries, verify them, time document encryption; print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--doc-kib", type=int, default=200)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    services = Services(Settings(data_dir=data_dir, _env_file=None))  # type: ignore[call-arg]
    audit = services.audit
    append: list[float] = []
    for i in range(args.n):
        start = time.perf_counter()
        audit.record("decision", f"session-{i % 50}", {"decision": "approve", "grade": "B", "score": 600 + i % 90,
                                                        "channel": "api"})
        append.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    report = audit.verify()
    verify_s = time.perf_counter() - start
    assert report.ok, report.problems

    blob = os.urandom(args.doc_kib * 1024)
    cipher = services.cipher
    enc, dec = [], []
    for _ in range(50):
        start = time.perf_counter()
        token = cipher.encrypt_bytes(blob)
        enc.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        cipher.decrypt_bytes(token)
        dec.append((time.perf_counter() - start) * 1000)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"audit chain (SQLite, HMAC-SHA256 + signed head), n={args.n}, load average {load:.1f} on "
          f"{os.cpu_count()} CPUs")
    print(f"  append: median={statistics.median(append):.2f} ms p95={_p95(append):.2f} ms")
    print(f"  verify all {report.entries} entries: {verify_s * 1000:.0f} ms "
          f"({verify_s / report.entries * 1e6:.0f} µs per entry)")
    print(f"document {args.doc_kib} KiB: encrypt median={statistics.median(enc):.2f} ms, "
          f"decrypt median={statistics.median(dec):.2f} ms")


if __name__ == "__main__":
    main()
