"""Liveness (``/health``) and readiness (``/ready``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from assistant import __version__
from assistant.errors import UpstreamUnavailable

router = APIRouter(tags=["health"])

_CHECK_ZH = {"database": "数据库", "knowledge": "知识库索引"}


@router.get("/health")
def health() -> dict[str, str]:
    """``{"status": "ok"}`` while the process serves requests (also while the knowledge index builds)."""
    return {"status": "ok", "version": __version__}


@router.get("/ready")
def ready(request: Request) -> dict[str, Any]:
    """``{"ready": true, "checks": …}`` when this process can take traffic (database reachable, knowledge
    index built); otherwise a 503 whose message names what is missing — for a load balancer's or an
    orchestrator's readiness probe."""
    report = request.app.state.services.readiness()
    if not report["ready"]:
        failing = {name: state for name, state in report["checks"].items() if state not in ("ok", "ready")}
        raise UpstreamUnavailable(
            "服务尚未就绪：" + "；".join(f"{_CHECK_ZH.get(n, n)} {v}" for n, v in failing.items()),
            "not ready: " + "; ".join(f"{n} {v}" for n, v in failing.items()),
            code="not_ready",
        )
    return report
