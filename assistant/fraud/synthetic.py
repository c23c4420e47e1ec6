"""A labelled synthetic set of auto-loan applications, genuine and fraudulent, from one seed.

Genuine applicants: employment mix, age, income by employment type and age (log-normal), cars of
5万–50万 chosen in proportion to income, down payments 0–50 %, a fifth used cars valued by a noisy model,
some with an earlier application (a re-quote) or a family member on the same phone/device, a few blurry
ID photos or expired cards. Fraud patterns and hard cases are in :data:`PATTERNS`; every case is
labelled ``fraud`` or ``genuine`` with its pattern and whether it is a hard case.

Cases come in *groups* (a burst of one ring is one group) and a group is wholly train or wholly test, so
no ring is seen in both. ``python -m assistant.fraud.synthetic [--out eval/fraud]`` writes the JSONL.
Uses only :class:`random.Random` (the same sequence on every platform and Python ≥ 3.11).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import random
from pathlib import Path
from typing import Any

from assistant.jsonl import read_jsonl

SEED = 20261204
TRAIN_SHARE = 0.7
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAYS = 330

# (car, guide price in yuan): real models and their usual Chinese guide prices, 5万–50万.
CARS: tuple[tuple[str, int], ...] = (
    ("五菱宏光MINIEV", 50_000), ("奇瑞QQ冰淇淋", 55_000), ("长安逸动", 75_000), ("吉利帝豪", 80_000),
    ("比亚迪秦PLUS DM-i", 100_000), ("日产轩逸", 110_000), ("大众朗逸", 120_000), ("丰田卡罗拉", 125_000),
    ("哈弗H6", 130_000), ("比亚迪宋PLUS", 150_000), ("吉利星越L", 155_000), ("本田雅阁", 180_000),
    ("丰田RAV4荣放", 190_000), ("本田CR-V", 200_000), ("小米SU7", 220_000), ("比亚迪汉", 230_000),
    ("特斯拉Model 3", 250_000), ("问界M7", 280_000), ("凯迪拉克CT5", 300_000), ("理想L7", 320_000),
    ("宝马3系", 330_000), ("蔚来ES6", 360_000), ("奥迪A6L", 420_000), ("奔驰E级", 450_000), ("宝马X5", 500_000),
)
# Employment mix of car-loan applicants, and monthly income (median yuan, log-sd) by type.
EMPLOYMENT = (("fixed", 0.55), ("self_employed", 0.20), ("freelance", 0.10), ("part_time", 0.05), ("other", 0.10))
INCOME = {"fixed": (9000, 0.45), "self_employed": (14000, 0.6), "freelance": (8000, 0.5),
          "part_time": (4000, 0.4), "other": (6000, 0.45)}
DOWN_RATIOS = ((0.0, 0.03), (0.10, 0.07), (0.15, 0.15), (0.20, 0.20), (0.30, 0.30), (0.40, 0.15), (0.50, 0.10))

# pattern -> (label, hard, number of groups)
PATTERNS: dict[str, tuple[str, bool, int]] = {
    "genuine": ("genuine", False, 2400),
    "young_high_earner": ("genuine", True, 80),  # 24-year-old engineer on 35k: INCOME_VS_AGE
    "cash_self_employed": ("genuine", True, 80),  # shop owner paid in cash: the bank flow shows a third
    "multi_lender_shopper": ("genuine", True, 80),  # compares four dealers' finance in a month
    "reassigned_phone": ("genuine", True, 60),  # 二次放号: the number once belonged to a fraudster
    "blurry_id_photo": ("genuine", True, 80),  # glare on the card: low OCR confidence
    "identity_reuse_burst": ("fraud", False, 40),  # one stolen ID, 3–6 applications in days
    "device_farm": ("fraud", False, 40),  # one device submits 3–6 identities within hours
    "phone_ring": ("fraud", False, 40),  # one phone number behind 3–5 identities in a week
    "income_inflation": ("fraud", False, 150),
    "straw_buyer": ("fraud", False, 120),  # 代购: loan above the price, no down payment
    "inflated_collateral": ("fraud", False, 120),  # 虚高估值 on a used car / 车抵贷
    "doctored_documents": ("fraud", False, 120),
    "known_bad": ("fraud", False, 100),
    "clean_fraud": ("fraud", True, 100),  # synthetic identity, everything consistent
}


class _Gen:
    """One generator's state: the random stream and the known-bad lists it builds."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.bad_ids = [self.hex() for _ in range(300)]
        self.bad_phones = [self.hex() for _ in range(200)]
        self.bad_devices = [self.device() for _ in range(100)]
        self.n = 0

    def hex(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def device(self) -> str:
        return f"dev-{self.rng.getrandbits(64):016x}"

    def pick(self, weighted: tuple[tuple[Any, float], ...]) -> Any:
        return self.rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]

    def when(self) -> dt.datetime:
        return START + dt.timedelta(seconds=self.rng.randrange(DAYS * 86400))

    def income(self, kind: str, age: int) -> int:
        median, sd = INCOME[kind]
        # Pay rises to the mid-thirties and eases after fifty.
        factor = 0.65 if age < 25 else 0.85 if age < 30 else 1.0 if age < 45 else 0.95 if age < 55 else 0.85
        value = median * factor * math.exp(self.rng.gauss(0, sd))
        return max(2000, round(value / 500) * 500)  # people state round figures

    def car(self, monthly: int) -> tuple[str, int]:
        target = monthly * 12 * self.rng.uniform(0.6, 2.5)
        near = sorted(CARS, key=lambda c: abs(math.log(c[1] / target)))[: 3]
        name, guide = self.rng.choice(near)
        return name, round(guide * self.rng.uniform(0.92, 1.0) / 100) * 100  # dealer discount

    def person(self) -> dict[str, Any]:
        """A genuine applicant and a loan they would ask for."""
        self.n += 1
        kind = self.pick(EMPLOYMENT)
        age = int(self.rng.triangular(22, 62, 32))
        stated = self.income(kind, age)
        name, price = self.car(stated)
        used = self.rng.random() < 0.2
        app: dict[str, Any] = {
            "application_id": f"a{self.n:05d}", "id_hash": self.hex(), "phone_hash": self.hex(),
            "device_id": self.device() if self.rng.random() < 0.85 else None, "age": age,
            "employment_type": kind, "stated_monthly_income": stated, "document_monthly_income": None,
            "vehicle_price": price, "used_vehicle": used, "document_anomalies": [],
            "min_ocr_confidence": round(self.rng.uniform(0.86, 0.99), 3), "created_at": self.when(), "_car": name,
        }
        if self.rng.random() < 0.6:
            low = 0.7 if kind in ("self_employed", "freelance") else 0.82
            app["document_monthly_income"] = round(stated * self.rng.uniform(low, 1.08) / 100) * 100
        if used:
            true_value = price * self.rng.uniform(0.35, 0.8)  # a 2–7-year-old car of that class
            app["vehicle_price"] = round(true_value * self.rng.uniform(0.95, 1.05) / 100) * 100
            app["declared_collateral_value"] = round(true_value * self.rng.uniform(0.95, 1.1) / 100) * 100
            # The valuation model's error (held-out MAPE ~20 %): log-normal around the true value.
            app["model_collateral_value"] = round(true_value * math.exp(self.rng.gauss(0, 0.18)) / 100) * 100
        if used:
            # Dealers size a used-car loan to 70 % or less of the lower of price and appraisal.
            base = min(app["vehicle_price"], app["declared_collateral_value"])
            app["loan_amount"] = math.floor(base * self.rng.choice((0.5, 0.6, 0.7)) / 100) * 100
            app["down_payment"] = app["vehicle_price"] - app["loan_amount"]
        else:
            self.set_loan(app, self.pick(DOWN_RATIOS))
        app["term_months"] = self.rng.choice((12, 24, 36) if used else (12, 24, 36, 36, 48, 60))
        roll = self.rng.random()
        if roll < 0.02:
            app["document_anomalies"] = ["low_ocr_confidence"]
            app["min_ocr_confidence"] = round(self.rng.uniform(0.6, 0.8), 3)
        elif roll < 0.025:
            app["document_anomalies"] = ["id_expired"]  # people forget to renew
        elif roll < 0.027:
            app["document_anomalies"] = ["id_name_mismatch"]  # a typo in the form
        return app

    def set_loan(self, app: dict[str, Any], down_ratio: float) -> None:
        price = app["vehicle_price"]
        app["down_payment"] = math.ceil(price * down_ratio / 100) * 100  # up, so the ratio is at least met
        app["loan_amount"] = price - app["down_payment"]
        if app["loan_amount"] <= 0:
            app["down_payment"], app["loan_amount"] = price - 10_000, 10_000

    def prior(self, app: dict[str, Any], ago: dt.timedelta, **same: Any) -> dict[str, Any]:
        """An earlier application, sharing the fields named in ``same`` with ``app``."""
        self.n += 1
        ago = dt.timedelta(seconds=int(ago.total_seconds()))  # whole seconds, like the other timestamps
        return {"application_id": f"a{self.n:05d}", "id_hash": same.get("id_hash", self.hex()),
                "phone_hash": same.get("phone_hash", self.hex()),
                "device_id": same.get("device_id", self.device()), "created_at": app["created_at"] - ago}

    def background_priors(self, app: dict[str, Any]) -> list[dict[str, Any]]:
        """A genuine applicant's ordinary history: a re-quote, a spouse on the same phone or device."""
        priors = []
        roll = self.rng.random()
        if roll < 0.15:
            priors.append(self.prior(app, dt.timedelta(days=self.rng.uniform(1, 29)), id_hash=app["id_hash"],
                                     phone_hash=app["phone_hash"], device_id=app["device_id"]))
        elif roll < 0.19:
            for _ in range(2):
                priors.append(self.prior(app, dt.timedelta(days=self.rng.uniform(1, 29)), id_hash=app["id_hash"],
                                         phone_hash=app["phone_hash"]))
        elif roll < 0.24 and app["device_id"]:
            priors.append(self.prior(app, dt.timedelta(hours=self.rng.uniform(0.2, 20)), device_id=app["device_id"],
                                     phone_hash=app["phone_hash"]))
        return priors


