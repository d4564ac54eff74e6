"""Survey terminals end to end: the real Mosquitto (broker_config/), the real server (ServerRuntime on a
fresh SQLite file) and the terminal's own runtime (durable outbox, catalog, counter watch) with its loop
run headless. A served ticket rated once is accepted; a second rating, an unknown ticket and a ticket not
yet served are refused kindly on screen; ratings given while the server was stopped are kept and
accepted exactly once when it comes back; a tablet at a counter asks about the ticket completed there."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from common.catalog import catalog_from_config
from common.config import OfficeConfig
from common.contract import CounterCommand, CounterRejected, TicketIssued, TicketRequest
from common.vocabulary import CounterAction, DeviceRole, Outcome
from kiosk.headless import HeadlessLoop
from kiosk.runtime import LinkSettings
from kiosk.survey.model import SurveyScreen, SurveySettings
from kiosk.survey.runtime import SurveyRuntime
from kiosk.survey.scanner import parse_scan
from server.runtime import ServerRuntime, ServerSettings
from server.store.models import SurveyResponseRow
from tests.survey.helpers import THURSDAY_9AM, survey_config

pytestmark = pytest.mark.broker

SITE = "test-office"
PUBLIC_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 30


@pytest.fixture(scope="module")
def config() -> OfficeConfig:
    return survey_config(
        site=SITE,
        public_url=PUBLIC_URL,
        devices=[
            {
                "id": "survey-2",
                "role": "survey",
                "name_th": "แท็บเล็ต ช่อง 1",
                "name_en": "Tablet c1",
                "counter": "c1",
            },
            {"id": "survey-3", "role": "survey", "name_th": "แท็บเล็ต 3", "name_en": "Tablet 3"},
        ],
    )


class Server:
    """The office server, stoppable and startable again on the same database and MQTT session."""

    def __init__(self, broker: Any, config: OfficeConfig, database: Path) -> None:
        user, password = broker.credentials("server")
        self.settings = ServerSettings(
            config=config,
            database_url=f"sqlite:///{database}",
            mqtt_host=broker.host,
            mqtt_port=broker.port,
            username=user,
            password=password,
            mqtt_client_id=f"test-server-{uuid.uuid4().hex[:8]}",
            data_dir=database.parent,
        )
        self.runtime: ServerRuntime | None = None

    def start(self) -> ServerRuntime:
        self.runtime = ServerRuntime(self.settings)
        self.runtime.start()
        assert self.runtime.link.connected
        return self.runtime

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None

    @property
    def office(self) -> Any:
        assert self.runtime is not None
        return self.runtime.office


@pytest.fixture
def server(broker: Any, config: OfficeConfig, tmp_path: Path) -> Iterator[Server]:
    server = Server(broker, config, tmp_path / "office.db")
    server.start()
    yield server
    server.stop()


class Terminal:
    """A survey terminal's runtime with its loop run by the test."""

    def __init__(self, broker: Any, config: OfficeConfig, data_dir: Path, device_id: str) -> None:
        device = config.device_by_id(device_id)
        assert device is not None
        counter = config.counter_by_id(device.counter) if device.counter else None
        self.loop = HeadlessLoop()
        user, password = broker.credentials(device_id)
        self.runtime = SurveyRuntime(
            settings=SurveySettings(
                device_id=device_id,
                counter=counter.id if counter else None,
                counter_name_th=counter.name_th if counter else "",
                counter_name_en=counter.name_en if counter else "",
                reply_wait_s=3.0,
                debounce_s=0.0,
            ),
            link_settings=LinkSettings(broker.host, broker.port, SITE, user, password),
            data_dir=data_dir / device_id,
            handoff=self.loop.handoff,
            scheduler=self.loop,
            role=DeviceRole.survey,
            fallback_catalog=lambda: catalog_from_config(config, THURSDAY_9AM.date()),
            resend_interval_s=0.5,
        )
        self.model = self.runtime.model
        self.runtime.start()
        assert self.runtime.link.wait_connected(10)

    def until(self, done: Callable[[], bool], what: str) -> None:
        assert self.loop.run_until(done, TIMEOUT_S), (
            f"{self.runtime.channel.device_id}: {what} did not happen"
        )

    def type_and_rate(self, number: str, overall: int = 5, **answers: int) -> None:
        for ch in number:
            if ch.isalpha():
                self.model.press_letter(ch)
            else:
                self.model.press_digit(ch)
        self.model.submit_number()
        self.answer(overall, **answers)

    def answer(self, overall: int = 5, **answers: int) -> None:
        assert self.model.screen is SurveyScreen.overall, self.model.message_view()
        self.model.rate(overall)
        if answers:
            self.model.answer_more(True)
            for _ in answers:
                self.model.rate(answers["level"])
            self.model.finish()
        else:
            self.model.answer_more(False)

    def verdict(self) -> tuple[SurveyScreen, str]:
        self.until(lambda: self.model.screen in (SurveyScreen.thanks, SurveyScreen.refused), "a verdict")
        return self.model.screen, self.model.message_view().text

    def close(self) -> None:
        self.runtime.stop()


