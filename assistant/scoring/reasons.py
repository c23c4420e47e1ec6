"""Bilingual reasons from a model's own per-feature contributions for one applicant.

A contribution is in log-odds of default relative to the average applicant of the training data
(the scorecard's coefficient × WOE, LightGBM's SHAP value from ``pred_contrib``): positive pushes the PD
up. The reasons are the features that pushed it up most, phrased with this applicant's own values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from assistant.scoring.features import SOURCE_FIELDS

MIN_CONTRIBUTION = 0.05  # log-odds; smaller pushes are noise, not a reason worth telling a customer
MAX_REASONS = 4

_HOME_ZH = {"owner": "自有住房", "rent": "租房", "parents": "与父母同住", "other": "其他/未说明"}
_JOB_ZH = {"fixed": "固定工作", "freelance": "自由职业/个体经营", "part_time": "兼职", "other": "其他/未说明"}

Sentence = Callable[[Any], tuple[str, str]]

_SENTENCES: dict[str, Sentence] = {
    "ltv": lambda v: (f"贷款额占车价比例较高（{v:.0%}）", f"high loan-to-value: the loan is {v:.0%} of the car price"),
    "payment_to_income": lambda v: (f"每月应还本金占月收入的{v:.0%}，还款压力较大",
                                    f"monthly principal is {v:.0%} of monthly income"),
    "expenses_to_income": lambda v: (f"月支出占月收入的{v:.0%}，结余较少", f"monthly expenses take {v:.0%} of income"),
    "debt_to_income": lambda v: (f"其他负债约为{v * 12:.1f}个月的收入",
                                 f"other debt equals {v * 12:.1f} months of income"),
    "assets_to_loan": lambda v: (f"资产相对贷款额较少（约为贷款额的{v:.0%}）",
                                 f"few assets relative to the loan ({v:.0%} of the loan)"),
    "term_months": lambda v: (f"{v:.0f}期的贷款在历史数据中违约率偏高",
                              f"{v:.0f}-month loans defaulted more often in the training data"),
    "age": lambda v: (f"{v:.0f}岁左右的申请人在历史数据中违约率偏高",
                      f"applicants aged about {v:.0f} defaulted more often in the training data"),
    "employment_years": lambda v: (f"现单位工作年限较短（{v:g}年）",
                                   f"short time with the current employer ({v:g} years)"),
    "arrears": lambda v: ("征信有逾期记录", "the credit record shows arrears"),
    "home": lambda v: (f"住房状况（{_HOME_ZH.get(v, v)}）在历史数据中违约率偏高",
                       f"housing status '{v}' defaulted more often in the training data"),
    "job": lambda v: (f"就业类型（{_JOB_ZH.get(v, v)}）在历史数据中违约率偏高",
                      f"employment type '{v}' defaulted more often in the training data"),
}

NO_REASON = ("没有明显推高风险的因素", "no factor raised the risk notably")


@dataclass(frozen=True)
class Factor:
    """One feature's push on this applicant's log-odds of default."""

    feature: str
    value: float | str
    contribution: float
    assumed: bool
    zh: str
    en: str

    @property
    def text(self) -> str:
        """``中文 / English``, marked when it rests on an assumed default."""
        if self.assumed:
            return f"{self.zh}（按默认值估算） / {self.en} (assumed default)"
        return f"{self.zh} / {self.en}"


def factors(contributions: Mapping[str, float], features: Mapping[str, float | str],
            assumed: Mapping[str, Any]) -> list[Factor]:
    """Every feature's contribution, largest push towards default first."""
    out = []
    for name, contribution in contributions.items():
        value = features[name]
        zh, en = _SENTENCES[name](value)
        is_assumed = any(field in assumed for field in SOURCE_FIELDS[name])
        out.append(Factor(name, value, contribution, is_assumed, zh, en))
    out.sort(key=lambda f: -f.contribution)
    return out


def reasons(ranked: list[Factor]) -> list[str]:
    """The top factors that pushed the PD up, as ``中文 / English`` sentences."""
    texts = [f.text for f in ranked[:MAX_REASONS] if f.contribution >= MIN_CONTRIBUTION]
    return texts or [f"{NO_REASON[0]} / {NO_REASON[1]}"]
