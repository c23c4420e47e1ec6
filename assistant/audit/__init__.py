"""The tamper-evident audit trail (hash-chained, no personal data in clear)."""

from assistant.audit.log import AuditLog, AuditProblem, AuditReport, hash_session_id

__all__ = ["AuditLog", "AuditProblem", "AuditReport", "hash_session_id"]
