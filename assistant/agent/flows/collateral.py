"""The secured-loan flow (车抵贷): value the customer's car and say what it can borrow."""

from __future__ import annotations

from typing import Any

from assistant.agent.flows.base import DEFAULT_TERM, Collect, Flow, FlowRun
from assistant.agent.flows.render import join_items
from assistant.agent.types import SessionState
from assistant.domain.money import percent_str, yuan_str

# The "which model?" question (not a contract slot: the answer is a catalogue car or the new price).
VEHICLE_MODEL = "vehicle_model"


def _model_known(state: SessionState) -> bool:
    return state.vehicle_id is not None or "vehicle_price" in state.slots


def value_car(run: FlowRun) -> None:
    """Value the car with the valuation model and price the secured loan on it."""
    s = run.slots
    state = run.state
    vehicle = run.services.catalogue.find_vehicle(state.vehicle_id) if state.vehicle_id else None
    state.pending_slot = None
    args: dict[str, Any] = {k: s[k] for k in ("vehicle_age_years", "mileage_km", "energy_type", "body_type",
                                              "term_months", "monthly_income", "age", "has_delinquency")
                            if k in s}
    if vehicle is not None:
        args["vehicle"] = vehicle.id
    args["brand"] = str(s["brand"])
    if "vehicle_price" in s:
        args["original_price"] = s["vehicle_price"]
    if "loan_amount" in s:
        args["loan_amount"] = s["loan_amount"]
    args["product_id"] = "car_title_loan"
    result = run.call("value_vehicle", args)
    if result is None:
        run.draft.reply = run.last_error()
        return
    v: Any = result
    loan = v.loan
    quote_data = None
    if loan is not None and loan.monthly_payment is not None and loan.apr is not None:
        quote_data = {"monthly_payment": yuan_str(loan.monthly_payment), "apr": percent_str(loan.apr)}
    name = (vehicle.name if run.lang == "zh" else vehicle.name_en) if vehicle is not None else str(s["brand"])
    run.draft.reply = run.reply(
        "valuation", vehicle=name, age=s["vehicle_age_years"], mileage=s["mileage_km"],
        low=yuan_str(v.value_low), high=yuan_str(v.value_high), mid=yuan_str(v.estimated_value),
        product_name=(loan.product_name if run.lang == "zh" else loan.product_name_en) if loan else
        run.pick("车抵贷", "the car-title loan"),
        ltv=percent_str(loan.ltv_cap, 0) if loan else "-",
        amount=yuan_str(loan.max_loan_amount) if loan else "0.00", quote=quote_data,
        term=loan.term_months if loan else DEFAULT_TERM,
    )
    if loan is not None and not loan.eligible and loan.reasons:
        run.draft.reply += "\n" + join_items([r.model_dump() for r in loan.reasons[:2]], run.lang)


FLOWS = (
    Flow("collateral_loan", ("评估车抵贷额度", "valuing your car for a secured loan"), value_car,
         collects=(Collect("brand"), Collect(VEHICLE_MODEL, ready=_model_known), Collect("vehicle_age_years"),
                   Collect("mileage_km")),
         uses=frozenset({"brand", "vehicle_age_years", "mileage_km", "vehicle_price", "loan_amount", "term_months"})),
)
