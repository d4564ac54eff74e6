"""The hall board and counter terminal view-models against the REAL office server (`ServerRuntime` in
this process, on a fresh SQLite file) through a real Mosquitto configured by broker_config/.

Tickets come from a kiosk's link, staff act through the counter terminal's view-model, and the board's
view-model is fed by its own link, exactly as in the app; only the loudspeaker is a recording fake. The
links hand messages to a queue the test thread drains (`Pump`), standing in for Kivy's clock. One test
also draws the real Kivy board from what the real server published and saves a screenshot to look at."""

from __future__ import annotations

import datetime as dt
import queue
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from common.config import config_from_dict
from common.contract import CounterCommand, Reply, TicketIssued, TicketRequest
from common.link import MqttLink
from common.topics import Topics
from common.vocabulary import DeviceRole, TicketState
from counter_display.announce import Announcement, AnnouncementBuilder, Announcer, Call
from counter_display.board_vm import BoardViewModel
from counter_display.clips import ClipSet
from counter_display.counter_vm import Button, CounterViewModel, Tone
from server.runtime import ServerRuntime, ServerSettings
from server.simulation.office import always_open_office
from tests.counter_display.clipkit import RecordingPlayer, make_clip_set, spoken_keys
from tests.fixtures.broker import RunningBroker

pytestmark = pytest.mark.broker

WAIT_S = 15.0
"""A failure deadline for messages to arrive, not a speed target."""

BANNER_DEADLINE_S = 5.0
"""The board must say it lost the queue system within 5 s (what a citizen or staff would notice);
a killed broker closes the socket, so this is a bound on behaviour, not a measurement."""

DISPLAY_KEEPALIVE_S = 2
"""As `counter_display.app.DISPLAY_KEEPALIVE_S` (importing the app would open a window)."""

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

TERMINALS = {"counter-1": "c1", "counter-2": "c2"}
# In the example office, counter c1 serves the allowances (elderly-allowance is prefix A) and
# c2 the local tax and water meters (land-building-tax is prefix T).
ELDERLY, LAND_TAX = "elderly-allowance", "land-building-tax"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Pump:
    """The hand-off of the device links: tasks queue up and run on the test thread one at a time,
    as Kivy's clock runs them on the main thread."""

    def __init__(self) -> None:
        self.tasks: queue.Queue[Callable[[], None]] = queue.Queue()

    def __call__(self, task: Callable[[], None]) -> None:
        self.tasks.put(task)

    def until(self, condition: Callable[[], bool], what: str, deadline_s: float = WAIT_S) -> None:
        deadline = time.monotonic() + deadline_s
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"gave up after {deadline_s:g} s waiting for: {what}")
            try:
                task = self.tasks.get(timeout=min(0.1, remaining))
            except queue.Empty:
                continue
            task()

    def settle(self, quiet_s: float = 0.5) -> None:
        """Run tasks until none has come for `quiet_s` (to show that nothing more arrives)."""
        while True:
            try:
                task = self.tasks.get(timeout=quiet_s)
            except queue.Empty:
                return
            task()


@dataclass
class Board:
    """A hall board: its view-model, announcer and (fake) loudspeaker."""

    vm: BoardViewModel
    announcer: Announcer
    player: RecordingPlayer
    started: list[Announcement] = field(default_factory=list)

    def tile(self, counter: str) -> tuple[str, str, bool]:
        """(number, state, flashing) of a counter's tile as the board shows it now; a closed counter
        has no tile: ("", "closed", False)."""
        tile = next((t for t in self.vm.view(now()).tiles if t.counter == counter), None)
        if tile is None:
            return "", "closed", False
        return tile.number, tile.state, tile.flashing

    def waiting(self, prefix: str) -> int:
        return next((w.waiting for w in self.vm.view(now()).waiting if w.prefix == prefix), 0)


