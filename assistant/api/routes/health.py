"""Liveness (``/health``) and readiness (``/ready``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from assistant import __version__

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """``{"status": "ok"}`` while the process serves requests (also while the knowledge index builds)."""
    return {"status": "ok", "version": __version__}


@router.get("/ready", responses={503: {"description": "not ready: the index is building or a store is down"}})
def ready(request: Request) -> Any:
    """200 when this process can take traffic (database reachable, knowledge index built), else 503 with
    what is missing — for a load balancer or an orchestrator's readiness probe."""
    report = request.app.state.services.readiness()
    return JSONResponse(report, status_code=200 if report["ready"] else 503)
