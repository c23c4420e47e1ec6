"""The loan officer's workbench on ``/desk`` and the customer's web chat, in headless Chromium over the real
app (real engine, OCR, fraud checks):

- the customer uploads an ID card photo in the chat — someone else's card — and reads the masked fields and
  the mismatch in plain words; before an application exists, the chat says so;
- the officer logs in with an ``underwriting`` key, finds the submitted application with its fraud signal
  and the document mismatch, and declines it with a reason; the customer's chat then gives that reason;
- another application is approved with a condition.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.api.app import create_app
from assistant.domain.application_state import Actor
from assistant.intake.cards import card_bytes, person_for_seed, render_card
from assistant.intake.kinds import DocumentKind
from assistant.origination.models import ConsentIn
from assistant.services import Services
from assistant.settings import Settings
from tests.channels.layout import DESKTOP, assert_chat_fits
from tests.channels.live_server import serve
from tests.channels.test_web_chat_browser import _artifact, browser  # noqa: F401 — the one Chromium fixture
from tests.origination.conftest import BORROWER, PROFILE, TERMS

OFFICER_KEY = "officer-key"
REASON = "身份证信息与申请人不一致"
CONDITION = "放款前办理车辆抵押登记"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Services]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("desk") / "data",  # type: ignore[call-arg]
                        api_keys=[f"{OFFICER_KEY}:underwriting"], _env_file=None)
    services = Services(settings)
    with serve(create_app(settings, services)) as url:
        yield url, services


@pytest.fixture
def customer(browser: Browser, app_server: tuple[str, Services]) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport=DESKTOP, base_url=app_server[0], locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture
def officer(browser: Browser, app_server: tuple[str, Services]) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, base_url=app_server[0], locale="zh-CN")
    yield context.new_page()
    context.close()


def _say(page: Page, text: str) -> None:
    count = page.locator(".msg.assistant:not(.streaming)").count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    expect(page.locator(".msg.assistant:not(.streaming)")).to_have_count(count + 1, timeout=120_000)


def _card(seed: int) -> dict[str, object]:
    image = card_bytes(render_card(DocumentKind.ID_CARD_FRONT, person_for_seed(seed), seed=seed))
    return {"name": "id.jpg", "mimeType": "image/jpeg", "buffer": image}


def _login(page: Page) -> None:
    page.goto("/desk")
    page.fill("#login-key", OFFICER_KEY)
    page.click("#login")
    expect(page.locator("#workbench")).to_be_visible()
    assert page.locator("#transcript").count() == 0  # an underwriting key opens the workbench only


def test_upload_review_decline_and_the_customer_reads_the_reason(customer: Page, officer: Page,
                                                                 app_server: tuple[str, Services]) -> None:
    _, services = app_server
    svc = services.applications
    customer.goto("/")
    _say(customer, "你好")
    session_id = customer.evaluate("localStorage.getItem('loan-assistant.session')")
    assert session_id

    # No application yet: the chat says what to do first.
    customer.click("#upload")
    customer.set_input_files("#upload-file", files=[_card(5)])  # type: ignore[list-item]
    expect(customer.locator(".msg.upload-note.error .bubble")).to_contain_text("还没有贷款申请")

    # The application the chat would have opened (张三, with his ID number), then the customer's upload:
    # a card of someone else.
    record = svc.create(TERMS, actor=Actor("customer"), channel="web", profile=PROFILE, personal=BORROWER,
                        consents=[ConsentIn(purpose="pre_assessment", evidence="chat_session")],
                        session_id=session_id, device_id="web-device-0001")
    customer.set_input_files("#upload-file", files=[_card(5)])  # type: ignore[list-item]
    note = customer.locator(".msg.upload-note:not(.error) .bubble").last
    expect(note).to_contain_text("识别到", timeout=120_000)
    expect(note).to_contain_text("请注意")
    expect(note).to_contain_text("身份")
    person = person_for_seed(5)
    assert person.id_number not in note.inner_text() and person.name not in note.inner_text()
    assert_chat_fits(customer, overflowing=False)  # the upload row does not push the composer off screen
    submitted = svc.submit(record.id, actor=Actor("customer"))
    assert submitted.fraud and submitted.fraud.decision in ("review", "decline")

    _login(officer)
    officer.click(".tab[data-queue='flagged']")
    item = officer.locator(f".queue-item[data-id='{record.id}']")
    expect(item).to_be_visible(timeout=30_000)
    expect(item.locator(".signal[data-code='DOC_ID_MISMATCH']")).to_contain_text("身份证")
    item.click()
    expect(officer.locator("#case-fraud .signal[data-code='DOC_ID_MISMATCH']")).to_be_visible()
    expect(officer.locator("#case-docs .mismatch[data-code='DOC_ID_MISMATCH']")).to_be_visible()
    docs = officer.locator("#case-docs").inner_text()
    assert person.id_number not in docs and BORROWER.id_number not in docs  # masked values only
    expect(officer.locator("#case-risk")).to_contain_text("评分")
    officer.fill("#decision-reasons", REASON)
    officer.click("#decline")
    expect(officer.locator("#case-result")).to_contain_text(REASON)
    expect(officer.locator("#case-title")).to_contain_text("已拒绝")
    declined = svc.get(record.id)
    assert declined.status.value == "declined" and declined.decision and declined.decision.reasons == [REASON]
    assert declined.decision.officer_id != OFFICER_KEY  # the key's id, never the key
    officer.screenshot(path=str(_artifact("desk_workbench.png")), full_page=True)

    _say(customer, "我的申请到哪一步了")
    reply = customer.locator(".msg.assistant .bubble").last
    expect(reply).to_contain_text("未通过")
    expect(reply).to_contain_text(REASON)


def test_an_application_is_approved_with_a_condition(officer: Page, app_server: tuple[str, Services]) -> None:
    _, services = app_server
    svc = services.applications
    record = svc.submit(svc.create(TERMS, actor=Actor("partner", "dealer"), channel="api", profile=PROFILE,
                                   consents=[ConsentIn(purpose="pre_assessment")]).id, actor=Actor("customer"))
    _login(officer)
    item = officer.locator(f".queue-item[data-id='{record.id}']")
    expect(item).to_be_visible(timeout=30_000)
    item.click()
    expect(officer.locator("#case-title")).to_contain_text(record.id[:8].upper())
    officer.fill("#decision-conditions", CONDITION)
    officer.click("#approve")
    expect(officer.locator("#case-result")).to_contain_text(CONDITION)
    approved = svc.get(record.id)
    assert approved.status.value == "approved" and approved.decision and approved.decision.conditions == [CONDITION]
    assert "审批通过" in svc.customer_status(approved)
