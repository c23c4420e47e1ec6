"""The pages: ``/`` (customer web chat) and ``/desk`` (call-centre agent desk), plus their static files.

Plain Jinja2 templates and a little vanilla JavaScript: no build step, nothing fetched from a CDN.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from assistant import __version__
from assistant.errors import NotFound
from assistant.web import STATIC_DIR, TEMPLATES_DIR

router = APIRouter(tags=["web"], include_in_schema=False)
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}

SUGGESTIONS = [
    "预算15万想买SUV有什么推荐",
    "车价20万首付三成分36期月供多少",
    "4S店说年费率3.5%，实际年化是多少",
    "提前还款有违约金吗",
]


@router.get("/", response_class=HTMLResponse)
def chat_page(request: Request) -> HTMLResponse:
    """The customer's web chat."""
    return templates.TemplateResponse(request, "chat.html", {"version": __version__, "suggestions": SUGGESTIONS})


@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request) -> HTMLResponse:
    """The call-centre agent desk (the copilot; the API key is typed in the page, never served)."""
    return templates.TemplateResponse(request, "desk.html", {"version": __version__})


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """A file from ``assistant/web/static`` (flat directory; anything else is a 404)."""
    path = (STATIC_DIR / name).resolve()
    if path.parent != STATIC_DIR or not path.is_file() or path.suffix not in _MEDIA_TYPES:
        raise NotFound("没有这个文件", "no such file")
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})