def _case(app: dict[str, Any], priors: list[dict[str, Any]], pattern: str) -> dict[str, Any]:
    label, hard, _ = PATTERNS[pattern]
    app = {k: v for k, v in app.items() if not k.startswith("_")}
    return {"label": label, "pattern": pattern, "hard": hard, "application": app, "priors": priors}


def _burst(g: _Gen, pattern: str) -> list[dict[str, Any]]:
    """A ring's applications: each sees the earlier ones of the burst as priors."""
    size = g.rng.randint(3, 6) if pattern != "phone_ring" else g.rng.randint(3, 5)
    span = {"identity_reuse_burst": 10 * 86400, "device_farm": 8 * 3600, "phone_ring": 6 * 86400}[pattern]
    shared = {"identity_reuse_burst": "id_hash", "device_farm": "device_id", "phone_ring": "phone_hash"}[pattern]
    first = g.person()
    value = first[shared] or g.device()
    offsets = sorted(g.rng.randrange(span) for _ in range(size))
    apps = []
    for offset in offsets:
        app = g.person()
        app[shared] = value
        app["created_at"] = first["created_at"] + dt.timedelta(seconds=offset)
        if pattern == "identity_reuse_burst":  # the real person's age and job, guessed income
            app["age"], app["employment_type"] = first["age"], first["employment_type"]
        apps.append(app)
    cases = []
    for n, app in enumerate(apps):
        priors = [{k: apps[m][k] for k in ("application_id", "id_hash", "phone_hash", "device_id", "created_at")}
                  for m in range(n)]
        cases.append(_case(app, priors, pattern))
    return cases


