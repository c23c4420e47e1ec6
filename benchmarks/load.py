"""Benchmark: ``loan-assistant serve`` under load, with 1 and 2 worker processes, on SQLite and on PostgreSQL.

Each configuration starts a real server (the console script, as deployed: offline engine, the shipped
knowledge base, keys from outside DATA_DIR, rate limits off), waits for ``/ready`` in every worker, and
drives 16 and 64 concurrent chat sessions. Each session is one httpx async client holding a multi-turn
Chinese conversation (budget → down payment and term → monthly payment → …), one turn after the other
as a customer would; the sessions run at once. Printed per configuration: turns, turns/s over the wall
time, and the p50 / p95 turn latency the client saw.

PostgreSQL is a throwaway server from the Debian package's binaries (``tests/postgres.py``, the test
suite's own helper), a fresh database per configuration. The knowledge index is built once into a
template DATA_DIR and copied into each configuration's, so a run measures chat, not embedding.

The client runs on the same machine as the server and shares its cores: read the figures as what this
host does end to end, not as the server's ceiling.

Prints numbers; asserts nothing.

Run: PYTHONPATH=. python benchmarks/load.py [--sessions 16 64] [--workers 1 2] [--backends sqlite postgresql]
     [--template DATA_DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]

# Conversations as customers write them (short, colloquial, amounts in 万, terms in years or 期).
CONVERSATIONS = [
    ["预算15万想买SUV", "首付三成分3年", "月供多少", "我月收入2万能批下来吗"],
    ["你好，想贷款买辆电动车", "车价20万左右", "首付两成，分60期", "利率大概多少"],
    ["二手车能做贷款吗", "车价8万，车龄3年", "首付付多少合适", "分24期月供多少"],
    ["等额本息和等额本金有什么区别", "车价25万首付五成", "分36期按等额本金算", "提前还款有违约金吗"],
    ["我想买台20万的轿车", "首付6万", "分4年", "我在上海工作月薪1万5"],
]


@dataclass
class Result:
    backend: str
    workers: int
    sessions: int
    turns: int
    errors: int
    wall_s: float
    latencies: list[float]

    def row(self) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        p50 = statistics.median(ms) if ms else float("nan")
        p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))] if ms else float("nan")
        return (f"| {self.backend:<10} | {self.workers:>7} | {self.sessions:>8} | {self.turns:>5} | "
                f"{self.errors:>6} | {self.turns / self.wall_s:>7.1f} | {p50:>7.0f} | {p95:>7.0f} |")


HEADER = ("| backend    | workers | sessions | turns | errors | turns/s | p50 ms  | p95 ms  |\n"
          "|------------|--------:|---------:|------:|-------:|--------:|--------:|--------:|")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("loan-assistant")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]


def _base_env(data_dir: Path, keys: dict[str, str], database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOAN_ASSISTANT_", "PROMETHEUS_"))}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "LOAN_ASSISTANT_DATA_DIR": str(data_dir), "LOAN_ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
        "LOAN_ASSISTANT_SESSION_RATE_LIMIT_PER_MINUTE": "0", "LOAN_ASSISTANT_LOG_LEVEL": "WARNING", **keys,
    })
    if database_url:
        env["LOAN_ASSISTANT_DATABASE_URL"] = database_url
    return env


def build_template(root: Path, keys: dict[str, str]) -> Path:
    """A DATA_DIR with the knowledge index built (``loan-assistant ingest``), to copy per configuration."""
    template = root / "template"
    start = time.perf_counter()
    subprocess.run([*_command(), "ingest"], env=_base_env(template, keys, None), cwd=root, check=True,
                   stdout=subprocess.DEVNULL)
    (template / "assistant.db").unlink(missing_ok=True)  # each configuration starts with no sessions
    print(f"knowledge index built once in {time.perf_counter() - start:.0f} s", flush=True)
    return template


class Server:
    """``loan-assistant serve --workers N`` in its own process group, logs to a file."""

    def __init__(self, workers: int, env: dict[str, str], cwd: Path) -> None:
        self.workers = workers
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(cwd / f"serve-{workers}.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([*_command(), "serve", "--workers", str(workers), "--host", "127.0.0.1",
                                      "--port", str(self.port)], env=env, cwd=cwd, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    async def wait_ready(self, timeout: float = 900) -> None:
        """Until ``/ready`` answers 200 from as many distinct connections as there are workers, in a row."""
        deadline = time.monotonic() + timeout
        ok_in_a_row = 0
        while ok_in_a_row < 4 * self.workers:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}; see {self.log.name}")
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not become ready")
            try:
                async with httpx.AsyncClient(timeout=30) as client:  # a new connection: either worker
                    ok = (await client.get(f"{self.url}/ready")).status_code == 200
            except httpx.TransportError:
                ok = False
            ok_in_a_row = ok_in_a_row + 1 if ok else 0
            if not ok:
                await asyncio.sleep(0.5)  # a poll interval while the workers load their models

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)
        self.log.close()


async def _session(url: str, conversation: list[str], start: asyncio.Event,
                   latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        await start.wait()
        session_id: str | None = None
        for text in conversation:
            body = {"message": text} if session_id is None else {"session_id": session_id, "message": text}
            began = time.perf_counter()
            try:
                reply = await client.post("/v1/chat", json=body)
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                continue
            if reply.status_code != 200:
                errors.append(str(reply.status_code))
                continue
            latencies.append(time.perf_counter() - began)
            session_id = reply.json()["session_id"]


async def drive(url: str, sessions: int) -> tuple[int, int, float, list[float]]:
    """``sessions`` conversations at once; (turns answered, errors, wall seconds, latencies)."""
    latencies: list[float] = []
    errors: list[str] = []
    start = asyncio.Event()
    tasks = [asyncio.create_task(_session(url, CONVERSATIONS[n % len(CONVERSATIONS)], start, latencies, errors))
             for n in range(sessions)]
    await asyncio.sleep(0)  # let every client open before the gun
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return len(latencies), len(errors), time.perf_counter() - began, latencies


async def run_configuration(backend: str, workers: int, session_counts: list[int], template: Path, root: Path,
                            keys: dict[str, str], database_url: str | None) -> list[Result]:
    workdir = root / f"{backend}-{workers}"
    shutil.copytree(template, workdir / "data")
    server = Server(workers, _base_env(workdir / "data", keys, database_url), workdir)
    results = []
    try:
        began = time.perf_counter()
        await server.wait_ready()
        print(f"{backend}, {workers} worker(s): ready in {time.perf_counter() - began:.0f} s", flush=True)
        await drive(server.url, 2 * workers)  # warm-up: each worker's first turns, not measured
        for sessions in session_counts:
            turns, errors, wall, latencies = await drive(server.url, sessions)
            results.append(Result(backend, workers, sessions, turns, errors, wall, latencies))
            print(results[-1].row(), flush=True)
    finally:
        server.stop()
    return results


async def main_async(args: argparse.Namespace) -> None:
    keys = {"LOAN_ASSISTANT_PII_KEY": Fernet.generate_key().decode(),
            "LOAN_ASSISTANT_AUDIT_KEY": Fernet.generate_key().decode()}
    root = Path(tempfile.mkdtemp(prefix="loan-assistant-load-"))
    postgres = None
    results: list[Result] = []
    print(f"{os.cpu_count()} cores; client and server on this host; {len(CONVERSATIONS)} conversation scripts "
          f"of {len(CONVERSATIONS[0])} turns", flush=True)
    try:
        template = args.template or build_template(root, keys)
        print(HEADER, flush=True)
        for backend in args.backends:
            if backend == "postgresql" and postgres is None:
                from tests.postgres import PostgresServer

                postgres = PostgresServer()
                postgres.start()
            for workers in args.workers:
                url = postgres.database() if postgres is not None and backend == "postgresql" else None
                results += await run_configuration(backend, workers, args.sessions, template, root, keys, url)
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
    print("\n" + HEADER)
    for result in results:
        print(result.row())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, nargs="+", default=[16, 64], help="concurrent sessions")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes")
    parser.add_argument("--template", type=Path, help="a DATA_DIR whose knowledge index is built already "
                        "(`loan-assistant ingest`), copied instead of building one")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"], help="databases")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
