"""The Markdown corpus: front matter, documents and heading-aware chunks.

A document is a ``.md`` file under ``knowledge_base/`` (README files excepted) that starts with YAML
front matter (``id``, ``title``, ``category``, ``effective_date``, ``source``) and is organised in
``## `` sections. A chunk is one section (or a slice of a long one) that always carries its document
title and heading path, so a passage found on its own still says what it is about.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.logs import get_logger

log = get_logger(__name__)

# Chunking parameters; part of the index identity (a change forces a rebuild through the manifest).
MAX_CHUNK_CHARS = 520
CHUNKER_VERSION = f"sections+document-v3-lang-{MAX_CHUNK_CHARS}"

# Two granularities are indexed: each section ("chunk") and each whole document ("document"). Section
# vectors find the precise passage; the document vector (title + opening, as much as the embedding
# window holds) matches questions about the topic as a whole. Measured on the evaluation set, adding the
# document level raised vector-only hit@3 markedly; BM25 stays on sections.
LEVEL_CHUNK = "chunk"
LEVEL_DOCUMENT = "document"

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
# Sentence ends for splitting over-long paragraphs (Chinese and Latin punctuation).
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")


class CorpusError(ValueError):
    """A file that cannot be read as a corpus document (it is skipped and reported)."""


@dataclass(frozen=True)
class Document:
    """One Markdown document with its front matter."""

    doc_id: str
    title: str
    category: str
    body: str
    path: str  # relative to the knowledge-base root, POSIX separators
    content_hash: str
    effective_date: str = ""
    source: str = ""
    product_id: str = ""
    lang: str = "zh"  # the language it is written in (front matter ``lang``; Chinese by default)
    translation_of: str = ""  # the doc_id of the original, for a translation
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a section (or part of one) with its title and heading path."""

    chunk_id: str
    doc_id: str
    title: str
    category: str
    section: str
    text: str
    path: str
    position: int
    effective_date: str = ""
    source: str = ""
    product_id: str = ""
    level: str = LEVEL_CHUNK
    lang: str = "zh"
    translation_of: str = ""

    @property
    def index_text(self) -> str:
        """What is embedded and BM25-indexed: title, heading path and text together."""
        heading = f"{self.title} · {self.section}" if self.section else self.title
        return f"{heading}\n{self.text}"

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata for the vector store (strings and ints only; no None)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "category": self.category,
            "section": self.section,
            "path": self.path,
            "position": self.position,
            "effective_date": self.effective_date,
            "source": self.source,
            "product_id": self.product_id,
            "level": self.level,
            "lang": self.lang,
            "translation_of": self.translation_of,
        }

    @classmethod
    def from_store(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
        """Rebuild a chunk from what the vector store holds (the inverse of :meth:`metadata`)."""
        return cls(
            chunk_id=chunk_id,
            doc_id=str(meta.get("doc_id", "")),
            title=str(meta.get("title", "")),
            category=str(meta.get("category", "")),
            section=str(meta.get("section", "")),
            text=text,
            path=str(meta.get("path", "")),
            position=int(meta.get("position", 0) or 0),
            effective_date=str(meta.get("effective_date", "")),
            source=str(meta.get("source", "")),
            product_id=str(meta.get("product_id", "")),
            level=str(meta.get("level", LEVEL_CHUNK)),
            lang=str(meta.get("lang", "zh") or "zh"),
            translation_of=str(meta.get("translation_of", "")),
        )


def corpus_files(root: Path) -> list[Path]:
    """Every ``.md`` under ``root`` except README files, sorted for a stable order."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*.md") if p.is_file() and p.name.lower() != "readme.md")


def file_hash(data: bytes) -> str:
    """The content hash used for incremental ingestion."""
    return hashlib.sha256(data).hexdigest()


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "；".join(_as_text(v) for v in value)
    return str(value).strip()


def parse_document(text: str, *, path: str, content_hash: str | None = None) -> Document:
    """Parse one Markdown document; raises :class:`CorpusError` when the front matter is unusable.

    ``id`` defaults to the file stem and ``title`` to the first ``# `` heading; ``category`` defaults to
    the parent folder name (``policies`` → ``policy``, ``products`` → ``product``).
    """
    text = text.lstrip("\ufeff")
    meta: dict[str, Any] = {}
    body = text
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise CorpusError(f"{path}: front matter is not valid YAML ({exc.__class__.__name__})") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise CorpusError(f"{path}: front matter must be a mapping")
        meta = loaded or {}
        body = text[match.end():]
    stem = Path(path).stem
    folder = Path(path).parent.name
    title = _as_text(meta.get("title"))
    lines = body.strip().splitlines()
    # A leading "# Title" repeats the front-matter title: take it as the title if none, and drop it.
    if lines:
        first = _HEADING.match(lines[0])
        if first and len(first.group(1)) == 1:
            title = title or first.group(2).strip()
            body = "\n".join(lines[1:])
    doc_id = _as_text(meta.get("id")) or stem
    if not re.fullmatch(r"[\w.\-]+", doc_id):
        raise CorpusError(f"{path}: id {doc_id!r} must be letters, digits, '-', '_' or '.'")
    default_category = {"policies": "policy", "products": "product"}.get(folder, folder or "general")
    category = _as_text(meta.get("category")) or default_category
    product_id = _as_text(meta.get("product_id"))
    if not product_id and category == "product" and doc_id.startswith("product-"):
        product_id = doc_id.removeprefix("product-")
    known = {"id", "title", "category", "effective_date", "source", "product_id", "lang", "translation_of"}
    lang = _as_text(meta.get("lang")) or "zh"
    if lang not in ("zh", "en"):
        raise CorpusError(f"{path}: lang {lang!r} must be zh or en")
    return Document(
        doc_id=doc_id,
        title=title or stem,
        category=category,
        body=body.strip(),
        path=path,
        content_hash=content_hash or file_hash(text.encode("utf-8")),
        effective_date=_as_text(meta.get("effective_date")),
        source=_as_text(meta.get("source")),
        product_id=product_id,
        lang=lang,
        translation_of=_as_text(meta.get("translation_of")),
        extra={k: v for k, v in meta.items() if k not in known},
    )


def load_document(file: Path, root: Path) -> Document:
    """Read and parse ``file`` (path recorded relative to ``root``)."""
    data = file.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{file}: not UTF-8") from exc
    return parse_document(text, path=file.relative_to(root).as_posix(), content_hash=file_hash(data))


def _sections(body: str) -> list[tuple[str, str]]:
    """Split a body into (heading path, text) at ``##``/``###`` headings; text before them has path ''."""
    sections: list[tuple[str, str]] = []
    path: list[str] = []
    current: list[str] = []
    heading = ""
    in_fence = False

    def flush() -> None:
        text = "\n".join(current).strip()
        if text:
            sections.append((heading, text))

    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m and len(m.group(1)) >= 2:
            flush()
            current = []
            level = len(m.group(1))
            # Level 2 starts a new path; deeper levels extend it (keep the parent heading for context).
            path = [*path[: max(level - 2, 0)], m.group(2).strip()]
            heading = " › ".join(path)
        else:
            current.append(line)
    flush()
    return sections


def _split_long(text: str, limit: int) -> list[str]:
    """Pack paragraphs (then sentences) greedily into pieces of at most ``limit`` characters."""
    if len(text) <= limit:
        return [text]
    units: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        if len(para) <= limit:
            units.append(para)
            continue
        lines = para.splitlines()
        for line in lines:
            if len(line) <= limit:
                units.append(line)
            else:
                sentences = [s for s in _SENTENCE_END.split(line) if s.strip()]
                for sentence in sentences:
                    # A single run-on "sentence" longer than the limit is cut hard.
                    units.extend(sentence[i : i + limit] for i in range(0, len(sentence), limit))
    pieces: list[str] = []
    buf = ""
    for unit in units:
        joiner = "\n" if buf else ""
        if buf and len(buf) + len(joiner) + len(unit) > limit:
            pieces.append(buf)
            buf = unit
        else:
            buf = f"{buf}{joiner}{unit}"
    if buf:
        pieces.append(buf)
    return pieces


def chunk_document(doc: Document, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Heading-aware chunks of ``doc``; each keeps the document title and its section heading."""
    chunks: list[Chunk] = []
    for heading, text in _sections(doc.body):
        for piece in _split_long(text, max_chars):
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{len(chunks)}",
                    doc_id=doc.doc_id,
                    title=doc.title,
                    category=doc.category,
                    section=heading,
                    text=piece,
                    path=doc.path,
                    position=len(chunks),
                    effective_date=doc.effective_date,
                    source=doc.source,
                    product_id=doc.product_id,
                    lang=doc.lang,
                    translation_of=doc.translation_of,
                )
            )
    return chunks


def document_passage(doc: Document) -> Chunk:
    """The whole document as one retrievable unit (the "document" level of the index)."""
    return Chunk(
        chunk_id=f"{doc.doc_id}#doc",
        doc_id=doc.doc_id,
        title=doc.title,
        category=doc.category,
        section="",
        text=doc.body,
        path=doc.path,
        position=-1,
        effective_date=doc.effective_date,
        source=doc.source,
        product_id=doc.product_id,
        level=LEVEL_DOCUMENT,
        lang=doc.lang,
        translation_of=doc.translation_of,
    )


def index_units(doc: Document) -> list[Chunk]:
    """Everything indexed for ``doc``: its section chunks, then the document-level passage."""
    return [*chunk_document(doc), document_passage(doc)]
