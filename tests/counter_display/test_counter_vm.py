"""The counter terminal's view-model, without a window: the key map, what each control sends, and how
answers come back."""

from __future__ import annotations

import datetime as dt

import pytest

from common.contract import CounterCommand, CounterRejected, CounterResult, ServerStatus
from common.topics import Topics
from common.vocabulary import CounterAction, Outcome, TicketState
from counter_display.counter_vm import KEY_HINTS, KEY_MAP, LABELS, Button, CounterViewModel, Tone
from tests.counter_display.samples import NOW, catalog, counter_state

TOPICS = Topics("test-office")


def make(**state: object) -> tuple[CounterViewModel, list[CounterCommand]]:
    sent: list[CounterCommand] = []
    vm = CounterViewModel(TOPICS, "c2", sent.append, staff="staff-07")
    vm.apply(catalog(), NOW)
    vm.apply(counter_state(**state), NOW)  # type: ignore[arg-type]
    vm.on_connection(True)
    return vm, sent


KEYS = [
    # key, ticket state at the counter, action sent, outcome
    ("enter", None, CounterAction.call_next, None),
    ("f1", None, CounterAction.call_next, None),
    ("numpadenter", None, CounterAction.call_next, None),
    ("f2", TicketState.called, CounterAction.recall, None),
    ("+", TicketState.called, CounterAction.recall, None),
    ("numpadadd", TicketState.called, CounterAction.recall, None),
    ("f3", TicketState.called, CounterAction.start, None),
    ("numpadmul", TicketState.called, CounterAction.start, None),
    ("f5", TicketState.called, CounterAction.no_show, None),
    ("numpadsubstract", TicketState.called, CounterAction.no_show, None),
    ("f9", TicketState.called, CounterAction.park, None),
    ("f4", TicketState.serving, CounterAction.complete, Outcome.completed),
    ("numpaddivide", TicketState.serving, CounterAction.complete, Outcome.completed),
    ("f6", TicketState.serving, CounterAction.complete, Outcome.forwarded),
    ("f7", TicketState.serving, CounterAction.complete, Outcome.via_app),
    ("f8", TicketState.serving, CounterAction.complete, Outcome.advice),
]


@pytest.mark.parametrize(("key", "state", "action", "outcome"), KEYS)
def test_key_map(key: str, state: TicketState | None, action: CounterAction, outcome: Outcome | None) -> None:
    vm, sent = make(number="A012" if state else None, state=state or TicketState.called)
    assert vm.press_key(key, NOW)
    (command,) = sent
    assert command.action is action and command.outcome == outcome
    assert command.staff == "staff-07"
    if action is not CounterAction.call_next:
        assert command.ticket == "A012", "a command names the ticket staff saw on screen"


def test_every_control_has_words_and_a_key() -> None:
    assert set(LABELS) == set(Button)
    assert set(KEY_MAP.values()) == set(Button)
    assert set(KEY_HINTS) == set(Button)


def test_f12_opens_but_only_shift_f12_closes() -> None:
    vm, sent = make(open=False, number=None)
    assert vm.press_key("f12", NOW)
    assert sent[-1].action is CounterAction.open
    vm, sent = make(number=None)
    assert not vm.press_key("f12", NOW), "a stray F12 never closes an open counter"
    assert vm.press_key("shift+f12", NOW)
    assert [c.action for c in sent] == [CounterAction.close]


def test_keys_that_do_not_apply_now_send_nothing() -> None:
    vm, sent = make(number="A012", state=TicketState.called)
    assert not vm.press_key("f4", NOW), "complete needs the service started"
    assert not vm.press_key("enter", NOW), "finish the current ticket before calling the next"
    assert not vm.press_key("x", NOW)
    assert sent == []


def test_one_command_at_a_time_and_the_answer_releases_the_controls() -> None:
    vm, sent = make(number=None)
    vm.press_key("enter", NOW)
    assert not vm.press_key("enter", NOW), "a foot switch that bounces sends once"
    assert len(sent) == 1 and vm.view().pending is Button.call_next
    vm.on_reply(
        CounterRejected(request_id=sent[0].id, code="queue_empty", message_th="ไม่มีคิวรอ", message_en="x"), NOW
    )
    view = vm.view()
    assert view.pending is None and view.notice is not None and view.notice.tone is Tone.error
    assert view.notice.th == "ไม่มีคิวรอ"
    # the same answer again (the outbox resent the command): nothing changes
    vm.notice = None
    vm.on_reply(CounterResult(request_id=sent[0].id, action=CounterAction.call_next), NOW)
    assert vm.notice is None


def test_an_answer_to_someone_else_is_ignored() -> None:
    vm, _sent = make(number=None)
    vm.press_key("enter", NOW)
    other = CounterCommand(action=CounterAction.call_next)
    vm.on_reply(CounterResult(request_id=other.id, action=CounterAction.call_next), NOW)
    assert vm.view().pending is Button.call_next


def test_pickers_by_key_transfer_and_resume() -> None:
    vm, sent = make(number="A012", state=TicketState.serving, parked=["B003"])
    assert vm.press_key("f10", NOW)
    assert vm.picker is not None and vm.picker.button is Button.transfer
    assert vm.press_key("escape", NOW) and vm.picker is None and sent == []
    vm.press_key("f10", NOW)
    assert vm.picker is not None
    choice = vm.picker.choices[1]
    assert vm.press_key("numpad2", NOW)
    assert sent[-1].action is CounterAction.transfer and sent[-1].to_service == choice.value
    # resume a parked ticket once the counter is free
    vm.on_reply(CounterResult(request_id=sent[-1].id, action=CounterAction.transfer), NOW)
    vm.apply(counter_state(number=None, parked=["B003"], ts=NOW + dt.timedelta(seconds=1)), NOW)
    assert vm.press_key("f11", NOW)
    assert vm.press_key("1", NOW)
    assert sent[-1].action is CounterAction.resume and sent[-1].ticket == "B003"


def test_nothing_can_be_sent_while_the_server_is_stopped() -> None:
    vm, sent = make(number=None)
    vm.apply(ServerStatus(online=False), NOW)
    assert vm.enabled() == frozenset()
    assert "stopped" in vm.view().banner_en
    assert not vm.press_key("enter", NOW) and sent == []


def test_state_of_another_counter_is_ignored() -> None:
    vm, _ = make(number="A012")
    vm.apply(counter_state(counter=3, number="C099", ts=NOW + dt.timedelta(seconds=1)), NOW)
    assert vm.view().number == "A012"


def test_a_new_counter_without_state_can_still_be_opened() -> None:
    sent: list[CounterCommand] = []
    vm = CounterViewModel(TOPICS, "c9", sent.append)
    vm.on_connection(True)
    assert vm.enabled() == {Button.open}
    assert "Waiting for this counter's state" in vm.view().banner_en


def test_the_documented_key_map_is_the_real_one() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "counter_display" / "README.md").read_text(
        encoding="utf-8"
    )
    rows = [line for line in readme.splitlines() if line.startswith("| ") and "/" in line]
    for key, button in KEY_MAP.items():
        shown = {"enter": "Enter", "numpadenter": "| Enter |", "+": "+", "shift+f12": "Shift+F12"}.get(key)
        shown = shown or {"numpadadd": "| + |", "numpadmul": "| * |", "numpaddivide": "| / |"}.get(key)
        shown = shown or {"numpadsubstract": "| - |"}.get(key) or key.upper()
        th, _en = LABELS[button]
        assert any(shown in row and th in row for row in rows), f"README does not say {key} is {th}"
