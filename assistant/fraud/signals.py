"""The anti-fraud signals: pure checks of one application against its neighbours, its own facts and the
known-bad lists. Each returns the hits it finds, with a stable reason code and the bilingual reason an
officer reads; how much a hit weighs is the fitted model's (:mod:`assistant.fraud.score`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from assistant.domain.money import percent_str, yuan_str
from assistant.fraud.models import DocumentAnomaly, FraudInput, KnownBadLists, PriorApplication
from assistant.fraud.policy import FraudPolicy

# Stable reason codes, in the order assessments list them. Never rename one: stored assessments,
# dashboards and the fitted weights refer to them.
REASON_CODES: tuple[str, ...] = (
    "KNOWN_BAD_ID", "KNOWN_BAD_PHONE", "KNOWN_BAD_DEVICE",
    "VELOCITY_ID_30D", "VELOCITY_ID_PHONES_30D", "VELOCITY_PHONE_7D", "VELOCITY_DEVICE_24H",
    "INCOME_VS_EMPLOYMENT", "INCOME_VS_AGE", "INCOME_VS_DOCUMENT",
    "LOAN_EXCEEDS_PRICE", "LTV_ABOVE_POLICY", "COLLATERAL_INFLATED",
    "DOC_ID_MISMATCH", "DOC_EXPIRED", "DOC_LOW_CONFIDENCE", "DOC_EDITED",
)

_EMPLOYMENT_ZH = {"fixed": "固定工作", "self_employed": "个体经营", "freelance": "自由职业",
                  "part_time": "兼职", "other": "其他"}


@dataclass(frozen=True)
class Hit:
    """A signal that fired, before the model gives it a weight."""

    code: str
    zh: str
    en: str
    evidence: dict[str, str | int | float] = field(default_factory=dict)


def _ratio(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def known_bad(app: FraudInput, lists: KnownBadLists) -> list[Hit]:
    """The applicant's ID, phone or device is on a known-bad list."""
    hits = []
    if app.id_hash in lists.id_hashes:
        hits.append(Hit("KNOWN_BAD_ID", "身份证号在欺诈黑名单中", "ID number is on the known-fraud list"))
    if app.phone_hash in lists.phone_hashes:
        hits.append(Hit("KNOWN_BAD_PHONE", "手机号在欺诈黑名单中（可能为二次放号，需核实）",
                        "phone number is on the known-fraud list (may be a reassigned number: verify)"))
    if app.device_id is not None and app.device_id in lists.device_ids:
        hits.append(Hit("KNOWN_BAD_DEVICE", "提交设备曾用于欺诈申请", "submitting device was used in confirmed fraud"))
    return hits


def _recent(app: FraudInput, priors: Iterable[PriorApplication], window: dt.timedelta) -> list[PriorApplication]:
    # Only strictly earlier applications inside the window count; the application itself never does.
    return [p for p in priors if p.application_id != app.application_id
            and app.created_at - window <= p.created_at < app.created_at]


