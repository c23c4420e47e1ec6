"""Each kind in each format: headings, the quote's figures, the product's clauses, escaping."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from decimal import Decimal

import pytest

from assistant.documents.application import parse_application
from assistant.documents.service import DocumentService
from assistant.domain.money import percent_str, yuan_str
from assistant.domain.quote import quote

from .conftest import BORROWER_ID, application

TODAY = dt.date(2026, 3, 10)
Q = quote(150000, "0.045", 60, upfront_fees=800)
HEADINGS = {
    "loan_contract": ["个人汽车贷款借款合同", "第一条 借款用途", "抵押担保", "逾期与违约责任", "自动化决策"],
    "risk_disclosure": ["汽车贷款业务风险提示书", "年化利率（APR）", "提前还款", "逾期的后果与征信", "人工复核",
                        "投诉与咨询渠道"],
    "repayment_schedule": ["还款计划表", "期数", "还款日", "剩余本金（元）", "合计"],
    "privacy_consent": ["个人信息处理授权书", "敏感个人信息", "第二十九条", "第二十四条", "撤回同意"],
}
FIGURES = {
    "loan_contract": [Q.principal, Q.total_interest, Q.total_paid, Q.monthly_payment, Q.upfront_fees],
    "risk_disclosure": [Q.principal, Q.total_interest, Q.total_paid, Q.total_cost_of_credit, Q.net_received],
    "repayment_schedule": [Q.principal, Q.total_interest, Q.total_paid, Q.monthly_payment, Q.schedule[-1].payment],
    "privacy_consent": [],
}


def _text(content: bytes, fmt: str) -> str:
    text = content.decode("utf-8")
    if fmt == "html":
        text = html_lib.unescape(re.sub(r"<[^>]+>", "", text.split("<body", 1)[1]))
    return text


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("kind", list(HEADINGS))
def test_each_kind_in_text_formats(documents: DocumentService, kind: str, fmt: str) -> None:
    [doc], q, _terms, number = documents.render([kind], parse_application(application()), fmt=fmt, today=TODAY)
    assert q == Q  # the document is rendered from the one quote the money core produced
    text = _text(doc.content, fmt)
    for heading in HEADINGS[kind]:
        assert heading in text, heading
    for amount in FIGURES[kind]:
        assert yuan_str(amount) in text, amount
    if kind != "privacy_consent":
        assert percent_str(Q.apr) in text and "4.72%" in text
    assert number in text and doc.template_version.split("+")[0] in text
    assert "张三" in text
    assert "**" not in text or fmt == "md"  # every bold span closed (CommonMark flanking rules vs. CJK)
    assert "{{" not in text and "{%" not in text and "【预览稿】" not in text
    if fmt == "html":
        assert doc.content.startswith(b"<!DOCTYPE html>")
        assert doc.content_type == "text/html; charset=utf-8"
        assert b'<html lang="zh-CN">' in doc.content and b"Noto Serif CJK SC" in doc.content


def test_contract_states_id_number_and_amount_in_words(documents: DocumentService) -> None:
    [doc], *_ = documents.render(["loan_contract"], parse_application(application()), fmt="md", today=TODAY)
    text = doc.content.decode()
    assert BORROWER_ID in text  # the borrower's own contract may carry their ID number
    assert "人民币壹拾伍万元整（小写：¥150,000.00元）" in text
    assert "示例汽车金融有限责任公司" in text
    assert "首个还款日2026年4月10日" in text and "最后还款日2031年3月10日" in text
    articles = re.findall(r"^## (第[一二三四五六七八九十]+条)", text, re.M)
    assert articles[:3] == ["第一条", "第二条", "第三条"] and len(articles) == len(set(articles)) >= 12


def test_schedule_rows_are_the_quote_rows(documents: DocumentService) -> None:
    [doc], *_ = documents.render(["repayment_schedule"], parse_application(application()), fmt="md", today=TODAY)
    row_pattern = r"^\| (\d+) \| (\S+) \| ([\d,.]+) \| ([\d,.]+) \| ([\d,.]+) \| ([\d,.]+) \|$"
    rows = re.findall(row_pattern, doc.content.decode(), re.M)
    assert len(rows) == 60
    for rendered, row in zip(rows, Q.schedule, strict=True):
        assert rendered[0] == str(row.period)
        assert rendered[2:] == (yuan_str(row.payment), yuan_str(row.principal), yuan_str(row.interest),
                                yuan_str(row.balance))
    assert rows[0][1] == "2026-04-10" and rows[-1][1] == "2031-03-10"
    assert f"| **合计** | | **{yuan_str(Q.total_paid)}** | **150,000.00** | **{yuan_str(Q.total_interest)}** | |" \
        in doc.content.decode()


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_english_disclosure(documents: DocumentService, fmt: str) -> None:
    [doc], *_ = documents.render(["risk_disclosure"], parse_application(application()), fmt=fmt, lang="en",
                                 today=TODAY)
    text = _text(doc.content, fmt)
    for phrase in ("Risk Disclosure Statement", "APR: 4.72%", "Total cost of credit", "Article 24",
                   "human review", "12378", "Early repayment", "Late payment and credit reporting"):
        assert phrase in text, phrase
    assert yuan_str(Q.total_paid) in text and yuan_str(Q.net_received) in text
    if fmt == "html":
        assert b'<html lang="en">' in doc.content and "**" not in text


def test_flat_rate_equal_principal_and_fees(documents: DocumentService) -> None:
    fees = [{"name": "GPS服务费", "amount": 800}, {"name": "手续费", "amount": 1500}]
    flat = parse_application(application(rate_type="flat", annual_rate=0.035, term_months=36, upfront_fees=None,
                                         fees=fees))
    [disc], q, *_ = documents.render(["risk_disclosure"], flat, fmt="md", today=TODAY)
    text = disc.content.decode()
    assert q.upfront_fees == 2300 and "| GPS服务费 | 800.00 |" in text and "| 手续费 | 1,500.00 |" in text
    assert "年费率" in text and "3.5%" in text and percent_str(q.apr) in text and "实际年化利率" in text

    declining = parse_application(application(method="equal_principal"))
    [sched], q2, *_ = documents.render(["repayment_schedule"], declining, fmt="md", today=TODAY)
    assert q2.schedule[0].payment > q2.schedule[-1].payment
    assert "逐期递减" in sched.content.decode()


def test_product_clauses_follow_the_catalogue(documents: DocumentService, catalogue: object) -> None:
    lease = parse_application(application(product_id="direct_lease", annual_rate=0.042, upfront_fees=None,
                                          rate_type=None, principal=150000))
    [doc], q, terms, _ = documents.render(["loan_contract"], lease, fmt="md", today=TODAY)
    text = doc.content.decode()
    assert terms.kind == "lease_direct" and q.rate_type == "flat"
    assert "汽车融资租赁合同（直租）" in text and "出租人（甲方）" in text and "承租人（乙方）" in text
    assert "租赁物所有权" in text and "留购价款人民币壹佰元整" in text and "抵押担保" not in text
    assert "租赁手续费" in text and "GPS安装费" in text and yuan_str(q.upfront_fees) == "3,800.00"
    assert "已还款不足24期的，为3%" in text and "车辆定位装置" in text

    title = parse_application(application(product_id="car_title_loan", annual_rate=0.12, term_months=36,
                                          upfront_fees=None, principal=100000, purpose="经营周转",
                                          vehicle={"brand": "丰田", "series": "凯美瑞", "price": 180000,
                                                   "condition": "used"}))
    [doc], *_ = documents.render(["loan_contract"], title, fmt="md", today=TODAY)
    text = doc.content.decode()
    assert "汽车抵押借款合同" in text and "借款用途：经营周转" in text and "评估价格" in text
    assert "抵押担保" in text and "放款前办理抵押登记" in text


def test_preview_has_blanks_and_a_banner(documents: DocumentService) -> None:
    app = parse_application({"principal": 100000, "annual_rate": 0.04, "term_months": 36})
    [doc], *_ = documents.render(["loan_contract"], app, fmt="md", today=TODAY)
    text = doc.content.decode()
    assert "【预览稿】" in text and "居民身份证号码：＿＿＿＿＿＿＿＿" in text
    assert "2,952.40" in text  # 100,000 at 4 % over 36 months


def test_user_text_cannot_inject_markup(documents: DocumentService) -> None:
    app = parse_application(application(borrower={
        "name": "<script>x</script>", "id_number": BORROWER_ID, "phone": "13800138000",
        "address": "**粗体** | 管道 [链接](http://x)"}))
    [html_doc], *_ = documents.render(["loan_contract"], app, fmt="html", today=TODAY)
    content = html_doc.content.decode()
    assert "<script>" not in content and "&lt;script&gt;" in content
    assert "<a href" not in content and "<strong>粗体</strong>" not in content
    [md_doc], *_ = documents.render(["loan_contract"], app, fmt="md", today=TODAY)
    assert r"\*\*粗体\*\* \| 管道 \[链接\](http://x)" in md_doc.content.decode()


def test_every_catalogue_product_renders_every_kind(documents: DocumentService, catalogue) -> None:
    """Each product of knowledge_base/catalogue/products.yaml, priced by the catalogue, in all kinds."""
    for product in catalogue.products.values():
        term = 36 if 36 in product.term_options else product.term_options[0]
        principal = max(product.min_loan, 60000)
        used_only = "new" not in {c.value for c in product.eligibility.conditions}
        cap = min(product.ltv_cap, Decimal("0.7") if used_only else product.ltv_cap)
        app = parse_application(application(
            product_id=product.id, principal=principal, term_months=term, annual_rate=product.rates[product.grades[0]],
            upfront_fees=None, rate_type=None, method=None,
            vehicle={"brand": "丰田", "series": "卡罗拉", "price": round(principal / cap * Decimal("1.25")),
                     "condition": "used" if used_only else "new"}))
        for kind, lang in [("loan_contract", "zh"), ("risk_disclosure", "zh"), ("risk_disclosure", "en"),
                           ("repayment_schedule", "zh"), ("privacy_consent", "zh")]:
            [doc], q, _terms, _ = documents.render([kind], app, fmt="html", lang=lang, today=TODAY)
            text = _text(doc.content, "html")
            assert "**" not in text, (product.id, kind, lang)
            assert q.upfront_fees == product.upfront_fees(principal, term), product.id
            assert kind == "privacy_consent" or percent_str(q.apr) in text, (product.id, kind)
            if kind == "loan_contract":
                lease = product.kind.value.startswith("lease")
                assert ("租赁物所有权" in text) == lease and ("抵押担保" in text) == (not lease), product.id
                assert product.name in text
