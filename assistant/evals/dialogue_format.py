"""The format of the realistic conversation eval (``eval/dialogue/*.yaml``; described in its README).

Kept apart from the runner so the files can be validated without loading the assistant:
``python -m assistant.evals.dialogue_format eval/dialogue/test.yaml``.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CATEGORIES = ("refer_back", "relative_edit", "constraints", "debt", "profile", "policy_question",
              "multi_question", "topic_switch", "bad_input")
OFFER_FIELDS = ("monthly_payment", "vehicle_price", "down_payment", "loan_amount", "total_interest")


class OfferRef(BaseModel):
    """An offer of the latest list shown: by rank, the cheapest/priciest monthly payment, or brand."""

    model_config = ConfigDict(extra="forbid")

    rank: int | None = Field(default=None, ge=1)
    cheapest: bool | None = None
    priciest: bool | None = None
    brand: str | None = None

    @model_validator(mode="after")
    def _one(self) -> OfferRef:
        given = [v for v in (self.rank, self.cheapest, self.priciest, self.brand) if v not in (None, False)]
        if len(given) != 1:
            raise ValueError("give exactly one of rank, cheapest, priciest, brand")
        return self


class OfferFigure(BaseModel):
    """A figure of one shown offer that the reply must contain."""

    model_config = ConfigDict(extra="forbid")

    rank: int = Field(ge=1)
    field: Literal["monthly_payment", "vehicle_price", "down_payment", "loan_amount", "total_interest"]


class Expect(BaseModel):
    """What must hold after one turn (every key optional)."""

    model_config = ConfigDict(extra="forbid")

    intent: str | list[str] | None = None
    tools: list[str] | None = None
    tools_include: list[str] = Field(default_factory=list)
    tools_exclude: list[str] = Field(default_factory=list)
    tool_args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    slots: dict[str, Any] = Field(default_factory=dict)
    slots_absent: list[str] = Field(default_factory=list)
    slots_not: dict[str, Any] = Field(default_factory=dict)
    offers_min: int | None = Field(default=None, ge=0)
    offers_max: int | None = Field(default=None, ge=0)
    max_monthly_payment: float | None = Field(default=None, gt=0)
    offers_exclude: dict[str, Any] = Field(default_factory=dict)
    offers_all: dict[str, Any] = Field(default_factory=dict)
    selected: OfferRef | None = None
    reply_mentions_offer: OfferFigure | None = None
    citations_min: int | None = Field(default=None, ge=0)
    documents_min: int | None = Field(default=None, ge=0)
    asks: str | None = None
    clarifies: bool | None = None
    consent_asked: bool | None = None
    scored: bool | None = None
    reply_contains: list[str | list[str]] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)
    reply_lang: Literal["zh", "en"] | None = None
    handoff: bool | None = None


class Turn(BaseModel):
    """One customer message and what must hold after it."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    expect: Expect = Field(default_factory=Expect)


class Conversation(BaseModel):
    """One realistic conversation."""

    model_config = ConfigDict(extra="forbid")

    id: str
    category: Literal["refer_back", "relative_edit", "constraints", "debt", "profile", "policy_question",
                      "multi_question", "topic_switch", "bad_input"]
    lang: Literal["zh", "en"]
    description: str
    turns: list[Turn] = Field(min_length=1)


def load_conversations(path: Path) -> list[Conversation]:
    """Parse and validate one file (ids unique)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("conversations") or []
    conversations = [Conversation.model_validate(item) for item in items]
    duplicates = [cid for cid, n in Counter(c.id for c in conversations).items() if n > 1]
    if duplicates:
        raise ValueError(f"{path}: duplicate ids: {', '.join(duplicates)}")
    return conversations


def main(argv: list[str] | None = None) -> int:
    """Validate the files given; print counts per category and language."""
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    status = 0
    for path in paths:
        try:
            conversations = load_conversations(path)
        except Exception as exc:  # report every file's problem, not only the first
            print(f"{path}: INVALID: {exc}")
            status = 1
            continue
        by_cat = Counter(c.category for c in conversations)
        english = sum(c.lang == "en" for c in conversations)
        print(f"{path}: {len(conversations)} conversations ({english} English), "
              f"{sum(len(c.turns) for c in conversations)} turns; "
              + ", ".join(f"{k} {v}" for k, v in sorted(by_cat.items())))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
