"""``loan-assistant eval ocr``: field accuracy of the offline OCR on generated cards, and seconds per card.

Cards come from :mod:`assistant.intake.cards` (made-up people, specimen-marked): card ``i`` of a run is
kind ``i mod 3`` (ID front, ID back, driving licence) at noise level ``(i // 3) mod 4`` (0 clean … 3:
±4.5° rotation, blur 1.5 px, brightness ±36 %, JPEG quality 31), seed ``first_seed + i``. Each field
counts as right only on an exact match with the printed value (normal form: ISO dates, 长期).

The parser was tuned on seeds 0–59 (:data:`TUNE_SEEDS`); the figure is reported on seeds 1000–1059
(:data:`REPORT_SEEDS`), never looked at while tuning. Time per card is OCR plus parsing on this CPU, the
one-off model load reported apart.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from assistant.intake.cards import CARD_KINDS, card_bytes, expected_fields, person_for_seed, render_card
from assistant.intake.fields import parse_fields
from assistant.intake.ocr import shared_engine

TUNE_SEEDS = range(0, 60)
REPORT_SEEDS = range(1000, 1060)
NOISE_LEVELS = 4


def card_plan(seeds: range) -> list[tuple[int, Any, int]]:
    """``(seed, kind, noise)`` of every card of a run."""
    return [(seed, CARD_KINDS[i % len(CARD_KINDS)], (i // len(CARD_KINDS)) % NOISE_LEVELS)
            for i, seed in enumerate(seeds)]


def _rate(right: int, total: int) -> float:
    return round(right / total, 4) if total else 0.0


def evaluate(seeds: range = REPORT_SEEDS) -> dict[str, Any]:
    """Accuracy per field, per kind and per noise level, and seconds per card, over ``seeds``."""
    import io

    from PIL import Image

    engine = shared_engine()
    start = time.perf_counter()
    engine.read(Image.new("RGB", (64, 64), "white"))  # the one-off model load, timed apart
    load_s = time.perf_counter() - start
    per_field: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_kind_cards: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_noise: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    errors: list[dict[str, str]] = []
    seconds: list[float] = []
    for seed, kind, noise in card_plan(seeds):
        person = person_for_seed(seed)
        # As an upload arrives: JPEG bytes, decoded again.
        image = Image.open(io.BytesIO(card_bytes(render_card(kind, person, noise=noise, seed=seed)))).convert("RGB")
        began = time.perf_counter()
        read = parse_fields(kind, engine.read(image))
        seconds.append(time.perf_counter() - began)
        all_right = True
        for field, want in expected_fields(kind, person).items():
            got = read.fields.get(field)
            right = int(got == want)
            all_right = all_right and bool(right)
            for bucket in (per_field[f"{kind.value}.{field}"], per_kind[kind.value], per_noise[noise]):
                bucket[0] += right
                bucket[1] += 1
            if not right:
                errors.append({"seed": str(seed), "kind": kind.value, "noise": str(noise), "field": field,
                               "want": want, "got": got or ""})
        per_kind_cards[kind.value][0] += int(all_right)
        per_kind_cards[kind.value][1] += 1
    right = sum(v[0] for v in per_kind.values())
    total = sum(v[1] for v in per_kind.values())
    return {
        "cards": len(seconds),
        "field_accuracy": _rate(right, total),
        "per_field": {k: _rate(*v) for k, v in sorted(per_field.items())},
        "per_kind": {k: _rate(*v) for k, v in per_kind.items()},
        "per_kind_all_fields": {k: _rate(*v) for k, v in per_kind_cards.items()},
        "per_noise": {level: _rate(*v) for level, v in sorted(per_noise.items())},
        "seconds_per_card": round(sum(seconds) / len(seconds), 3) if seconds else 0.0,
        "seconds_max": round(max(seconds), 3) if seconds else 0.0,
        "model_load_s": round(load_s, 3),
        "errors": errors,
    }


def run(settings: object, seeds: range = REPORT_SEEDS) -> dict[str, Any]:
    """Evaluate on the held-out seeds and print the figures."""
    out = evaluate(seeds)
    print(f"cards: {out['cards']} (seeds {seeds.start}–{seeds.stop - 1}; parser tuned on "
          f"{TUNE_SEEDS.start}–{TUNE_SEEDS.stop - 1})")
    print(f"field accuracy (exact match): {out['field_accuracy']:.1%}")
    for kind, rate in out["per_kind"].items():
        print(f"  {kind:<16} fields {rate:.1%}   all fields of the card right {out['per_kind_all_fields'][kind]:.1%}")
    for field, rate in out["per_field"].items():
        print(f"  {field:<30} {rate:.1%}")
    print("by noise level: " + "  ".join(f"{level}: {rate:.1%}" for level, rate in out["per_noise"].items()))
    print(f"seconds per card: {out['seconds_per_card']:.2f} (max {out['seconds_max']:.2f}); "
          f"model load {out['model_load_s']:.2f} s")
    for error in out["errors"][:20]:
        print(f"  miss: seed {error['seed']} {error['kind']} noise {error['noise']} {error['field']}: "
              f"want {error['want']!r} got {error['got']!r}")
    return out