@pytest.fixture
def terminals(broker: Any, config: OfficeConfig, tmp_path: Path) -> Iterator[Callable[[str], Terminal]]:
    made: list[Terminal] = []

    def make(device_id: str) -> Terminal:
        terminal = Terminal(broker, config, tmp_path / "terminals", device_id)
        made.append(terminal)
        return terminal

    yield make
    for terminal in made:
        terminal.close()


def take(office: Any, service: str = "elderly-allowance") -> TicketIssued:
    issued = office.issue_ticket(TicketRequest(service=service), check_hours=False).result(TIMEOUT_S)
    assert isinstance(issued, TicketIssued), issued
    return issued


def act(office: Any, counter: str, action: CounterAction, **fields: Any) -> None:
    reply = office.counter_command(counter, CounterCommand(action=action, **fields)).result(TIMEOUT_S)
    assert not isinstance(reply, CounterRejected), reply


def serve(office: Any, counter: str = "c1", service: str = "elderly-allowance") -> TicketIssued:
    ticket = take(office, service)
    if not office.call(lambda _c: office.queue.desks[counter].open).result(TIMEOUT_S):
        act(office, counter, CounterAction.open, staff="staff")
    act(office, counter, CounterAction.call_next)
    act(office, counter, CounterAction.start)
    act(office, counter, CounterAction.complete, outcome=Outcome.completed)
    return ticket


def stored(server: Server | ServerRuntime) -> list[Any]:
    runtime = server.runtime if isinstance(server, Server) else server
    assert runtime is not None
    runtime.office.call(lambda _c: None).result(TIMEOUT_S)
    t = SurveyResponseRow.__table__
    with runtime.store.read_engine.connect() as connection:
        return list(connection.execute(select(t.c.number, t.c.channel, t.c.ticket_id).order_by(t.c.at)))


def test_rated_once_then_refused_kindly(server: Server, terminals: Callable[[str], Terminal]) -> None:
    ticket = serve(server.office)
    waiting = take(server.office)
    first, second = terminals("survey-1"), terminals("survey-3")

    first.type_and_rate(ticket.number, 5)
    assert first.verdict() == (SurveyScreen.thanks, "ความคิดเห็นของท่านช่วยให้เราปรับปรุงการให้บริการ")
    assert [(r.number, r.channel) for r in stored(server)] == [(ticket.number, "terminal")]

    second.type_and_rate(ticket.number, 1)  # another terminal: the server judges
    assert second.verdict() == (SurveyScreen.refused, "บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ")
    second.model.dismiss()

    first.model.dismiss()
    first.model.press_letter(ticket.number[0])
    for digit in ticket.number[1:]:
        first.model.press_digit(digit)
    first.model.submit_number()  # the same terminal knows at once, before any question
    assert first.model.screen is SurveyScreen.refused
    assert first.model.message_view().text == "บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ"

    second.type_and_rate("A999", 4)
    assert second.verdict() == (SurveyScreen.refused, "ไม่พบบัตรคิวนี้")
    second.model.dismiss()
    second.type_and_rate(waiting.number, 4)
    assert second.verdict() == (SurveyScreen.refused, "บัตรคิวนี้ยังไม่ได้รับบริการ")
    assert len(stored(server)) == 1
    assert second.model.refused_later == 0, "every refusal was shown to the citizen"
    first.until(lambda: first.runtime.channel.outbox_pending() == 0, "an empty outbox")


