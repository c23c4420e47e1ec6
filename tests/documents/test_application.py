"""The application model: required fields named, borrower data validated, session shape accepted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.documents.application import id_number_valid, mask_id_number, parse_application
from assistant.errors import InvalidInput

from .conftest import BORROWER_ID, OTHER_ID, application, borrower


def test_id_number_checksum() -> None:
    assert id_number_valid(BORROWER_ID)
    assert id_number_valid(OTHER_ID)
    assert not id_number_valid("110105194912310021")  # wrong check character
    assert not id_number_valid("11010519491331002X")  # month 13
    assert mask_id_number(BORROWER_ID) == "110***********002X"


@pytest.mark.parametrize("missing", ["principal", "annual_rate", "term_months"])
def test_missing_loan_field_is_named(missing: str) -> None:
    data = application()
    del data[missing]
    with pytest.raises(InvalidInput) as info:
        parse_application(data)
    assert info.value.field == f"application.{missing}"
    assert missing in info.value.zh


@pytest.mark.parametrize("missing", ["name", "id_number", "phone", "address"])
def test_partial_borrower_is_named(missing: str) -> None:
    person = borrower()
    del person[missing]
    with pytest.raises(InvalidInput) as info:
        parse_application(application(borrower=person))
    assert info.value.field == f"application.borrower.{missing}"


def test_bad_id_number_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_application(application(borrower=borrower(id_number="110105194912310021")))
    assert info.value.field == "application.borrower.id_number"
    assert "110105194912310021" not in info.value.message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"term_months": 61}, "application.term_months"),
        ({"annual_rate": 4.5}, "application.annual_rate"),
        ({"principal": -1}, "application.principal"),
        ({"borrower": borrower(phone="12345")}, "application.borrower.phone"),
        ({"vehicle": {"brand": "丰田", "series": "卡罗拉", "price": 100000, "vin": "ABC"}}, "application.vehicle.vin"),
        ({"colour": "red"}, "application.colour"),
    ],
)
def test_invalid_values_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_application(application(**change))
    assert info.value.field == field


def test_session_shape_slot_names_and_nones() -> None:
    """What a chat session stores: slot names, strings for numbers, None for unknown vehicle fields."""
    app = parse_application({
        "loan_amount": "80000", "quoted_rate": "0.035", "term_months": 36, "repayment_method": "equal_principal",
        "rate_type": "flat", "upfront_fees": "0", "product_id": None, "monthly_income": 12000,
        "vehicle": {"brand": None, "series": None, "price": None},
    })
    assert app.principal == Decimal("80000")
    assert app.annual_rate == Decimal("0.035")
    assert app.method == "equal_principal"
    assert app.vehicle is None and app.borrower is None
    assert app.is_preview


def test_complete_application_is_not_a_preview() -> None:
    app = parse_application(application())
    assert not app.is_preview
    assert app.borrower is not None and app.borrower.id_number == BORROWER_ID