class Office:
    """The real server, and the links of this test's devices (all stopped at the end)."""

    def __init__(self, broker: RunningBroker, runtime: ServerRuntime, tmp_path: Path) -> None:
        self.broker = broker
        self.runtime = runtime
        self.tmp_path = tmp_path
        self.topics = Topics(broker.site)
        self.pump = Pump()
        self.links: list[MqttLink] = []
        self.clips = make_clip_set(tmp_path / "clips")
        self.issued: dict[str, TicketIssued] = {}

    def link(self, device_id: str, role: DeviceRole, *, keepalive: int = 20) -> MqttLink:
        user, password = self.broker.credentials(device_id)
        with_outbox = role in (DeviceRole.counter, DeviceRole.kiosk)
        link = MqttLink(
            host=self.broker.host,
            port=self.broker.port,
            username=user,
            password=password,
            site=self.broker.site,
            device_id=device_id,
            role=role,
            outbox_path=self.tmp_path / f"{device_id}-outbox.db" if with_outbox else None,
            handoff=self.pump,
            keepalive=keepalive,
            client_id=f"test-{device_id}-{uuid.uuid4().hex[:8]}",
        )
        self.links.append(link)
        return link

    def issue(self, *services: str) -> list[str]:
        """Tickets taken at kiosk-1 through the real request/reply path; their numbers in order."""
        kiosk = self.link("kiosk-1", DeviceRole.kiosk)
        answers: dict[str, Reply] = {}
        kiosk.subscribe(self.topics.ticket_reply("kiosk-1"), lambda _inbound: None)
        kiosk.on_reply(lambda reply: answers.__setitem__(str(reply.request_id), reply))
        kiosk.start()
        self.pump.until(lambda: kiosk.connected, "kiosk connected")
        requests = [TicketRequest(service=service) for service in services]
        for request in requests:
            kiosk.request(self.topics.ticket_request("kiosk-1"), request)
        self.pump.until(lambda: len(answers) == len(requests), "every ticket issued")
        numbers = []
        for request in requests:
            reply = answers[str(request.id)]
            assert isinstance(reply, TicketIssued), reply
            self.issued[reply.number] = reply
            numbers.append(reply.number)
        return numbers

    def board(self, device_id: str = "display-1") -> Board:
        link = self.link(device_id, DeviceRole.display, keepalive=DISPLAY_KEEPALIVE_S)
        player = RecordingPlayer()
        builder = AnnouncementBuilder(ClipSet(self.clips), self.tmp_path / f"{device_id}-sound")
        announcer = Announcer(builder, player)
        vm = BoardViewModel(self.topics, announcer.announce)
        board = Board(vm, announcer, player)

        def started(announcement: Announcement) -> None:
            board.started.append(announcement)
            vm.on_announcement(announcement, now())

        announcer.on_start.append(started)
        for topic_filter in vm.subscriptions():
            link.subscribe(topic_filter, lambda inbound: vm.on_message(inbound, now()))
        link.on_connection_change(vm.on_connection)
        link.start()
        self.pump.until(
            lambda: vm.connected and vm.state is not None and vm.catalog is not None,
            f"{device_id} has the retained board state and catalog",
        )
        return board

    def counter(self, device_id: str) -> tuple[CounterViewModel, list[CounterCommand]]:
        counter = TERMINALS[device_id]
        link = self.link(device_id, DeviceRole.counter)
        sent: list[CounterCommand] = []

        def send(command: CounterCommand) -> None:
            sent.append(command)
            link.request(self.topics.counter_command(counter), command)

        vm = CounterViewModel(self.topics, counter, send, staff="staff-07")
        for topic_filter in vm.subscriptions():
            link.subscribe(topic_filter, lambda inbound: vm.on_message(inbound, now()))
        link.on_connection_change(vm.on_connection)
        link.start()
        self.pump.until(
            lambda: vm.connected and vm.state is not None and vm.server_online is True,
            f"{device_id} has its counter's state",
        )
        return vm, sent

    def open_counter(self, vm: CounterViewModel) -> None:
        assert vm.press(Button.open, now())
        self.pump.until(lambda: vm.view().pending is None, "the answer to open")
        self.pump.until(lambda: Button.call_next in vm.enabled(), f"{vm.counter} open and free")

    def stop(self) -> None:
        for link in self.links:
            link.stop()


