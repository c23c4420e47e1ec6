"""One registry of tools for the LLM engine, the offline engine and the rasa action server.

A tool is a typed function ``fn(ctx, args) -> result`` where ``args`` and ``result`` are pydantic
models; its docstring is the description the model sees.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.errors import InvalidInput, NotFound, describe_validation_error

if typing.TYPE_CHECKING:
    from assistant.services import Services


@dataclass
class ToolContext:
    """What a tool may use: the shared services and who is asking."""

    services: Services
    session_id: str | None = None
    channel: str = "api"


@dataclass(frozen=True)
class Tool:
    """A registered tool."""

    name: str
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    fn: Callable[[ToolContext, Any], BaseModel]

    def invoke(self, ctx: ToolContext, arguments: dict[str, Any] | BaseModel) -> BaseModel:
        """Validate ``arguments`` against the input model and run the tool."""
        if isinstance(arguments, BaseModel):
            args = arguments
        else:
            try:
                args = self.input_model.model_validate(arguments)
            except ValidationError as exc:
                raise invalid_from_validation(exc) from exc
        return self.fn(ctx, args)

    def openai_schema(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry (function calling)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.input_model.model_json_schema(),
            },
        }


def invalid_from_validation(exc: ValidationError) -> InvalidInput:
    """Turn a pydantic error into a bilingual InvalidInput naming the first bad field."""
    field, zh, en = describe_validation_error(dict(exc.errors()[0]))
    return InvalidInput(zh, en, field=field or "body")


class ToolRegistry:
    """Name → tool."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, name: str | None = None) -> Callable[[Callable[..., BaseModel]], Callable[..., BaseModel]]:
        """Decorator: ``@registry.register()`` on ``def quote(ctx: ToolContext, args: QuoteIn) -> QuoteOut``."""

        def decorate(fn: Callable[..., BaseModel]) -> Callable[..., BaseModel]:
            hints = typing.get_type_hints(fn)
            params = list(inspect.signature(fn).parameters)
            if len(params) != 2:
                raise TypeError(f"tool {fn.__name__} must take (ctx, args)")
            input_model = hints[params[1]]
            output_model = hints["return"]
            tool_name = name or fn.__name__
            self._tools[tool_name] = Tool(
                name=tool_name,
                description=inspect.cleandoc(fn.__doc__ or tool_name),
                input_model=input_model,
                output_model=output_model,
                fn=fn,
            )
            return fn

        return decorate

    def get(self, name: str) -> Tool:
        """The tool called ``name``."""
        try:
            return self._tools[name]
        except KeyError:
            raise NotFound(f"没有名为 {name} 的工具", f"no tool named {name}") from None

    def names(self) -> list[str]:
        """Registered tool names."""
        return sorted(self._tools)

    def all(self) -> list[Tool]:
        """All registered tools."""
        return [self._tools[name] for name in self.names()]


REGISTRY = ToolRegistry()


def load_all_tools() -> ToolRegistry:
    """Import every tool module so the registry is complete, and return it."""
    import importlib
    import pkgutil

    import assistant.tools as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name != "registry":
            importlib.import_module(f"assistant.tools.{info.name}")
    return REGISTRY
