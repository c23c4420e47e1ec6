"""Chinese-first normaliser for the quantities customers say: money, ratios, rates, durations.

Customers write 十五万 / 15万 / 15w / 1.5万 / 两万五 / 十二万八 / 150000 for the same kind of
amount, 三成 / 30% for a ratio, 36期 / 3年 / 三十六个月 / 两年半 for a term and 半个月 / 15天
for a delay. This module turns such text into numbers; :mod:`assistant.nlu.slots` decides which
slot each number fills.

Two levels:

* value parsers for a whole string: :func:`to_number`, :func:`parse_money`, :func:`parse_ratio`,
  :func:`parse_rate`, :func:`parse_months`, :func:`parse_days`;
* :func:`find_quantities`, which scans a sentence and returns every quantity with its kind, value
  and span, so that context around it can be read.

Pure functions, no I/O. ``cn2an`` is used as a cross-check for plain Chinese numerals; the
colloquial forms it does not cover (两万五 = 25000, 十二万八 = 128000, 2万5, 1.5万) are handled here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# --------------------------------------------------------------------------------------------------
# Text normalisation
# --------------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# Chat English writes "with" as "w" or "w/" ("the one w the lowest monthly"); left alone, "one w" reads as
# 1万. Only a free-standing w between words is "with"; "15w" and "15 w以内" stay 万.
_EN_WITH = re.compile(r"(?:(?<=\s)|^)w/?(?:(?=\s+[A-Za-z])|/(?=[A-Za-z]))", re.IGNORECASE)


def normalize(text: str) -> str:
    """NFKC (full-width digits and signs to ASCII), control characters and lone surrogates removed,
    thousands separators dropped (150,000 → 150000), English number words turned into digits.

    The result is what the quantity scanner and the slot extractor read.
    """
    text = _SURROGATE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    text = _THOUSANDS.sub("", text)
    text = _EN_WITH.sub(lambda m: "with " if m.group(0).endswith("/") else "with", text)
    return english_numbers_to_digits(text)


def fold_case(text: str) -> str:
    """Lower-case ASCII/Latin letters without changing the string's length (offsets stay valid)."""
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


# --------------------------------------------------------------------------------------------------
# English number words
# --------------------------------------------------------------------------------------------------

_EN_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_EN_SCALE = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_EN_WORD = "|".join(sorted([*_EN_SMALL, *_EN_TENS, *_EN_SCALE], key=len, reverse=True))
_EN_RUN = re.compile(rf"\b(?:{_EN_WORD})(?:(?:\s+|-|\s+and\s+)(?:{_EN_WORD}))*\b", re.IGNORECASE)
_EN_HALF = [
    (re.compile(r"\b(\d+)\s+and\s+a\s+half\s+(years?|months?)\b", re.I), lambda m: f"{m[1]}.5 {m[2]}"),
    (re.compile(r"\ba\s+(year|month)\s+and\s+a\s+half\b", re.I), lambda m: f"1.5 {m[1]}s"),
    (re.compile(r"\bhalf\s+a\s+(year|month)\b", re.I), lambda m: f"0.5 {m[1]}s"),
    (re.compile(r"\b(for|over|in|within|about|than|of|after|only|just)\s+(?:a|one)\s+(year|month|week|day)\b", re.I),
     lambda m: f"{m[1]} 1 {m[2]}"),
    (re.compile(r"\b(a\s+)?couple\s+of\s+(years|months|weeks|days)\b", re.I), lambda m: f"2 {m[2]}"),
]


def _en_run_value(words: list[str]) -> int | None:
    total, current = 0, 0
    for word in words:
        w = word.lower()
        if w in _EN_SMALL:
            current += _EN_SMALL[w]
        elif w in _EN_TENS:
            current += _EN_TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in ("thousand", "million"):
            total += max(current, 1) * _EN_SCALE[w]
            current = 0
        else:
            return None
    return total + current


