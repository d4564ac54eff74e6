"""The hall board's view-model, without a window: what a citizen sees for each message."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from common.contract import BoardCall, Message, ServerStatus
from common.link import Inbound
from common.thaidate import to_local
from common.topics import Topics
from counter_display.announce import Announcement, Call
from counter_display.board_vm import FLASH_S, STALE_CALL_S, WAITING_ROWS, BoardViewModel
from tests.counter_display.samples import NOW, board_call, board_state, catalog

TOPICS = Topics("test-office")


def make() -> tuple[BoardViewModel, list[Call]]:
    calls: list[Call] = []
    vm = BoardViewModel(TOPICS, calls.append)
    vm.apply(catalog(), NOW)
    vm.on_connection(True)
    return vm, calls


def started(vm: BoardViewModel, call: Call, at: dt.datetime) -> None:
    vm.on_announcement(Announcement(call, Path("a.wav"), 6.0, (), ()), at)


def test_header_shows_the_office_and_the_buddhist_era_date_in_bangkok_time() -> None:
    vm, _ = make()
    late_evening_utc = dt.datetime(2026, 12, 31, 17, 30, tzinfo=dt.UTC)  # 00:30 on 1 Jan in Bangkok
    view = vm.view(late_evening_utc)
    assert view.office_th == "เทศบาลตำบลบ้านสวนงาม"
    assert view.clock == "00:30"
    assert "1 มกราคม 2570" in view.date_th and "2027" in view.date_en


def test_tiles_follow_counter_numbers_and_show_who_to_call() -> None:
    vm, _ = make()
    vm.apply(board_state(counters=4, busy=2), NOW)
    view = vm.view(NOW)
    assert [t.counter_number for t in view.tiles] == [1, 2, 3, 4]
    assert [t.number for t in view.tiles] == ["A011", "B012", "–", "–"]
    assert [t.state for t in view.tiles] == ["called", "called", "idle", "idle"]
    assert view.tiles[0].service_th == "ลงทะเบียนรับเงินเบี้ยยังชีพผู้สูงอายุ"


def test_an_older_state_never_replaces_a_newer_one() -> None:
    vm, _ = make()
    vm.apply(board_state(numbers={1: "A020"}, ts=NOW), NOW)
    vm.apply(board_state(numbers={1: "A019"}, ts=NOW - dt.timedelta(seconds=5)), NOW)
    assert vm.view(NOW).tiles[0].number == "A020"


def test_a_call_is_queued_for_announcement_and_flashes_while_announced() -> None:
    vm, calls = make()
    vm.apply(board_state(numbers={2: "B012"}), NOW)
    vm.apply(board_call("B012", 2, repeat=1), NOW)
    assert calls == [Call("B012", 2, 1)]
    assert not any(t.flashing for t in vm.view(NOW).tiles), "flashes when its announcement starts"
    started(vm, calls[0], NOW)
    view = vm.view(NOW + dt.timedelta(seconds=1))
    assert [t.counter_number for t in view.tiles if t.flashing] == [2]
    assert view.caption_th == "ขอเชิญหมายเลข B012 ที่ช่องบริการ 2" and view.caption_live
    assert vm.next_change(NOW) == FLASH_S
    later = vm.view(NOW + dt.timedelta(seconds=FLASH_S + 1))
    assert not any(t.flashing for t in later.tiles) and not later.caption_live
    assert later.caption_en == "Number B012, please go to counter 2", "the last call stays written"


def test_calls_missed_while_away_are_not_announced() -> None:
    vm, calls = make()
    vm.apply(board_call("A001", 1, ts=NOW - dt.timedelta(seconds=STALE_CALL_S + 1)), NOW)
    vm.apply(board_call("A002", 1, ts=NOW - dt.timedelta(seconds=5)), NOW)
    assert [c.number for c in calls] == ["A002"]


def test_a_call_delivered_twice_is_announced_once() -> None:
    # A broker that crashed restarts from its last snapshot and delivers again what came after it.
    vm, calls = make()
    call = board_call("A003", 1)
    vm.apply(call, NOW)
    vm.apply(call, NOW + dt.timedelta(seconds=4))
    vm.apply(board_call("A003", 1, repeat=1), NOW + dt.timedelta(seconds=5))  # staff recall: a new call
    assert calls == [Call("A003", 1, 0), Call("A003", 1, 1)]


def test_waiting_lists_services_with_people_waiting_and_says_how_many_more() -> None:
    vm, _ = make()
    vm.apply(board_state(), NOW)
    view = vm.view(NOW)
    assert all(w.waiting > 0 for w in view.waiting)
    assert [w.prefix for w in view.waiting] == sorted(w.prefix for w in view.waiting)
    busy = [w for w in board_state().waiting if w.waiting > 0]
    assert view.waiting_total == sum(w.waiting for w in busy)
    assert len(view.waiting) + view.waiting_more == len(busy)
    assert len(view.waiting) <= WAITING_ROWS


def test_banner_connecting_lost_server_stopped_and_kiosks_for_staff() -> None:
    vm = BoardViewModel(TOPICS, lambda _c: None)
    assert vm.view(NOW).banner_en.startswith("Connecting")
    vm.on_connection(True)
    assert vm.view(NOW).banner_th == ""
    vm.on_connection(False)
    assert vm.view(NOW).banner_en.startswith("Connection lost")
    vm.on_connection(True)
    vm.apply(ServerStatus(online=False), NOW)
    assert "stopped" in vm.view(NOW).banner_en
    vm.apply(board_state(kiosks_offline=["kiosk-3"]), NOW)
    assert "kiosk-3" in vm.view(NOW).staff_note


def test_a_message_it_cannot_read_changes_nothing() -> None:
    vm, calls = make()
    vm.apply(board_state(numbers={1: "A020"}), NOW)
    vm.on_message(Inbound(TOPICS.board_state(), b"{not json", False), NOW)
    vm.on_message(Inbound(TOPICS.board_call(), b'{"type": "board.call", "v": 1}', False), NOW)
    assert vm.view(NOW).tiles[0].number == "A020" and calls == []


def test_idle_board_welcomes() -> None:
    vm, _ = make()
    vm.apply(board_state(counters=3, busy=0, recent=[]), NOW)
    view = vm.view(NOW)
    assert view.caption_th.startswith("ยินดีต้อนรับ") and view.recent == ()


def test_a_display_whose_clock_is_wrong_shows_and_announces_by_the_servers_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A display an hour fast took every call for one missed an hour ago and announced none, and showed
    the wrong time. Live board states and calls set its clock against the server's; what the broker
    hands over on connecting (kept or queued while it was away) does not."""
    calls: list[Call] = []
    vm = BoardViewModel(TOPICS, calls.append)
    vm.apply(catalog(), NOW)
    vm.on_connection(True)
    off = dt.timedelta(hours=1)  # how far ahead the display's clock is

    def arrive(message: Message, at: dt.datetime, *, live: bool = True, retain: bool = False) -> None:
        topic = TOPICS.board_call() if isinstance(message, BoardCall) else TOPICS.board_state()
        vm.on_message(Inbound(topic, message.encode(), retain), at + off, live=live)

    # handed over on connecting: kept, or queued while it was away
    arrive(board_state(ts=NOW - dt.timedelta(minutes=10)), NOW, retain=True)
    arrive(board_call("A001", 1, ts=NOW - dt.timedelta(minutes=9)), NOW, live=False)
    assert calls == [] and vm.view(NOW + off).clock == to_local(NOW + off).strftime("%H:%M")

    later = NOW + dt.timedelta(seconds=30)
    with caplog.at_level(logging.WARNING, logger="counter_display.board_vm"):
        arrive(board_state(ts=later), later)
        arrive(board_call("A002", 2, ts=later + dt.timedelta(seconds=1)), later + dt.timedelta(seconds=1))
    assert [c.number for c in calls] == ["A002"]
    assert vm.view(later + off).clock == to_local(later).strftime("%H:%M"), "the server's time"
    assert "this display's clock is 1:00:00 ahead of the server's" in caplog.text
    # after a reconnect, a call missed while away is judged by the server's clock, not the display's
    arrive(
        board_call("A003", 3, ts=later + dt.timedelta(seconds=20)),
        later + dt.timedelta(seconds=40),
        live=False,
    )
    assert [c.number for c in calls] == ["A002", "A003"]

    # its clock set right, then ahead again by two hours (a time server, then a wrong one):
    # the calls go on being announced and the board's clock follows
    for n, off in enumerate((dt.timedelta(0),) * 3 + (dt.timedelta(hours=2),) * 3):
        at = later + dt.timedelta(minutes=1, seconds=n)
        arrive(board_call(f"B00{n}", 4, ts=at), at)
        assert calls[-1].number == f"B00{n}"
        if n in (0, 5):  # set back: at once; set forward: once three messages in a row say so
            assert vm.server_now(at + off) == at, (n, off)
    # a display that keeps time is left as it is
    right, _calls = make()
    right.on_message(Inbound(TOPICS.board_state(), board_state(ts=later).encode(), False), later, live=True)
    assert right.server_now(later) == later
