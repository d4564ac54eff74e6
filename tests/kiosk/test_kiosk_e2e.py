"""A kiosk end to end through a real Mosquitto: the retained catalog arrives, a tap sends a durable
request, a tiny fake server answers per docs/mqtt.md, the number shows, and the ticket's bytes reach a
fake network printer. Then the server goes quiet: the kiosk gives its own number, withdraws the request,
sends `ticket.offline` that replaces it, and ignores the server's late answer.

The kiosk runs headless (`HeadlessLoop` stands in for Kivy's clock); everything else is real."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from common.config import PrinterConfig
from common.contract import (
    Catalog,
    TicketIssued,
    TicketOffline,
    TicketRequest,
)
from common.link import Inbound, MqttLink
from common.topics import Topics
from common.vocabulary import DeviceRole, PrinterState, Priority, ServiceGroup
from kiosk.headless import HeadlessLoop
from kiosk.runtime import KioskRuntime, LinkSettings
from kiosk.viewmodels import KioskSettings, PrintPhase, TicketPhase
from tests.fixtures.broker import RunningBroker
from tests.kiosk.fake_printer import FakePrinter
from tests.kiosk.kiosk_support import example_catalog

pytestmark = pytest.mark.broker

CUT = b"\x1bd\x06\x1dV\x00"
"""Feed and cut: the end of every ticket."""


@dataclass
class FakeServer:
    """Answers `ticket.request` with `ticket.issued` ({prefix}{seq:03d}) and takes in `ticket.offline`."""

    broker: RunningBroker
    catalog: Catalog
    answering: bool = True
    requests: list[TicketRequest] = field(default_factory=list)
    offline: list[TicketOffline] = field(default_factory=list)
    held: list[tuple[str, TicketRequest]] = field(default_factory=list)
    seq: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> MqttLink:
        user, password = self.broker.credentials("server")
        self.topics = Topics(self.broker.site)
        self.link = MqttLink(
            host=self.broker.host,
            port=self.broker.port,
            username=user,
            password=password,
            site=self.broker.site,
            device_id="server",
            role=DeviceRole.server,
            client_id=f"fake-server-{uuid.uuid4().hex[:8]}",
        )
        self.link.subscribe(f"{self.topics.base}/kiosk/+/ticket/request", self._on_request)
        self.link.subscribe(f"{self.topics.base}/kiosk/+/ticket/offline", self._on_offline)
        self.link.start()
        assert self.link.wait_connected(10)
        self.link.publish(self.topics.catalog(), self.catalog, retain=True)
        return self.link

    def answer_held(self) -> None:
        with self.lock:
            held, self.held = self.held, []
        for kiosk, request in held:
            self._issue(kiosk, request)

    def _on_request(self, inbound: Inbound) -> None:
        request = inbound.decode(expect=(TicketRequest,))
        assert isinstance(request, TicketRequest)
        kiosk = inbound.topic.split("/")[3]
        with self.lock:
            self.requests.append(request)
            if not self.answering:
                self.held.append((kiosk, request))
                return
        self._issue(kiosk, request)

    def _issue(self, kiosk: str, request: TicketRequest) -> None:
        service = next(s for s in self.catalog.services if s.code == request.service)
        with self.lock:
            n = self.seq[service.prefix] = self.seq.get(service.prefix, 0) + 1
        now = dt.datetime.now(dt.UTC)
        reply = TicketIssued(
            request_id=request.id,
            ticket_id=str(uuid.uuid4()),
            number=f"{service.prefix}{n:03d}",
            service=service.code,
            priority=request.priority,
            issued_at=now,
            business_date=now.date(),
            waiting_ahead=n - 1,
            estimated_wait_min=(n - 1) * 5,
        )
        self.link.publish(self.topics.ticket_reply(kiosk), reply)

    def _on_offline(self, inbound: Inbound) -> None:
        ticket = inbound.decode(expect=(TicketOffline,))
        assert isinstance(ticket, TicketOffline)
        kiosk = inbound.topic.split("/")[3]
        with self.lock:
            self.offline.append(ticket)
        now = dt.datetime.now(dt.UTC)
        reply = TicketIssued(
            request_id=ticket.id,
            ticket_id=str(uuid.uuid4()),
            number=ticket.number,
            service=ticket.service,
            priority=ticket.priority,
            issued_at=ticket.issued_at,
            business_date=now.date(),
            waiting_ahead=0,
            estimated_wait_min=0,
            offline=True,
        )
        self.link.publish(self.topics.ticket_reply(kiosk), reply)


def status_watcher(broker: RunningBroker, device: str) -> tuple[mqtt.Client, list[dict[str, object]]]:
    """A plain paho client (as the server) that records the kiosk's retained device.status."""
    seen: list[dict[str, object]] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{uuid.uuid4().hex[:8]}")
    client.username_pw_set(*broker.credentials("server"))
    client.on_message = lambda _c, _u, msg: seen.append(json.loads(msg.payload))
    client.connect(broker.host, broker.port)
    client.subscribe(Topics(broker.site).device_status(device), qos=1)
    client.loop_start()
    return client, seen


