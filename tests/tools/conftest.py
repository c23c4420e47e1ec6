"""Fixtures for the tool tests, shared with the packages whose services the tools call."""

from __future__ import annotations

from tests.lifecycle.conftest import book  # noqa: F401 (the loan book the lifecycle tools read)
