"""Loan documents: contracts, risk disclosures, repayment schedules and personal-information consents.

Rendered from the Jinja2 templates in ``contract_templates/`` to Markdown, HTML or PDF, every figure taken
from one :class:`~assistant.domain.quote.Quote`, checked against it before issue, and stored under
``DATA_DIR/documents``. Entry point: ``services.documents`` (:class:`~assistant.documents.service.DocumentService`).

Modules: ``application`` (what a document is issued for), ``terms`` (product terms: application, catalogue,
house rules), ``view`` (formatted strings for the templates), ``templates`` (the versioned bundle),
``render`` (formats and read-back checks), ``fonts`` (CJK font check and compact PDF font), ``store``
(files + table, all or nothing), ``service`` (the whole path), ``amounts`` (大写金额, numerals, dates).
"""