def english_numbers_to_digits(text: str) -> str:
    """``thirty-six months`` → ``36 months``; ``two and a half years`` → ``2.5 years``.

    Only runs made entirely of number words are replaced; a lone ``one`` in "which one" becomes
    ``1``, which is harmless because a bare number fills no slot without context.
    """
    if not re.search(r"[A-Za-z]", text):
        return text

    def repl(match: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s-]+", match.group(0)) if w and w.lower() != "and"]
        if words and all(w.lower() in _EN_SCALE for w in words):
            return match.group(0)  # "thousand" alone is a unit ("150 thousand"), not a number
        value = _en_run_value(words)
        return match.group(0) if value is None else str(value)

    text = _EN_RUN.sub(repl, text)
    for pattern, fn in _EN_HALF:
        text = pattern.sub(fn, text)
    return text


# --------------------------------------------------------------------------------------------------
# Numerals
# --------------------------------------------------------------------------------------------------

CN_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
    "六": 6, "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7,
    "捌": 8, "玖": 9,
}
CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10_000, "萬": 10_000,
            "亿": 100_000_000}
_CN_DIGIT_CLASS = "".join(CN_DIGITS)
_CN_UNIT_CLASS = "".join(CN_UNITS)

#: one numeral token: Arabic digits (with a decimal point), Chinese digits and units, 点 as a point.
# bounded and possessive: a numeral is never 40 characters long, and without backtracking the
# scanner stays linear on hostile input (20,000 digits, 十十十…)
NUM = (rf"(?:\d{{1,15}}+(?:\.\d{{1,8}})?+|[{_CN_DIGIT_CLASS}十拾])"
       rf"(?:\d|\.\d|[{_CN_DIGIT_CLASS}{_CN_UNIT_CLASS}]|点(?=[\d{_CN_DIGIT_CLASS}])){{0,24}}+")
_NUM_RE = re.compile(NUM)
_ITEM = re.compile(rf"\d+(?:\.\d+)?|[{_CN_DIGIT_CLASS}]+(?:点[{_CN_DIGIT_CLASS}]+)?|[{_CN_UNIT_CLASS}]")


def _cn_digits_value(run: str) -> Decimal:
    """A run of Chinese digits: one digit, digits read one by one (二零二一 → 2021), or X点Y."""
    whole, _, frac = run.partition("点")
    digits = "".join(str(CN_DIGITS[c]) for c in whole) or "0"
    if 2 <= len(whole) <= 3 and "0" not in digits:
        raise ValueError("vague")  # 三四万 / 两三年 / 七八千: a range said loosely, not a number
    if frac:
        return Decimal(f"{int(digits)}.{''.join(str(CN_DIGITS[c]) for c in frac)}")
    return Decimal(digits)


def to_number(token: str) -> Decimal | None:
    """Parse one numeral token, Arabic, Chinese or mixed, including colloquial elisions.

    >>> [str(to_number(t)) for t in ["十五万", "1.5万", "两万五", "十二万八", "2万5", "三千五", "一万零五"]]
    ['150000', '15000', '25000', '128000', '25000', '3500', '10005']
    """
    token = token.strip().rstrip("点")
    if not token:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        return Decimal(token)
    items = _ITEM.findall(token)
    if "".join(items) != token:
        return None
    try:
        return _evaluate(items)
    except ValueError:
        return None