def _fraud(g: _Gen, pattern: str, app: dict[str, Any]) -> None:
    """Turn a genuine-looking application into one of the single-application fraud patterns."""
    r = g.rng
    if pattern == "income_inflation":
        true = app["stated_monthly_income"]
        app["stated_monthly_income"] = round(true * r.uniform(1.8, 4.0) / 500) * 500
        app["document_monthly_income"] = (round(true * r.uniform(0.9, 1.05) / 100) * 100
                                          if r.random() < 0.65 else None)
        if r.random() < 0.3:
            app["employment_type"] = r.choice(("part_time", "other", "freelance"))
        _name, price = g.car(app["stated_monthly_income"])  # the inflated income buys a dearer car
        app["vehicle_price"], app["used_vehicle"] = price, False
        app.pop("declared_collateral_value", None), app.pop("model_collateral_value", None)
        g.set_loan(app, r.choice((0.1, 0.15, 0.2, 0.3)))
        app["term_months"] = r.choice((36, 48, 60))
    elif pattern == "straw_buyer":
        app["age"] = r.randint(20, 30)
        app["employment_type"] = r.choice(("part_time", "other", "freelance", "fixed"))
        app["stated_monthly_income"] = r.choice((5000, 6000, 8000, 10000, 12000))
        app["down_payment"] = 0 if r.random() < 0.6 else round(app["vehicle_price"] * 0.1 / 100) * 100
        over = r.uniform(1.05, 1.4) if r.random() < 0.8 else r.uniform(0.9, 1.0)  # some stay at the price
        app["loan_amount"] = round(app["vehicle_price"] * over / 100) * 100
        app["term_months"] = 36 if app["used_vehicle"] else 60
    elif pattern == "inflated_collateral":
        model = round(app["vehicle_price"] * r.uniform(0.25, 0.6) / 100) * 100
        factor = r.uniform(1.5, 2.6) if r.random() < 0.8 else r.uniform(1.2, 1.45)  # some stay subtle
        app["used_vehicle"], app["model_collateral_value"] = True, model
        app["declared_collateral_value"] = round(model * factor / 100) * 100
        app["vehicle_price"] = app["declared_collateral_value"]
        g.set_loan(app, r.choice((0.3, 0.3, 0.4)))
        app["term_months"] = r.choice((24, 36))
    elif pattern == "doctored_documents":
        found = {kind for kind, p in (("image_edited", 0.55), ("id_name_mismatch", 0.25),
                                      ("id_number_mismatch", 0.15), ("id_expired", 0.15)) if r.random() < p}
        if r.random() < 0.45:
            found.add("low_ocr_confidence")
            app["min_ocr_confidence"] = round(r.uniform(0.45, 0.78), 3)
        app["document_anomalies"] = sorted(found or {"image_edited"})
        if r.random() < 0.4 and app["document_monthly_income"] is not None:
            # The forged proof matches the inflated statement, so the income check cannot see it.
            app["stated_monthly_income"] = round(app["stated_monthly_income"] * 2 / 500) * 500
            app["document_monthly_income"] = app["stated_monthly_income"]
    elif pattern == "known_bad":
        which = g.pick((("id_hash", 0.5), ("phone_hash", 0.25), ("device_id", 0.25)))
        app[which] = r.choice({"id_hash": g.bad_ids, "phone_hash": g.bad_phones, "device_id": g.bad_devices}[which])
    elif pattern == "clean_fraud":
        true = app["stated_monthly_income"]
        app["stated_monthly_income"] = round(true * r.uniform(1.1, 1.4) / 500) * 500  # below every threshold
        app["document_monthly_income"] = None


