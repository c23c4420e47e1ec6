"""One error hierarchy for the whole assistant.

Every error carries a stable ``code`` and a message in Chinese followed by English. The HTTP layer
maps classes to status codes in one place (``assistant.api.errors``); nothing else knows about HTTP.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: a request or operation that cannot be served, with a bilingual message."""

    code: str = "internal_error"

    def __init__(self, zh: str, en: str, *, code: str | None = None, field: str | None = None) -> None:
        self.zh = zh
        self.en = en
        self.field = field
        if code is not None:
            self.code = code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Chinese first, English after it."""
        return f"{self.zh} / {self.en}"


class InvalidInput(AssistantError):
    """The caller sent something we cannot use (wrong type, out of range, missing)."""

    code = "invalid_input"


class RuleViolation(AssistantError):
    """Well-formed, but a lending rule (regulatory or product) forbids it."""

    code = "rule_violation"


class NotFound(AssistantError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    code = "not_found"


class Unauthorized(AssistantError):
    """Missing or wrong credentials."""

    code = "unauthorized"


class Forbidden(AssistantError):
    """Credentials are valid but do not allow this (scope, ownership, signature)."""

    code = "forbidden"


class Conflict(AssistantError):
    """The request does not fit the thing's current state (an illegal transition, a stale version)."""

    code = "conflict"


class RateLimited(AssistantError):
    """Too many requests for this key in the current window."""

    code = "rate_limited"


class PayloadTooLarge(AssistantError):
    """The request body is over the configured limit."""

    code = "payload_too_large"


class UnsupportedMediaType(AssistantError):
    """An upload whose content (by its bytes, not its name) is not a type the endpoint takes."""

    code = "unsupported_media_type"


class UpstreamUnavailable(AssistantError):
    """A dependency (LLM endpoint, Chroma server, WeChat API) is down, slow or answered garbage."""

    code = "upstream_unavailable"


class ConfigurationError(AssistantError):
    """The installation is incomplete (missing model file, font, template): a startup error."""

    code = "configuration_error"


class ConsistencyError(AssistantError):
    """A computed artefact does not agree with its source (e.g. a contract's totals vs the schedule)."""

    code = "consistency_error"


# --- validation errors (pydantic's error dicts) in the house style ------------------------------------
# Chinese names of the fields people send most, for the message; others are named by their field name.
FIELD_ZH: dict[str, str] = {
    "budget": "预算", "budget_min": "最低预算", "vehicle_price": "车价", "original_price": "新车价",
    "target_vehicle_price": "目标车价", "price": "车价", "principal": "贷款本金", "loan_amount": "贷款金额",
    "term_months": "期数", "annual_rate": "年利率", "upfront_fees": "前期费用", "monthly_income": "月收入",
    "monthly_expenses": "月支出", "monthly_debt_payments": "每月其他还款", "max_monthly_payment": "月供上限",
    "down_payment": "首付金额", "down_payment_ratio": "首付比例", "debt": "其他负债", "assets": "资产",
    "age": "年龄", "employment_years": "工作年限", "vehicle_age_years": "车龄", "mileage_km": "里程",
    "seats": "座位数", "amount": "金额", "promised_amount": "承诺还款金额", "offset": "偏移量", "limit": "条数",
    "k": "返回条数", "overdue_days": "逾期天数", "message": "消息", "text": "消息", "q": "查询内容",
    "session_id": "会话ID", "kind": "文件类型", "format": "格式", "cooling_off_days": "冷静期天数",
}


def _number(value: object) -> str:
    """10000000 → 10,000,000 (bounds in messages are read by people)."""
    try:
        if isinstance(value, bool):
            return str(value)
        as_float = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if as_float.is_integer() and abs(as_float) < 1e18:
        return f"{int(as_float):,}"
    return str(value)


