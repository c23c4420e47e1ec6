"""Prompts and reply templates are files under ``prompts/``, loaded by name (Jinja2, StrictUndefined)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from assistant.errors import ConfigurationError


class PromptLibrary:
    """Reply templates (``replies/<lang>/<name>.j2``) and system prompts (``system/<lang>.md``)."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ConfigurationError(f"缺少提示词目录：{root}", f"prompts directory missing: {root}")
        self.root = root
        self._system: dict[str, str] = {}
        self._env = Environment(
            loader=FileSystemLoader(str(root)),
            undefined=StrictUndefined,
            autoescape=False,  # plain chat text, not HTML; the web page escapes on display
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def reply(self, name: str, lang: str = "zh", **context: object) -> str:
        """Render the reply template ``name`` in ``lang`` (falls back to Chinese)."""
        lang = lang if lang in ("zh", "en") else "zh"
        try:
            template = self._env.get_template(f"replies/{lang}/{name}.j2")
        except TemplateNotFound:
            template = self._env.get_template(f"replies/zh/{name}.j2")
        text = template.render(**context)
        # Collapse the blank lines Jinja leaves where optional parts were skipped.
        lines = [line.rstrip() for line in text.splitlines()]
        return "\n".join(line for line in lines if line).strip()

    def template(self, name: str, lang: str = "zh", **context: object) -> str:
        """Render the prompt template ``<name>.<lang>.j2`` (e.g. ``system/commands``)."""
        lang = "en" if lang == "en" else "zh"
        return self._env.get_template(f"{name}.{lang}.j2").render(**context).strip()

    def system(self, lang: str = "zh") -> str:
        """The LLM system prompt."""
        lang = "en" if lang == "en" else "zh"
        if lang not in self._system:  # read once: it is sent with every model call
            self._system[lang] = (self.root / "system" / f"{lang}.md").read_text(encoding="utf-8")
        return self._system[lang]


@lru_cache(maxsize=4)
def prompt_library(root: str) -> PromptLibrary:
    """A cached library per prompts directory."""
    return PromptLibrary(Path(root))