def _evaluate(items: list[str]) -> Decimal:
    """Value of numeral items (digit runs and unit characters); ValueError when they are no number."""
    total = Decimal(0)  # completed 万 / 亿 sections
    section = Decimal(0)  # the part below 万 being built
    current: Decimal | None = None
    last_unit: int | None = None
    zero_seen = False  # 一万零五 means 10005, not 15000: a 零 cancels the colloquial elision
    for item in items:
        if item in CN_UNITS:
            unit = CN_UNITS[item]
            if unit < 10_000:
                section += (current if current is not None else Decimal(1)) * unit
            else:
                section += current if current is not None else Decimal(0)
                if section == 0:
                    section = Decimal(1)
                total = (total + section) * unit if unit == 100_000_000 else total + section * unit
                section = Decimal(0)
            current = None
            last_unit = unit
            zero_seen = False
        else:
            if item[0] in "零〇○" and last_unit is not None:
                zero_seen = True
                item = item.lstrip("零〇○")
                if not item:
                    continue
            value = Decimal(item) if item[0].isdigit() else _cn_digits_value(item)
            if current is not None:  # two numbers in a row ("3 5"): not one numeral
                raise ValueError("two numbers")
            current = value
    if current is not None:
        # 两万五 / 三千五 / 一百五: a single trailing digit counts in tenths of the last unit
        if last_unit is not None and not zero_seen and current < 10 and current == current.to_integral_value():
            section += current * last_unit / 10
        else:
            section += current
    return total + section


def cn2an_number(token: str) -> Decimal | None:
    """``cn2an``'s reading of a standard Chinese numeral (None when it refuses); used as a cross-check."""
    try:
        import cn2an

        return Decimal(str(cn2an.cn2an(token, "smart")))
    except (ValueError, KeyError, InvalidOperation, ImportError):
        return None


# --------------------------------------------------------------------------------------------------
# Quantities in a sentence
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quantity:
    """A number found in text.

    ``kind``: ``money`` (yuan), ``number`` (no unit), ``percent`` (a fraction, 3.5% → 0.035),
    ``ratio`` (三成 → 0.3), ``months``, ``years``, ``days``, ``km``, ``age`` (years of a person),
    ``year`` (a calendar year), ``permille_month`` (月息3厘 style, as a monthly fraction).
    ``low`` is the lower end of a range (10到15万 → value 150000, low 100000).
    ``approx`` marks 左右 / 以内 / 多 / 来 style hedges attached to the number.
    """

    kind: str
    value: Decimal
    start: int
    end: int
    text: str
    low: Decimal | None = None
    approx: bool = False
    unit: str = ""


_MONEY_UNIT = (r"(?:万元|万块钱|万块|万|w(?![a-z])|千元|千块钱|千块|千|k(?![a-z])|亿元|亿|元|块钱|块|圆|"
               r"rmb|yuan|cny|thousand|grand|million|mn(?![a-z]))")
_UNIT_FACTORS = [
    (("万", "w"), 10_000), (("千", "k", "thousand", "grand"), 1000), (("亿",), 100_000_000),
    (("million", "mn"), 1_000_000),
]
_APPROX_AFTER = re.compile(r"\s?(?:左右|上下|以内|之内|以下|内|出头|多|来|把|封顶|以上|approx|or so|ish|-ish)")
_APPROX_BEFORE = re.compile(r"(?:大概|大约|差不多|约|最多|不超过|不到|不高于|控制在|around|about|under|below|within|"
                            r"up to|max|roughly|approximately|less than)\s?$")


def _unit_factor(unit: str) -> int:
    unit = unit.lower()
    for names, factor in _UNIT_FACTORS:
        if any(unit.startswith(n) for n in names):
            return factor
    return 1


def _round_int(value: Decimal) -> Decimal:
    # to_integral_value, not quantize: a 30-digit amount typed in chat has more digits than the context's
    # precision, and quantize would raise; the slot's range check then refuses it with a clear message.
    return value.to_integral_value(rounding=ROUND_HALF_UP)


