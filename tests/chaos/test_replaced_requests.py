"""One citizen, one place. A kiosk that gets no reply in time prints an offline ticket and sends it with
`replaces` = the request it gave up on (common/contract.py, `TicketOffline.replaces`). The request may still
reach the server, before or after the offline ticket (the broker or the kiosk's MQTT session delivers it
late): either way the citizen must hold only the offline ticket's place. The chaos run found tickets made
for given-up requests still in the queue; these two cases pin it down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from common.contract import TicketIssued, TicketOffline, TicketRequest
from server.office import Office
from server.store import Store
from server.store.models import TicketRow
from tests.server.office_helpers import THURSDAY_9AM, barrier, start_office


@pytest.fixture
def office(sqlite_url: str) -> Iterator[tuple[Office, Store]]:
    store = Store(sqlite_url)
    store.migrate()
    running, _recorder, _clock = start_office(store)
    yield running, store
    running.stop()
    store.close()


def waiting_numbers(office: Office, store: Store) -> list[str]:
    barrier(office)
    with store.read_engine.connect() as connection:
        rows = connection.execute(select(TicketRow.number).where(TicketRow.state == "waiting")).all()
    return sorted(r[0] for r in rows)


def test_a_request_answered_after_the_kiosk_gave_up_is_cancelled(office: tuple[Office, Store]) -> None:
    o, store = office
    request = TicketRequest(service="reg")
    issued = o.submit(request, sender="kiosk-1").result(30)
    assert isinstance(issued, TicketIssued) and issued.number == "A001"  # the reply came too late
    offline = TicketOffline(service="reg", number="AD01", issued_at=THURSDAY_9AM, replaces=request.id)
    assert isinstance(o.submit(offline, sender="kiosk-1").result(30), TicketIssued)
    assert waiting_numbers(o, store) == ["AD01"]


def test_a_request_arriving_after_its_offline_ticket_takes_no_place(office: tuple[Office, Store]) -> None:
    o, store = office
    request = TicketRequest(service="reg")
    offline = TicketOffline(service="reg", number="AD01", issued_at=THURSDAY_9AM, replaces=request.id)
    assert isinstance(o.submit(offline, sender="kiosk-1").result(30), TicketIssued)
    late = o.submit(request, sender="kiosk-1").result(30)  # delivered late by the kiosk's MQTT session
    assert late.code == "superseded"  # type: ignore[attr-defined]
    assert waiting_numbers(o, store) == ["AD01"]
