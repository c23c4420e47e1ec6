"""Evaluation suites: ``loan-assistant eval [SUITE]`` runs ``assistant.evals.<suite>.run(settings)``.

Each suite reads its labelled data from ``eval/`` and prints its figures; ``run`` returns them as a
dict so tests and the README can use the same numbers.
"""

from __future__ import annotations

import importlib
import pkgutil

# Modules of this package that are not suites (a file format shared by a suite and its validator).
NOT_SUITES = frozenset({"dialogue_format", "runner", "report", "charts"})  # + the eval command and its report


def suites() -> list[str]:
    """The available suite names."""
    import assistant.evals as package

    return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.name not in NOT_SUITES)


def run_suite(name: str, settings: object) -> dict:
    """Run one suite by name."""
    module = importlib.import_module(f"assistant.evals.{name}")
    return module.run(settings)