def _reason(kind: str, ctx: dict[str, object], msg: str) -> tuple[str, str]:
    """(Chinese, English) reason for one pydantic error type."""
    bound = {key: _number(val) for key, val in ctx.items()}
    reasons: dict[str, tuple[str, str]] = {
        "less_than_equal": (f"不能大于{bound.get('le')}", f"must be at most {bound.get('le')}"),
        "less_than": (f"必须小于{bound.get('lt')}", f"must be less than {bound.get('lt')}"),
        "greater_than": (f"必须大于{bound.get('gt')}", f"must be greater than {bound.get('gt')}"),
        "greater_than_equal": (f"不能小于{bound.get('ge')}", f"must be at least {bound.get('ge')}"),
        "finite_number": ("必须是有限的数值（不接受 NaN 或无穷大）", "must be a finite number (no NaN or infinity)"),
        "int_parsing": ("必须是整数", "must be an integer"),
        "int_type": ("必须是整数", "must be an integer"),
        "int_from_float": ("必须是整数", "must be an integer"),
        "decimal_parsing": ("必须是数字", "must be a number"),
        "decimal_type": ("必须是数字", "must be a number"),
        "float_parsing": ("必须是数字", "must be a number"),
        "float_type": ("必须是数字", "must be a number"),
        "decimal_max_digits": ("数字位数过多", "has too many digits"),
        "decimal_max_places": ("小数位数过多", "has too many decimal places"),
        "string_type": ("必须是文本", "must be a string"),
        "string_too_long": (f"过长（最多{bound.get('max_length')}个字符）",
                            f"is too long (at most {bound.get('max_length')} characters)"),
        "string_too_short": (f"过短（至少{bound.get('min_length')}个字符）",
                             f"is too short (at least {bound.get('min_length')} characters)"),
        "too_long": (f"条目过多（最多{bound.get('max_length')}项）", f"has too many items (at most "
                     f"{bound.get('max_length')})"),
        "too_short": (f"条目过少（至少{bound.get('min_length')}项）", f"has too few items (at least "
                      f"{bound.get('min_length')})"),
        "enum": (f"取值无效，可选：{ctx.get('expected')}", f"must be one of {ctx.get('expected')}"),
        "literal_error": (f"取值无效，可选：{ctx.get('expected')}", f"must be one of {ctx.get('expected')}"),
        "bool_parsing": ("必须是 true 或 false", "must be true or false"),
        "bool_type": ("必须是 true 或 false", "must be true or false"),
        "extra_forbidden": ("不是可接受的字段", "is not an accepted field"),
        "missing": ("为必填项", "is required"),
        "date_parsing": ("日期格式应为 YYYY-MM-DD", "must be a date, YYYY-MM-DD"),
        "date_from_datetime_parsing": ("日期格式应为 YYYY-MM-DD", "must be a date, YYYY-MM-DD"),
        "datetime_parsing": ("时间格式应为 ISO 8601", "must be an ISO 8601 date-time"),
        "datetime_from_date_parsing": ("时间格式应为 ISO 8601", "must be an ISO 8601 date-time"),
        "model_type": ("必须是 JSON 对象", "must be a JSON object"),
        "model_attributes_type": ("必须是 JSON 对象", "must be a JSON object"),
        "dict_type": ("必须是 JSON 对象", "must be a JSON object"),
        "list_type": ("必须是数组", "must be a list"),
    }
    if kind in reasons:
        return reasons[kind]
    # Our own validators raise "中文 / English"; pydantic prefixes them with "Value error, ".
    text = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    zh, sep, en = text.partition(" / ")
    return (zh, en) if sep else (f"无效（{text}）", text)


def describe_validation_error(error: dict[str, object], *, skip: tuple[str, ...] = ()) -> tuple[str | None, str, str]:
    """``(field, zh, en)`` for one pydantic error dict: which field, and why, Chinese and English.

    ``skip`` drops location parts that are not field names (FastAPI's ``body`` / ``query`` / ``path``).
    """
    loc = [str(part) for part in error.get("loc", ()) or () if part not in skip]  # type: ignore[union-attr]
    field = ".".join(loc) or None
    ctx = error.get("ctx")
    zh_reason, en_reason = _reason(str(error.get("type", "")), ctx if isinstance(ctx, dict) else {},
                                   str(error.get("msg", "invalid value")))
    if field is None:
        return None, f"请求体{zh_reason}", f"the request body {en_reason}"
    label = FIELD_ZH.get(loc[-1])
    name = f"{label}（{field}）" if label else f"字段 {field} "
    return field, f"{name}{zh_reason}", f"{field} {en_reason}"
