"""The labelled utterances (eval/nlu/utterances.jsonl) and their deterministic train/test split.

The split is a hash of the text (SHA-256, 20 % test), so training and evaluation agree without a
split field and an utterance never moves between splits when others are added.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.errors import ConfigurationError

Split = Literal["train", "test"]
TEST_PERCENT = 20


def split_of(text: str) -> Split:
    """``test`` for 20 % of texts, ``train`` for the rest, by ``sha256(text) % 100``."""
    digest = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)
    return "test" if digest % 100 < TEST_PERCENT else "train"


@dataclass(frozen=True)
class Utterance:
    """One labelled customer message."""

    text: str
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    lang: str = "zh"


def default_path(resources_dir: Path) -> Path:
    """Where the labelled set lives in a checkout (``eval/nlu/utterances.jsonl``)."""
    return resources_dir / "eval" / "nlu" / "utterances.jsonl"


def load_utterances(path: Path, split: Split | None = None) -> list[Utterance]:
    """The utterances of ``path`` (one JSON object a line), optionally one split only."""
    if not path.is_file():
        raise ConfigurationError(f"找不到标注数据 {path}", f"labelled utterances not found at {path}")
    out: list[Utterance] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        utt = Utterance(text=row["text"], intent=row["intent"], slots=dict(row.get("slots") or {}),
                        lang=row.get("lang", "zh"))
        if split is None or split_of(utt.text) == split:
            out.append(utt)
    return out
