"""The board and counter view-models through the real Mosquitto (configured by broker_config/, with its
ACL and passwords), against a small fake server that speaks the contract (fake_server.py).

Network messages reach the view-models through the link's handoff, exactly as in the app; here the
handoff is a queue the test thread drains (`Pump`), standing in for Kivy's clock."""

from __future__ import annotations

import datetime as dt
import queue
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from common.contract import CounterCommand
from common.link import MqttLink
from common.topics import Topics
from common.vocabulary import DeviceRole
from counter_display.announce import AnnouncementBuilder, Announcer, Call
from counter_display.board_vm import BoardViewModel
from counter_display.clips import ClipSet
from counter_display.counter_vm import Button, CounterViewModel, Tone
from tests.counter_display.clipkit import RecordingPlayer, make_clip_set, spoken_keys
from tests.counter_display.fake_server import FakeServer
from tests.fixtures.broker import RunningBroker

pytestmark = pytest.mark.broker

WAIT_S = 15.0
"""A failure deadline for messages to arrive, not a speed target."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Pump:
    """The handoff of the links under test: tasks queue up and run on the test thread, one at a time,
    like Kivy's clock runs them on the main thread."""

    def __init__(self) -> None:
        self.tasks: queue.Queue[Callable[[], None]] = queue.Queue()

    def __call__(self, task: Callable[[], None]) -> None:
        self.tasks.put(task)

    def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"gave up waiting: {what}")
            try:
                task = self.tasks.get(timeout=min(0.2, remaining))
            except queue.Empty:
                continue
            task()


class Devices:
    """Links of the devices of one test; all stopped at the end."""

    def __init__(self, broker: RunningBroker, tmp_path: Path) -> None:
        self.broker = broker
        self.tmp_path = tmp_path
        self.pump = Pump()
        self.links: list[MqttLink] = []
        self.topics = Topics(broker.site)

    def link(self, device_id: str, role: DeviceRole) -> MqttLink:
        user, password = self.broker.credentials(device_id)
        link = MqttLink(
            host=self.broker.host,
            port=self.broker.port,
            username=user,
            password=password,
            site=self.broker.site,
            device_id=device_id,
            role=role,
            outbox_path=self.tmp_path / f"{device_id}-outbox.db" if role is DeviceRole.counter else None,
            handoff=self.pump,
            client_id=f"test-{device_id}-{uuid.uuid4().hex[:8]}",
        )
        self.links.append(link)
        return link

    def board(self, device_id: str = "display-1") -> tuple[BoardViewModel, Announcer, RecordingPlayer]:
        link = self.link(device_id, DeviceRole.display)
        player = RecordingPlayer()
        clips = make_clip_set(self.tmp_path / "clips")
        announcer = Announcer(
            AnnouncementBuilder(ClipSet(clips), self.tmp_path / f"{device_id}-sound"), player
        )
        vm = BoardViewModel(self.topics, announcer.announce)
        announcer.on_start.append(lambda a: vm.on_announcement(a, now()))
        for topic_filter in vm.subscriptions():
            link.subscribe(topic_filter, lambda inbound: vm.on_message(inbound, now()))
        link.on_connection_change(vm.on_connection)
        link.start()
        return vm, announcer, player

    def counter(self, device_id: str, counter: str) -> tuple[CounterViewModel, list[CounterCommand]]:
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
        return vm, sent

    def stop(self) -> None:
        for link in self.links:
            link.stop()


@pytest.fixture
def server(fresh_broker: RunningBroker) -> Iterator[FakeServer]:
    _user, password = fresh_broker.credentials("server")
    fake = FakeServer(fresh_broker.host, fresh_broker.port, password, fresh_broker.site, counters=3)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def devices(fresh_broker: RunningBroker, tmp_path: Path) -> Iterator[Devices]:
    running = Devices(fresh_broker, tmp_path)
    yield running
    running.stop()


def ready(vm: CounterViewModel) -> bool:
    return vm.connected and vm.state is not None and Button.call_next in vm.enabled()


