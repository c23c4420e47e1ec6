"""The offline engine: the offline command generator and the dialogue manager, with no model server.

Every turn is local, deterministic and fast: the NLU and the dialogue-state tracker turn the message
into commands (``assistant.agent.tracker``), and the dialogue manager carries them out
(``assistant.agent.manager``). The LLM engine shares the manager and swaps in its own generator.
"""

from __future__ import annotations

from typing import Any

from assistant.agent.manager import DialogueManager
from assistant.agent.prompts import PromptLibrary
from assistant.agent.tracker import OfflineCommandGenerator, absurd_amounts
from assistant.agent.turn import TurnDraft
from assistant.agent.types import SessionState
from assistant.tools.registry import ToolContext, load_all_tools

__all__ = ["OfflineEngine", "TurnDraft"]


class OfflineEngine:
    """Understanding + dialogue management with no model server."""

    def __init__(self, services: Any, prompts: PromptLibrary) -> None:
        self.services = services
        self.prompts = prompts
        load_all_tools()
        self.generator = OfflineCommandGenerator(services.nlu, services.catalogue)
        self.manager = DialogueManager(services, prompts)

    def turn(self, state: SessionState, message: str, ctx: ToolContext) -> TurnDraft:
        """Handle one customer message, updating ``state`` in place."""
        commands, intent, confidence = self.generator.generate(state, message)
        draft = self.manager.handle(state, commands, message.strip(), ctx, intent=intent, confidence=confidence)
        absurd = absurd_amounts(message)
        if absurd and draft.reply:
            # The rest of the message still counts (the flow asks for the figure again); say why first.
            notes = "".join(self.manager.out_of_range(state, slot) for slot in absurd)
            draft.reply = f"{notes}\n\n{draft.reply}"
        return draft
