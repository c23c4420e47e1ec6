"""Anti-fraud signals for loan applications: pure checks with stable reason codes, a fitted score and
a pass / review / decline recommendation.

Call :func:`assess` with a :class:`FraudInput`, the :class:`PriorApplication` rows sharing its ID hash,
phone hash or device, the :class:`KnownBadLists` (:func:`assistant.fraud.files.known_bad_from_settings`)
and the :class:`FraudModel` (:func:`assistant.fraud.files.shipped_model`). Only :mod:`assistant.fraud.files`
(and the offline tools :mod:`~assistant.fraud.synthetic`, :mod:`~assistant.fraud.train`) touch files.
"""

from assistant.fraud.models import (
    Decision,
    DocumentAnomaly,
    EmploymentType,
    FraudAssessment,
    FraudInput,
    KnownBadLists,
    PriorApplication,
    Severity,
    Signal,
)
from assistant.fraud.policy import FraudPolicy
from assistant.fraud.score import FraudModel, assess
from assistant.fraud.signals import REASON_CODES

__all__ = [
    "REASON_CODES", "Decision", "DocumentAnomaly", "EmploymentType", "FraudAssessment", "FraudInput",
    "FraudModel", "FraudPolicy", "KnownBadLists", "PriorApplication", "Severity", "Signal", "assess",
]
