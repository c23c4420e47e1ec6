"""The labelled utterances (eval/nlu/utterances.jsonl) and their deterministic train/test split.

The split is a hash of the text (SHA-256, 20 % test), so training and evaluation agree without a
split field and an utterance never moves between splits when others are added.

``eval/nlu/augment/*.jsonl`` holds further utterances that are training-only: they were written later,
by writers who did not see the labelled set, so the test split stays the one measured before. Any
augment line that repeats or nearly repeats a test utterance is dropped (see :func:`training_set`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.errors import ConfigurationError
from assistant.jsonl import read_jsonl

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
    for _, row in read_jsonl(path):
        utt = Utterance(text=row["text"], intent=row["intent"], slots=dict(row.get("slots") or {}),
                        lang=row.get("lang", "zh"))
        if split is None or split_of(utt.text) == split:
            out.append(utt)
    return out


def augment_paths(resources_dir: Path) -> list[Path]:
    """The training-only files (``eval/nlu/augment/*.jsonl``), sorted."""
    return sorted((resources_dir / "eval" / "nlu" / "augment").glob("*.jsonl"))


_NOT_WORD = re.compile(r"[\W_]+")
NEAR_DUPLICATE = 0.8  # character-bigram Jaccard at or above which an augment line counts as a test line


def _bigrams(text: str) -> frozenset[str]:
    key = _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())
    return frozenset(key[i : i + 2] for i in range(max(1, len(key) - 1))) if key else frozenset()


def training_set(data_path: Path, augment: list[Path] | None = None) -> tuple[list[Utterance], int]:
    """The train split of ``data_path`` plus the training-only ``augment`` files.

    Returns the utterances and how many augment lines were dropped because they repeat a test
    utterance (the same text up to case, width and punctuation, or a bigram Jaccard ≥ 0.8), so
    the test split measures phrasings the model has not seen.
    """
    rows = load_utterances(data_path, split="train")
    test = [g for g in (_bigrams(u.text) for u in load_utterances(data_path, split="test")) if g]
    seen = {u.text for u in rows}
    dropped = 0
    for path in augment or []:
        for utt in load_utterances(path):
            if utt.text in seen:
                continue
            grams = _bigrams(utt.text)
            if any(grams == t or len(grams & t) >= NEAR_DUPLICATE * len(grams | t) for t in test):
                dropped += 1
                continue
            seen.add(utt.text)
            rows.append(utt)
    return rows, dropped
