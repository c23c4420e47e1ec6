"""Application storage on SQLite and PostgreSQL: personal data and the credit report are not in clear at
rest, every write is a compare-and-swap on the version (two writers of one version: one conflict), each
write has its event, and the queue query rides the (status, created_at) index."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text

from assistant.api.errors import status_for
from assistant.domain.application_state import Actor, Status
from assistant.origination.models import LoanTerms, PersonalData
from assistant.origination.providers import CreditReport
from assistant.origination.store import ApplicationRecord, ApplicationStore, Event, VersionConflict
from assistant.services import Services
from assistant.storage.applications import ApplicationEventRow, ApplicationRow

pytestmark = pytest.mark.usefixtures("backend")

ID_NUMBER = "110105199003071239"
PHONE = "13912345678"
NAME = "张三丰"


def _record(app_id: str, status: Status = Status.DRAFT, *, created: dt.datetime | None = None) -> ApplicationRecord:
    now = created or dt.datetime.now(dt.UTC)
    return ApplicationRecord(
        id=app_id, status=status, channel="api", terms=LoanTerms(principal=Decimal("100000"),
                                                                  annual_rate=Decimal("0.05"), term_months=36),
        profile={"monthly_income": "20000"},
        personal=PersonalData(name=NAME, id_number=ID_NUMBER, phone=PHONE, address="北京市朝阳区建国路1号"),
        created_at=now, updated_at=now)


def _store(services: Services) -> ApplicationStore:
    return services.applications.store


def _event(action: str = "create", status: str = "draft") -> Event:
    return Event(action, None, status, Actor("partner", "k1"), "test")


def test_personal_data_and_the_credit_report_are_encrypted_at_rest(services: Services) -> None:
    store = _store(services)
    record = store.insert(_record("a" * 32), _event())
    report = CreditReport(provider="simulated", note="n", report_id="SIM-1", pulled_at=dt.datetime.now(dt.UTC),
                          accounts=3, loan_accounts=1, credit_cards=2, overdue_months_24m=0, max_overdue_status_24m=0,
                          inquiries_6m=1, outstanding_debt=12345, card_utilisation=0.3, has_mortgage=False)
    store.update(record.model_copy(update={"credit_report": report}), 1, _event("credit_report"))
    with services.engine.connect() as conn:
        raw = conn.execute(text("SELECT * FROM loan_applications")).mappings().one()
    blob = " ".join(str(v) for v in raw.values())
    for secret in (ID_NUMBER, PHONE, NAME, "北京市朝阳区", "12345"):
        assert secret not in blob
    assert raw["borrower_id_masked"] == "110***********1239"
    assert raw["personal_encrypted"].startswith("gAAAA")  # a Fernet token
    # ...and it reads back whole, with the key.
    back = store.get("a" * 32)
    assert back.personal is not None and back.personal.id_number == ID_NUMBER and back.personal.name == NAME
    assert back.credit_report == report and back.version == 2


def test_two_updates_of_one_version_one_conflicts(services: Services) -> None:
    store = _store(services)
    record = store.insert(_record("b" * 32), _event())
    first = record.model_copy(update={"status": Status.SUBMITTED})
    second = record.model_copy(update={"status": Status.WITHDRAWN})
    store.update(first, 1, _event("submit", "submitted"))
    with pytest.raises(VersionConflict) as caught:
        store.update(second, 1, _event("withdraw", "withdrawn"))
    assert status_for(caught.value) == 409 and caught.value.code == "version_conflict"
    stored = store.get("b" * 32)
    assert stored.status == Status.SUBMITTED and stored.version == 2
    # The losing write left no event either: status and history agree.
    assert [e.action for e in store.events("b" * 32)] == ["create", "submit"]


def test_concurrent_writers_of_one_version_exactly_one_wins(services: Services) -> None:
    store = _store(services)
    record = store.insert(_record("c" * 32), _event())
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        barrier.wait()
        try:
            store.update(record.model_copy(update={"profile": {"writer": n}}), 1, _event(f"w{n}"))
            result = "won"
        except VersionConflict:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["won"]
    stored = store.get("c" * 32)
    assert stored.version == 2
    events = store.events("c" * 32)
    assert len(events) == 2 and events[1].action == f"w{stored.profile['writer']}"


def test_every_write_has_its_event_with_actor_reason_and_version(services: Services) -> None:
    store = _store(services)
    record = store.insert(_record("d" * 32), _event())
    store.update(record.model_copy(update={"status": Status.SUBMITTED}), 1,
                 Event("submit", "draft", "submitted", Actor("customer"), "ready"))
    with services.sessions() as db:
        rows = db.scalars(select(ApplicationEventRow).order_by(ApplicationEventRow.id)).all()
    assert [(r.action, r.from_status, r.to_status, r.actor_kind, r.actor_id, r.reason, r.version) for r in rows] == [
        ("create", None, "draft", "partner", "k1", "test", 1),
        ("submit", "draft", "submitted", "customer", None, "ready", 2),
    ]


def test_the_queue_pages_oldest_first_by_status(services: Services) -> None:
    store = _store(services)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n in range(7):
        status = Status.SUBMITTED if n % 2 == 0 else Status.DRAFT
        store.insert(_record(f"{n:032x}", status, created=start + dt.timedelta(minutes=n)), _event())
    page, total = store.queue(Status.SUBMITTED, limit=2, offset=0)
    assert total == 4 and [r.id for r in page] == [f"{0:032x}", f"{2:032x}"]
    page, _ = store.queue(Status.SUBMITTED, limit=2, offset=2)
    assert [r.id for r in page] == [f"{4:032x}", f"{6:032x}"]
    assert all(r.personal is None for r in page)  # a listing decrypts nothing
    _, everything = store.queue(None, limit=1, offset=0)
    assert everything == 7


def test_the_status_and_created_columns_are_indexed(services: Services) -> None:
    _ = services.applications
    indexes = inspect(services.engine).get_indexes(ApplicationRow.__tablename__)
    assert any(ix["column_names"] == ["status", "created_at", "id"] for ix in indexes)
    assert any(ix["column_names"] == ["created_at", "id"] for ix in indexes)
