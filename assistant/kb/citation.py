"""A citation: the knowledge-base passage an answer relies on, in the contract's shape.

The one definition: the extractive answer builds it, the knowledge tool and the KB route return it, and
a chat turn (``assistant.agent.types``) carries it.
"""

from __future__ import annotations

from pydantic import BaseModel


class Citation(BaseModel):
    """A knowledge-base passage the reply relies on (``doc_id``, ``title``, ``snippet``)."""

    doc_id: str
    title: str
    snippet: str
