"""The command line explains itself: every option has help, defaults are shown, the suites, the CSV
columns and the settings that matter are named where a user looks for them."""

from __future__ import annotations

import argparse

import pytest

from assistant.cli import build_parser
from assistant.evals import suites


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...],
                                                                                         argparse.ArgumentParser]]:
    """Every (sub)command parser, depth first, with the words that reach it."""
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.extend(_commands(child, (*path, name)))
    return found


COMMANDS = _commands(build_parser())


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=[" ".join(p) or "root" for p, _ in COMMANDS])
def test_every_option_and_argument_has_help(path, parser):
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        assert action.help, f"loan-assistant {' '.join(path)}: {action.dest} has no help text"


def _help(*words: str, capsys) -> str:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*words, "--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


def test_defaults_are_shown(capsys):
    out = " ".join(_help("quote", capsys=capsys).split())  # help wraps lines anywhere
    assert "(default: equal_installment)" in out and "(default: nominal)" in out and "(default: 0)" in out
    assert "(default: False)" not in out and "(default: None)" not in out  # noise left out


def test_eval_help_lists_every_suite(capsys):
    out = _help("eval", capsys=capsys)
    for name in suites():
        assert f"\n  {name} " in out


def test_book_import_help_names_the_csv_columns(capsys):
    out = _help("book", "import", capsys=capsys)
    for column in ("loan_id", "customer_id", "principal", "annual_rate", "term_months", "disbursed_on",
                   "event_id", "paid_on", "amount"):
        assert column in out


def test_serve_help_names_the_settings_that_matter(capsys):
    out = _help("serve", capsys=capsys)
    for name in ("DATA_DIR", "DATABASE_URL", "CHROMA_URL", "LLM_BASE_URL", "LLM_MODEL", "API_KEYS", "LOAN_ASSISTANT_"):
        assert name in out
