"""Wrapping for a terminal never cuts a number, a Latin word or a Chinese word, nor starts a line with
a closing mark."""

from __future__ import annotations

import re

from rich.cells import cell_len

from assistant.linebreak import units, wrap

REPLY = ("1. 比亚迪 唐DM-i（新能源专享贷）：车价179,800.00元，首付53,940.00元，贷款125,860.00元分36期，"
         "月供2,438.38元，年化利率（APR）2.99%，总利息5,885.84元。按指导价179,800.00元测算。\n"
         "年化利率按IRR法（月内部收益率×12）计算。Early repayment is free after 24 instalments.")
FIGURES = ["179,800.00元", "53,940.00元", "125,860.00元", "2,438.38元", "2.99%", "5,885.84元", "DM-i", "instalments."]


def test_units_keep_numbers_with_their_unit_and_punctuation() -> None:
    pieces = units("月供2,438.38元，年化利率（APR）2.99%。")
    assert "2,438.38元，" in pieces and "2.99%。" in pieces and "（APR）" in pieces


def test_no_width_cuts_a_figure_or_overflows() -> None:
    for width in range(20, 90):  # from the widest figure with its comma and the list indent
        lines = list(wrap(REPLY, width, indent="  "))
        assert all(cell_len(line) <= width for line in lines), width
        for line in lines:
            assert not re.match(r"\s*[，。、；：！？）%]", line), (width, line)
        for figure in FIGURES:
            assert any(figure in line for line in lines), (width, figure, lines)


def test_list_items_hang_under_their_text() -> None:
    lines = list(wrap("1. 比亚迪 唐DM-i（新能源专享贷）：车价179,800.00元，首付53,940.00元", 30))
    assert lines[0].startswith("1. ") and all(line.startswith("   ") for line in lines[1:])


def test_a_unit_longer_than_the_line_is_the_only_thing_cut() -> None:
    url = "https://loan.example.com/" + "a" * 60
    lines = list(wrap(f"见 {url}", 30))
    assert "".join(line.strip() for line in lines[1:]) == url or "".join(lines).replace("见", "").strip() == url
    assert all(cell_len(line) <= 30 for line in lines)