@pytest.fixture
def office(fresh_broker: RunningBroker, tmp_path: Path) -> Iterator[Office]:
    """The real server on a fresh SQLite file, open at any hour, with kiosk-1, two counter terminals
    and the boards registered in its office file."""
    config = config_from_dict(
        always_open_office(
            site=fresh_broker.site,
            counters=3,
            kiosks=("kiosk-1",),
            counter_terminals=TERMINALS,
            displays=("display-1", "display-2", "display-3"),
        )
    )
    _user, password = fresh_broker.credentials("server")
    settings = ServerSettings(
        config=config,
        database_url=f"sqlite:///{tmp_path / 'khiu.db'}",
        mqtt_host=fresh_broker.host,
        mqtt_port=fresh_broker.port,
        username="server",
        password=password,
        data_dir=tmp_path / "server-data",
    )
    runtime = ServerRuntime(settings, web_app=None)
    runtime.start()
    running = Office(fresh_broker, runtime, tmp_path)
    try:
        yield running
    finally:
        running.stop()
        runtime.stop()


def answered_ok(vm: CounterViewModel, number: str) -> bool:
    notice = vm.view().notice
    return (
        vm.view().pending is None
        and notice is not None
        and notice.tone is Tone.ok
        and number in notice.th
        and number in notice.en
    )


def test_call_next_and_recall_are_answered_shown_and_announced(office: Office, tmp_path: Path) -> None:
    first, second = office.issue(ELDERLY, ELDERLY)
    assert (first, second) == ("A001", "A002")
    board = office.board()
    # The server republishes the board at most every 0.25 s: the last ticket's state may come a moment later.
    office.pump.until(lambda: board.waiting("A") == 2, "two waiting for A on the board")
    counter, sent = office.counter("counter-1")
    office.open_counter(counter)

    assert counter.press(Button.call_next, now())
    assert counter.enabled() == frozenset(), "buttons wait for the server's answer"
    office.pump.until(lambda: answered_ok(counter, "A001"), "the server's answer on the terminal")
    office.pump.until(lambda: counter.view().number == "A001", "the counter's retained state")
    view = counter.view()
    assert view.state == TicketState.called.value and view.calls == 1
    assert view.waiting == 1, "A002 still waits for this counter's services"
    assert [c.action.value for c in sent] == ["open", "call_next"]

    office.pump.until(lambda: board.tile("c1")[0] == "A001", "the board shows A001 at counter 1")
    office.pump.until(lambda: len(board.player.played) == 1, "the board announces the call")
    number, state, flashing = board.tile("c1")
    assert (number, state, flashing) == ("A001", "called", True)
    assert board.waiting("A") == 1
    board_view = board.vm.view(now())
    assert "A001" in board_view.caption_th and board_view.caption_live
    assert board_view.banner_th == ""
    assert board.started[0].call == Call("A001", 1, 0)
    builder = board.announcer.builder
    assert spoken_keys(board.player.copies[0], builder.chime, tmp_path / "a.wav") == builder.phrases(
        Call("A001", 1)
    ), "every clip of 'A001 at counter 1', in order"

    # Staff recall: the same number is announced again (after the first announcement ends).
    office.pump.until(lambda: Button.recall in counter.enabled(), "recall available")
    assert counter.press(Button.recall, now())
    office.pump.until(lambda: answered_ok(counter, "A001"), "the answer to the recall")
    office.pump.until(lambda: counter.view().calls == 2, "the counter counts the second call")
    office.pump.until(lambda: board.announcer.pending != [], "the recall reaches the board")
    assert len(board.player.played) == 1, "the recall waits for the first announcement to end"
    board.player.finish()
    assert len(board.player.played) == 2 and board.player.overlaps == 0
    assert board.started[1].call == Call("A001", 1, 1)
    assert board.tile("c1")[:2] == ("A001", "called")
    board.player.finish()
    office.pump.settle()
    assert len(board.player.played) == 2, "each call is announced once"