def test_call_next_from_a_counter_is_answered_shown_and_announced(
    server: FakeServer, devices: Devices, tmp_path: Path
) -> None:
    server.waiting.extend(["A001", "A002"])
    server.publish_state()
    board, announcer, player = devices.board()
    counter, sent = devices.counter("counter-1", "c1")
    devices.pump.until(
        lambda: ready(counter) and board.connected and board.state is not None, "devices ready"
    )

    assert counter.press(Button.call_next, now())
    assert counter.enabled() == frozenset(), "buttons wait for the server's answer"
    devices.pump.until(lambda: counter.view().pending is None, "the answer")
    notice = counter.view().notice
    assert notice is not None and notice.tone is Tone.ok
    assert "A001" in notice.th and "A001" in notice.en
    devices.pump.until(lambda: counter.view().number == "A001", "the counter's retained state")
    assert [c.action.value for c in sent] == ["call_next"]

    devices.pump.until(lambda: len(player.played) == 1, "the board announces the call")
    assert spoken_keys(player.copies[0], announcer.builder.chime, tmp_path / "a.wav")[:5] == [
        "invite",
        "letter_A",
        "digit_0",
        "digit_0",
        "digit_1",
    ]
    view = board.view(now())
    tile = next(t for t in view.tiles if t.counter == "c1")
    assert tile.number == "A001" and tile.flashing
    assert "A001" in view.caption_th

    # a recall is announced again
    devices.pump.until(lambda: Button.recall in counter.enabled(), "recall available")
    player.finish()
    assert counter.press(Button.recall, now())
    devices.pump.until(lambda: len(player.played) == 2, "the recall is announced")
    assert player.overlaps == 0


def test_a_rejection_is_shown_in_thai_and_english(server: FakeServer, devices: Devices) -> None:
    counter, _sent = devices.counter("counter-2", "c2")
    devices.pump.until(lambda: ready(counter), "counter ready")
    counter.press(Button.call_next, now())
    devices.pump.until(lambda: counter.view().pending is None, "answer")
    notice = counter.view().notice
    assert notice is not None and notice.tone is Tone.error
    assert notice.th == "ไม่มีคิวรอ" and notice.en == "Nobody is waiting for this counter's services."
    assert Button.call_next in counter.enabled(), "buttons come back after a rejection"


def test_two_counters_calling_at_once_are_announced_one_after_the_other(
    server: FakeServer, devices: Devices
) -> None:
    server.waiting.extend(["A001", "A002"])
    server.publish_state()
    board, announcer, player = devices.board()
    arrived: list[Call] = []
    queue_call = board.announce
    board.announce = lambda call: (arrived.append(call), queue_call(call))[-1]  # type: ignore[func-returns-value]
    c1, _ = devices.counter("counter-1", "c1")
    c2, _ = devices.counter("counter-2", "c2")
    devices.pump.until(lambda: ready(c1) and ready(c2) and board.connected, "devices ready")

    assert c1.press(Button.call_next, now()) and c2.press(Button.call_next, now())
    devices.pump.until(lambda: len(arrived) == 2, "both calls reach the board")
    assert sorted(c.number for c in arrived) == ["A001", "A002"]
    assert sorted(c.counter_number for c in arrived) == [1, 2]
    assert len(player.played) == 1, "the second waits while the first plays"
    assert announcer.current is not None and announcer.current.call == arrived[0]
    player.finish()
    assert announcer.current is not None and announcer.current.call == arrived[1]
    player.finish()
    assert len(player.played) == 2 and player.overlaps == 0 and not announcer.busy


def test_a_board_started_later_shows_the_retained_state_at_once(server: FakeServer, devices: Devices) -> None:
    server.waiting.extend(["A007"])
    counter, _ = devices.counter("counter-3", "c3")
    devices.pump.until(lambda: ready(counter), "counter ready")
    counter.press(Button.call_next, now())
    devices.pump.until(lambda: counter.view().number == "A007", "called")

    board, _announcer, player = devices.board("display-2")
    devices.pump.until(lambda: board.state is not None, "the retained board state")
    tile = next(t for t in board.view(now()).tiles if t.counter == "c3")
    assert tile.number == "A007"
    assert player.played == [], "a board that starts later does not announce calls made before"


def test_the_board_shows_a_banner_when_the_broker_goes_away_and_recovers(
    fresh_broker: RunningBroker, devices: Devices
) -> None:
    board, _announcer, _player = devices.board()
    devices.pump.until(lambda: board.connected, "connected")
    assert board.view(now()).banner_th == ""
    fresh_broker.kill()
    devices.pump.until(lambda: not board.connected, "the link notices")
    assert "ขาดการเชื่อมต่อ" in board.view(now()).banner_th
    fresh_broker.start()
    devices.pump.until(lambda: board.connected, "reconnected by itself")
    assert board.view(now()).banner_th == ""