def _hard(g: _Gen, pattern: str, app: dict[str, Any]) -> list[dict[str, Any]]:
    """Turn a genuine applicant into a hard case; returns extra priors."""
    r = g.rng
    if pattern == "young_high_earner":
        app["age"], app["employment_type"] = r.randint(22, 26), "fixed"
        app["stated_monthly_income"] = r.choice((25000, 30000, 35000, 40000, 45000, 50000))
        app["document_monthly_income"] = round(app["stated_monthly_income"] * r.uniform(0.9, 1.0) / 100) * 100
    elif pattern == "cash_self_employed":
        app["employment_type"] = "self_employed"
        app["stated_monthly_income"] = r.choice((15000, 20000, 25000, 30000, 40000))
        app["document_monthly_income"] = round(app["stated_monthly_income"] * r.uniform(0.2, 0.6) / 100) * 100
    elif pattern == "multi_lender_shopper":
        return [g.prior(app, dt.timedelta(days=r.uniform(1, 28)), id_hash=app["id_hash"],
                        phone_hash=app["phone_hash"]) for _ in range(r.randint(3, 4))]
    elif pattern == "reassigned_phone":
        app["phone_hash"] = r.choice(g.bad_phones)
    elif pattern == "blurry_id_photo":
        app["min_ocr_confidence"] = round(r.uniform(0.55, 0.79), 3)
        app["document_anomalies"] = ["low_ocr_confidence"] if r.random() < 0.5 else []
    return []