def test_ratings_wait_for_a_stopped_server_and_count_once(
    server: Server, terminals: Callable[[str], Terminal]
) -> None:
    tickets = [serve(server.office) for _ in range(3)]
    terminal = terminals("survey-1")
    server.stop()

    for ticket in tickets:
        terminal.model.dismiss()
        terminal.type_and_rate(ticket.number, 4)
        assert terminal.verdict()[0] is SurveyScreen.thanks, "thanked at once: store and forward"
    assert terminal.runtime.channel.outbox_pending() == 3

    runtime = server.start()
    terminal.until(lambda: terminal.runtime.channel.outbox_pending() == 0, "the outbox drained")
    rows = stored(runtime)
    assert sorted(r.number for r in rows) == sorted(t.number for t in tickets), "each rating exactly once"
    assert terminal.model.refused_later == 0
    # the resend loop goes on sending nothing; a second server start changes nothing
    server.stop()
    runtime = server.start()
    assert len(stored(runtime)) == 3


def test_a_scanned_ticket_and_a_tablet_at_the_counter(
    server: Server, terminals: Callable[[str], Terminal]
) -> None:
    tablet = terminals("survey-2")  # bound to c1
    stand = terminals("survey-1")
    tablet.until(lambda: tablet.model._counter_seen, "the counter's retained state")

    office = server.office
    done = take(office)
    act(office, "c1", CounterAction.open, staff="staff")
    act(office, "c1", CounterAction.call_next)
    act(office, "c1", CounterAction.start)
    # Counter states go out at most four times a second (server/office.py): a service takes minutes,
    # so the tablet sees it being served before it ends.
    tablet.until(lambda: tablet.model._counter_serving is not None, "the tablet seeing the service")
    assert tablet.model.screen is SurveyScreen.pad
    act(office, "c1", CounterAction.complete, outcome=Outcome.completed)
    tablet.until(lambda: tablet.model.screen is SurveyScreen.overall, "the tablet asking")
    view = tablet.model.question_view()
    assert view is not None and view.ticket == f"บัตรคิว {done.number}"
    tablet.answer(5)
    assert tablet.verdict()[0] is SurveyScreen.thanks

    scanned_ticket = serve(server.office, "c2", "land-building-tax")  # c2: the tablet at c1 stays quiet
    assert scanned_ticket.status_url and scanned_ticket.status_url.startswith(PUBLIC_URL + "/t/")
    scanned = parse_scan(scanned_ticket.status_url)  # the ticket's QR code, as the scanner types it
    assert scanned is not None
    assert (scanned.ticket_id, scanned.number) == (scanned_ticket.ticket_id, scanned_ticket.number)
    stand.model.on_scan(scanned)
    stand.answer(4)  # straight to the questions: nothing to type
    assert stand.verdict()[0] is SurveyScreen.thanks
    rows = {r.number: r for r in stored(server)}
    assert (rows[done.number].channel, rows[done.number].ticket_id) == ("counter", done.ticket_id)
    assert (rows[scanned_ticket.number].channel, rows[scanned_ticket.number].ticket_id) == (
        "terminal",
        scanned_ticket.ticket_id,
    )
    assert tablet.model.sent == 1, "the tablet at c1 never asked about c2's ticket"


def test_the_terminal_status_tells_staff_what_waits(
    server: Server, terminals: Callable[[str], Terminal]
) -> None:
    terminal = terminals("survey-3")
    ticket = serve(server.office)
    server.stop()
    terminal.type_and_rate(ticket.number, 3)
    terminal.verdict()
    status = terminal.runtime.channel.status()
    assert status.outbox_pending == 1 and status.survey_sent == 1  # type: ignore[attr-defined]


def test_a_rating_reaches_the_offices_google_form(
    broker: Any, config: OfficeConfig, tmp_path: Path, terminals: Callable[[str], Terminal]
) -> None:
    from server.survey.mirror import FormMirror, mirror_status
    from tests.survey.fake_form import fake_form
    from tests.survey.helpers import ENTRIES

    with_form = survey_config(site=SITE, form=True)
    server = Server(broker, with_form, tmp_path / "form.db")
    with fake_form() as form:
        runtime = ServerRuntime(server.settings)
        assert runtime.mirror.enabled, "the runtime runs the mirror the office file turns on"
        runtime.mirror = FormMirror(runtime.store, with_form.survey, url=form.url, poll_s=0.1)
        server.runtime = runtime
        runtime.start()
        try:
            ticket = serve(runtime.office)
            terminal = terminals("survey-1")
            terminal.type_and_rate(ticket.number, 4)
            assert terminal.verdict()[0] is SurveyScreen.thanks
            terminal.until(lambda: mirror_status(runtime.store).sent == 1, "the rating sent to the form")
            assert form.received == [{ENTRIES["result.overall"]: "4"}]
        finally:
            server.stop()
    assert not runtime.mirror.running, "the mirror stops with the server"
