"""``loan-assistant chat`` in a real pseudo-terminal: the build's progress on a fresh DATA_DIR, colour
(none with NO_COLOR), replies wrapped at 60 columns without a number ever cut across two lines."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.cli.pty_session import PtySession, colour_codes, strip_ansi
from tests.kb.conftest import copy_other_resources, write_corpus

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = 60
START_S = 600  # a fresh start loads every model and builds the index on a shared 2-core machine
TURN_S = 300
# Money as the assistant writes it (2,438.38 / 179,800.00) and percentages (2.99%).
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+\.\d{2}|\d+\.\d{2}%")


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny corpus (a build of seconds, not minutes) with the real catalogues, prompts and templates."""
    root = tmp_path_factory.mktemp("resources")
    write_corpus(root)
    copy_other_resources(root)
    return root


def _chat(tmp_path: Path, resources: Path, **extra: str) -> PtySession:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOAN_ASSISTANT_") and k != "NO_COLOR"}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color", COLUMNS=str(COLUMNS),
               LOAN_ASSISTANT_DATA_DIR=str(tmp_path / "data"), LOAN_ASSISTANT_RESOURCES_DIR=str(resources), **extra)
    return PtySession([sys.executable, "-m", "assistant.cli", "chat"], env=env, cwd=tmp_path,
                      stderr=tmp_path / "stderr.txt", columns=COLUMNS)


def _two_turns(session: PtySession) -> str:
    session.expect(r"你> ", START_S)
    session.send("我想买一辆20万左右的SUV，首付30%，分36期")
    first = session.expect(r"助手> (?s:.*?)你> ", TURN_S).group()
    session.send("提前还款有违约金吗？")
    second = session.expect(r"助手> (?s:.*?)你> ", TURN_S).group()
    assert session.close() == 0
    return first + second


def _assert_wrapped_without_cut_numbers(replies: str) -> None:
    lines = [line for line in replies.split("\n") if line.strip()]
    assert all(cell_len(line.rstrip()) <= COLUMNS for line in lines), [ln for ln in lines if cell_len(ln) > COLUMNS]
    assert len([ln for ln in lines if cell_len(ln.rstrip()) > COLUMNS - 12]) >= 3  # the replies really wrap
    whole = {m for line in lines for m in NUMBER.findall(line)}
    assert "3,659.61" in whole or len(whole) >= 10  # the offers' payments are there to be cut
    # Lines joined back (indent dropped): any figure found only across a line break was cut in two.
    joined = "".join(line.strip() for line in lines)
    assert set(NUMBER.findall(joined)) <= whole


def test_chat_in_a_terminal_shows_the_build_colours_and_wraps(tmp_path: Path, resources: Path) -> None:
    session = _chat(tmp_path, resources)
    session.expect(r"加载模型 loading models", START_S)  # a spinner from the first second
    # What is built (rich wraps the line at 60 columns: any whitespace between the words).
    build = session.expect(r"建立知识索引 building the knowledge index: (\d+) 篇文档\s+documents,\s+(\d+) 个片段",
                           START_S)
    assert build.group(1) == "5" and int(build.group(2)) >= 5
    session.expect(r"嵌入 embedding .*\d+/\d+", START_S)  # the bar, counting chunks
    session.expect(r"知识索引已就绪\s+knowledge\s+index\s+ready", START_S)
    replies = _two_turns(session)
    assert colour_codes(session.raw), "a terminal gets colour"
    assert "推荐方案 offers" in replies and "违约金" in replies
    assert re.search(r"来源 sources: 《提前还款与提前结清》", replies.replace("\n", ""))
    _assert_wrapped_without_cut_numbers(replies)
    assert "思考中" in strip_ansi(session.raw)  # the spinner while a turn runs


def test_no_color_means_no_colour_codes(tmp_path: Path, resources: Path) -> None:
    session = _chat(tmp_path, resources, NO_COLOR="1")
    replies = _two_turns(session)
    assert colour_codes(session.raw) == []
    _assert_wrapped_without_cut_numbers(replies)
