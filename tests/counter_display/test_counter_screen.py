"""The counter terminal under the virtual display: closed, calling, serving, waiting for the server's
answer, a rejection, disconnected, the transfer picker. Screenshots: build/screenshots/counter-*.png."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.contract import CounterCommand, CounterRejected, CounterResult, TicketView
from common.topics import Topics
from common.vocabulary import CounterAction, TicketState
from counter_display.counter_vm import Button, CounterViewModel
from tests.counter_display.samples import NOW, catalog, counter_state

pytestmark = pytest.mark.ui

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SIZES = {"800p": (1280, 800), "1080p": (1920, 1080)}


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    import common.ui

    common.ui.setup()
    from common.ui.testing import KivyDriver

    yield KivyDriver.get()


class Terminal:
    """A counter view-model bound to the real screen, with the commands it sent."""

    def __init__(self, driver: Any, size: tuple[int, int], **state: Any) -> None:
        from counter_display.counter_screen import CounterScreen

        self.sent: list[CounterCommand] = []
        self.vm = CounterViewModel(Topics("test-office"), "c2", self.sent.append, staff="staff-07")
        self.vm.apply(catalog(), NOW)
        if state.pop("with_state", True):
            self.vm.apply(counter_state(**state), NOW)
        self.vm.on_connection(True)
        self.driver = driver
        driver.get(size=size)
        self.screen = CounterScreen(on_button=lambda b: self.vm.press(b, NOW))
        self.screen.on_pick = lambda i: self.vm.pick(i, NOW)
        self.screen.on_cancel_picker = self.vm.cancel_picker
        self.vm.changed = lambda: self.screen.show(self.vm.view())
        driver.show(self.screen)
        self.screen.show(self.vm.view())

    def tap(self, button: str) -> None:
        self.driver.tap(self.screen.ids[button])
        self.driver.frames(2)

    def shoot(self, name: str) -> Path:
        self.driver.frames(3)
        return self.driver.screenshot(SHOTS / f"counter-{name}.png")  # type: ignore[no-any-return]


def reply_to(command: CounterCommand, **fields: Any) -> CounterResult:
    return CounterResult(request_id=command.id, action=command.action, **fields)


@pytest.mark.parametrize("size", ["800p"])
def test_closed_counter_offers_only_to_open(driver: Any, size: str) -> None:
    t = Terminal(driver, SIZES[size], open=False, number=None, waiting=4)
    t.shoot(f"closed-{size}")
    assert t.vm.view().enabled == {Button.open}
    t.tap("call_next")
    assert t.sent == []
    t.tap("open_close")
    assert [c.action for c in t.sent] == [CounterAction.open]


@pytest.mark.parametrize("size", SIZES)
def test_calling_a_number_by_touch_shows_the_answer(driver: Any, size: str) -> None:
    t = Terminal(driver, SIZES[size], number=None)
    t.tap("call_next")
    assert [c.action for c in t.sent] == [CounterAction.call_next]
    assert t.vm.view().enabled == frozenset(), "buttons are disabled while the command is pending"
    t.shoot(f"pending-{size}")
    t.tap("call_next")
    assert len(t.sent) == 1, "a second tap while pending sends nothing"
    ticket = TicketView(
        ticket_id="t1", number="A012", service="elderly-allowance", state=TicketState.called, calls=1
    )
    t.vm.on_reply(reply_to(t.sent[0], ticket=ticket, message_th="เรียก A012", message_en="Called A012"), NOW)
    t.vm.apply(counter_state(number="A012", ts=NOW + dt.timedelta(seconds=1)), NOW)
    t.shoot(f"calling-{size}")
    assert t.screen.number == "A012"
    assert "เรียก A012" in t.screen.notice_th and "Called A012" in t.screen.notice_en
    assert t.vm.view().enabled == {Button.recall, Button.start, Button.no_show, Button.park, Button.close}


@pytest.mark.parametrize("size", ["800p"])
def test_serving_with_outcomes_and_a_rejection(driver: Any, size: str) -> None:
    t = Terminal(
        driver, SIZES[size], number="B003", state=TicketState.serving, parked=["C011", "A007"], calls=2
    )
    t.tap("complete_forwarded")
    (command,) = t.sent
    assert (
        command.action is CounterAction.complete
        and command.outcome == "forwarded"
        and command.ticket == "B003"
    )
    t.vm.on_reply(
        CounterRejected(
            request_id=command.id,
            code="invalid_transition",
            message_th="ทำรายการนี้ไม่ได้",
            message_en="Not possible",
        ),
        NOW,
    )
    t.shoot(f"serving-rejected-{size}")
    assert t.screen.notice_th == "ทำรายการนี้ไม่ได้"
    assert Button.complete_completed in t.vm.view().enabled, "buttons come back after the answer"


@pytest.mark.parametrize("size", SIZES)
def test_transfer_picks_a_service_from_the_catalog(driver: Any, size: str) -> None:
    t = Terminal(driver, SIZES[size], number="B003", state=TicketState.serving)
    t.tap("transfer")
    assert t.vm.picker is not None and t.screen._picker_view is not None
    t.shoot(f"transfer-{size}")
    codes = [c.value for c in t.vm.picker.choices]
    assert "disability-allowance" not in codes, "not to the ticket's own service"
    t.driver.tap(t.screen._picker_view.ids.rows.children[-3])  # the third choice, by touch
    (command,) = t.sent
    assert command.action is CounterAction.transfer and command.to_service == codes[2]
    assert t.screen._picker_view is None


@pytest.mark.parametrize("size", ["800p"])
def test_disconnected_terminal_disables_commands(driver: Any, size: str) -> None:
    t = Terminal(driver, SIZES[size], number="A012")
    t.vm.on_connection(False)
    t.shoot(f"disconnected-{size}")
    assert "ขาดการเชื่อมต่อ" in t.screen.banner
    t.tap("recall")
    assert t.sent == []


def test_timeout_gives_the_buttons_back_with_a_message(driver: Any) -> None:
    t = Terminal(driver, SIZES["800p"], number=None)
    t.tap("call_next")
    t.vm.tick(NOW + dt.timedelta(seconds=3))
    assert t.vm.view().pending is Button.call_next
    t.vm.tick(NOW + dt.timedelta(seconds=9))
    t.shoot("timeout-800p")
    view = t.vm.view()
    assert view.pending is None and Button.call_next in view.enabled
    assert "ไม่ตอบ" in t.screen.notice_th and "No answer" in t.screen.notice_en
    # the answer arrives late: shown for what it is
    t.vm.on_reply(reply_to(t.sent[0], message_th="เรียก A013", message_en="Called A013"), NOW)
    assert "ช้า" in t.screen.notice_th and "Late answer" in t.screen.notice_en


def test_kivy_key_events_are_named_as_in_the_key_map(driver: Any) -> None:
    from kivy.core.window import Keyboard

    from counter_display.app import key_name
    from counter_display.counter_vm import KEY_MAP

    codes = Keyboard.keycodes
    assert key_name(codes["f1"], None, []) == "f1"
    assert key_name(codes["numpadenter"], None, []) == "numpadenter"
    assert key_name(codes["enter"], None, []) == "enter"
    assert key_name(codes["="], "+", ["shift"]) == "+", "shift and = on a laptop keyboard"
    assert key_name(codes["numpadadd"], "+", []) == "+"
    assert key_name(codes["f12"], None, ["shift"]) == "shift+f12"
    assert key_name(codes["f12"], None, []) == "f12"
    for name in KEY_MAP:
        if name in codes:
            assert key_name(codes[name], None, []) == name