_P = {
    # a calendar year: 2021年, 二〇二一年, 21年的车 (two digits only when a car follows)
    "year4": re.compile(rf"(?<![\d.])((?:19|20)\d{{2}}|[一二][九零〇○][{_CN_DIGIT_CLASS}]{{2}})\s?(?:年|款)"),
    "year2": re.compile(r"(?<![\d.])([0-2]\d)\s?(?:年(?=的|买|上牌|提|款|入手|落户|购|上的)|款)"),
    "year_en": re.compile(r"(?:\b(?:in|from|since|a|an|my|the|bought|registered)\s+)((?:19|20)\d{2})\b"
                          r"(?!\s*(?:km|yuan|rmb|元|万|k\b))"),
    # a range of money: 10到15万, 10-15w, 十到十五万
    "money_range": re.compile(
        rf"({NUM})\s?(万|w|千|k)?\s?(?:到|至|-|~|—|–|to)\s?({NUM})\s?({_MONEY_UNIT})?"
    ),
    "km": re.compile(rf"({NUM})\s?(?:多|来|余)?\s?(万|w|千|k)?\s?(?:多|余)?\s?"
                     r"(?:公里|千米|km|kms|kilomet(?:er|re)s?)(?![a-z])"),
    "age": re.compile(rf"({NUM})\s?(?:周岁|岁)|(\d{{2}})\s?(?:years?|yrs?)[\s-]*old"),
    "percent": re.compile(rf"百分之({NUM})|({NUM})\s?(?:%|个点|percent|pct)|千分之({NUM})"),
    "li": re.compile(rf"({NUM})\s?厘"),
    "ratio": re.compile(
        rf"([{_CN_DIGIT_CLASS}十]|10|\d(?:\.\d)?)\s?成(半)?(?!都|功|本|为|交|立|绩|熟|年|员|果|就|品|长|型|色|新)"
    ),
    "half_month": re.compile(r"半个?月"),
    "half_year": re.compile(r"半年"),
    "months": re.compile(rf"({NUM})\s?(?:多|来)?\s?"
                         r"(?:个半月|个多月|个月|期(?!限|间|待|望|货|内|数)|months?|mos?\b|-month)"
                         r"|(\d{2})月(?!份|供|底|初|中|号|日)"),
    "years": re.compile(rf"({NUM})\s?(?:多)?\s?(年半|年(?!化|利|费|息|薪|收|纪|级|终)|years?|yrs?\b|-year)"),
    # "周转" (tide over) and "周末" are not weeks: "借5万周转" is 5万 yuan
    "weeks": re.compile(rf"({NUM})\s?(?:个)?(?:星期|礼拜|周(?!转|末|边|围)|weeks?)"),
    "days": re.compile(rf"({NUM})\s?(?:多)?\s?(?:天|日(?!期|本|产|子|常)|days?(?![a-z])|-days?(?![a-z]))"),
    "money": re.compile(rf"(?:[¥$]|rmb|cny)?\s?({NUM})\s?(多|来|余)?\s?({_MONEY_UNIT})?"),
}


def _num(token: str | None) -> Decimal | None:
    if not token:
        return None
    try:
        return to_number(token)
    except (InvalidOperation, KeyError, ValueError):
        return None