def test_two_counters_calling_at_once_are_announced_in_order_never_overlapping(office: Office) -> None:
    office.issue(ELDERLY, LAND_TAX, ELDERLY, LAND_TAX, ELDERLY)
    board = office.board()
    c1, _ = office.counter("counter-1")
    c2, _ = office.counter("counter-2")
    office.open_counter(c1)
    office.open_counter(c2)

    # The same moment: both commands leave before either answer is read.
    assert c1.press(Button.call_next, now()) and c2.press(Button.call_next, now())
    office.pump.until(lambda: answered_ok(c1, "A001") and answered_ok(c2, "T001"), "both answers")
    office.pump.until(
        lambda: board.tile("c1")[0] == "A001" and board.tile("c2")[0] == "T001", "both on the board"
    )
    office.pump.until(lambda: len(board.started) == 1 and len(board.announcer.pending) == 1, "both calls")
    assert len(board.player.played) == 1, "the second call waits while the first plays"
    board.player.finish()
    assert len(board.player.played) == 2 and board.player.overlaps == 0
    board.player.finish()
    assert not board.announcer.busy
    announced = [a.call for a in board.started]
    assert sorted(announced, key=lambda c: c.counter_number) == [Call("A001", 1), Call("T001", 2)]
    assert board.vm.state is not None
    server_order = [Call(r.number, r.counter_number) for r in reversed(board.vm.state.recent_calls)]
    assert announced == server_order, "announced in the order the server called them"
    assert board.waiting("A") == 2 and board.waiting("T") == 1

    shot = draw_board(board.vm, SHOTS / "board-real-server.png")
    assert shot.stat().st_size > 10_000


def draw_board(vm: BoardViewModel, path: Path) -> Path:
    """The real Kivy board showing what the real server published (under the virtual display)."""
    import common.ui

    common.ui.setup()
    from common.ui.testing import KivyDriver
    from counter_display.board_screen import BoardScreen

    driver = KivyDriver.get(size=(1280, 720))
    screen = BoardScreen()
    driver.show(screen)
    screen.show(vm.view(now()))
    driver.frames(3)
    shown = [getattr(w, "text", "") for w in screen.walk()]
    assert "A001" in shown and "T001" in shown
    return driver.screenshot(path)


def test_a_board_started_after_the_calls_shows_the_state_at_once(office: Office) -> None:
    office.issue(ELDERLY, LAND_TAX, ELDERLY)
    c1, _ = office.counter("counter-1")
    c2, _ = office.counter("counter-2")
    office.open_counter(c1)
    office.open_counter(c2)
    c1.press(Button.call_next, now())
    c2.press(Button.call_next, now())
    office.pump.until(lambda: c1.view().number == "A001" and c2.view().number == "T001", "both called")
    office.pump.until(lambda: Button.start in c2.enabled(), "c2 can start")
    c2.press(Button.start, now())
    office.pump.until(lambda: c2.view().state == TicketState.serving.value, "T001 being served")

    later = office.board("display-2")  # a new link: all it knows is what the broker retained
    office.pump.until(lambda: later.tile("c2")[:2] == ("T001", "serving"), "the retained state")
    assert later.tile("c1")[:2] == ("A001", "called")
    assert later.tile("c3")[1] == "closed" and len(later.vm.view(now()).tiles) == 2
    assert later.waiting("A") == 1
    view = later.vm.view(now())
    assert sorted(r.number for r in view.recent) == ["A001", "T001"]
    assert view.office_th, "the retained catalog names the office"
    office.pump.settle()
    assert later.player.played == [], "a board that starts later does not announce earlier calls"


def test_the_board_says_when_the_broker_is_gone_and_recovers_by_itself(
    office: Office, fresh_broker: RunningBroker
) -> None:
    office.issue(ELDERLY, ELDERLY)
    board = office.board()
    counter, _ = office.counter("counter-1")
    office.open_counter(counter)
    office.pump.until(lambda: board.tile("c1")[:2] == ("–", "idle"), "counter 1 open on the board")
    assert board.vm.view(now()).banner_th == ""

    fresh_broker.kill()
    office.pump.until(lambda: not board.vm.connected, "the board notices", deadline_s=BANNER_DEADLINE_S)
    view = board.vm.view(now())
    assert "ขาดการเชื่อมต่อ" in view.banner_th and "Connection lost" in view.banner_en
    assert board.tile("c1")[:2] == ("–", "idle"), "what the board last knew stays on screen"

    fresh_broker.start()
    office.pump.until(lambda: board.vm.connected, "reconnected by itself")
    assert board.vm.view(now()).banner_th == ""
    # The whole chain works again: the server and the terminal reconnected too.
    office.pump.until(lambda: Button.call_next in counter.enabled(), "the terminal is back")
    counter.press(Button.call_next, now())
    office.pump.until(lambda: board.tile("c1")[0] == "A001", "a call after the outage reaches the board")
    office.pump.until(lambda: len(board.player.played) == 1, "and is announced")
