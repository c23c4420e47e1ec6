"""Risk scoring: calibrated probability of default, score points, grade, decision and reasons.

- :mod:`assistant.scoring.features` — the contract's applicant fields → scale-free model features.
- :mod:`assistant.scoring.policy` — score scale, grades and decision bands (the one place to change them).
- :mod:`assistant.scoring.model` — the runtime scorer (champion scorecard + LightGBM challenger, A/B).
- :mod:`assistant.scoring.reasons` — bilingual reasons from the model's own per-feature contributions.
- :mod:`assistant.scoring.train` — training, cross-validation and artifact export (train extra only).
"""