def velocity(app: FraudInput, priors: Sequence[PriorApplication], policy: FraudPolicy) -> list[Hit]:
    """Identity reuse: the same ID, phone or device behind too many recent applications."""
    hits = []
    same_id = [p for p in _recent(app, priors, policy.id_window) if p.id_hash == app.id_hash]
    if len(same_id) > policy.id_max_priors:
        days = policy.id_window.days
        hits.append(Hit("VELOCITY_ID_30D",
                        f"同一身份证{days}天内已有{len(same_id)}笔申请（多头申请）",
                        f"{len(same_id)} earlier applications with this ID in {days} days (multi-lender shopping)",
                        {"count": len(same_id), "limit": policy.id_max_priors}))
    # 一证多号: a stolen ID is re-used with the fraudster's own numbers; a real buyer keeps theirs.
    phones = {p.phone_hash for p in same_id} | {app.phone_hash}
    if len(phones) > policy.id_max_phones:
        days = policy.id_window.days
        hits.append(Hit("VELOCITY_ID_PHONES_30D",
                        f"同一身份证{days}天内使用了{len(phones)}个不同手机号",
                        f"this ID was used with {len(phones)} different phone numbers in {days} days",
                        {"phones": len(phones), "limit": policy.id_max_phones}))
    phone_ids = {p.id_hash for p in _recent(app, priors, policy.phone_window)
                 if p.phone_hash == app.phone_hash and p.id_hash != app.id_hash}
    if len(phone_ids) > policy.phone_max_other_ids:
        days = policy.phone_window.days
        hits.append(Hit("VELOCITY_PHONE_7D",
                        f"同一手机号{days}天内被另外{len(phone_ids)}个身份使用",
                        f"this phone number was used by {len(phone_ids)} other identities in {days} days",
                        {"other_ids": len(phone_ids), "limit": policy.phone_max_other_ids}))
    if app.device_id is not None:
        device_ids = {p.id_hash for p in _recent(app, priors, policy.device_window)
                      if p.device_id == app.device_id and p.id_hash != app.id_hash}
        if len(device_ids) > policy.device_max_other_ids:
            hours = int(policy.device_window.total_seconds() // 3600)
            hits.append(Hit("VELOCITY_DEVICE_24H",
                            f"同一设备{hours}小时内为另外{len(device_ids)}个身份提交申请",
                            f"this device submitted for {len(device_ids)} other identities in {hours} hours",
                            {"other_ids": len(device_ids), "limit": policy.device_max_other_ids}))
    return hits


def income(app: FraudInput, policy: FraudPolicy) -> list[Hit]:
    """Stated income implausible for the employment type or the age, or well above the documents."""
    hits = []
    stated = app.stated_monthly_income
    ceiling = policy.employment_ceiling(app.employment_type)
    if stated > ceiling:
        kind = app.employment_type.value
        hits.append(Hit("INCOME_VS_EMPLOYMENT",
                        f"申报月收入{yuan_str(stated)}元，高于{_EMPLOYMENT_ZH[kind]}的合理上限{yuan_str(ceiling)}元",
                        f"stated monthly income {yuan_str(stated)} yuan is above the {yuan_str(ceiling)} yuan "
                        f"ceiling for {kind.replace('_', ' ')} work",
                        {"stated": float(stated), "ceiling": float(ceiling)}))
    age_cap = policy.age_ceiling(app.age)
    if age_cap is not None and stated > age_cap:
        hits.append(Hit("INCOME_VS_AGE",
                        f"{app.age}岁申报月收入{yuan_str(stated)}元，高于该年龄段的合理上限{yuan_str(age_cap)}元",
                        f"stated monthly income {yuan_str(stated)} yuan at age {app.age} is above the "
                        f"{yuan_str(age_cap)} yuan ceiling for that age",
                        {"stated": float(stated), "ceiling": float(age_cap), "age": app.age}))
    documented = app.document_monthly_income
    if documented is not None:
        # A proof showing no income at all against a stated income is the strongest form of the mismatch.
        evidence: dict[str, str | int | float] = {"stated": float(stated), "documented": float(documented),
                                                  "limit": float(policy.document_income_ratio)}
        if documented == 0 and stated > 0:
            # A proof showing no income at all against a stated income is the strongest form of the mismatch.
            hits.append(Hit("INCOME_VS_DOCUMENT", f"申报月收入{yuan_str(stated)}元，但收入证明/流水显示无收入",
                            f"stated monthly income {yuan_str(stated)} yuan, but the documents show no income",
                            evidence))
        elif documented > 0 and stated / documented > policy.document_income_ratio:
            ratio = _ratio(stated / documented)
            hits.append(Hit("INCOME_VS_DOCUMENT",
                            f"申报月收入{yuan_str(stated)}元，是收入证明/流水{yuan_str(documented)}元的{ratio}倍",
                            f"stated monthly income {yuan_str(stated)} yuan is {ratio}× the documented "
                            f"{yuan_str(documented)} yuan", evidence))
    return hits


def lending_base(app: FraudInput) -> Decimal:
    """What the loan-to-value is measured on: the price, or for a used car the lower of price and the
    declared valuation (the lender lends on the appraisal; the model's figure is COLLATERAL_INFLATED's)."""
    if app.used_vehicle and app.declared_collateral_value is not None:
        return min(app.vehicle_price, app.declared_collateral_value)
    return app.vehicle_price


def loan_structure(app: FraudInput, policy: FraudPolicy) -> list[Hit]:
    """Loan above the car's price, loan-to-value above the cap, declared collateral far above the model."""
    hits = []
    price = app.vehicle_price
    if app.loan_amount > price * (1 + policy.loan_over_price_tolerance):
        hits.append(Hit("LOAN_EXCEEDS_PRICE",
                        f"贷款金额{yuan_str(app.loan_amount)}元超过车价{yuan_str(price)}元（疑似代购/套现）",
                        f"loan {yuan_str(app.loan_amount)} yuan exceeds the car's price {yuan_str(price)} yuan "
                        "(straw buyer or cash-out)",
                        {"loan": float(app.loan_amount), "price": float(price)}))
    ltv = app.loan_amount / lending_base(app)
    cap = policy.ltv_cap_used if app.used_vehicle else policy.ltv_cap_new
    if ltv > cap and app.loan_amount <= price * (1 + policy.loan_over_price_tolerance):
        # Above the price is LOAN_EXCEEDS_PRICE's finding; counting it twice would double the weight.
        hits.append(Hit("LTV_ABOVE_POLICY",
                        f"贷款价值比{percent_str(ltv, 0)}，超过政策上限{percent_str(cap, 0)}",
                        f"loan-to-value {percent_str(ltv, 0)} is above the {percent_str(cap, 0)} policy cap",
                        {"ltv": float(ltv.quantize(Decimal('0.0001'))), "cap": float(cap)}))
    declared, model = app.declared_collateral_value, app.model_collateral_value
    if app.used_vehicle and declared is not None and model is not None and declared > model * policy.collateral_ratio:
        hits.append(Hit("COLLATERAL_INFLATED",
                        f"申报评估价{yuan_str(declared)}元是模型估值{yuan_str(model)}元的"
                        f"{_ratio(declared / model)}倍（估值虚高）",
                        f"declared collateral value {yuan_str(declared)} yuan is {_ratio(declared / model)}× the "
                        f"model's {yuan_str(model)} yuan (inflated valuation)",
                        {"declared": float(declared), "model": float(model), "limit": float(policy.collateral_ratio)}))
    return hits


def documents(app: FraudInput, policy: FraudPolicy) -> list[Hit]:
    """What document intake reported: identity mismatch, an expired card, unreadable or edited images."""
    hits = []
    found = app.document_anomalies
    mismatch = found & {DocumentAnomaly.ID_NAME_MISMATCH, DocumentAnomaly.ID_NUMBER_MISMATCH}
    if mismatch:
        hits.append(Hit("DOC_ID_MISMATCH", "身份证上的姓名或号码与申请填写不一致",
                        "the name or number on the ID card differs from the application",
                        {"anomalies": ",".join(sorted(a.value for a in mismatch))}))
    if DocumentAnomaly.ID_EXPIRED in found:
        hits.append(Hit("DOC_EXPIRED", "身份证已过有效期", "the ID card has expired"))
    confidence = app.min_ocr_confidence
    low = confidence is not None and confidence < policy.min_ocr_confidence
    if DocumentAnomaly.LOW_OCR_CONFIDENCE in found or low:
        shown = f"{confidence:.2f}" if confidence is not None else "低"
        hits.append(Hit("DOC_LOW_CONFIDENCE", f"证件识别置信度{shown}，需人工核对原件",
                        f"identity document OCR confidence {shown if confidence is not None else 'low'}: "
                        "check the original",
                        {"confidence": confidence} if confidence is not None else {}))
    if DocumentAnomaly.IMAGE_EDITED in found:
        hits.append(Hit("DOC_EDITED", "证件图片元数据显示经过编辑软件处理",
                        "the document image's metadata shows editing software"))
    return hits


def detect(
    app: FraudInput, priors: Sequence[PriorApplication], lists: KnownBadLists, policy: FraudPolicy
) -> list[Hit]:
    """Every signal that fires for this application, in :data:`REASON_CODES` order."""
    checks: list[Callable[[], list[Hit]]] = [
        lambda: known_bad(app, lists), lambda: velocity(app, priors, policy), lambda: income(app, policy),
        lambda: loan_structure(app, policy), lambda: documents(app, policy),
    ]
    hits = [hit for check in checks for hit in check()]
    order = {code: n for n, code in enumerate(REASON_CODES)}
    return sorted(hits, key=lambda h: order[h.code])
