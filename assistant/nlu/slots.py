"""Slot extraction: every slot of the contract, with its units and enum values, from one message.

How a number becomes a slot: :func:`assistant.nlu.numbers.find_quantities` finds each quantity
(money, ratio, percent, months, years, days, km, …) with its span; the words around it (its
*cues*: 首付 / 车价 / 预算 / 贷 / 月薪 / 年费率 / 开了 / 逾期 …, Chinese and English, homophone
typos tolerated) decide the slot, the nearest cue winning. What is left undecided falls back on
the kind of conversation (the intent) and on the slot the assistant just asked for
(``expected_slot``), so that a bare "15万" answering "预算多少？" is a budget.

Conventions of the contract and the labelled set (eval/nlu/README.md):

* money is int yuan; ratios and rates fractions; a monthly rate × 12; annual income ÷ 12;
* a slot the text does not state is absent — vague amounts (三四万, 二十万出头), relative changes
  (再加两万) and comparisons (24期和36期, 丰田和本田) give nothing;
* a correction (改成 / 换成 / 不是X是Y) keeps the new value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from assistant.nlu import lexicon
from assistant.nlu.homophones import cue_regex
from assistant.nlu.numbers import CN_DIGITS, Quantity, find_quantities, fold_case, normalize

#: every slot of the contract, in the contract's order
SLOT_NAMES: tuple[str, ...] = (
    "budget", "vehicle_price", "down_payment", "down_payment_ratio", "loan_amount", "term_months",
    "monthly_income", "quoted_rate", "rate_type", "body_type", "energy_type", "vehicle_condition", "brand",
    "city", "age", "vehicle_age_years", "mileage_km", "overdue_days", "repayment_method", "document_kind",
)
# The contract's money slots, the ones this extractor fills; the product's own (caps, debts, budget_min) are
# read by the dialogue tracker above it, whose full set is ``agent.slot_schema.MONEY_SLOTS``.
CONTRACT_MONEY_SLOTS = frozenset({"budget", "vehicle_price", "down_payment", "loan_amount", "monthly_income"})
INT_SLOTS = CONTRACT_MONEY_SLOTS | {"term_months", "age", "mileage_km", "overdue_days"}
FLOAT_SLOTS = frozenset({"down_payment_ratio", "quoted_rate", "vehicle_age_years"})
ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "rate_type": ("flat", "nominal"),
    "body_type": ("suv", "sedan", "mpv", "hatchback", "pickup"),
    "energy_type": ("ice", "bev", "phev", "hev", "nev"),
    "vehicle_condition": ("new", "used"),
    "repayment_method": ("equal_installment", "equal_principal"),
    "document_kind": ("loan_contract", "risk_disclosure", "repayment_schedule", "privacy_consent"),
}

# plausible values: anything outside is a misreading, not a slot
_RANGE: dict[str, tuple[Decimal, Decimal]] = {
    "budget": (Decimal(5_000), Decimal(20_000_000)),
    "vehicle_price": (Decimal(5_000), Decimal(20_000_000)),
    "down_payment": (Decimal(500), Decimal(20_000_000)),
    "loan_amount": (Decimal(1_000), Decimal(20_000_000)),
    "monthly_income": (Decimal(300), Decimal(5_000_000)),
    "term_months": (Decimal(3), Decimal(120)),
    "age": (Decimal(16), Decimal(90)),
    "mileage_km": (Decimal(100), Decimal(2_000_000)),
    "overdue_days": (Decimal(1), Decimal(3_650)),
    "down_payment_ratio": (Decimal(0), Decimal("0.95")),
    "quoted_rate": (Decimal(0), Decimal("0.36")),
    "vehicle_age_years": (Decimal(0), Decimal(40)),
}

MAX_CHARS = 4000  # a message longer than this is read up to here (the API cuts at 2000 already)
_BOUNDARY = re.compile(r"[，。；！？：,;!?:\n]|\.(?!\d)")
_LEFT_MAX = 14  # characters of context around a number (Chinese); English words are longer
_RIGHT_MAX = 12
_EN_MAX = 24
_CJK = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------------------------------
# Cue vocabularies (label → words); multi-character Chinese words are homophone-tolerant
# --------------------------------------------------------------------------------------------------

_MONEY_CUES: dict[str, tuple[str, ...]] = {
    "down_payment": ("首付", "首期", "首款", "先付", "首付款", "付", "down payment", "down", "upfront", "up front",
                     "deposit", "put down"),
    "loan": ("贷款", "贷", "借", "借款", "融资", "额度", "贷款额", "贷款金额", "贷款总额", "本金", "分期", "押车借",
             "loan", "borrow", "borrowing", "finance", "financing", "principal", "cash"),
    "income": ("月薪", "月收入", "月入", "收入", "工资", "薪水", "薪资", "到手", "税后", "挣", "赚", "退休金", "养老金",
               "年薪", "年收入", "年入", "salary", "income", "earn", "earning", "make", "pension",
               "take home", "能跑", "跑个", "跑下来", "流水"),  # 网约车 drivers: "一个月能跑1w1" is earnings
    "price": ("车价", "车款", "车值", "车子", "裸车", "裸车价", "落地", "落地价", "售价", "指导价", "原价", "报价",
              "价格", "价钱", "这辆车", "这台车", "price", "priced", "costs", "cost", "worth", "valued"),
    "car": ("车", "的车", "suv", "轿车", "mpv", "皮卡", "越野", "电车", "油车", "二手车", "新车", "代步车", "car",
            "vehicle", "sedan", "ev", "pickup"),
    "buy": ("买", "能买", "买得起", "买个", "买台", "买辆", "入手", "afford", "get for", "buy"),
    "budget": ("预算", "价位", "budget", "spend", "price range"),
    "mileage": ("里程", "表显", "公里数", "跑了", "行驶", "mileage", "odometer"),
    "sink": ("月供", "月付", "每月还", "每个月还", "每期", "每月", "一个月还", "还款额", "利息", "罚息", "手续费",
             "服务费",
             "违约金", "gps", "保险", "押金", "定金", "欠", "欠了", "欠款", "负债", "剩", "还剩", "剩下", "余额",
             "尾款",
             "保证金", "存款", "存了", "再加", "加了", "增加", "多了", "少了", "便宜", "降了", "差价", "差", "补贴",
             "优惠",
             "罚款", "费用", "收了", "收", "号", "还", "monthly payment", "payment of", "interest", "fee", "fees",
             "penalty",
             "repay", "pay back", "installment", "instalment", "多付",
             "还了", "已还", "提额", "信用卡", "网贷", "花呗", "额外"),
}
_LIMIT = re.compile(r"(?:以内|之内|以下|内|封顶|max|or less|tops)")
_LIMIT_BEFORE = re.compile(r"(?:不超过|别超过|不要超过|不高于|最多|最高|控制在|小于|低于|不到|under|below|within|up to|"
                           r"no more than|less than|at most|max)\s?$")
_VAGUE_AFTER = re.compile(r"\s?(?:出头|多)")
_ANNUAL = re.compile(r"年薪|年收入|年入|一年|每年|年终|a year|per year|annual|annually|yearly|/year|p\.a\.|/yr")

_RATE_PERIOD_MONTH = re.compile(r"月费率|月手续费率|月利率|月息|月利息|月均|每月|per month|a month|monthly|/month|/mo")
_RATE_FLAT = cue_regex(("费率", "flat", "fee rate", "手续费率"))
_RATE_NOMINAL = cue_regex(("利率", "年息", "nominal", "interest rate", "annual interest", "interest", "利息率"))
_RATE_APR = re.compile(r"年化|apr|irr|真实|实际")
_RATE_CUE = cue_regex(("费率", "年费率", "月费率", "手续费率", "利率", "年利率", "月利率", "月息", "年息", "年化",
                       "利息", "flat", "rate", "apr", "interest", "nominal", "p.a.", "at", "利率是", "息"))
_RATE_SINK = re.compile(r"超过|占|通胀|涨|降|利用率|首付|down|新$|成新|快|将近|接近|不到|低于|高于|"
                        r"above|over|below|under|"
                        r"more than|less than|almost|nearly")

_RATIO_DOWN = cue_regex(("首付", "首期", "付", "down", "upfront", "deposit", "首付比例"))
_RATIO_SINK = cue_regex(("贷", "贷款", "借", "能贷", "用了", "利用", "成新", "新", "信用卡", "押", "估值", "评估",
                         "loan", "ltv", "finance", "financed"))

_OVERDUE = cue_regex(("逾期", "晚还", "晚了", "晚交", "迟还", "拖欠", "超期", "欠了", "没还", "断供", "还不上",
                      "停供", "迟交", "晚", "逾", "late", "overdue", "behind", "missed", "past due", "delinquent"),
                     fuzzy=False)
_TERM_CUE = cue_regex(("分", "分期", "贷", "贷款", "期限", "还", "按揭", "做", "办", "借", "延长", "延长到", "改成",
                       "换成", "剩下的", "剩下", "剩余", "余下", "loan", "over", "term", "for", "plan"))
_TERM_SINK = cue_regex(("已还", "还了", "剩", "还剩", "还差", "差", "欠", "欠了", "满", "第", "前", "最近",
                        "近", "过去", "工作", "上班", "社保", "公积金", "流水", "在职", "干了", "工龄", "驾龄",
                        "住了", "结婚", "户口", "交了", "缴", "经营", "开店", "做生意", "每", "提前", "ago",
                        "last", "past", "next", "worked", "employed", "job", "been", "every", "after", "加",
                        "再加", "多", "减", "少", "挣", "赚", "收入", "薪", "续航", "保修", "质保",
                        "免费"), fuzzy=False)
_TERM_SINK_AFTER = re.compile(r"\s?(?:后|以后|之后|前|以前|之前|左右就|收入|挣|赚|工资|薪|ago|later|"
                              r"了|of (?:work|employment|history)|with|at (?:my|the) (?:job|company))")
_VEHICLE_AGE = cue_regex(("开了", "用了", "买了", "车龄", "提车", "上牌", "老车", "车开了", "车用了", "车买了",
                          "old", "older than", "had it", "owned", "age of"), fuzzy=False)
_VEHICLE_AGE_AFTER = re.compile(r"\s?(?:了?的(?:车(?!贷)|二手|老车|旧车)|车龄|old|of age|前(?:买|提|上牌|入手))")
_THIRD_PERSON = re.compile(r"(?:爸|妈|父亲|母亲|老婆|老公|媳妇|丈夫|妻子|儿子|女儿|孩子|老人|他|她|朋友|同事|"
                           r"哥|姐|弟|妹|\bmy (?:dad|mom|mum|father|mother|wife|husband|son|daughter|parents?|friend)\b"
                           r"|\bhe\b|\bshe\b)")
_NEGATION_BEFORE = re.compile(r"(?:不是|不要|不想要|不想|不考虑|不喜欢|别|非|而不是|不用|"
                              r"(?<![a-z])(?:not|no|don't want|"
                              r"instead of|rather than))\s?(?:那种|这种|什么|要|an?|the)?\s?(?:的)?\s?$")
_NEGATION_AFTER = re.compile(r"^\s?(?:的)?\s?(?:我)?"
                             r"(?:不放心|不要|不考虑|不喜欢|不想要|不行|算了|就算了|不太行|pass|no thanks)")
_CHANGE = re.compile(r"(?:改成|改为|换成|改到|调到|调成|延长到|延长至|缩短到|变更为|换|改|instead|change(?:d)? to|"
                     r"switch to|make it|what if|how about)\s?$")


@lru_cache(maxsize=1)
def _money_cues() -> list[tuple[str, re.Pattern[str]]]:
    # a brand right after an amount names the car it prices ("a 300k BMW")
    return [(label, cue_regex(words)) for label, words in _MONEY_CUES.items()] + [("car", _brand_pattern())]


# --------------------------------------------------------------------------------------------------
# Enum phrasings (a regex per value; more specific values first)
# --------------------------------------------------------------------------------------------------

_ENUMS: dict[str, list[tuple[str, str]]] = {
    "body_type": [
        ("suv", r"suv|越野|sport utility|crossover|跨界"),
        ("mpv", r"mpv|商务车|保姆车|minivan|people ?carrier|七座(?!\s?suv)|7座(?!\s?suv)|七人座|seven[- ]seater|"
                r"7[- ]seater|商务mpv"),
        ("hatchback", r"两厢|掀背|hatchback|hatch(?![a-z])"),
        ("pickup", r"皮卡|pick-?up|pickup truck"),
        ("sedan", r"轿车|三厢|sedan|saloon"),
    ],
    "energy_type": [
        ("phev", r"插电式?混动|插电式?混合动力|插混|插电|增程|phev|plug-?in|erev|range[- ]extend(?:er|ed)|dm-?i"),
        ("hev", r"油电混动|油电混合|油电|双擎|混动|(?<![a-z])hev(?![a-z])|(?<!plug-in )(?<!plug in )hybrid"),
        ("bev", r"纯电|电车|电动|bev|(?<![a-z])evs?(?![a-z])|electric|battery electric"),
        ("ice", r"油车|燃油|烧油|汽油|柴油|(?<![a-z])ice(?![a-z])|gasoline|petrol|gas car|combustion|diesel|\b油的"),
        ("nev", r"新能源|(?<![a-z])nevs?(?![a-z])|new energy|green plate|绿牌"),
    ],
    "vehicle_condition": [
        # the thing compared with ("利率是不是比新车高") is not the car asked about; "new " alone, so that
        # "new sedan" still leaves "sedan" to the body type
        ("used", r"(?<!比)(?<!跟)(?<!和)(?<!than )(?<!than a )(?:二手|准新车|used|second[- ]hand|pre-?owned|旧车)"),
        ("new", r"(?<!比)(?<!跟)(?<!和)(?<!than )(?<!than a )(?:新车|全新|brand[- ]new|"
                r"new (?=(?:car|vehicle|suv|sedan|ev|model)s?(?![a-z]))|新的(?:车)?)|"
                r"new (?=(?:toyota|honda|byd|tesla|bmw|audi|nissan|volkswagen|vw|mercedes|benz|geely|ford|"
                r"hyundai|kia|mazda|buick|chevrolet|lexus|volvo|porsche|xpeng|nio|li auto|zeekr|xiaomi)(?![a-z]))"),
    ],
    "repayment_method": [
        ("equal_principal", r"等额本金|本金均摊|equal principal|declining (?:balance|payment)"),
        ("equal_installment", r"等额本息|equal (?:monthly )?(?:installments?|instalments?|payments?)|annuity|"
                              r"fixed monthly payments?"),
    ],
    "document_kind": [
        ("repayment_schedule", r"还款计划|还款表|还款明细|还款时间表|还款清单|本金利息明细|每期明细|"
                               r"repayment (?:schedule|plan)|"
                               r"payment schedule|amorti[sz]ation|installment schedule"),
        ("risk_disclosure", r"风险提示|风险揭示|风险告知|风险说明|告知书|risk disclosure|risk notice|risk statement"),
        ("privacy_consent", r"授权书|授权协议|隐私|个人信息.{0,4}授权|数据授权|征信授权|privacy|consent form|"
                            r"authori[sz]ation form|data authori[sz]ation"),
        ("loan_contract", r"合同|借款协议|贷款协议|contract|loan agreement|agreement"),
    ],
}


@lru_cache(maxsize=1)
def _enum_patterns() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    return {slot: [(value, re.compile(rx)) for value, rx in rules] for slot, rules in _ENUMS.items()}


@lru_cache(maxsize=1)
def _brand_pattern() -> re.Pattern[str]:
    parts = []
    for name in sorted(lexicon.BRANDS, key=len, reverse=True):
        if name in lexicon.CASE_SENSITIVE_BRANDS:
            continue  # matched separately, on the original capitalisation
        body = re.escape(name.lower())
        parts.append(rf"(?<![a-z]){body}(?![a-z])" if re.match(r"[a-z]", name.lower()) else body)
    return re.compile("|".join(parts))


@lru_cache(maxsize=1)
def _brand_case_pattern() -> re.Pattern[str]:
    names = sorted(lexicon.CASE_SENSITIVE_BRANDS, key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z])(?:" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z])")


@lru_cache(maxsize=1)
def _city_pattern() -> re.Pattern[str]:
    names = sorted(lexicon.CITIES, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in names))


@lru_cache(maxsize=1)
def _city_roman_pattern() -> re.Pattern[str]:
    names = sorted(lexicon.CITY_ROMAN, key=len, reverse=True)
    return re.compile(r"(?<![a-z])(?:" + "|".join(re.escape(n) for n in names) + r")(?![a-z])")


# --------------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    slot: str
    value: Any
    start: int
    end: int
    negated: bool = False
    changed: bool = False
    weak: bool = False  # from a fallback (intent / expected slot), loses to any cued candidate


@dataclass
class _Context:
    text: str
    intent: str | None
    expected_slot: str | None
    today: date
    quantities: list[Quantity] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    used: set[int] = field(default_factory=set)

    def window(self, index: int) -> tuple[int, int]:
        """The left and right limits of the context of quantity ``index`` (other quantities and
        clause punctuation bound it)."""
        q = self.quantities[index]
        left_max = _LEFT_MAX if _CJK.search(self.text, max(0, q.start - _LEFT_MAX), q.start) else _EN_MAX
        left = max(0, q.start - left_max)
        if index > 0:
            left = max(left, self.quantities[index - 1].end)
        for m in _BOUNDARY.finditer(self.text, left, q.start):
            left = m.end()
        right_max = _RIGHT_MAX if _CJK.search(self.text, q.end, q.end + _RIGHT_MAX) else _EN_MAX
        right = min(len(self.text), q.end + right_max)
        if index + 1 < len(self.quantities):
            right = min(right, self.quantities[index + 1].start)
        m = _BOUNDARY.search(self.text, q.end, right)
        if m:
            right = m.start()
        return left, right

    def add(self, slot: str, value: Any, q: Quantity | None, *, start: int = -1, end: int = -1,
            weak: bool = False) -> None:
        s, e = (q.start, q.end) if q is not None else (start, end)
        before = self.text[max(0, s - 8):s]
        after = self.text[e:e + 10]
        self.candidates.append(_Candidate(
            slot, value, s, e,
            negated=bool(_NEGATION_BEFORE.search(before)) or bool(_NEGATION_AFTER.search(after)),
            changed=bool(_CHANGE.search(self.text[max(0, s - 6):s])),
            weak=weak,
        ))


def _nearest(text: str, q: Quantity, left: int, right: int,
             cues: list[tuple[str, re.Pattern[str]]], left_only: frozenset[str] = frozenset()) -> str | None:
    """The label of the cue nearest to ``q`` within [left, right); ties go to the left side, then
    to the longer cue word."""
    best: tuple[int, int, int, str] | None = None
    for label, pattern in cues:
        for m in pattern.finditer(text, left, q.start):
            key = (q.start - m.end(), 0, -len(m.group(0)), label)
            best = key if best is None or key < best else best
        m = pattern.search(text, q.end, right) if label not in left_only else None
        if m:
            # Chinese puts the head word first (首付5万); English after (50k down): a Chinese cue on the
            # right counts as three characters further away
            penalty = 0 if re.match(r"[a-z]", m.group(0)) else 3
            key = (m.start() - q.end + penalty, 1, -len(m.group(0)), label)
            best = key if best is None or key < best else best
    return best[3] if best else None


def _nearest_match(text: str, q: Quantity, left: int, right: int, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """The match of ``pattern`` nearest to ``q`` (left side preferred on a tie)."""
    best: tuple[int, int, re.Match[str]] | None = None
    for m in pattern.finditer(text, left, q.start):
        d = q.start - m.end()
        if best is None or (d, 0) < best[:2]:
            best = (d, 0, m)
    m = pattern.search(text, q.end, right)
    if m and (best is None or (m.start() - q.end, 1) < best[:2]):
        best = (m.start() - q.end, 1, m)
    return best[2] if best else None


def _d(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _in_range(slot: str, value: Decimal) -> bool:
    lo, hi = _RANGE.get(slot, (Decimal("-Infinity"), Decimal("Infinity")))
    return lo <= value <= hi


def _implied_wan(q: Quantity, slot: str) -> Decimal:
    """A bare small number where a car price is expected is in 万 (预算15 = 150000)."""
    price_like = ("budget", "vehicle_price", "down_payment", "loan_amount")
    if q.kind == "number" and slot in price_like and 1 <= q.value < 1000:
        return q.value * 10_000
    return q.value


def _money(ctx: _Context, i: int) -> None:
    q = ctx.quantities[i]
    text = ctx.text
    if q.kind == "number" and not q.text[:1].isdigit() and q.value < 100:
        return  # 一下 / 二手 / 两个: a small Chinese numeral without a unit is no amount
    left, right = ctx.window(i)
    label = _nearest(text, q, left, right, _money_cues())
    before = text[max(0, q.start - 8):q.start]
    limit = bool(_LIMIT.match(text, q.end) or _LIMIT_BEFORE.search(before))
    vague = bool(_VAGUE_AFTER.match(text, q.end)) or "多" in q.text or "出头" in q.text
    recommending = ctx.intent in (None, "car_recommendation", "product_inquiry")
    slot: str | None
    if label == "sink":
        return
    if label == "down_payment":
        slot = "down_payment"
    elif label == "loan":
        slot = "loan_amount"
    elif label == "income":
        slot = "monthly_income"
    elif label == "mileage":
        value = q.value if q.kind == "money" or q.value >= 1000 else q.value * 10_000
        if _in_range("mileage_km", value):
            ctx.add("mileage_km", int(_d(value)), q)
            ctx.used.add(i)
        return
    elif label == "budget":
        slot = "budget"
    elif label == "price":
        slot = "budget" if limit and ctx.intent in (None, "car_recommendation") else "vehicle_price"
    elif label in ("car", "buy"):
        choosing = ctx.intent == "car_recommendation" or limit or (q.approx and recommending)
        slot = "budget" if choosing else "vehicle_price"
    else:
        slot = None
    weak = False
    if slot is None:
        if q.kind == "number" and ctx.expected_slot not in CONTRACT_MONEY_SLOTS:
            return  # a bare number with nothing around it is no amount
        if ctx.expected_slot in CONTRACT_MONEY_SLOTS:
            slot = ctx.expected_slot
        elif q.approx or limit or ctx.intent in (None, "car_recommendation", "product_inquiry"):
            slot = "budget"  # an amount said on its own, with nothing else known, is what they can spend
        elif ctx.intent in ("apply", "collateral_loan", "payment_calculation", "eligibility_check",
                            "document_request", "rate_check"):
            slot = "loan_amount"
        else:
            return
        weak = True
    if slot in ("budget", "vehicle_price") and vague:
        return
    if q.kind == "number" and re.match(r"\s?(?:号|日|点|:|/)", text[q.end:q.end + 2]):
        return  # a date or a time
    value = _implied_wan(q, slot) if label in ("budget", "price", "down_payment", "loan") and (
        re.search(r"\S{0,2}$", text[left:q.start]) and _nearest(text, q, max(left, q.start - 3), q.start,
                                                                _money_cues()) == label) else q.value
    if slot == "monthly_income" and _ANNUAL.search(text[max(0, q.start - 10):min(len(text), q.end + 12)]):
        value = value / 12
    if _in_range(slot, value):
        ctx.add(slot, int(_d(value)), q, weak=weak)
        ctx.used.add(i)


def _rate_value(q: Quantity, monthly: bool, annual_hint: bool) -> Decimal:
    if q.kind == "percent" or q.kind == "permille":
        value = q.value
    elif q.value >= Decimal("0.1") or not annual_hint:
        value = q.value / 100  # 费率3.5 / 月费率0.28: the % is implied
    else:
        value = q.value
    return value * 12 if monthly else value


def _rate_or_ratio(ctx: _Context, i: int) -> None:
    """A percent, a 成 ratio or a bare number near a rate word."""
    q = ctx.quantities[i]
    text = ctx.text
    left, right = ctx.window(i)
    left_text, right_text = text[left:q.start], text[q.end:right]
    down = _nearest(text, q, left, right, [("down", _RATIO_DOWN)])
    rate = _nearest(text, q, left, right, [("rate", _RATE_CUE)])
    if q.kind == "ratio" or (q.kind == "percent" and down and not rate):
        if _RATIO_SINK.search(left_text[-4:]) and not down:
            return
        if "新" in right_text[:1]:
            return  # 八成新: the condition of a used car
        if down or q.kind == "ratio" or ctx.expected_slot in ("down_payment_ratio", "down_payment"):
            ctx.add("down_payment_ratio", float(q.value), q, weak=not down)
            ctx.used.add(i)
        return
    if q.kind == "number":
        # a bare number is a rate only right next to a rate word (费率3.5 / 0.28的月费率)
        if not (q.text[:1].isdigit() or "点" in q.text):
            return
        near = _nearest(text, q, max(left, q.start - 4), min(right, q.end + 5), [("rate", _RATE_CUE)])
        if near is None:
            return
    end = _BOUNDARY.search(text, q.end)
    region_right = text[q.end:min(end.start() if end else len(text), q.end + 24)]
    region = left_text + " " + region_right
    if not rate and ctx.expected_slot != "quoted_rate":
        if q.kind == "percent" and ctx.expected_slot in ("down_payment_ratio", "down_payment"):
            ctx.add("down_payment_ratio", float(q.value), q, weak=True)
            ctx.used.add(i)
            return
        # "4.5%，年利率": the only percent, characterised in the next clause
        if q.kind != "percent" or sum(x.kind == "percent" for x in ctx.quantities) != 1 \
                or not _RATE_CUE.search(text) or _RATIO_DOWN.search(text) \
                or (_RATE_FLAT.search(text) and _RATE_NOMINAL.search(text)):
            return
        region = text
        left, region_right = 0, text[q.end:]
    if _RATE_SINK.search(left_text[-4:]):
        return
    region_end = q.end + len(region_right)
    cue = _nearest_match(text, q, left, region_end, _RATE_CUE)
    after = text[q.end:region_end]
    monthly = q.kind == "permille" or bool(
        (cue is not None and re.search(r"月|monthly|month", cue.group(0)))
        or re.match(r"\s?(?:per month|a month|monthly|/month|/mo)", after)
        or re.search(r"monthly|per month", left_text[-20:])
    )
    if q.kind == "permille" and not re.search(r"月|息|利", region):
        return
    annual_hint = bool(re.search(r"年|annual|p\.a\.|a year|per year", region))
    value = _rate_value(q, monthly, annual_hint)
    if not _in_range("quoted_rate", value) or (q.kind == "number" and value == 0):
        return
    kind = _nearest(text, q, left, region_end, [("flat", _RATE_FLAT), ("nominal", _RATE_NOMINAL)])
    if kind == "nominal" and re.search(r"月息|月利息|monthly rate|monthly interest(?! rate)", region):
        kind = None
    apr_only = bool(_RATE_APR.search(left_text)) and kind is None
    ctx.add("quoted_rate", float(round(value, 6)), q)
    ctx.candidates[-1].weak = apr_only  # 年化4.8 counts only when no quoted rate is named
    if kind:
        ctx.add("rate_type", kind, q)
    ctx.used.add(i)


def _duration(ctx: _Context, i: int) -> None:
    q = ctx.quantities[i]
    text = ctx.text
    left, right = ctx.window(i)
    after = text[q.end:right]
    if q.unit != "期" and re.match(r"\s?(?:前|以前|之前|ago\b)", text[q.end:q.end + 4]) \
            and not _VEHICLE_AGE_AFTER.match(text, q.end):
        return  # 三个月前 / 2 years ago: when something happened, not how long
    overdue_here = _OVERDUE.search(text[max(0, q.start - 8):q.start]) or _OVERDUE.search(after[:8])
    if q.kind == "months" and q.unit != "期" and overdue_here:
        ctx.add("overdue_days", int(_d(q.value * 30)), q)
        ctx.used.add(i)
        return
    per_year = re.match(r"\s?(?:是|要|收)?\s?\d+(?:\.\d+)?\s?(?:个点|%|厘)", text[q.end:])
    if q.kind == "years" and q.value == 1 and per_year:
        return  # "手续费率一年3.5个点": a rate per year, not a one-year term
    label = _nearest(text, q, left, right, _duration_cues(), left_only=frozenset({"sink"}))
    if q.kind == "years" and (label == "vehicle" or _VEHICLE_AGE_AFTER.match(text, q.end)
                              or (label is None and ctx.expected_slot == "vehicle_age_years")):
        ctx.add("vehicle_age_years", float(q.value), q)
        ctx.used.add(i)
        return
    if label == "sink" or (_TERM_SINK_AFTER.match(text, q.end) and not (
            q.unit == "期" and text.startswith("了", q.end))):  # 变成48期了 is still a term
        return
    months = q.value * 12 if q.kind == "years" else q.value
    if months != months.to_integral_value() or not _in_range("term_months", months):
        return
    ctx.add("term_months", int(months), q)
    ctx.used.add(i)


@lru_cache(maxsize=1)
def _duration_cues() -> list[tuple[str, re.Pattern[str]]]:
    return [("term", _TERM_CUE), ("sink", _TERM_SINK), ("vehicle", _VEHICLE_AGE)]


def _bare_term(ctx: _Context, i: int) -> bool:
    """期数改48 / 期限36 / term 36: a bare number right after a term word."""
    q = ctx.quantities[i]
    left, _ = ctx.window(i)
    if re.search(r"(?:期数|期限|分期数?|还款期|贷款期|term|tenor)\s?(?:改成|改为|改到|改|是|为|选|:)?\s?$",
                 ctx.text[left:q.start]) and _in_range("term_months", q.value) and q.value == int(q.value):
        ctx.add("term_months", int(q.value), q)
        ctx.used.add(i)
        return True
    return False


def _days(ctx: _Context, i: int) -> None:
    q = ctx.quantities[i]
    overdue = _OVERDUE.search(ctx.text) or ctx.expected_slot == "overdue_days"
    if overdue and _in_range("overdue_days", q.value):
        ctx.add("overdue_days", int(_d(q.value)), q)
        ctx.used.add(i)


def _km(ctx: _Context, i: int) -> None:
    q = ctx.quantities[i]
    before = ctx.text[max(0, q.start - 6):q.start]
    if re.search(r"续航|能跑|一天|每天|通勤|上班|range|per charge|a day|daily|来回|单程", before):
        return
    if _in_range("mileage_km", q.value):
        ctx.add("mileage_km", int(q.value), q)
        ctx.used.add(i)


def _person_age(ctx: _Context, q: Quantity, value: Decimal) -> None:
    before = ctx.text[max(0, q.start - 8):q.start]
    if _THIRD_PERSON.search(before):
        return
    if _in_range("age", value):
        ctx.add("age", int(value), q)


def _age(ctx: _Context, i: int) -> None:
    q = ctx.quantities[i]
    before = ctx.text[max(0, q.start - 12):q.start]
    if q.value < 16 or re.search(r"\b(?:car|it|vehicle)\b|车", before):
        if q.value <= 40:
            ctx.add("vehicle_age_years", float(q.value), q)
            ctx.used.add(i)
        return
    _person_age(ctx, q, q.value)
    ctx.used.add(i)


def _calendar_year(ctx: _Context, i: int) -> None:
    q = ctx.quantities[i]
    text = ctx.text
    after = text[q.end:q.end + 6]
    before = text[max(0, q.start - 8):q.start]
    year = int(q.value)
    if re.match(r"\s?(?:年)?\s?(?:出生|生的|生人)", after) or re.search(r"born in\s?$", before):
        _person_age(ctx, q, Decimal(ctx.today.year - year))
        ctx.used.add(i)
        return
    car_after = re.match(r"\s?(?:年)?\s?(?:的|款|上牌|提|买|入手|落户|产|出厂|生产|注册|上的牌|"
                         r"[a-z\u4e00-\u9fff]{0,12}?(?:车|suv))",
                         after)
    car_before = re.search(r"(?:车是|车子是|车|my|a|an|own|bought (?:it )?in|registered in|from)\s?$", before)
    if re.match(r"\s?年?\s?(?:逾期|毕业|结婚|工作|办的?贷|申请|借)", after):
        return
    if car_after or car_before or ctx.expected_slot == "vehicle_age_years":
        age = ctx.today.year - year
        if 0 <= age <= 40:
            ctx.add("vehicle_age_years", float(age), q)
            ctx.used.add(i)


_BARE_AGE = re.compile(
    r"(?:(?<![a-z])(?:i'm|i am|im|aged?)\s+"
    r"|(?:^|[^\u4e00-\u9fff])?(?:我|俺|咱|本人)\s?(?:今年|都|已经|刚|刚好|快|才|现在)*\s?"
    r"|今年\s?(?:刚好|都|已经|刚|才)?\s?)"
    rf"(\d{{2}}|[{''.join(CN_DIGITS)}十]{{2,3}})"
    r"(?!\d|\.|\s?(?:万|千|k(?![a-z])|w(?![a-z])|元|块|天|期|个|年|%|成|公里|km|days?|months?|years?(?! old)"
    r"|yuan|rmb|:|号))"
)


def _bare_age(ctx: _Context) -> None:
    from assistant.nlu.numbers import to_number

    for m in _BARE_AGE.finditer(ctx.text):
        value = to_number(m.group(1))
        if value is None or any(c.slot == "age" for c in ctx.candidates):
            continue
        start = m.start(1)
        if _THIRD_PERSON.search(ctx.text[max(0, m.start() - 4):start]):
            continue
        if _in_range("age", value):
            ctx.add("age", int(value), None, start=start, end=m.end(1))
            for idx, q in enumerate(ctx.quantities):
                if q.start <= start < q.end:
                    ctx.used.add(idx)


def _enums(ctx: _Context) -> None:
    text = ctx.text
    taken: list[tuple[int, int]] = []
    for slot, rules in _enum_patterns().items():
        for value, pattern in rules:
            for m in pattern.finditer(text):
                if any(s < m.end() and m.start() < e for s, e in taken):
                    continue
                taken.append(m.span())
                ctx.add(slot, value, None, start=m.start(), end=m.end())


def _zero_down(ctx: _Context) -> None:
    pattern = (r"(?:零|(?<![\d.])0|无|免|不要|不用|没有?|不交|不付)\s?首付|"
               r"首付\s?(?:为|是)?\s?(?:零|0)(?![.\d])(?:元|块)?|"
               r"zero[\s-]down|no\s+down(?:\s?payment)?|nothing\s+down|0\s+down|zero down payment|"
               r"without (?:a |any )?down payment|no money down")
    for m in re.finditer(pattern, ctx.text):
        ctx.add("down_payment_ratio", 0.0, None, start=m.start(), end=m.end())
        for idx, q in enumerate(ctx.quantities):
            if m.start() <= q.start < m.end():
                ctx.used.add(idx)
    for m in re.finditer(r"(?:首付|先付|付|down)\s?(?:一半|一半儿)|(?:一半|half)\s?(?:首付|down)|half down", ctx.text):
        ctx.add("down_payment_ratio", 0.5, None, start=m.start(), end=m.end())
    for m in re.finditer(r"(?:零|0)\s?(?:利率|利息)|(?:zero|0%?)\s+interest(?! free)", ctx.text):
        ctx.add("quoted_rate", 0.0, None, start=m.start(), end=m.end())
        ctx.add("rate_type", "nominal", None, start=m.start(), end=m.end())


def _rate_type_words(ctx: _Context) -> None:
    """rate_type without a number: the customer characterising a quote (费率 / 是利率 / it's a flat rate)."""
    if any(c.slot == "rate_type" for c in ctx.candidates):
        return
    text = ctx.text
    flat = re.search(r"费率|flat", text)
    nominal = re.search(r"利率|nominal", text)
    if flat and nominal:
        return
    if flat:
        ctx.add("rate_type", "flat", None, start=flat.start(), end=flat.end())
        return
    core = re.sub(r"[\s,，。.!！?？]|是|就是|的|吧|啊|呢|it'?s|it is|a|an|rate|interest|年|月", "", text)
    if nominal and (len(core) <= 2 or ctx.expected_slot == "rate_type"):
        ctx.add("rate_type", "nominal", None, start=nominal.start(), end=nominal.end())


def _brand_ok(text: str, start: int, end: int, name: str) -> bool:
    if name not in lexicon.AMBIGUOUS_BRANDS:
        return True
    after = text[end:end + 4]
    before = text[max(0, start - 2):start]
    if re.match(r"[a-z0-9]|\s?[a-z0-9]|汽车|金融|品牌|4s|店|车(?!贷)", after):
        return True
    return bool(re.search(r"(?:台|辆|个|款|买|开|要|的|和|或|有)$", before)) and not after.startswith("的")


def _brands(ctx: _Context, original: str) -> None:
    """Brands as written: matched on the folded text, reported with the customer's spelling."""
    text = ctx.text
    for m in _brand_pattern().finditer(text):
        canonical = next((b for b in lexicon.BRANDS if b.lower() == m.group(0)), m.group(0))
        if _brand_ok(text, m.start(), m.end(), canonical):
            ctx.add("brand", original[m.start():m.end()], None, start=m.start(), end=m.end())
    for m in _brand_case_pattern().finditer(original):
        ctx.add("brand", m.group(0), None, start=m.start(), end=m.end())


def _cities(ctx: _Context) -> None:
    text = ctx.text
    brand_spans = [(c.start, c.end) for c in ctx.candidates if c.slot == "brand"]
    for m in _city_pattern().finditer(text):
        if any(s <= m.start() < e for s, e in brand_spans):
            continue
        name = m.group(0)
        if name in lexicon.AMBIGUOUS_CITIES:
            before = text[max(0, m.start() - 3):m.start()]
            after = text[m.end():m.end() + 3]
            if not (re.search(r"(?:在|去|来|到|回|住|是|户口|老家|人在|从)$", before)
                    or re.match(r"市|这边|那边|本地|当地|户口|的门店|人|上牌", after)):
                continue
        ctx.add("city", name, None, start=m.start(), end=m.end())
    for m in _city_roman_pattern().finditer(text):
        ctx.add("city", lexicon.CITY_ROMAN[m.group(0)], None, start=m.start(), end=m.end())


def _resolve(ctx: _Context) -> dict[str, Any]:
    by_slot: dict[str, list[_Candidate]] = {}
    for cand in ctx.candidates:
        by_slot.setdefault(cand.slot, []).append(cand)
    out: dict[str, Any] = {}
    for slot in SLOT_NAMES:
        cands = [c for c in by_slot.get(slot, []) if not c.negated]
        if not cands:
            continue
        strong = [c for c in cands if not c.weak]
        cands = strong or cands
        values = {_key(c.value) for c in cands}
        if len(values) == 1:
            out[slot] = cands[0].value
            continue
        cands.sort(key=lambda c: c.start)
        if cands[-1].changed:
            out[slot] = cands[-1].value
        elif slot == "energy_type" and {"bev", "phev"} <= values <= {"bev", "phev", "nev"}:
            out[slot] = "nev"  # 插混纯电都行: either kind of new-energy car
        elif slot == "energy_type" and {c.value for c in cands} - {"nev"} and "nev" in values:
            specific = {c.value for c in cands} - {"nev"}
            if len(specific) == 1:
                out[slot] = specific.pop()  # 新能源纯电 → bev: the more specific wins
        # otherwise a comparison or a list: no single value was stated
    if "rate_type" in out and "quoted_rate" not in out and len({c.value for c in by_slot["rate_type"]}) > 1:
        del out["rate_type"]
    return out


def _key(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


_SLANG_WAN = re.compile(
    r"(?<![\d.第])(\d{1,3})个(?=以内|之内|左右|上下|往上|以上|起步|够|预算|的预算|出头|的车|$|[\s,，。!?！？])")
_DIGIT_UNIT = re.compile(r"(?<=\d)w(?=\d)")
_DIGIT_K = re.compile(r"(?<=\d)k(?=\d)")


def prepare(text: str) -> str:
    """The text as the extractor reads it: normalised, case-folded, colloquial units expanded."""
    norm = fold_case(normalize(text))
    norm = _DIGIT_UNIT.sub("万", norm)
    norm = _DIGIT_K.sub("千", norm)
    return _SLANG_WAN.sub(lambda m: f"{m.group(1)}万", norm)


def extract_slots(text: str, *, intent: str | None = None, expected_slot: str | None = None,
                  today: date | None = None) -> dict[str, Any]:
    """Every contract slot stated in ``text``, normalised to the contract's units and values.

    ``intent`` (from the classifier) settles amounts with no cue word (a bare 15万 is a budget
    when choosing a car, a loan amount when applying); ``expected_slot`` is the slot the assistant
    just asked for, so a bare answer ("15万", "三成", "36") fills it; ``today`` dates calendar years
    (2021年的车 → vehicle_age_years = today.year − 2021).
    """
    today = today or date.today()
    text = text[:MAX_CHARS]
    original = normalize(text)
    norm = prepare(text)  # same length as ``original``: the substitutions are one character for one
    ctx = _Context(text=norm, intent=intent, expected_slot=expected_slot, today=today)
    ctx.quantities = find_quantities(norm, today_year=today.year)
    _zero_down(ctx)
    _bare_age(ctx)
    for i, q in enumerate(ctx.quantities):
        if i in ctx.used:
            continue
        if q.kind == "number" and _bare_term(ctx, i):
            continue
        if q.kind in ("money", "number"):
            if q.kind == "number" and (re.search(r"(?:[a-z]|model\s)$", norm[max(0, q.start - 6):q.start])
                                       or re.match(r"[a-z]", norm[q.end:q.end + 1])):
                continue  # a model code (A4L, H6, Model 3, 4S店), not an amount
            _money(ctx, i)
            if i not in ctx.used and q.kind == "number":
                _rate_or_ratio(ctx, i)
        elif q.kind in ("percent", "ratio", "permille"):
            _rate_or_ratio(ctx, i)
        elif q.kind in ("months", "years"):
            _duration(ctx, i)
        elif q.kind == "days":
            _days(ctx, i)
        elif q.kind == "km":
            _km(ctx, i)
        elif q.kind == "age":
            _age(ctx, i)
        elif q.kind == "year":
            _calendar_year(ctx, i)
    _expected_fallback(ctx)
    _enums(ctx)
    _brands(ctx, original)
    _cities(ctx)
    _rate_type_words(ctx)
    return _resolve(ctx)


def _expected_fallback(ctx: _Context) -> None:
    """A bare answer to the question just asked: fill ``expected_slot`` from an unused quantity."""
    slot = ctx.expected_slot
    if not slot or any(c.slot == slot for c in ctx.candidates):
        return
    for i, q in enumerate(ctx.quantities):
        if i in ctx.used:
            continue
        value: Any = None
        if slot == "term_months" and q.kind in ("number", "money") and q.kind == "number":
            months = q.value * 12 if q.value <= 8 else q.value
            value = int(months) if _in_range(slot, months) else None
        elif slot == "age" and q.kind == "number" and _in_range("age", q.value):
            value = int(q.value)
        elif slot == "overdue_days" and q.kind in ("number", "months"):
            days = q.value * 30 if q.kind == "months" else q.value
            value = int(_d(days)) if _in_range(slot, days) else None
        elif slot == "vehicle_age_years" and q.kind in ("number", "years") and q.value <= 40:
            value = float(q.value)
        elif slot == "mileage_km" and q.kind in ("number", "money"):
            km = q.value if q.value >= 1000 else q.value * 10_000
            value = int(_d(km)) if _in_range(slot, km) else None
        elif slot == "monthly_income" and q.kind in ("number", "money"):
            value = int(_d(q.value)) if _in_range(slot, q.value) else None
        elif slot in ("down_payment_ratio", "quoted_rate") and q.kind == "number":
            if slot == "quoted_rate":
                rate = q.value / 100
                value = float(rate) if _in_range(slot, rate) else None
            elif q.value <= 10:
                value = float(q.value / 10)
        if value is not None:
            ctx.add(slot, value, q, weak=True)
            ctx.used.add(i)
            return
