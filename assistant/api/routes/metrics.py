"""``GET /metrics``: Prometheus text format (turns, latency, tool calls, fall-backs, handoffs, WeChat retries)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from assistant import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
def get_metrics() -> Response:
    """Scrape endpoint for Prometheus."""
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)
