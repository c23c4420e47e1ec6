"""Knowledge-base product pages generated from the product catalogue (one source of truth).

``loan-assistant catalogue pages`` rewrites ``knowledge_base/products/product-<id>.md``; ``--check``
only reports pages that differ. Every figure on a page — rates, fees, caps, terms and the worked
example's payment and true APR — comes from ``products.yaml`` and the money core, never typed by hand.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

from assistant.domain.catalogue import Catalogue, FinanceProduct, Grade, ProductKind, Purpose
from assistant.domain.money import fen, percent_str, yuan_str
from assistant.domain.quote import Quote, quote
from assistant.domain.regulation import Condition, LenderCaps, Use, ltv_cap, max_term
from assistant.domain.schedule import RateType

EXAMPLE_PRICE = Decimal("150000")  # the worked example's car price (yuan)
EXAMPLE_USED_PRICE = Decimal("80000")  # a used car's price for used-only products
EXAMPLE_VALUATION = Decimal("100000")  # appraised value for 车抵贷
EXAMPLE_DOWN_RATIO = Decimal("0.30")
EXAMPLE_TERM = 36
EXAMPLE_GRADE = Grade.C

_KIND_ZH = {
    ProductKind.LOAN: "贷款",
    ProductKind.LEASE_DIRECT: "融资租赁（直租）",
    ProductKind.LEASE_BACK: "融资租赁（回租）",
    ProductKind.TITLE_LOAN: "车辆抵押贷款",
}
_CONDITION_ZH = {Condition.NEW: "新车", Condition.USED: "二手车"}
_ENERGY_ZH = {"ice": "燃油车", "bev": "纯电动车", "phev": "插电混动/增程式车", "hev": "油电混动车", "nev": "新能源车"}


def pages_dir(knowledge_base_dir: Path) -> Path:
    """Where the generated product pages live."""
    return knowledge_base_dir / "products"


def page_path(knowledge_base_dir: Path, product: FinanceProduct) -> Path:
    """``knowledge_base/products/product-<id>.md``."""
    return pages_dir(knowledge_base_dir) / f"product-{product.id}.md"


def example_grade(product: FinanceProduct) -> Grade:
    """The grade the worked example uses: C (middle) when offered, else the worst grade offered."""
    return EXAMPLE_GRADE if EXAMPLE_GRADE in product.rates else product.grades[-1]


def worked_example(product: FinanceProduct) -> tuple[Decimal, Decimal, Quote]:
    """(price or appraised value, down payment, quote) of the page's example, priced by the money core."""
    term = EXAMPLE_TERM if EXAMPLE_TERM in product.term_options else max(product.term_options)
    rate = product.rates[example_grade(product)]
    if product.eligibility.purpose is Purpose.COLLATERAL:
        value = EXAMPLE_VALUATION
        principal = fen(value * product.ltv_cap)
        down = Decimal("0")
    else:
        value = EXAMPLE_USED_PRICE if product.eligibility.conditions == {Condition.USED} else EXAMPLE_PRICE
        down = fen(value * max(EXAMPLE_DOWN_RATIO, product.min_down_payment_ratio))
        principal = value - down
    q = quote(principal, rate, term, method=product.method, rate_type=product.rate_type,
              upfront_fees=product.upfront_fees(principal, term))
    return value, down, q


def _rate_word(product: FinanceProduct) -> str:
    return "年费率" if product.rate_type is RateType.FLAT else "年利率"


def _section_rates(product: FinanceProduct) -> list[str]:
    word = _rate_word(product)
    lines = ["## 利率与报价方式", "", product.quoting_zh, "", "按信用等级定价（A为最优）：", "",
             f"| 信用等级 | {word} |", "|---|---|"]
    for grade in Grade:
        rate = product.rates.get(grade)
        lines.append(f"| {grade.value} | {percent_str(rate) if rate is not None else '不适用'} |")
    value, down, q = worked_example(product)
    grade = example_grade(product)
    lines += ["", "### 计算示例（由系统按本目录数据计算）", ""]
    if product.eligibility.purpose is Purpose.COLLATERAL:
        lines.append(f"- 车辆评估价{yuan_str(value)}元，按贷款成数上限{percent_str(product.ltv_cap, 0)}"
                     f"可贷{yuan_str(q.principal)}元")
    else:
        financed = "融资" if product.is_lease else "贷款"
        lines.append(f"- 车价{yuan_str(value)}元，首付{yuan_str(down)}元，{financed}{yuan_str(q.principal)}元")
    lines += [
        f"- {grade.value}级{word}{percent_str(q.annual_rate)}，{q.term_months}期，等额还款",
        f"- 前期费用{yuan_str(q.upfront_fees)}元（从到手金额中扣除），实际到手{yuan_str(q.net_received)}元",
        f"- 每月还款{yuan_str(q.monthly_payment)}元，利息合计{yuan_str(q.total_interest)}元，"
        f"融资总成本（利息+费用）{yuan_str(q.total_cost_of_credit)}元",
        f"- **年化利率（APR）{percent_str(q.apr)}**",
        "",
        q.apr_convention_zh,
    ]
    return lines


