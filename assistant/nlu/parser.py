"""``parse(text)`` → intent, calibrated confidence, contract slots and language, offline.

The one entry point other parts call::

    from assistant.nlu.parser import NLU
    nlu = NLU.from_settings(settings)          # or services.nlu
    result = nlu.parse("车价18万，首付四成，分24期，月供多少")
    result.intent, result.confidence, result.slots, result.lang

``expected_slot`` is the slot the assistant has just asked for; it lets a bare answer ("15万",
"三成", "36") fill that slot. Any input is accepted: empty, very long, emoji-only or binary-ish
text never raises (the HTTP route refuses an empty text with a 422 itself).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.nlu.intent import Embedder, IntentClassifier
from assistant.nlu.slots import SLOT_NAMES, extract_slots

Lang = Literal["zh", "en"]
DEFAULT_MAX_CHARS = 2000
EMPTY_INTENT = "out_of_scope"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class ParseResult(BaseModel):
    """What the offline understanding makes of one message."""

    intent: str = Field(description="One of the contract's intents.")
    confidence: float = Field(ge=0.0, le=1.0, description="Calibrated probability of the intent.")
    slots: dict[str, Any] = Field(default_factory=dict, description="Contract slots stated in the text.")
    lang: Lang = Field(description="zh if the text has any Chinese character, else en.")


def detect_lang(text: str) -> Lang:
    """``zh`` when the text contains a CJK character (mixed text included), else ``en``.

    A text with neither Chinese nor Latin letters (emoji, digits) is ``zh``: the service is
    Chinese-first.
    """
    if _CJK.search(text):
        return "zh"
    return "en" if re.search(r"[A-Za-z]", text) else "zh"


def clean_text(value: object, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Any input as text the models can read: bytes decoded, control characters and lone surrogates
    dropped, whitespace collapsed, cut to ``max_chars``."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    text = text[: max_chars * 2]
    text = "".join(
        ch for ch in text
        if not (0xD800 <= ord(ch) <= 0xDFFF) and (ch in "\t\n " or unicodedata.category(ch)[0] != "C")
    )
    text = re.sub(r"\s+", " ", text).strip()
    return text[:max_chars]


class NLU:
    """The intent classifier and the slot extractor behind one ``parse`` call.

    The classifier artifact is loaded on the first call and kept; ``clock`` gives today's date
    (calendar years → vehicle age) and can be fixed in tests.
    """

    def __init__(self, model_path: Path, *, max_chars: int = DEFAULT_MAX_CHARS, embedder: Embedder | None = None,
                 clock: Callable[[], date] = date.today, cascade: bool = True) -> None:
        self.model_path = model_path
        self.cascade = cascade
        self.max_chars = max_chars
        self.clock = clock
        self._embedder = embedder
        self._classifier: IntentClassifier | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> NLU:
        """The NLU for these settings (the shipped model under ``settings.models_dir``)."""
        from assistant.nlu.training import artifact_path

        return cls(artifact_path(settings.models_dir), max_chars=settings.max_message_chars,
                   embedder=Embedder(cache_size=settings.nlu_embedding_cache), cascade=settings.nlu_cascade)

    @property
    def classifier(self) -> IntentClassifier:
        """The intent classifier, loaded once."""
        if self._classifier is None:
            with self._lock:
                if self._classifier is None:
                    classifier = IntentClassifier.load(self.model_path, self._embedder)
                    if not self.cascade:
                        classifier.cascade_threshold = None
                    self._classifier = classifier
        return self._classifier

    def warm_up(self) -> None:
        """Load the model and the embedder now rather than on the first message."""
        self.classifier.predict("你好")
        self.classifier.embedder.encode(["你好"])  # the cascade may have answered without it

    def parse(self, text: object, expected_slot: str | None = None, *, today: date | None = None) -> ParseResult:
        """Intent, confidence, slots and language of one customer message."""
        clean = clean_text(text, self.max_chars)
        lang = detect_lang(clean)
        if expected_slot not in SLOT_NAMES:
            expected_slot = None
        if not re.search(r"\w", clean):  # empty, or only punctuation / emoji: nothing to understand
            return ParseResult(intent=EMPTY_INTENT, confidence=0.0, slots={}, lang=lang)
        prediction = self.classifier.predict(clean)
        slots = extract_slots(clean, intent=prediction.intent, expected_slot=expected_slot,
                              today=today or self.clock())
        return ParseResult(intent=prediction.intent, confidence=round(prediction.confidence, 4), slots=slots,
                           lang=lang)


_default: NLU | None = None
_default_lock = threading.Lock()


def parse(text: object, expected_slot: str | None = None, *, today: date | None = None) -> ParseResult:
    """Parse with a process-wide :class:`NLU` built from the environment's settings."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                from assistant.settings import get_settings

                _default = NLU.from_settings(get_settings())
    return _default.parse(text, expected_slot, today=today)
