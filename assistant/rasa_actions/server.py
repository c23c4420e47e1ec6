"""The action server: ``loan-assistant actions [--host H] [--port 5055]`` (rasa-sdk's own webhook app).

Rasa posts ``{"next_action", "sender_id", "tracker", "domain", "version"}`` to ``/webhook``; the answer is
``{"events", "responses"}``. An unknown action is rasa-sdk's 404; ``GET /actions`` lists what we serve.

Staff-only actions (``actions.STAFF_ACTIONS``) need ``X-API-Key`` with their scope on the webhook call
(401 / 403 with the contract's error body otherwise); Rasa sends it from ``endpoints.yml``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import HTTPResponse, Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import json as json_response

from assistant.apikeys import key_refusal
from assistant.errors import AssistantError, Forbidden
from assistant.rasa_actions.actions import STAFF_ACTIONS, ToolAction, ValidateLoanForm
from assistant.tools.registry import load_all_tools


def build_executor(services: Any) -> ActionExecutor:
    """An executor with one action per registered tool and the loan-form validator."""
    executor = ActionExecutor()
    for tool in load_all_tools().all():
        executor.register_action(ToolAction(tool, services))
    executor.register_action(ValidateLoanForm())
    return executor


def create_action_app(services: Any) -> Sanic:
    """rasa-sdk's Sanic app over our actions (an ASGI app: uvicorn serves it), with the key check."""
    # rasa-sdk always names its app "rasa_sdk"; Sanic allows one app per name per process.
    with contextlib.suppress(SanicException):
        Sanic.unregister_app(Sanic.get_app("rasa_sdk"))
    app = create_app(build_executor(services), cors_origins=[])

    async def require_staff_key(request: Request) -> HTTPResponse | None:
        refusal = webhook_refusal(services.settings.api_keys, request)
        if refusal is None:
            return None
        status = 403 if isinstance(refusal, Forbidden) else 401
        return json_response({"error": {"code": refusal.code, "message": refusal.message}}, status=status)

    app.register_middleware(require_staff_key, "request")
    return app


def webhook_refusal(api_keys: list[str], request: Request) -> AssistantError | None:
    """Why a webhook call may not run its action (None: it may): a staff-only action without a key of its
    scope. Anything else (other paths, bodies rasa-sdk itself refuses) is rasa-sdk's to answer."""
    if request.method != "POST" or request.path.rstrip("/") != "/webhook":
        return None
    try:
        body = request.json
    except Exception:  # not JSON: rasa-sdk answers it
        return None
    action = body.get("next_action") if isinstance(body, dict) else None
    scope = STAFF_ACTIONS.get(action) if isinstance(action, str) else None
    if scope is None:
        return None
    return key_refusal(api_keys, request.headers.get("x-api-key"), scope)


def actions_command(args: Any) -> int:
    """Run the action server until interrupted."""
    import uvicorn

    from assistant.logs import configure_logging
    from assistant.services import Services
    from assistant.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = create_action_app(Services(settings))
    # No uvicorn access line (paths and query strings in clear); stdlib records are masked (assistant.logs).
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    return 0
