"""``GET /metrics``: Prometheus text format (HTTP requests, turns, latency, tool calls, fall-backs, handoffs,
knowledge-store errors, worker memory, WeChat retries), summed over every worker under ``serve --workers N``.

Staff only: an ``X-API-Key`` with the ``metrics`` scope (a scraper's ``scrape-key:metrics``). The counters say
how much traffic, which tools and how many refusals: not for the public.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from assistant import metrics
from assistant.api.deps import require_scope

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require_scope("metrics"))])
def get_metrics(request: Request) -> Response:
    """Scrape endpoint for Prometheus."""
    body, content_type = metrics.render(request.app.state.settings)
    return Response(content=body, media_type=content_type)
