"""Collateral valuation: the residual value of a used car, as a range, from a model fitted on real prices.

:class:`Valuator` (``services.valuator``) loads the shipped artifact once and answers in microseconds;
:mod:`assistant.valuation.train` refits it (``loan-assistant train valuation``).
"""

from assistant.valuation.service import APPRAISAL_NOTE_EN, APPRAISAL_NOTE_ZH, Valuation, Valuator

__all__ = ["APPRAISAL_NOTE_EN", "APPRAISAL_NOTE_ZH", "Valuation", "Valuator"]
