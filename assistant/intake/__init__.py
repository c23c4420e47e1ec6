"""Document intake for loan applications: upload checks, offline OCR of ID cards and driving licences,
encrypted storage and cross-checks against the application (``services.intake``, see ``service.py``)."""
