"""Validate eval/nlu/utterances.jsonl against the label vocabulary of shared/spec/contract.md.

Run: python eval/nlu/validate.py [path]   (exit status 1 on any error)
"""
from __future__ import annotations

import collections
import hashlib
import json
import sys
from pathlib import Path

INTENTS = {
    "greeting", "goodbye", "product_inquiry", "car_recommendation", "payment_calculation",
    "rate_check", "eligibility_check", "apply", "document_request", "policy_question",
    "collateral_loan", "repayment_trouble", "complaint", "human_handoff", "out_of_scope",
}
INT_SLOTS = {"budget", "vehicle_price", "down_payment", "loan_amount", "term_months",
             "monthly_income", "age", "mileage_km", "overdue_days"}
FLOAT_SLOTS = {"down_payment_ratio", "quoted_rate", "vehicle_age_years"}
ENUM_SLOTS = {
    "rate_type": {"flat", "nominal"},
    "body_type": {"suv", "sedan", "mpv", "hatchback", "pickup"},
    "energy_type": {"ice", "bev", "phev", "hev", "nev"},
    "vehicle_condition": {"new", "used"},
    "repayment_method": {"equal_installment", "equal_principal"},
    "document_kind": {"loan_contract", "risk_disclosure", "repayment_schedule", "privacy_consent"},
}
STR_SLOTS = {"brand", "city"}
ALL_SLOTS = INT_SLOTS | FLOAT_SLOTS | set(ENUM_SLOTS) | STR_SLOTS
# plausible ranges, to catch unit slips (15 instead of 150000, 30 instead of 0.3)
RANGES = {
    "budget": (10_000, 5_000_000), "vehicle_price": (10_000, 5_000_000),
    "down_payment": (1_000, 5_000_000), "loan_amount": (1_000, 5_000_000),
    "monthly_income": (500, 1_000_000), "term_months": (1, 120), "age": (16, 90),
    "mileage_km": (1_000, 1_000_000), "overdue_days": (1, 1_000),
    "down_payment_ratio": (0.0, 0.9), "quoted_rate": (0.0, 0.36), "vehicle_age_years": (0.0, 30.0),
}
MIN_PER_INTENT, MIN_PER_SLOT, MIN_ROWS = 45, 15, 900


def split_of(text: str) -> str:
    """The deterministic 80/20 split the consumer uses (documented in README.md)."""
    h = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)
    return "test" if h % 100 < 20 else "train"


def main(path: str) -> int:
    errors: list[str] = []
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: invalid JSON ({e})")
            continue
        if set(r) != {"text", "intent", "slots", "lang"}:
            errors.append(f"line {n}: keys {sorted(r)}")
        if not isinstance(r.get("text"), str) or not r["text"].strip() or r["text"] != r["text"].strip():
            errors.append(f"line {n}: bad text")
        if r.get("intent") not in INTENTS:
            errors.append(f"line {n}: unknown intent {r.get('intent')!r}")
        if r.get("lang") not in ("zh", "en"):
            errors.append(f"line {n}: bad lang {r.get('lang')!r}")
        slots = r.get("slots")
        if not isinstance(slots, dict):
            errors.append(f"line {n}: slots not an object")
            continue
        for k, v in slots.items():
            if k not in ALL_SLOTS:
                errors.append(f"line {n}: unknown slot {k!r}")
            elif k in INT_SLOTS and (type(v) is not int):
                errors.append(f"line {n}: {k} must be int, got {v!r}")
            elif k in FLOAT_SLOTS and (type(v) not in (int, float)):
                errors.append(f"line {n}: {k} must be a number, got {v!r}")
            elif k in ENUM_SLOTS and v not in ENUM_SLOTS[k]:
                errors.append(f"line {n}: {k}={v!r} not in {sorted(ENUM_SLOTS[k])}")
            elif k in STR_SLOTS and (not isinstance(v, str) or not v.strip()):
                errors.append(f"line {n}: {k} must be a non-empty string")
            if k in RANGES and type(v) in (int, float):
                lo, hi = RANGES[k]
                if not lo <= v <= hi:
                    errors.append(f"line {n}: {k}={v} outside plausible range [{lo}, {hi}]")
        rows.append(r)

    texts = collections.Counter(r["text"] for r in rows)
    errors += [f"duplicate text: {t!r} x{c}" for t, c in texts.items() if c > 1]
    per_intent = collections.Counter(r["intent"] for r in rows)
    per_slot = collections.Counter(k for r in rows for k in r["slots"])
    per_lang = collections.Counter(r["lang"] for r in rows)
    per_split = collections.Counter(split_of(r["text"]) for r in rows)
    split_intent = collections.Counter((r["intent"], split_of(r["text"])) for r in rows)
    if len(rows) < MIN_ROWS:
        errors.append(f"only {len(rows)} rows (< {MIN_ROWS})")
    errors += [f"intent {i}: {per_intent[i]} rows (< {MIN_PER_INTENT})"
               for i in sorted(INTENTS) if per_intent[i] < MIN_PER_INTENT]
    errors += [f"slot {s}: {per_slot[s]} rows (< {MIN_PER_SLOT})"
               for s in sorted(ALL_SLOTS) if per_slot[s] < MIN_PER_SLOT]

    langs = ", ".join(f"{k} {v} ({v / len(rows):.1%})" for k, v in sorted(per_lang.items()))
    print(f"rows: {len(rows)}   lang: {langs}")
    print(f"split (sha256(text) % 100 < 20 → test): train {per_split['train']}, test {per_split['test']}")
    print("\nper intent (total / train / test):")
    for i in sorted(INTENTS, key=lambda x: -per_intent[x]):
        print(f"  {i:22s} {per_intent[i]:4d} {split_intent[(i, 'train')]:4d} {split_intent[(i, 'test')]:4d}")
    print("\nper slot (rows carrying it):")
    for s in sorted(ALL_SLOTS, key=lambda x: -per_slot[x]):
        print(f"  {s:20s} {per_slot[s]:4d}")
    print(f"\nrows with at least one slot: {sum(1 for r in rows if r['slots'])}")
    if errors:
        print(f"\n{len(errors)} ERROR(S):")
        for e in errors:
            print("  " + e)
        return 1
    print("\nOK: no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).with_name("utterances.jsonl"))))
