"""Evaluation suites: ``loan-assistant eval [SUITE]`` runs ``assistant.evals.<suite>.run(settings)``.

Each suite reads its labelled data from ``eval/`` and prints its figures; ``run`` returns them as a
dict so tests and the README can use the same numbers.
"""

from __future__ import annotations

import importlib
import pkgutil


def suites() -> list[str]:
    """The available suite names."""
    import assistant.evals as package

    return sorted(info.name for info in pkgutil.iter_modules(package.__path__))


def run_suite(name: str, settings: object) -> dict:
    """Run one suite by name."""
    module = importlib.import_module(f"assistant.evals.{name}")
    return module.run(settings)