@pytest.fixture
def office(broker: RunningBroker) -> Iterator[FakeServer]:
    example = example_catalog()
    catalog = example.model_copy(update={"office": example.office.model_copy(update={"id": broker.site})})
    server = FakeServer(broker, catalog)
    link = server.start()
    yield server
    link.stop()


def start_kiosk(
    broker: RunningBroker, tmp_path: Path, printer: FakePrinter, device: str
) -> tuple[KioskRuntime, HeadlessLoop]:
    loop = HeadlessLoop()
    user, password = broker.credentials(device)
    runtime = KioskRuntime(
        settings=KioskSettings(device_id=device, offline_series="X", reply_timeout_s=1.0),
        link_settings=LinkSettings(broker.host, broker.port, broker.site, user, password),
        data_dir=tmp_path / device,
        printer=PrinterConfig(kind="network", host="127.0.0.1", port=printer.port, timeout_s=3.0),
        handoff=loop.handoff,
        scheduler=loop,
    )
    runtime.start()
    return runtime, loop


def take_ticket(runtime: KioskRuntime, code: str, priority: Priority = Priority.none) -> None:
    m = runtime.model
    group = next(s.group for s in m.catalog.services if s.code == code)  # type: ignore[union-attr]
    m.open_group(group)
    m.open_service(code)
    m.take_ticket()
    m.choose_priority(priority)


def test_a_ticket_through_the_broker_is_shown_and_printed(
    broker: RunningBroker, office: FakeServer, tmp_path: Path
) -> None:
    watcher, statuses = status_watcher(broker, "kiosk-7")
    with FakePrinter() as printer:
        runtime, loop = start_kiosk(broker, tmp_path, printer, "kiosk-7")
        try:
            m = runtime.model
            assert loop.run_until(lambda: m.catalog is not None and m.catalog.office.id == broker.site)
            assert loop.run_until(lambda: m.broker_connected)
            assert ServiceGroup.labour in m.groups()

            take_ticket(runtime, "elderly-allowance", Priority.elderly)
            assert loop.run_until(lambda: m.ticket is not None and m.ticket.phase is TicketPhase.issued)
            view = m.ticket_view()
            assert view is not None and view.number == "A001"
            (request,) = office.requests
            assert (request.service, request.priority) == ("elderly-allowance", Priority.elderly)

            assert loop.run_until(lambda: m.ticket.print_phase is not PrintPhase.printing)  # type: ignore[union-attr]
            assert m.ticket.print_phase is PrintPhase.printed  # type: ignore[union-attr]
            assert printer.printed.count(CUT) == 1, "one ticket image reached the printer"
            assert (tmp_path / "kiosk-7" / "catalog.json").exists(), (
                "the catalog is cached for the next start"
            )
            assert loop.run_until(
                lambda: any(s.get("printer") == "ok" and s.get("server_reachable") is True for s in statuses)
            )
        finally:
            runtime.stop()
            watcher.loop_stop()
            watcher.disconnect()


