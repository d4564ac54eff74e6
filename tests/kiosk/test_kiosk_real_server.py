"""The kiosk end to end with the REAL office server: Mosquitto configured by broker_config/ (fresh for
each test), `ServerRuntime` on its own SQLite file, and the kiosk's own runtime as `kiosk-1` (its durable
MQTT link, catalog cache, offline numbers and print worker) with the real `TicketPrinter` sending to a
fake network printer on 127.0.0.1. Only the clock of the kiosk's UI thread is stood in for
(`HeadlessLoop`); the citizen's taps are the view-model calls the screens make.

What a citizen and staff would notice:
- the number on the screen is the one the server gave (its database row), and the same number is on
  the paper that came out of the printer;
- with the server stopped the citizen still gets a printed number, and once the server is back that
  ticket is in the queue exactly once, marked offline;
- with the server gone without a word (power cut: the broker still says it is online) the kiosk gives
  its own number after the reply timeout, and the request it gave up on does not become a second place;
- a printer that dies in the middle of a ticket loses no number and does not stop the next citizen."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from PIL import Image
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from common.config import OfficeConfig, PrinterConfig, config_from_dict
from common.thaidate import BANGKOK, business_date, to_local
from common.topics import Topics
from common.vocabulary import PrinterState, Priority, TicketState
from kiosk.headless import HeadlessLoop
from kiosk.printing import PrintResult, TicketPrinter
from kiosk.runtime import KioskRuntime, LinkSettings
from kiosk.viewmodels import KioskSettings, PrintPhase, TicketPhase
from server.runtime import ServerRuntime, ServerSettings
from server.simulation.office import always_open_office
from server.store.models import TicketRow
from tests.fixtures.broker import RunningBroker
from tests.kiosk.fake_printer import FakePrinter
from tests.kiosk.kiosk_support import decode_raster

pytestmark = pytest.mark.broker

KIOSK = "kiosk-1"
OFFLINE_SERIES = "X"
ELDERLY = "elderly-allowance"
"""A service of the example office with prefix A."""

WAIT_S = 20.0
"""A failure deadline for something to happen, never a speed target."""
REPLY_TIMEOUT_S = 1.0
"""The kiosk's wait for the server before it issues its own number (the office default is 2 s)."""
RESEND_S = 0.3
"""How soon the kiosk publishes an unanswered offline ticket again, so copies pile up at the broker for
the server that is away and the server must take them in once."""


class GivenUpRequestTookAPlace(AssertionError):
    """The request the kiosk gave up on became a ticket of its own beside the offline one."""


# ---------------------------------------------------------------------------------------------- server


class Server:
    """The office server, stopped and started again on the same database and MQTT session."""

    def __init__(self, broker: RunningBroker, config: OfficeConfig, tmp_path: Path) -> None:
        _user, password = broker.credentials("server")
        self.database = tmp_path / "khiu.db"
        self.settings = ServerSettings(
            config=config,
            database_url=f"sqlite:///{self.database}",
            mqtt_host=broker.host,
            mqtt_port=broker.port,
            username="server",
            password=password,
            mqtt_client_id=f"test-server-{uuid.uuid4().hex[:8]}",
            data_dir=tmp_path / "server-data",
        )
        self.runtime: ServerRuntime | None = None

    def start(self) -> None:
        self.runtime = ServerRuntime(self.settings, web_app=None)
        self.runtime.start()
        assert self.runtime.link.connected, "the server could not reach the test broker"

    def stop(self) -> None:
        """`khiu server` stopped by staff: it says `server.status` offline (retained) on its way out."""
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None

    def vanish(self) -> None:
        """The server gone without a word (power cut, cable pulled): nothing says it is offline, so the
        broker keeps its retained `online` until the keep-alive runs out, and keeps its session's queue."""
        rt = self.runtime
        assert rt is not None
        rt.link.stop(publish_offline=False)
        rt.mirror.stop()
        rt.office.stop()
        rt.store.close()
        rt.lock.release()  # the process is gone, and its lock on the database with it
        self.runtime = None

    def tickets(self) -> list[TicketRow]:
        """Every ticket row, as the server committed it, in the order they were issued."""
        engine = create_engine(f"sqlite:///{self.database}")
        try:
            with Session(engine) as session:
                return list(session.scalars(select(TicketRow).order_by(TicketRow.issued_at)))
        finally:
            engine.dispose()


@pytest.fixture
def config(fresh_broker: RunningBroker) -> OfficeConfig:
    """The example office, open at any hour, with kiosk-1 allowed to issue offline numbers AX01, ..."""
    raw = always_open_office(site=fresh_broker.site, kiosks=(KIOSK,))
    for device in raw["devices"]:
        if device["id"] == KIOSK:
            device["offline_series"] = OFFLINE_SERIES
    return config_from_dict(raw)


