"""The template bundle in ``contract_templates/``: Jinja2 (StrictUndefined), versions, house terms, CSS.

Each document template is Markdown with Jinja2 (``<kind>.<lang>.md.j2``) and opens with its front matter
in a Jinja comment::

    {#---
    version: "1.0.0"
    title: 借款合同
    ---#}

The version recorded with every issued document is ``<front-matter version>+<digest>``, where the digest
covers the template and every shared file (partials ``_*.j2``, ``print.css``, ``house_terms.yaml``), so an
edit that forgets to bump the version still shows up in the record.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from markdown_it import MarkdownIt

from assistant.documents.kinds import LANGUAGES, DocumentKind
from assistant.documents.terms import HouseTerms
from assistant.errors import ConfigurationError

_FRONT_MATTER = re.compile(r"\A\{#---\n(.*?)\n---#\}\n?", re.S)
_BLANK_RUNS = re.compile(r"\n{3,}")
_ALIGN_STYLE = re.compile(r' style="text-align:(left|right|center)"')
SHARED_FILES = ("print.css", "house_terms.yaml", "_layout.html.j2")


@dataclass(frozen=True)
class TemplateInfo:
    """One document template and its recorded version."""

    kind: DocumentKind
    lang: str
    name: str
    version: str
    title: str


def _front_matter(source: str, name: str) -> dict[str, Any]:
    match = _FRONT_MATTER.match(source)
    if not match:
        raise ConfigurationError(f"模板 {name} 缺少版本信息（front matter）", f"template {name} has no front matter")
    meta = yaml.safe_load(match.group(1)) or {}
    if not isinstance(meta, dict) or not meta.get("version") or not meta.get("title"):
        raise ConfigurationError(f"模板 {name} 的 front matter 须含 version 和 title",
                                 f"template {name} front matter needs version and title")
    return meta


class TemplateBundle:
    """Loaded once: Jinja environments for Markdown and HTML output, versions, house terms, CSS."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise ConfigurationError(f"找不到合同模板目录：{directory}", f"contract templates not found at {directory}")
        self.directory = directory
        shared = hashlib.sha256()
        for name in SHARED_FILES:
            path = directory / name
            if not path.is_file():
                raise ConfigurationError(f"缺少模板文件：{name}", f"missing template file {name}")
            shared.update(path.read_bytes())
        for path in sorted(directory.glob("_*.md.j2")):
            shared.update(path.read_bytes())
        self.css = (directory / "print.css").read_text(encoding="utf-8")
        house = yaml.safe_load((directory / "house_terms.yaml").read_text(encoding="utf-8"))
        self.house = HouseTerms.model_validate(house)
        self.templates: dict[tuple[DocumentKind, str], TemplateInfo] = {}
        for kind, langs in LANGUAGES.items():
            for lang in langs:
                name = f"{kind.value}.{lang}.md.j2"
                path = directory / name
                if not path.is_file():
                    raise ConfigurationError(f"缺少模板：{name}", f"missing template {name}")
                source = path.read_text(encoding="utf-8")
                meta = _front_matter(source, name)
                digest = hashlib.sha256(shared.digest() + source.encode("utf-8")).hexdigest()[:8]
                self.templates[(kind, lang)] = TemplateInfo(
                    kind=kind, lang=lang, name=name, version=f"{meta['version']}+{digest}", title=str(meta["title"])
                )
        self._envs = {mode: self._environment(mode) for mode in ("md", "html")}
        self._markdown = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")
        try:  # parse everything now: a broken template is a startup error, not a customer's 500
            for info in self.templates.values():
                for env in self._envs.values():
                    env.get_template(info.name)
            self._envs["html"].get_template("_layout.html.j2")
        except TemplateError as exc:
            raise ConfigurationError(f"合同模板有语法错误：{exc}", f"contract template error: {exc}") from exc

    def _environment(self, mode: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(str(self.directory)),
            undefined=StrictUndefined,
            autoescape=False,  # Markdown output; values are escaped for Markdown when the view is built
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.globals["html"] = mode == "html"
        if mode == "html":
            env.autoescape = lambda name: bool(name and name.endswith(".html.j2"))  # the layout only
        return env

    def info(self, kind: DocumentKind, lang: str) -> TemplateInfo:
        """The template for ``kind`` in ``lang``."""
        return self.templates[(kind, lang)]

    def render_markdown(self, info: TemplateInfo, context: dict[str, Any], *, for_html: bool) -> str:
        """The document as Markdown (``for_html`` adds the few ``<div>`` wrappers the print CSS styles)."""
        env = self._envs["html" if for_html else "md"]
        text = env.get_template(info.name).render(**context)
        return _BLANK_RUNS.sub("\n\n", _FRONT_MATTER.sub("", text, count=1)).strip("\n") + "\n"

    def markdown_to_html(self, markdown: str) -> str:
        """CommonMark + tables to an HTML fragment.

        Column alignment becomes a class instead of markdown-it's ``style`` attribute: WeasyPrint shares a
        computed style between elements with equal selectors and no style attribute, which makes a 60-row
        schedule's cascade several times cheaper.
        """
        return _ALIGN_STYLE.sub(r' class="al-\1"', self._markdown.render(markdown))

    def render_layout(self, **context: Any) -> str:
        """The full HTML page around a body fragment (autoescaped)."""
        return self._envs["html"].get_template("_layout.html.j2").render(**context)