def _split(group: str, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return "train" if int.from_bytes(digest[:8], "big") / 2**64 < TRAIN_SHARE else "test"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def generate(seed: int = SEED) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The labelled cases (with ``id``, ``group``, ``split``) and the known-bad lists, from ``seed``."""
    g = _Gen(seed)
    groups: list[list[dict[str, Any]]] = []
    for pattern, (label, hard, count) in PATTERNS.items():
        for _ in range(count):
            if pattern in ("identity_reuse_burst", "device_farm", "phone_ring"):
                groups.append(_burst(g, pattern))
                continue
            app = g.person()
            priors = g.background_priors(app)
            if label == "fraud":
                _fraud(g, pattern, app)
            elif hard:
                priors += _hard(g, pattern, app)
            groups.append([_case(app, priors, pattern)])
    g.rng.shuffle(groups)
    cases = []
    for n, group in enumerate(groups):
        name = f"g{n:05d}"
        for case in group:
            cases.append({"id": case["application"]["application_id"], "group": name, "split": _split(name, seed),
                          **_jsonable(case)})
    lists = {"id_hashes": sorted(g.bad_ids), "phone_hashes": sorted(g.bad_phones), "device_ids": sorted(g.bad_devices)}
    return cases, lists


def serialise(cases: list[dict[str, Any]]) -> dict[str, str]:
    """The JSONL text of each split."""
    out = {}
    for split in ("train", "test"):
        out[split] = "".join(json.dumps(c, ensure_ascii=False, separators=(",", ":")) + "\n"
                             for c in cases if c["split"] == split)
    return out


def write_set(out_dir: Path, seed: int = SEED) -> dict[str, int]:
    """Generate and write ``train.jsonl``, ``test.jsonl`` and ``known_bad.json``; returns the case counts."""
    cases, lists = generate(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    for split, text in serialise(cases).items():
        (out_dir / f"{split}.jsonl").write_text(text, encoding="utf-8")
    (out_dir / "known_bad.json").write_text(json.dumps(lists, indent=1) + "\n", encoding="utf-8")
    return {split: sum(c["split"] == split for c in cases) for split in ("train", "test")}


def load_cases(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL split written by :func:`write_set`."""
    return [row for _, row in read_jsonl(path)]


def main() -> None:
    """Write the set (default ``eval/fraud``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("eval/fraud"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    print(write_set(args.out, args.seed))


if __name__ == "__main__":
    main()