def _section_fees(product: FinanceProduct) -> list[str]:
    lines = ["## 费用", ""]
    if not product.fees:
        lines.append("本产品不收取手续费、服务费等任何前期费用。")
    for fee in product.fees:
        parts = []
        if fee.fixed:
            parts.append(f"{yuan_str(fee.fixed)}元")
        if fee.rate:
            parts.append(f"贷款金额的{percent_str(fee.rate)}")
        if fee.rate_by_term:
            parts.append("、".join(f"{t}期为贷款金额的{percent_str(r)}" for t, r in sorted(fee.rate_by_term.items())))
        lines.append(f"- {fee.name_zh}：{'，另加'.join(parts)}，放款时一次性收取")
    if product.fees:
        lines += ["", "以上费用均计入年化利率（按实际到手金额计算）；除此之外不收取任何其他费用。"]
    return lines


def _section_ltv(product: FinanceProduct, caps: LenderCaps) -> list[str]:
    lines = ["## 首付与贷款成数", ""]
    if product.eligibility.purpose is Purpose.COLLATERAL:
        lines += [f"可贷金额 = 车辆评估价 × {percent_str(product.ltv_cap, 0)}（贷款成数上限），"
                  f"单笔{yuan_str(product.min_loan)}元至{yuan_str(product.max_loan)}元。"]
        return lines
    lines += [
        f"- 最低首付比例：{percent_str(product.min_down_payment_ratio, 0)}；本产品贷款成数上限"
        f"{percent_str(product.ltv_cap, 0)}",
        f"- 单笔金额：{yuan_str(product.min_loan)}元至{yuan_str(product.max_loan)}元",
        "- 同时执行监管和本公司的成数上限，取较严者：",
    ]
    allowed = product.eligibility.energy_types
    # One representative energy per regulatory class: fuel (incl. hev) and new-energy (bev/phev).
    energies = [e for e in ("ice", "bev") if allowed is None or any((str(t) != "ice" and str(t) != "hev")
                                                                    == (e == "bev") for t in allowed)]
    for condition in sorted(product.eligibility.conditions):
        if condition is Condition.USED:
            cap, source = ltv_cap(condition, energies[0], Use.SELF, caps)
            lines.append(f"  - 二手车：监管上限{percent_str(cap, 0)}（{source}），"
                         f"本产品实际最高{percent_str(min(cap, product.ltv_cap), 0)}")
            continue
        for energy in energies:
            for use in (Use.SELF, Use.COMMERCIAL):
                cap, source = ltv_cap(condition, energy, use, caps)
                label = f"{'自用' if use is Use.SELF else '商用'}{'新能源车' if energy != 'ice' else '传统动力车'}"
                lines.append(f"  - 新车{label}：监管/公司上限{percent_str(cap, 0)}（{source}），"
                             f"本产品实际最高{percent_str(min(cap, product.ltv_cap), 0)}")
    return lines


def _section_terms(product: FinanceProduct) -> list[str]:
    terms = "、".join(f"{t}期" for t in product.term_options)
    lines = ["## 贷款期限", "", f"可选期限：{terms}（按月等额还款）。"]
    if Condition.USED in product.eligibility.conditions:
        lines.append(f"二手车贷款期限（含展期）不得超过{max_term(Condition.USED)}期。")
    if Condition.NEW in product.eligibility.conditions:
        lines.append(f"汽车贷款期限（含展期）不得超过{max_term(Condition.NEW)}期。")
    return lines


