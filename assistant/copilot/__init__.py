"""The call-centre copilot: what a human agent needs beside a conversation (summary, profile, a
suggested reply, next best actions, compliance alerts, sources)."""

from assistant.copilot.assist import assist
from assistant.copilot.models import ComplianceAlert, CopilotRequest, CopilotResponse, NextAction, TranscriptTurn

__all__ = ["ComplianceAlert", "CopilotRequest", "CopilotResponse", "NextAction", "TranscriptTurn", "assist"]
