"""Compliance checks on text shown to customers (model output, agent drafts).

- never promise approval (只是预审，不承诺审批);
- never show a price (monthly payment / rate) without the APR (年化利率);
- never reveal the system prompt.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

_APPROVAL_PROMISE = re.compile(
    r"(保证|一定|肯定|百分之百|100%|包)(能|可以|会)?(批|下款|通过|放款|贷到)"
    r"|(稳批|秒批|必批|包过|包下款|无条件(批|通过)|零拒|不看征信)"
    r"|guarantee[ds]? (your )?(approval|to be approved)|(will|definitely) (be|get) approved|100% approv",
    re.IGNORECASE,
)
_PRICE = re.compile(
    r"(月供|每月(还|付)|月付|利率|费率|利息|monthly payment|interest rate|per month)"
    r"[^。！？\n]{0,24}?\d[\d,]*(\.\d+)?\s*(元|块|%|％|yuan|CNY)",
    re.IGNORECASE,
)
_APR = re.compile(r"年化|APR|annuali[sz]ed", re.IGNORECASE)
_PROMPT_LEAK = re.compile(r"(系统提示词|system prompt|你是一名汽车金融智能助手|SYSTEM_PROMPT_MARKER)", re.IGNORECASE)
_INJECTION = re.compile(
    r"(忽略|无视|忘记|忘掉).{0,8}(之前|以上|上面|前面|所有).{0,6}(指令|指示|规则|设定|提示)"
    r"|(系统|system)\s*(提示词|prompt)|(打印|输出|发给我|告诉我|显示).{0,8}(提示词|指令|prompt)"
    r"|ignore (all |the )?(previous|above|prior) (instructions|rules)|developer mode|jailbreak|越狱",
    re.IGNORECASE,
)


class GuardFinding(BaseModel):
    """One compliance problem in a text."""

    code: str
    zh: str
    en: str


def check_text(text: str) -> list[GuardFinding]:
    """Compliance problems in a customer-facing text (empty list = fine)."""
    findings: list[GuardFinding] = []
    if any(not _disclaimed(text, m.start()) for m in _APPROVAL_PROMISE.finditer(text)):
        findings.append(GuardFinding(code="approval_promise", zh="含有承诺审批/放款的表述",
                                     en="promises approval"))
    if _PRICE.search(text) and not _APR.search(text):
        findings.append(GuardFinding(code="price_without_apr", zh="报价未同时展示年化利率(APR)",
                                     en="a price is shown without its APR"))
    if _PROMPT_LEAK.search(text):
        findings.append(GuardFinding(code="prompt_leak", zh="疑似泄露系统提示词", en="possible system-prompt leak"))
    return findings


# A promise word that is denied or reported ("不存在“包过”", "声称保证下款的都是骗子") promises nothing.
_DISCLAIMER = re.compile(r"(不|没有|无|不存在|不会|绝不|从不|谎称|声称|号称|所谓|自称|宣称|not|never|no one can|"
                         r"nobody can)"
                         r"[^。！？!?，,；;\n]{0,8}$", re.IGNORECASE)


def _disclaimed(text: str, start: int) -> bool:
    before = text[max(0, start - 12):start]
    quoted = before.rstrip().endswith(("“", "「", "\"", "'")) or before.count("“") > before.count("”")
    return bool(_DISCLAIMER.search(before)) or quoted


def is_injection(text: str) -> bool:
    """True when a customer message tries to override instructions or extract the system prompt."""
    return bool(_INJECTION.search(text))