@pytest.fixture
def server(fresh_broker: RunningBroker, config: OfficeConfig, tmp_path: Path) -> Iterator[Server]:
    running = Server(fresh_broker, config, tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


# ---------------------------------------------------------------------------------------------- kiosk


class RecordingTicketPrinter(TicketPrinter):
    """The real ticket printer, remembering each image it was given (to compare with what the printer
    received, and to read `image.info["text"]`)."""

    def __init__(self, config: PrinterConfig) -> None:
        super().__init__(config, status_timeout_s=0.2)
        self.images: list[Image.Image] = []
        self.results: list[PrintResult] = []

    def print_ticket(self, image: Image.Image) -> PrintResult:
        self.images.append(image)
        result = super().print_ticket(image)
        self.results.append(result)
        return result


@dataclass
class Kiosk:
    """The kiosk's runtime, the loop standing in for its UI thread, and the printer on 127.0.0.1."""

    runtime: KioskRuntime
    loop: HeadlessLoop
    fake: FakePrinter
    printers: list[RecordingTicketPrinter]

    @property
    def model(self) -> Any:
        return self.runtime.model

    @property
    def printer(self) -> RecordingTicketPrinter:
        (printer,) = self.printers
        return printer

    def until(self, done: Callable[[], bool], what: str) -> None:
        assert self.loop.run_until(done, WAIT_S), f"gave up after {WAIT_S:g} s waiting for: {what}"

    def take_ticket(self, code: str = ELDERLY, priority: Priority = Priority.none) -> None:
        """What a citizen taps: the service's group, the service, take a ticket, the priority."""
        m = self.model
        group = next(s.group for s in m.catalog.services if s.code == code)
        m.open_group(group)
        m.open_service(code)
        m.take_ticket()
        m.choose_priority(priority)

    def phase(self) -> TicketPhase:
        """Where the citizen's ticket is: asking, issued, offline..."""
        phase: TicketPhase = self.model.ticket.phase
        return phase

    def print_phase(self) -> PrintPhase:
        phase: PrintPhase = self.model.ticket.print_phase
        return phase

    def printed(self) -> None:
        self.until(lambda: self.print_phase() is not PrintPhase.printing, "the print job to end")

    def paper(self, index: int) -> Image.Image:
        """What printer connection `index` received, decoded back into the ticket image."""
        assert self.fake.wait_for(1), "the printer received nothing"
        return decode_raster(bytes(self.fake.connections[index].printed))


@pytest.fixture
def kiosk(fresh_broker: RunningBroker, config: OfficeConfig, tmp_path: Path) -> Iterator[Kiosk]:
    device = config.device_by_id(KIOSK)
    assert device is not None and device.offline_series == OFFLINE_SERIES
    user, password = fresh_broker.credentials(KIOSK)
    loop = HeadlessLoop()
    printers: list[RecordingTicketPrinter] = []

    def make_printer(printer_config: PrinterConfig) -> RecordingTicketPrinter:
        printers.append(RecordingTicketPrinter(printer_config))
        return printers[-1]

    with FakePrinter() as fake:
        runtime = KioskRuntime(
            settings=KioskSettings(
                device_id=KIOSK, offline_series=device.offline_series, reply_timeout_s=REPLY_TIMEOUT_S
            ),
            link_settings=LinkSettings(
                fresh_broker.host, fresh_broker.port, fresh_broker.site, user, password
            ),
            data_dir=tmp_path / "kiosk",
            printer=PrinterConfig(kind="network", host="127.0.0.1", port=fake.port, timeout_s=3.0),
            handoff=loop.handoff,
            scheduler=loop,
            printer_factory=make_printer,
            resend_interval_s=RESEND_S,
        )
        runtime.start()
        try:
            k = Kiosk(runtime, loop, fake, printers)
            k.until(lambda: bool(printers), "the print worker to set up its printer")
            yield k
        finally:
            runtime.stop()


class Copies:
    """Counts the messages the broker delivers on one topic, to a watcher of its own (a plain MQTT client
    logged in as the server under another client id)."""

    def __init__(self, broker: RunningBroker, topic: str) -> None:
        self.count = 0
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{uuid.uuid4().hex[:8]}")
        self.client.username_pw_set(*broker.credentials("server"))
        self.client.on_message = lambda _c, _u, _msg: self._one()
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(topic, qos=1)
        assert subscribed.wait(WAIT_S), f"could not watch {topic}"

    def _one(self) -> None:
        self.count += 1

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def ready(k: Kiosk, site: str) -> None:
    """The kiosk shows the server's catalog and knows the server is online."""
    m = k.model
    k.until(
        lambda: m.catalog is not None and m.catalog.office.id == site and m.broker_connected,
        "the server's retained catalog at the kiosk",
    )
    k.until(lambda: m.server_online is True, "the server's retained status: online")


# ---------------------------------------------------------------------------------------------- tests


def test_the_number_on_the_screen_is_the_servers_and_is_printed(
    server: Server, kiosk: Kiosk, fresh_broker: RunningBroker
) -> None:
    ready(kiosk, fresh_broker.site)
    kiosk.take_ticket(ELDERLY, Priority.elderly)
    m = kiosk.model
    kiosk.until(lambda: kiosk.phase() is TicketPhase.issued, "the server's number")
    view = m.ticket_view()
    (row,) = server.tickets()
    assert view.number == row.number == "A001"
    assert (row.service, row.priority, row.source, row.offline, row.state) == (
        ELDERLY,
        Priority.elderly.value,
        KIOSK,
        False,
        TicketState.waiting.value,
    )

    kiosk.printed()
    assert kiosk.print_phase() is PrintPhase.printed
    (image,) = kiosk.printer.images
    assert "A001" in str(image.info["text"]).splitlines()
    assert "ผู้สูงอายุ / Elderly" in str(image.info["text"]), "staff see the priority on the paper"
    paper = kiosk.paper(0)
    assert paper.size == image.size and paper.tobytes() == image.tobytes(), (
        "the paper is the ticket, dot for dot"
    )
    assert m.health().printer is PrinterState.ok and m.server_reachable is True


def test_with_the_server_stopped_the_offline_ticket_is_printed_and_queued_once_when_it_returns(
    server: Server, kiosk: Kiosk, fresh_broker: RunningBroker
) -> None:
    ready(kiosk, fresh_broker.site)
    m = kiosk.model
    server.stop()
    kiosk.until(lambda: m.server_online is False, "the server's retained status: offline")
    sent = Copies(fresh_broker, Topics(fresh_broker.site).ticket_offline(KIOSK))

    kiosk.take_ticket(ELDERLY)
    # The kiosk knows no reply can come: the citizen does not wait for the reply timeout.
    assert kiosk.phase() is TicketPhase.offline
    number = m.ticket_view().number
    assert number == f"A{OFFLINE_SERIES}01"
    kiosk.printed()
    assert kiosk.print_phase() is PrintPhase.printed
    text = str(kiosk.printer.images[0].info["text"])
    assert number in text.splitlines() and "เจ้าหน้าที่จะเรียกตามลำดับ" in text
    assert kiosk.paper(0).tobytes() == kiosk.printer.images[0].tobytes()
    assert server.tickets() == [], "nothing reached the stopped server's database"
    assert kiosk.runtime.channel.outbox_pending() == 1, "the offline ticket waits in the kiosk's outbox"
    kiosk.until(lambda: sent.count >= 3, "the kiosk to send the offline ticket again while nobody answers")
    sent.stop()

    server.start()  # the broker hands it every copy the kiosk sent

    kiosk.until(
        lambda: kiosk.runtime.channel.outbox_pending() == 0, "the server's answer to the offline ticket"
    )
    (row,) = server.tickets()
    assert (row.number, row.offline, row.source, row.state, row.seq) == (
        number,
        True,
        KIOSK,
        TicketState.waiting.value,
        None,
    )
    kiosk.until(lambda: m.server_reachable is True, "the kiosk to see the server back")
    assert m.ticket_view().number == number, "the citizen's number did not change"


def test_an_offline_ticket_stamped_by_a_kiosk_clock_of_yesterday_is_queued_when_it_was_printed(
    server: Server, kiosk: Kiosk, fresh_broker: RunningBroker
) -> None:
    """Everything switched on after a power cut: the kiosk has no time server yet and reads the evening
    before (its saved time), the server is not up. Its offline ticket, stamped yesterday, must not be
    refused as yesterday's when the server comes: it is placed by the kiosk's boot clock."""
    ready(kiosk, fresh_broker.site)
    m = kiosk.model
    server.stop()
    kiosk.until(lambda: m.server_online is False, "the server's retained status: offline")
    yesterday = to_local(dt.datetime.now(dt.UTC)).date() - dt.timedelta(days=1)
    evening = dt.datetime.combine(yesterday, dt.time(19, 5), tzinfo=BANGKOK)
    m.now = lambda: evening  # the kiosk's wall clock: its saved time, yesterday evening

    printed_at = dt.datetime.now(dt.UTC)
    kiosk.take_ticket(ELDERLY)
    assert kiosk.phase() is TicketPhase.offline
    number = m.ticket_view().number
    kiosk.printed()
    assert "19:05" in str(kiosk.printer.images[0].info["text"]), "the paper says what the kiosk believed"

    server.start()
    kiosk.until(lambda: kiosk.runtime.channel.outbox_pending() == 0, "the server's answer to the ticket")
    (row,) = server.tickets()
    assert (row.number, row.offline, row.state) == (number, True, TicketState.waiting.value)
    assert row.business_date == business_date(dt.datetime.now(dt.UTC)), "today's queue, not yesterday's"
    placed = row.issued_at.replace(tzinfo=dt.UTC) if row.issued_at.tzinfo is None else row.issued_at
    assert abs(placed - printed_at) < dt.timedelta(seconds=10), (placed, printed_at)


def test_with_the_server_gone_silent_the_kiosk_gives_its_own_number_and_the_request_takes_no_place(
    server: Server, kiosk: Kiosk, fresh_broker: RunningBroker
) -> None:
    ready(kiosk, fresh_broker.site)
    m = kiosk.model
    server.vanish()
    kiosk.loop.pump(max_wait_s=0.2)
    assert m.server_online is True, "nothing told the kiosk the server went away"

    kiosk.take_ticket(ELDERLY)
    assert kiosk.phase() is TicketPhase.asking, "the request went out: the server is believed up"
    kiosk.until(lambda: kiosk.phase() is not TicketPhase.asking, "the reply timeout")
    assert kiosk.phase() is TicketPhase.offline
    number = m.ticket_view().number
    assert number == f"A{OFFLINE_SERIES}01"
    kiosk.printed()
    assert kiosk.print_phase() is PrintPhase.printed
    assert number in str(kiosk.printer.images[0].info["text"]).splitlines()
    assert kiosk.paper(0).tobytes() == kiosk.printer.images[0].tobytes()
    assert m.server_reachable is False, "staff see the kiosk could not reach the server"

    # The broker hands the returning server its queue: the given-up request, then the offline ticket.
    server.start()
    kiosk.until(
        lambda: kiosk.runtime.channel.outbox_pending() == 0, "the server's answer to the offline ticket"
    )
    kiosk.until(lambda: m.server_reachable is True, "the kiosk to see the server back")
    assert m.ticket_view().number == number, "a late answer to the given-up request changes nothing on screen"
    assert len(kiosk.printer.images) == 1, "and prints nothing"

    rows = server.tickets()
    offline = [r for r in rows if r.offline]
    assert [(r.number, r.source, r.state) for r in offline] == [(number, KIOSK, TicketState.waiting.value)]
    others = [r.number for r in rows if not r.offline and r.state == TicketState.waiting.value]
    if others:
        raise GivenUpRequestTookAPlace(f"{others} waiting beside the offline ticket {number}")


def test_a_printer_dying_mid_ticket_loses_no_number_and_the_next_citizen_is_served(
    server: Server, kiosk: Kiosk, fresh_broker: RunningBroker
) -> None:
    ready(kiosk, fresh_broker.site)
    m = kiosk.model
    fake = kiosk.fake
    fake.close_after = 5_000  # the connection drops a few rows into the ticket's image

    kiosk.take_ticket(ELDERLY)
    kiosk.until(lambda: kiosk.phase() is TicketPhase.issued, "the server's number")
    kiosk.printed()
    view = m.ticket_view()
    assert kiosk.print_phase() is PrintPhase.failed
    assert view.number == "A001" and view.print_fault, "the number stays on the screen, with the fault"
    assert "เจ้าหน้าที่" in view.print_text
    assert [r.number for r in server.tickets()] == ["A001"], "the citizen's place is in the queue"
    assert m.health().printer is PrinterState.offline

    fake.close_after = None  # staff fixed the printer; the next citizen taps
    m.finish()
    kiosk.take_ticket(ELDERLY)
    kiosk.until(lambda: kiosk.phase() is TicketPhase.issued, "the next citizen's number")
    kiosk.printed()
    assert kiosk.print_phase() is PrintPhase.printed and m.ticket_view().number == "A002"
    assert "A002" in str(kiosk.printer.images[-1].info["text"]).splitlines()
    assert kiosk.paper(-1).tobytes() == kiosk.printer.images[-1].tobytes()
    assert [r.number for r in server.tickets()] == ["A001", "A002"]
    assert m.health().printer is PrinterState.ok
