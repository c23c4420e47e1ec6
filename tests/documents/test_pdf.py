"""PDFs read back with poppler: amounts, APR and Chinese headings are text (not tofu), page 1 as a PNG.

The PNGs land in ``artifacts/documents/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.documents import fonts as fonts_module
from assistant.documents.service import DocumentService
from assistant.domain.money import percent_str, yuan_str
from assistant.domain.quote import quote
from assistant.errors import ConfigurationError
from assistant.services import Services

from .conftest import ARTIFACTS, application

Q = quote(150000, "0.045", 60, upfront_fees=800)
CASES = {
    ("loan_contract", "zh"): ["个人汽车贷款借款合同", "借款金额", "年化利率", "抵押担保", "第 1 页 共"],
    ("risk_disclosure", "zh"): ["汽车贷款业务风险提示书", "借款总成本", "提前还款", "人工复核"],
    ("repayment_schedule", "zh"): ["还款计划表", "剩余本金", "合计"],
    ("privacy_consent", "zh"): ["个人信息处理授权书", "敏感个人信息", "单独同意"],
    ("risk_disclosure", "en"): ["Risk Disclosure Statement", "Total cost of credit", "Page 1 of"],
}
AMOUNTS = {
    "loan_contract": [Q.principal, Q.total_interest, Q.total_paid, Q.monthly_payment],
    "risk_disclosure": [Q.principal, Q.total_interest, Q.total_paid, Q.total_cost_of_credit],
    "repayment_schedule": [Q.principal, Q.total_interest, Q.total_paid, Q.schedule[0].balance,
                           Q.schedule[-1].payment],
    "privacy_consent": [],
}


def _run(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True, timeout=60).stdout


@pytest.mark.parametrize(("kind", "lang"), list(CASES))
def test_pdf_text_fonts_and_page_image(documents: DocumentService, tmp_path: Path, kind: str, lang: str) -> None:
    issued = documents.generate([kind], application(), fmt="pdf", lang=lang)
    record = issued.documents[0]
    # The stored file is encrypted at rest: poppler reads the decrypted copy the customer would receive.
    path = tmp_path / record.filename
    path.write_bytes(documents.store.read(record))
    assert path.read_bytes().startswith(b"%PDF-") and record.content_type == "application/pdf"

    text = _run("pdftotext", "-layout", str(path), "-")
    flat = re.sub(r"\s+", "", text)
    for heading in CASES[(kind, lang)]:
        assert re.sub(r"\s+", "", heading) in flat, heading
    for amount in AMOUNTS[kind]:
        assert yuan_str(amount) in text, amount
    if kind != "privacy_consent":
        assert percent_str(Q.apr) in text
    assert "张三" in text and issued.contract_number in text

    # Every glyph comes from an embedded CJK face (a missing glyph would fall back to a non-CJK font or tofu).
    font_lines = _run("pdffonts", str(path)).splitlines()[2:]
    assert font_lines and all(("CJK" in line or "Doc-Serif-SC" in line) and " yes " in line for line in font_lines)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / f"{kind}-{lang}"
    _run("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(path), str(stem))
    png = stem.with_suffix(".png")
    assert png.stat().st_size > 20_000  # a page of text, not a blank page


def test_rare_name_character_falls_back_to_full_noto(documents: DocumentService, tmp_path: Path) -> None:
    """喆 is not in GB 2312 (the compact subset): it must still print, from the full Noto face."""
    issued = documents.generate(["privacy_consent"], application(borrower={
        "name": "王喆", "id_number": "11010519491231002X", "phone": "13800138000", "address": "上海市"}), fmt="pdf")
    path = tmp_path / issued.documents[0].filename
    path.write_bytes(documents.store.read(issued.documents[0]))
    assert "王喆" in _run("pdftotext", str(path), "-")
    assert "Noto-Serif-CJK-SC" in _run("pdffonts", str(path))


def test_missing_cjk_font_is_a_startup_error(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts_module, "available_cjk_families", lambda: [])
    fonts_module.require_cjk_font.cache_clear()
    try:
        with pytest.raises(ConfigurationError) as info:
            _ = services.documents
        assert "fonts-noto-cjk" in info.value.message
    finally:
        fonts_module.require_cjk_font.cache_clear()


def test_fontconfig_sees_noto_cjk() -> None:
    assert shutil.which("fc-list") and fonts_module.available_cjk_families()[0] == "Noto Serif CJK SC"
