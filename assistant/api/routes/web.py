"""The pages: ``/`` (customer web chat) and ``/desk`` (call-centre agent desk), plus their static files.

Plain Jinja2 templates and a little vanilla JavaScript: no build step, nothing fetched from a CDN.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from assistant import __version__
from assistant.api.deps import DESK_COOKIE, check_api_key
from assistant.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from assistant.web import STATIC_DIR, TEMPLATES_DIR

router = APIRouter(tags=["web"], include_in_schema=False)
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

DESK_SCOPE = "copilot"
WORKBENCH_SCOPE = "underwriting"
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}

SUGGESTIONS = [
    "预算15万想买SUV有什么推荐",
    "车价20万首付三成分36期月供多少",
    "4S店说年费率3.5%，实际年化是多少",
    "提前还款有违约金吗",
]
# The input's hint, longest first: the page shows the longest that fits the box on one line (a phone
# gets the short one rather than a clipped long one).
PLACEHOLDERS = [
    "请输入您的问题，例如：车价20万首付三成分36期月供多少",
    "例如：车价20万首付三成分36期月供多少",
    "请输入您的问题",
]


@router.get("/", response_class=HTMLResponse)
def chat_page(request: Request) -> HTMLResponse:
    """The customer's web chat."""
    return templates.TemplateResponse(request, "chat.html", {"version": __version__, "suggestions": SUGGESTIONS,
                                                             "placeholders": PLACEHOLDERS})


def _desk_scopes(request: Request, key: str) -> dict[str, bool]:
    """Which parts of the desk ``key`` opens: the copilot (``copilot``), the officer workbench
    (``underwriting``); Unauthorized for an unknown key, Forbidden when it opens neither."""
    opened: dict[str, bool] = {}
    for part, scope in (("copilot", DESK_SCOPE), ("workbench", WORKBENCH_SCOPE)):
        try:
            check_api_key(request, scope, key=key)
            opened[part] = True
        except Forbidden:
            opened[part] = False
    if not any(opened.values()):
        raise Forbidden(f"该API密钥无权访问坐席台（需要 {DESK_SCOPE} 或 {WORKBENCH_SCOPE} 权限）",
                        f"this API key has neither the '{DESK_SCOPE}' nor the '{WORKBENCH_SCOPE}' scope")
    return opened


@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request) -> Response:
    """The desk, for staff: the call-centre copilot (key scope ``copilot``) and the loan officer's workbench
    (``underwriting``) — a key in ``X-API-Key`` or, from a browser, the cookie its login form sets; otherwise
    the login form (401). The key is never served back: the copilot reads the one typed into the form from
    this tab's sessionStorage, the workbench's API calls carry the HttpOnly cookie."""
    if request.headers.get("x-api-key"):
        opened = _desk_scopes(request, request.headers["x-api-key"])
    elif request.cookies.get(DESK_COOKIE):
        try:
            opened = _desk_scopes(request, request.cookies[DESK_COOKIE])
        except (Unauthorized, Forbidden) as exc:  # a key revoked since the login: log in again
            return _desk_login(request, exc.message)
    else:
        return _desk_login(request, "")
    return templates.TemplateResponse(request, "desk.html", {"version": __version__, **opened})


def _desk_login(request: Request, error: str) -> HTMLResponse:
    return templates.TemplateResponse(request, "desk_login.html", {"version": __version__, "error": error},
                                      status_code=401)


@router.post("/desk/login")
async def desk_login(request: Request) -> Response:
    """Check the key from the login form, then keep it in an HttpOnly cookie."""
    body = (await request.body()).decode("utf-8", "replace")
    key = (parse_qs(body).get("key") or [""])[0].strip()
    try:
        if not key:
            raise InvalidInput("请输入API密钥", "enter an API key")
        _desk_scopes(request, key)
    except (InvalidInput, Unauthorized, Forbidden) as exc:
        return _desk_login(request, exc.message)
    response = RedirectResponse("/desk", status_code=303)
    # Path "/": the workbench calls the JSON API (/v1/applications…) with it. HttpOnly keeps it from
    # scripts, SameSite=Strict from other sites' requests (no cross-site form can act as the officer).
    response.set_cookie(DESK_COOKIE, key, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=8 * 3600)
    return response


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """A file from ``assistant/web/static`` (flat directory; anything else is a 404)."""
    path = (STATIC_DIR / name).resolve()
    if path.parent != STATIC_DIR or not path.is_file() or path.suffix not in _MEDIA_TYPES:
        raise NotFound("没有这个文件", "no such file")
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})
