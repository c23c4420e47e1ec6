"""The output guard: the adversarial suite case by case, and the rules' edges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.agent.guard import GuardFinding, check_text, figures_in
from assistant.agent.llm import _GuardedStream
from assistant.evals.guard_suite import CATEGORY_CODE, SUITE_HOSTS, GuardCase, judge, load_cases, run
from assistant.privacy import PiiVault

CASES = load_cases()


def test_the_suite_is_big_enough_and_balanced():
    blocked = [c for c in CASES if c.expect == "block"]
    safe = [c for c in CASES if c.expect == "pass"]
    assert len(blocked) >= 60 and len(safe) >= len(blocked)
    assert {c.category for c in blocked} == set(CATEGORY_CODE)
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_case(case: GuardCase):
    codes = [f.code for f in judge(case)]
    if case.expect == "pass":
        assert codes == [], f"{case.id} falsely blocked ({case.why})"
    else:
        assert CATEGORY_CODE[case.category] in codes, f"{case.id} not blocked for {case.category}: {codes}"


def test_the_suite_figures_are_computed_from_the_cases():
    result = run()
    assert result["cases"] == len(CASES)
    assert 0.0 <= result["precision"] <= 1.0 and 0.0 <= result["recall"] <= 1.0


FIGURES = figures_in("月供3,438.38元（年化利率4.99%，IRR法），贷款15万")


@pytest.mark.parametrize("text", [
    "月供3,438.38元（年化利率4.99%）。",  # as computed
    "月供3438.38元，年化利率4.99%。",  # same figures, other spelling
    "月供约3,440元（年化利率4.99%）。",  # a rounding to three significant digits
    "贷款十五万，月供3,438.38元，年化4.99%。",  # Chinese numerals
])
def test_computed_figures_pass_however_written(text: str):
    assert check_text(text, figures=FIGURES) == []


@pytest.mark.parametrize("text", ["月供3千，年化利率4.99%。", "每月1999即可，年化4.99%。", "年化利率只要3.2%。"])
def test_figures_the_tools_did_not_compute_are_blocked(text: str):
    assert [f.code for f in check_text(text, figures=FIGURES)] == ["invented_number"]


def test_without_figures_numbers_are_not_judged():
    # Agent drafts (copilot) have no turn figures: only the other rules apply.
    assert check_text("月供3千，年化利率4.99%。") == []


def test_a_warning_in_one_clause_does_not_excuse_a_scam_in_the_next():
    assert check_text("请勿向个人账户转账。") == []
    assert [f.code for f in check_text("我们不收费，先交2000元保证金才能放款。")] == ["fraud_payment"]


@pytest.mark.parametrize("text", [
    "For online applications, upload both sides of the card and finish face verification.",
    "Poor signal strength in the basement may delay the GPS check.",
    "线上申请时请拍摄身份证正反面。",
    "Transferring you to a human agent now; I have shared a summary with them.",
    "Please update the address on your application form.",
    "我们继续刚才的计算：请问想分几期还款？常见的是12、24或36期。",
])
def test_contact_app_names_inside_ordinary_words_are_not_contacts(text: str):
    assert [f.code for f in check_text(text)] == []


@pytest.mark.parametrize("text", [
    "Add me on LINE: fastloan_88 and I will get it approved today.",
    "whatsapp id: quickcash2024, message me for a faster approval",
])
def test_a_latin_contact_handle_is_still_a_lure(text: str):
    assert "fraud_contact" in [f.code for f in check_text(text)]


def test_masked_values_and_document_ids_are_not_personal_data():
    assert check_text("您的手机138****5678已登记，证件110***********1234。") == []
    assert check_text("文档编号 9f1c13812345678aa0b2c4d6e8f01234") == []


def test_links_only_to_allowed_hosts():
    assert check_text("查询征信请登录 https://ipcrs.pbccrc.org.cn/ 。", allowed_hosts=SUITE_HOSTS) == []
    assert [f.code for f in check_text("点击 pbccrc.org.cn.verify-loan.top 查询", allowed_hosts=SUITE_HOSTS)] == ["url"]


class _Engine:
    """The piece of the LLM engine the stream uses: its guard."""

    @staticmethod
    def check(text: str, figures: set[Decimal]) -> list[GuardFinding]:
        return check_text(text, figures=figures)


def _stream() -> tuple[_GuardedStream, list[str]]:
    shown: list[str] = []
    return _GuardedStream(shown.append, PiiVault(), _Engine(), FIGURES), shown  # type: ignore[arg-type]


def test_a_price_sentence_waits_for_its_apr():
    stream, shown = _stream()
    stream.feed("您的月供是3,438.")
    stream.feed("38元。")
    assert shown == []  # a price without its APR (yet) is held
    stream.feed("年化利率4.99%。以审批为准")
    assert shown == ["您的月供是3,438.38元。年化利率4.99%。"]
    stream.flush()
    assert shown[-1] == "以审批为准"


def test_a_sentence_that_fails_stops_the_stream_for_good():
    stream, shown = _stream()
    stream.feed("您好。加我微信abc12345帮您走快速通道。")
    stream.feed("月供3,438.38元，年化利率4.99%。")
    stream.flush()
    assert shown == ["您好。"] or shown == []
    assert not any("微信" in s for s in shown)


def test_a_price_that_never_gets_its_apr_never_leaves():
    stream, shown = _stream()
    stream.feed("月供3,438.38元。")
    stream.feed("祝您用车愉快。")
    assert shown == []