def find_quantities(text: str, *, today_year: int | None = None) -> list[Quantity]:
    """Every quantity in ``text`` (already :func:`normalize`-d and case-folded), in reading order.

    Each character belongs to at most one quantity; more specific patterns claim their span first
    (a calendar year before a duration, 万公里 before money, 三成 before a plain number).
    """
    taken = [False] * len(text)
    found: list[Quantity] = []

    def free(start: int, end: int) -> bool:
        return not any(taken[start:end])

    def claim(q: Quantity) -> None:
        for i in range(q.start, q.end):
            taken[i] = True
        found.append(q)

    def approx_at(start: int, end: int) -> bool:
        return bool(_APPROX_AFTER.match(text, end)) or bool(_APPROX_BEFORE.search(text[max(0, start - 8):start]))

    for m in _P["year4"].finditer(text):
        token = m.group(1)
        year = int(token) if token.isdigit() else int(_cn_digits_value(token))
        if 1980 <= year <= (today_year or 2100) + 1 and free(*m.span()):
            claim(Quantity("year", Decimal(year), m.start(), m.end(), m.group(0)))
    for pattern in ("year2", "year_en"):
        for m in _P[pattern].finditer(text):
            year = int(m.group(1))
            if year < 100:
                year += 2000
            if 1980 <= year <= (today_year or 2100) + 1 and free(m.start(1), m.end()):
                claim(Quantity("year", Decimal(year), m.start(1), m.end(), m.group(0)))

    for m in _P["money_range"].finditer(text):
        low, high = _num(m.group(1)), _num(m.group(3))
        if low is None or high is None or not free(*m.span()):
            continue
        unit = m.group(4) or ""
        high_token = m.group(3)
        if not unit and not any(c in high_token for c in "万萬千仟亿"):
            continue  # 2020-2022, 3-5: no money
        tail = 10_000 if high_token.endswith(("万", "萬")) else 1000 if high_token.endswith(("千", "仟")) else 1
        high_v = high * _unit_factor(unit) if unit else high
        if m.group(2):
            low_v = low * _unit_factor(m.group(2))
        elif any(c in m.group(1) for c in "万萬千仟亿"):
            low_v = low
        else:  # 10到15万 / 十到十五万: the unit of the upper end applies to both
            low_v = low * (_unit_factor(unit) if unit else tail)
        if low_v >= 1 and low_v < high_v:
            claim(Quantity("money", _round_int(high_v), m.start(), m.end(), m.group(0), low=_round_int(low_v),
                           approx=True, unit=unit))

    for m in _P["km"].finditer(text):
        value = _num(m.group(1))
        if value is not None and free(*m.span()):
            if m.group(2):
                value *= _unit_factor(m.group(2))
            claim(Quantity("km", _round_int(value), m.start(), m.end(), m.group(0), unit="km"))

    for m in _P["age"].finditer(text):
        value = _num(m.group(1) or m.group(2))
        if value is not None and free(*m.span()):
            claim(Quantity("age", value, m.start(), m.end(), m.group(0)))

    for m in _P["percent"].finditer(text):
        if not free(*m.span()):
            continue
        if m.group(3):
            value = _num(m.group(3))
            value = value / 1000 if value is not None else None
        else:
            value = _num(m.group(1) or m.group(2))
            value = value / 100 if value is not None else None
        if value is not None:
            claim(Quantity("percent", value, m.start(), m.end(), m.group(0), approx=approx_at(*m.span())))

    for m in _P["li"].finditer(text):
        value = _num(m.group(1))
        if value is not None and value < 100 and free(*m.span()):
            claim(Quantity("permille", value / 1000, m.start(), m.end(), m.group(0)))

    for m in _P["ratio"].finditer(text):
        value = _num(m.group(1))
        if value is not None and value <= 10 and free(*m.span()):
            ratio = value / 10 + (Decimal("0.05") if m.group(2) else 0)
            claim(Quantity("ratio", ratio, m.start(), m.end(), m.group(0)))

    for m in _P["years"].finditer(text):
        value = _num(m.group(1))
        if value is None or not free(*m.span()) or value > 100:
            continue
        if m.group(2) == "年半":
            value += Decimal("0.5")
        claim(Quantity("years", value, m.start(), m.end(), m.group(0), approx=approx_at(*m.span()), unit="年"))
    for m in _P["half_year"].finditer(text):
        if free(*m.span()):
            claim(Quantity("years", Decimal("0.5"), m.start(), m.end(), m.group(0), unit="年"))
    for m in _P["months"].finditer(text):
        value = _num(m.group(1) or m.group(2))
        if value is None or not free(*m.span()):
            continue
        if m.group(2) and not 12 < value <= 120:
            continue  # 3月 is March; 36月 is a term
        if "个半月" in m.group(0):
            value += Decimal("0.5")
        unit = "期" if "期" in m.group(0) else "月"
        claim(Quantity("months", value, m.start(), m.end(), m.group(0), approx=approx_at(*m.span()), unit=unit))
    for m in _P["half_month"].finditer(text):
        if free(*m.span()):
            claim(Quantity("days", Decimal(15), m.start(), m.end(), m.group(0)))
    for m in _P["weeks"].finditer(text):
        value = _num(m.group(1))
        if value is not None and free(*m.span()):
            claim(Quantity("days", value * 7, m.start(), m.end(), m.group(0), unit="周"))
    for m in _P["days"].finditer(text):
        value = _num(m.group(1))
        if value is not None and free(*m.span()):
            claim(Quantity("days", value, m.start(), m.end(), m.group(0), unit="天"))

    for m in _P["money"].finditer(text):
        token = m.group(1)
        start, end = m.span()
        while end > start and text[end - 1] == " ":
            end -= 1
        while start < end and text[start] == " ":
            start += 1
        if not free(start, end):
            # a money pattern overlapping a claimed span: keep the part before it as a bare number
            continue
        value = _num(token)
        if value is None:
            continue
        unit = m.group(3) or ""
        hedge = m.group(2) or ""
        has_cn_unit = any(c in token for c in "万萬千仟亿")
        if unit:
            value *= _unit_factor(unit)
        kind = "money" if unit or has_cn_unit else "number"
        if kind == "number" and (m.group(0).lstrip().startswith(("¥", "$", "rmb", "cny"))):
            kind = "money"
        claim(Quantity(kind, value if kind == "number" else _round_int(value), start, end, text[start:end],
                       approx=bool(hedge) or approx_at(start, end), unit=unit))
    found.sort(key=lambda q: q.start)
    return found


