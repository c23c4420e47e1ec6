"""Liveness."""

from __future__ import annotations

from fastapi import APIRouter

from assistant import __version__

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """``{"status": "ok"}`` while the process serves requests."""
    return {"status": "ok", "version": __version__}