def _section_eligibility(product: FinanceProduct) -> list[str]:
    e = product.eligibility
    conditions = "、".join(_CONDITION_ZH[c] for c in sorted(e.conditions))
    lines = ["## 申请条件", ""]
    if e.purpose is Purpose.COLLATERAL:
        lines.append("- 用途：以本人名下已全款、无抵押的车辆作抵押融资（不用于购车）")
    else:
        lines.append(f"- 适用车辆：{conditions}")
    if e.energy_types:
        lines.append(f"- 动力类型：仅限{'、'.join(_ENERGY_ZH[str(t)] for t in sorted(e.energy_types))}")
    maturity = f"，贷款到期时不超过{e.max_age_at_maturity}周岁" if e.max_age_at_maturity else ""
    lines.append(f"- 年龄：{e.min_age}至{e.max_age}周岁{maturity}")
    lines.append(f"- 月收入：税后不低于{yuan_str(e.min_monthly_income)}元，且月供（含其他负债月还款）"
                 "不超过月收入的一定比例（本公司默认50%）")
    lines.append(f"- 信用等级：{'、'.join(g.value for g in sorted(e.grades & set(product.rates)))}级")
    arrears = "有轻微逾期记录可申请，按较低等级定价" if e.allow_delinquency else "近两年无逾期记录"
    lines.append(f"- 征信逾期记录：{arrears}")
    if e.max_vehicle_age_years is not None:
        lines.append(f"- 车龄：不超过{e.max_vehicle_age_years}年")
    if e.max_vehicle_age_plus_term_years is not None:
        lines.append(f"- 车龄加贷款期限：不超过{e.max_vehicle_age_plus_term_years}年")
    if e.max_mileage_km is not None:
        lines.append(f"- 行驶里程：不超过{e.max_mileage_km:,}公里")
    return lines


def _section_early(product: FinanceProduct) -> list[str]:
    er = product.early_repayment
    lines = ["## 提前还款", "", er.notes_zh, ""]
    if er.allowed_after_months:
        lines.append(f"- 最早可在还满{er.allowed_after_months}期后申请")
    else:
        lines.append("- 可随时申请")
    for step in sorted(er.penalties, key=lambda s: s.within_months):
        lines.append(f"- 第{step.within_months}期前：违约金为提前归还本金的{percent_str(step.rate)}")
    if not er.penalties:
        lines.append("- 不收取违约金")
    return lines


def render_product_page(product: FinanceProduct, caps: LenderCaps | None = None) -> str:
    """The Markdown page of one product, deterministic for the same catalogue data and caps."""
    caps = caps or LenderCaps()
    front = [
        "---",
        f"id: product-{product.id}",
        f"title: {product.name}",
        "category: product",
        f"effective_date: {product.effective_date.isoformat()}",
        f"source: {product.source}",
        "---",
        "",
    ]
    body = [
        "## 产品简介", "",
        f"{product.summary_zh}",
        "",
        f"- 产品编号：{product.id}",
        f"- 产品类型：{_KIND_ZH[product.kind]}",
        f"- 提供方：{product.provider_zh}",
        "",
        "## 适合人群", "", product.audience_zh, "",
        *_section_rates(product), "",
        *_section_fees(product), "",
        *_section_ltv(product, caps), "",
        *_section_terms(product), "",
        *_section_eligibility(product), "",
        *_section_early(product), "",
        "## 车辆所有权与抵押", "", product.ownership_zh, "",
    ]
    if product.notes_zh:
        body += ["## 注意事项", "", *[f"- {note}" for note in product.notes_zh], ""]
    return "\n".join(front + body)


def render_all(catalogue: Catalogue, caps: LenderCaps | None = None) -> dict[str, str]:
    """``product id`` → page text, for every product."""
    return {p.id: render_product_page(p, caps) for p in catalogue.products}


def write_pages(knowledge_base_dir: Path, catalogue: Catalogue, caps: LenderCaps | None = None) -> list[Path]:
    """(Re)write every product page; returns the paths written."""
    target = pages_dir(knowledge_base_dir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for product in catalogue.products:
        path = page_path(knowledge_base_dir, product)
        path.write_text(render_product_page(product, caps), encoding="utf-8")
        written.append(path)
    return written


def stale_pages(knowledge_base_dir: Path, catalogue: Catalogue, caps: LenderCaps | None = None) -> list[Path]:
    """Pages that are missing or differ from what the catalogue generates."""
    stale = []
    for product in catalogue.products:
        path = page_path(knowledge_base_dir, product)
        if not path.is_file() or path.read_text(encoding="utf-8") != render_product_page(product, caps):
            stale.append(path)
    return stale


def cli_pages(args: argparse.Namespace) -> int:
    """``loan-assistant catalogue pages [--check]``."""
    from assistant.catalogue import build_catalogue
    from assistant.services import Services
    from assistant.settings import get_settings

    settings = get_settings()
    catalogue = build_catalogue(settings)
    caps = Services(settings).lender_caps
    if getattr(args, "check", False):
        stale = stale_pages(settings.knowledge_base_dir, catalogue, caps)
        for path in stale:
            print(f"过期 / stale: {path}")
        print(f"{len(catalogue.products) - len(stale)}/{len(catalogue.products)} 产品页与目录一致 / pages up to date")
        return 1 if stale else 0
    for path in write_pages(settings.knowledge_base_dir, catalogue, caps):
        print(f"已生成 / wrote {path}")
    return 0