# --------------------------------------------------------------------------------------------------
# Whole-string value parsers (for answers to a question, API helpers and tests)
# --------------------------------------------------------------------------------------------------


def _single(text: str, kinds: tuple[str, ...]) -> Quantity | None:
    norm = fold_case(normalize(text))
    for q in find_quantities(norm):
        if q.kind in kinds:
            return q
    return None


def parse_money(text: str) -> int | None:
    """Money in yuan: 十五万 / 15万 / 15w / 1.5万 / 两万五 / 十二万八 / 150000 / 8k → int.

    >>> [parse_money(t) for t in ["十五万", "15w", "1.5万", "两万五", "十二万八", "150000", "8k"]]
    [150000, 150000, 15000, 25000, 128000, 150000, 8000]
    """
    q = _single(text, ("money", "number"))
    return int(q.value) if q is not None else None


def parse_ratio(text: str) -> float | None:
    """A ratio as a fraction: 三成 / 3成 / 30% / 百分之三十 → 0.3; 三成半 → 0.35; 零首付 → 0.0."""
    zero_down = r"(?:零|(?<![\d.])0|无|免|不要|不用|没有?)\s?首付|zero[\s-]down|no\s+down|nothing\s+down|0\s+down"
    if re.search(zero_down, fold_case(text)):
        return 0.0
    q = _single(text, ("ratio", "percent"))
    return float(q.value) if q is not None else None


def parse_rate(text: str) -> float | None:
    """A rate as a fraction: 3.5% / 百分之三点五 / 3.5个点 → 0.035; 千分之三 → 0.003 (no annualising here)."""
    q = _single(text, ("percent", "permille"))
    return float(q.value) if q is not None else None


def parse_months(text: str) -> int | None:
    """A duration in months: 36期 / 3年 / 三十六个月 → 36; 两年半 → 30; 半年 → 6; 3 years → 36."""
    q = _single(text, ("months", "years"))
    if q is None:
        return None
    months = q.value * 12 if q.kind == "years" else q.value
    return int(_round_int(months))


def parse_days(text: str) -> int | None:
    """A duration in days: 15天 → 15; 半个月 → 15; 两周 → 14; 两个月 → 60."""
    q = _single(text, ("days", "months"))
    if q is None:
        return None
    return int(_round_int(q.value * 30 if q.kind == "months" else q.value))
