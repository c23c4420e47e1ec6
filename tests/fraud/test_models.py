"""The input models refuse raw identifiers and impossible values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.fraud.conftest import make_app


@pytest.mark.parametrize("field,value", [
    ("id_hash", "110105194912310021"),  # a raw ID number is not a hash
    ("phone_hash", "13800138000"),
    ("id_hash", "A" * 64),  # upper-case hex: the caller's hash is not normalised
    ("device_id", "has space in it"),
    ("age", 17),
    ("age", True),
    ("employment_type", "student"),
    ("loan_amount", 0),
    ("min_ocr_confidence", 1.5),
    ("document_anomalies", ["ink_smudge"]),
    ("created_at", "2026-06-01T12:00:00"),  # no time zone: cannot be compared with the priors
])
def test_bad_input_is_refused_naming_the_field(field, value):
    with pytest.raises(ValidationError) as caught:
        make_app(**{field: value})
    assert caught.value.errors()[0]["loc"][0] == field


def test_raw_identifier_error_is_bilingual():
    with pytest.raises(ValidationError) as caught:
        make_app(id_hash="110105194912310021")
    message = caught.value.errors()[0]["msg"]
    assert "原始证件号" in message and "not a raw ID" in message


def test_money_is_decimal():
    from decimal import Decimal

    app = make_app(stated_monthly_income="12000.50")
    assert app.stated_monthly_income == Decimal("12000.50")
