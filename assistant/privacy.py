"""Personal-data detection and masking (ID numbers, phone numbers, bank cards, names).

Pure text functions: used by the log pipeline (irreversible masking) and by the LLM engine
(reversible placeholders, restored only inside local tool calls).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# 18-digit resident ID (last char may be X), mainland mobile numbers, 16–19 digit bank cards.
ID_NUMBER = re.compile(r"(?<!\d)[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)")
PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
BANK_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")
# "我叫张三" / "姓名：李四" / "my name is ..." — names only where the text says it is a name.
NAME_ZH = re.compile(r"(?:我叫|我是|姓名[:：]?\s*|本人)([\u4e00-\u9fa5]{2,4})(?=[，,。.\s]|$)")
NAME_EN = re.compile(r"(?i)(?:my name is|i am|i'm)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")

_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ID", ID_NUMBER),
    ("PHONE", PHONE),
    ("CARD", BANK_CARD),
)


def _mask_digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_pii(text: str) -> str:
    """Irreversibly mask personal data for logs and stored text: 110101199003071234 → 110***********1234."""
    for _, pattern in _KINDS:
        text = pattern.sub(lambda m: _mask_digits(m.group(0)), text)
    text = NAME_ZH.sub(lambda m: m.group(0).replace(m.group(1), m.group(1)[0] + "*" * (len(m.group(1)) - 1)), text)
    return text


def contains_pii(text: str) -> bool:
    """True when the text holds an ID number, phone number or bank card."""
    return any(pattern.search(text) for _, pattern in _KINDS)


@dataclass
class PiiVault:
    """Reversible masking: personal data becomes ``<ID_1>``-style placeholders before text leaves
    for an external model, and is restored only inside local tool calls."""

    forward: dict[str, str] = field(default_factory=dict)  # placeholder -> original
    reverse: dict[str, str] = field(default_factory=dict)  # original -> placeholder

    def _placeholder(self, kind: str, original: str) -> str:
        if original in self.reverse:
            return self.reverse[original]
        count = sum(1 for key in self.forward if key.startswith(f"<{kind}_")) + 1
        token = f"<{kind}_{count}>"
        self.forward[token] = original
        self.reverse[original] = token
        return token

    def mask(self, text: str) -> str:
        """Replace personal data with stable placeholders."""
        for kind, pattern in _KINDS:
            text = pattern.sub(lambda m, k=kind: self._placeholder(k, m.group(0)), text)
        for pattern in (NAME_ZH, NAME_EN):
            text = pattern.sub(
                lambda m: m.group(0).replace(m.group(1), self._placeholder("NAME", m.group(1))), text
            )
        return text

    def unmask(self, text: str) -> str:
        """Restore placeholders to the original values (local use only)."""
        for token, original in self.forward.items():
            text = text.replace(token, original)
        return text

    def unmask_obj(self, value: object) -> object:
        """Restore placeholders inside nested tool arguments."""
        if isinstance(value, str):
            return self.unmask(value)
        if isinstance(value, dict):
            return {k: self.unmask_obj(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.unmask_obj(v) for v in value]
        return value
