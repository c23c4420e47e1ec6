"""The action server: ``loan-assistant actions [--host H] [--port 5055]`` (rasa-sdk's own webhook app).

Rasa posts ``{"next_action", "sender_id", "tracker", "domain", "version"}`` to ``/webhook``; the answer is
``{"events", "responses"}``. An unknown action is rasa-sdk's 404; ``GET /actions`` lists what we serve.
"""

from __future__ import annotations

import contextlib
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.exceptions import SanicException

from assistant.rasa_actions.actions import ToolAction, ValidateLoanForm
from assistant.tools.registry import load_all_tools


def build_executor(services: Any) -> ActionExecutor:
    """An executor with one action per registered tool and the loan-form validator."""
    executor = ActionExecutor()
    for tool in load_all_tools().all():
        executor.register_action(ToolAction(tool, services))
    executor.register_action(ValidateLoanForm())
    return executor


def create_action_app(services: Any) -> Sanic:
    """rasa-sdk's Sanic app over our actions (an ASGI app: uvicorn serves it)."""
    # rasa-sdk always names its app "rasa_sdk"; Sanic allows one app per name per process.
    with contextlib.suppress(SanicException):
        Sanic.unregister_app(Sanic.get_app("rasa_sdk"))
    return create_app(build_executor(services), cors_origins=[])


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