def test_a_silent_server_gets_an_offline_ticket_and_its_late_answer_is_ignored(
    broker: RunningBroker, office: FakeServer, tmp_path: Path
) -> None:
    watcher, statuses = status_watcher(broker, "kiosk-8")
    with FakePrinter() as printer:
        runtime, loop = start_kiosk(broker, tmp_path, printer, "kiosk-8")
        try:
            m = runtime.model
            assert loop.run_until(lambda: m.catalog is not None and m.broker_connected)
            office.answering = False
            take_ticket(runtime, "land-building-tax")
            assert loop.run_until(lambda: m.ticket is not None and m.ticket.phase is TicketPhase.offline)
            assert m.ticket_view().number == "TX01"  # type: ignore[union-attr]
            assert loop.run_until(lambda: any(not s.get("server_reachable", True) for s in statuses))

            assert loop.run_until(lambda: len(office.offline) == 1)
            (original,) = office.requests
            assert office.offline[0].replaces == original.id
            assert office.offline[0].number == "TX01"

            office.answer_held()  # the server wakes up and answers the withdrawn request
            time.sleep(0.3)
            loop.pump()
            assert m.ticket_view().number == "TX01"  # type: ignore[union-attr]
            assert loop.run_until(lambda: m.ticket.print_phase is not PrintPhase.printing)  # type: ignore[union-attr]
            assert printer.printed.count(CUT) == 1, "the late number is not printed"
            assert m.server_reachable is True, "the answer to ticket.offline shows the server is back"
            assert runtime.channel.outbox_pending() == 0
        finally:
            runtime.stop()
            watcher.loop_stop()
            watcher.disconnect()


def test_a_printer_without_paper_is_told_to_citizen_and_staff(
    broker: RunningBroker, office: FakeServer, tmp_path: Path
) -> None:
    watcher, statuses = status_watcher(broker, "kiosk-9")
    with FakePrinter() as printer:
        printer.paper = "out"
        runtime, loop = start_kiosk(broker, tmp_path, printer, "kiosk-9")
        try:
            m = runtime.model
            assert loop.run_until(lambda: m.catalog is not None and m.broker_connected)
            take_ticket(runtime, "job-seeker-registration")
            assert loop.run_until(lambda: m.ticket is not None and m.ticket.print_phase is PrintPhase.failed)
            view = m.ticket_view()
            assert view is not None and view.number == "J001" and view.print_fault
            assert "เจ้าหน้าที่" in view.print_text
            assert loop.run_until(
                lambda: any(
                    s.get("printer") == PrinterState.no_paper.value and s.get("printer_message_th")
                    for s in statuses
                )
            )
        finally:
            runtime.stop()
            watcher.loop_stop()
            watcher.disconnect()


def test_a_restart_drops_unanswered_requests_but_keeps_offline_tickets(
    broker: RunningBroker, tmp_path: Path
) -> None:
    """Nobody answers (no server): one citizen gets an offline ticket, the kiosk restarts, and only the
    offline ticket is still on its way to the server."""
    with FakePrinter() as printer:
        runtime, loop = start_kiosk(broker, tmp_path, printer, "kiosk-10")
        m = runtime.model
        m.set_catalog(
            example_catalog().model_copy(
                update={"office": example_catalog().office.model_copy(update={"id": broker.site})}
            )
        )
        assert loop.run_until(lambda: m.broker_connected)
        take_ticket(runtime, "elderly-allowance")
        assert loop.run_until(lambda: m.ticket is not None and m.ticket.phase is TicketPhase.offline)
        runtime.channel.request_ticket(TicketRequest(service="elderly-allowance"))  # pending at the "crash"
        assert len(runtime.link.outbox.pending()) == 2  # type: ignore[union-attr]
        runtime.link.stop(publish_offline=False)
        runtime.worker.stop()  # type: ignore[union-attr]

        restarted, loop = start_kiosk(broker, tmp_path, printer, "kiosk-10")
        try:
            pending = restarted.link.outbox.pending()  # type: ignore[union-attr]
            assert [p.topic.rsplit("/", 1)[1] for p in pending] == ["offline"]
        finally:
            restarted.stop()
