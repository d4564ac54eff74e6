"""What the counter terminal shows and does, in plain Python: staff commands, the server's answers and
the counter's retained state. The Kivy screen binds to `CounterView` and calls the methods here.

Every command is a `counter.command` sent through the link's durable outbox (`send`); one command is
pending at a time: the buttons are disabled until the server's `counter.result` / `counter.rejected`
arrives, or until `COMMAND_TIMEOUT_S` passes (then staff are told, and a late answer is still shown).
All methods run on one thread; `now` is passed in so tests own the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from common.contract import (
    Catalog,
    CounterCommand,
    CounterRejected,
    CounterResult,
    CounterState,
    DecodeFailure,
    Message,
    Reply,
    ServerStatus,
)
from common.link import Inbound
from common.topics import Topics
from common.vocabulary import CounterAction, Outcome, TicketState

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 8.0
"""The server answers in milliseconds; after 8 s something is wrong (server stopped, network down) and
staff get their buttons back with a message. The command stays in the outbox and is resent, so the
server may still apply it: the message says to check the screen before pressing again."""

RECENT_REQUESTS = 20
"""Requests remembered after their timeout, so a late answer is still shown for what it is."""


class Button(StrEnum):
    """Every control of the terminal (a button, a key of the key map)."""

    open = "open"
    close = "close"
    call_next = "call_next"
    recall = "recall"
    start = "start"
    complete_completed = "complete_completed"
    complete_forwarded = "complete_forwarded"
    complete_via_app = "complete_via_app"
    complete_advice = "complete_advice"
    no_show = "no_show"
    transfer = "transfer"
    """Opens the picker of services."""
    park = "park"
    resume = "resume"
    """Opens the picker of parked tickets."""


LABELS: dict[Button, tuple[str, str]] = {
    Button.open: ("เปิดช่องบริการ", "Open counter"),
    Button.close: ("ปิดช่องบริการ", "Close counter"),
    Button.call_next: ("เรียกคิวถัดไป", "Call next"),
    Button.recall: ("เรียกซ้ำ", "Recall"),
    Button.start: ("เริ่มให้บริการ", "Start service"),
    Button.complete_completed: ("เสร็จสิ้น", "Completed"),
    Button.complete_forwarded: ("รับเรื่องส่งต่อ", "Forwarded"),
    Button.complete_via_app: ("ผ่านแอปทางรัฐ", "Via Tang Rat app"),
    Button.complete_advice: ("ให้คำแนะนำ", "Advice only"),
    Button.no_show: ("ไม่มาตามเรียก", "No-show"),
    Button.transfer: ("โอนไปบริการอื่น", "Transfer"),
    Button.park: ("พักคิว", "Park"),
    Button.resume: ("เรียกคิวที่พักไว้", "Resume parked"),
}
"""Thai and English caption of every control."""

_OUTCOMES: dict[Button, Outcome] = {
    Button.complete_completed: Outcome.completed,
    Button.complete_forwarded: Outcome.forwarded,
    Button.complete_via_app: Outcome.via_app,
    Button.complete_advice: Outcome.advice,
}

_ON_CURRENT_TICKET = frozenset(
    {
        CounterAction.recall,
        CounterAction.start,
        CounterAction.complete,
        CounterAction.no_show,
        CounterAction.transfer,
        CounterAction.park,
    }
)

KEY_MAP: dict[str, Button] = {
    "enter": Button.call_next,
    "numpadenter": Button.call_next,
    "f1": Button.call_next,
    "f2": Button.recall,
    "+": Button.recall,
    "numpadadd": Button.recall,
    "f3": Button.start,
    "numpadmul": Button.start,
    "f4": Button.complete_completed,
    "numpaddivide": Button.complete_completed,
    "f5": Button.no_show,
    "numpadsubstract": Button.no_show,
    "f6": Button.complete_forwarded,
    "f7": Button.complete_via_app,
    "f8": Button.complete_advice,
    "f9": Button.park,
    "f10": Button.transfer,
    "f11": Button.resume,
    "f12": Button.open,
    "shift+f12": Button.close,
}
"""Keys of a keyboard, a USB numeric keypad or a foot switch (which sends one key, usually Enter or F1).
Key names are Kivy's (`kivy.core.window.Keyboard.keycodes`). In a picker, 1-9 choose and Escape closes."""

KEY_HINTS: dict[Button, str] = {
    Button.call_next: "Enter/F1",
    Button.recall: "F2/+",
    Button.start: "F3/*",
    Button.complete_completed: "F4//",
    Button.no_show: "F5/-",
    Button.complete_forwarded: "F6",
    Button.complete_via_app: "F7",
    Button.complete_advice: "F8",
    Button.park: "F9",
    Button.transfer: "F10",
    Button.resume: "F11",
    Button.open: "F12",
    Button.close: "Shift+F12",
}

STATE_TEXT: dict[str, tuple[str, str]] = {
    TicketState.called.value: ("กำลังเรียก", "Calling"),
    TicketState.serving.value: ("กำลังให้บริการ", "Serving"),
    "idle": ("ว่าง พร้อมเรียกคิวถัดไป", "Free: call the next number"),
    "closed": ("ปิดให้บริการ", "Closed"),
}


class Tone(StrEnum):
    """How a notice looks."""

    info = "info"
    ok = "ok"
    waiting = "waiting"
    error = "error"


@dataclass(frozen=True, slots=True)
class Notice:
    tone: Tone
    th: str
    en: str


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a picker: the value sent, and its caption."""

    value: str
    th: str
    en: str


@dataclass(frozen=True, slots=True)
class Picker:
    """A list to pick from before a command is sent: services to transfer to, parked tickets."""

    button: Button
    title_th: str
    title_en: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class CounterView:
    """Everything on the terminal at one moment."""

    counter_th: str
    counter_en: str
    open: bool
    number: str
    """The current ticket, or a dash."""
    service_th: str
    service_en: str
    state: str
    """`called`, `serving`, `idle` or `closed`."""
    state_th: str
    state_en: str
    calls: int
    waiting: int
    parked: tuple[str, ...]
    enabled: frozenset[Button]
    pending: Button | None
    notice: Notice | None
    banner_th: str
    banner_en: str
    picker: Picker | None
    has_state: bool


@dataclass(frozen=True, slots=True)
class _Request:
    id: uuid.UUID
    button: Button
    sent_at: dt.datetime


@dataclass
class CounterViewModel:
    """State of one counter terminal. `send` delivers a command durably (the link's `request`)."""

    topics: Topics
    counter: str
    send: Callable[[CounterCommand], None]
    counter_th: str = ""
    counter_en: str = ""
    staff: str | None = None
    service_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Service code -> (Thai, English) name from the office file, until the retained catalog arrives."""
    timeout_s: float = COMMAND_TIMEOUT_S
    changed: Callable[[], None] = lambda: None
    state: CounterState | None = None
    catalog: Catalog | None = None
    connected: bool = False
    server_online: bool | None = None
    notice: Notice | None = None
    picker: Picker | None = None
    _pending: _Request | None = None
    _recent: OrderedDict[uuid.UUID, _Request] = field(default_factory=OrderedDict)
    _ever_connected: bool = False

    # ------------------------------------------------------------------------------------------ inputs

    def subscriptions(self) -> list[str]:
        t = self.topics
        return [t.counter_state(self.counter), t.counter_reply(self.counter), t.catalog(), t.server_status()]

    def on_message(self, inbound: Inbound, now: dt.datetime) -> None:
        message = inbound.decode(expect=(CounterState, CounterResult, CounterRejected, Catalog, ServerStatus))
        if isinstance(message, DecodeFailure):
            log.warning("ignored a message on %s: %s", inbound.topic, message.reason)
            return
        self.apply(message, now)

    def apply(self, message: Message, now: dt.datetime) -> None:
        if isinstance(message, CounterState):
            if message.counter != self.counter:
                return
            if self.state is not None and message.ts < self.state.ts:
                return
            self.state = message
            self.counter_th, self.counter_en = message.name_th, message.name_en
            if self.picker is not None and self.picker.button is Button.resume:
                self.picker = self._resume_picker()
        elif isinstance(message, CounterResult | CounterRejected):
            self.on_reply(message, now)
        elif isinstance(message, Catalog):
            self.catalog = message
            mine = next((c for c in message.counters if c.id == self.counter), None)
            if mine is not None and not self.counter_th:
                self.counter_th, self.counter_en = mine.name_th, mine.name_en
        elif isinstance(message, ServerStatus):
            self.server_online = message.online
        self.changed()

    def on_connection(self, up: bool) -> None:
        self.connected = up
        self._ever_connected = self._ever_connected or up
        self.changed()

    def on_reply(self, reply: Reply, now: dt.datetime) -> None:
        """The server's answer to one of our commands (a resend's answer is the same: shown once)."""
        request_id = reply.request_id
        if request_id is None:
            return
        late = False
        if self._pending is not None and request_id == self._pending.id:
            request = self._pending
            self._pending = None
        elif request_id in self._recent:
            request = self._recent[request_id]
            late = True
        else:
            return
        self._recent.pop(request.id, None)
        if isinstance(reply, CounterResult):
            th = reply.message_th or f"{LABELS[request.button][0]} แล้ว"
            en = reply.message_en or f"{LABELS[request.button][1]}: done"
            if reply.ticket is not None and reply.ticket.number not in th:
                th, en = f"{th} {reply.ticket.number}", f"{en} {reply.ticket.number}"
            tone = Tone.ok
        elif isinstance(reply, CounterRejected):
            th, en, tone = reply.message_th, reply.message_en, Tone.error
        else:
            return
        if late:
            th = f"คำตอบที่มาช้า ({LABELS[request.button][0]}): {th}"
            en = f"Late answer ({LABELS[request.button][1]}): {en}"
        self.notice = Notice(tone, th, en)
        self.changed()

    def tick(self, now: dt.datetime) -> None:
        """Give up waiting for a command's answer after the timeout (called every second)."""
        if self._pending is None or (now - self._pending.sent_at).total_seconds() < self.timeout_s:
            return
        request = self._pending
        self._pending = None
        self._recent[request.id] = request
        while len(self._recent) > RECENT_REQUESTS:
            self._recent.popitem(last=False)
        th, en = LABELS[request.button]
        self.notice = Notice(
            Tone.error,
            f"ระบบไม่ตอบคำสั่ง “{th}” ภายใน {self.timeout_s:.0f} วินาที คำสั่งอาจยังมีผลเมื่อระบบกลับมา "
            "กรุณาดูหมายเลขบนจอก่อนกดซ้ำ",
            f"No answer to “{en}” within {self.timeout_s:.0f} s. It may still apply when the server is "
            "back: check the number on screen before pressing again.",
        )
        self.changed()

    # ------------------------------------------------------------------------------------------ actions

    def enabled(self) -> frozenset[Button]:
        """What staff can do now. Nothing while a command is pending or the server is unreachable;
        otherwise what the ticket's state allows (DESIGN.md, "The queue")."""
        if self._pending is not None or not self.connected or self.server_online is False:
            return frozenset()
        if self.state is None or not self.state.open:
            return frozenset({Button.open})
        current = self.state.current
        buttons = {Button.close}
        if self.state.parked:
            buttons.add(Button.resume)
        if current is None:
            buttons.add(Button.call_next)
        elif current.state is TicketState.called:
            buttons |= {Button.recall, Button.start, Button.no_show, Button.park}
        elif current.state is TicketState.serving:
            buttons |= set(_OUTCOMES) | {Button.transfer, Button.park}
        else:
            buttons.add(Button.call_next)
        if current is not None and Button.resume in buttons:
            buttons.discard(Button.resume)  # finish the current ticket first
        return frozenset(buttons)

    def press(self, button: Button, now: dt.datetime) -> bool:
        """A button or its key. Opens a picker for transfer and resume; otherwise sends the command.
        False when the control is not available now (it is disabled on screen)."""
        if button not in self.enabled():
            return False
        if button is Button.transfer:
            self.picker = self._transfer_picker()
        elif button is Button.resume:
            self.picker = self._resume_picker()
        else:
            self._send(button, now)
            return True
        if not self.picker.choices:
            what = "ไม่มีบริการอื่นให้โอน" if button is Button.transfer else "ไม่มีคิวที่พักไว้"
            what_en = "No other service to transfer to" if button is Button.transfer else "No parked ticket"
            self.notice = Notice(Tone.info, what, what_en)
            self.picker = None
        self.changed()
        return True

    def pick(self, index: int, now: dt.datetime) -> bool:
        """Choose option `index` (0-based) of the open picker and send its command."""
        picker = self.picker
        if picker is None or not 0 <= index < len(picker.choices):
            return False
        self.picker = None
        if picker.button not in self.enabled():
            self.changed()
            return False
        value = picker.choices[index].value
        if picker.button is Button.transfer:
            self._send(Button.transfer, now, to_service=value)
        else:
            self._send(Button.resume, now, ticket=value)
        return True

    def cancel_picker(self) -> None:
        self.picker = None
        self.changed()

    def press_key(self, key: str, now: dt.datetime) -> bool:
        """A key from the keyboard, keypad or foot switch (names as in KEY_MAP). True when it did
        something."""
        key = key.lower()
        if self.picker is not None:
            if key == "escape":
                self.cancel_picker()
                return True
            digit = key.removeprefix("numpad")
            if len(digit) == 1 and digit.isdigit() and digit != "0":
                return self.pick(int(digit) - 1, now)
            return False
        button = KEY_MAP.get(key)
        if button is Button.open and self.state is not None and self.state.open:
            return False  # F12 opens; closing takes Shift+F12 so a stray key never closes a counter
        return button is not None and self.press(button, now)

    def _send(
        self, button: Button, now: dt.datetime, *, ticket: str | None = None, to_service: str | None = None
    ) -> None:
        action = CounterAction(button.value) if button not in _OUTCOMES else CounterAction.complete
        current = self.state.current if self.state is not None else None
        if ticket is None and current is not None and action in _ON_CURRENT_TICKET:
            ticket = current.number  # names the ticket staff saw, so a stale screen cannot act on another
        command = CounterCommand(
            action=action,
            ticket=ticket,
            outcome=_OUTCOMES.get(button),
            to_service=to_service,
            staff=self.staff,
        )
        self._pending = _Request(command.id, button, now)
        th, en = LABELS[button]
        self.notice = Notice(Tone.waiting, f"กำลังส่งคำสั่ง “{th}”…", f"Sending “{en}”…")
        self.changed()
        try:
            self.send(command)
        except Exception:
            log.exception("could not send %s", action.value)
            self._pending = None
            self.notice = Notice(Tone.error, f"ส่งคำสั่ง “{th}” ไม่ได้", f"Could not send “{en}”")
            self.changed()

    def _transfer_picker(self) -> Picker:
        current = self.state.current if self.state is not None else None
        services = self.catalog.services if self.catalog is not None else []
        choices = tuple(
            Choice(s.code, f"{s.prefix}  {s.name_th}", s.name_en)
            for s in services
            if current is None or s.code != current.service
        )
        return Picker(Button.transfer, "โอนไปบริการ", "Transfer to service", choices)

    def _resume_picker(self) -> Picker:
        parked = self.state.parked if self.state is not None else []
        return Picker(
            Button.resume, "เรียกคิวที่พักไว้", "Resume a parked ticket", tuple(Choice(n, n, n) for n in parked)
        )

    # ------------------------------------------------------------------------------------------ output

    def view(self) -> CounterView:
        s = self.state
        current = s.current if s is not None else None
        names = dict(self.service_names)
        if self.catalog is not None:
            names.update({c.code: (c.name_th, c.name_en) for c in self.catalog.services})
        if s is None or not s.open:
            state_key = "closed"
        elif current is None or current.state not in (TicketState.called, TicketState.serving):
            state_key = "idle"
        else:
            state_key = current.state.value
        state_th, state_en = STATE_TEXT[state_key]
        service_th, service_en = names.get(current.service, ("", "")) if current else ("", "")
        banner_th, banner_en = self._banner()
        return CounterView(
            counter_th=self.counter_th or self.counter,
            counter_en=self.counter_en or self.counter,
            open=bool(s and s.open),
            number=current.number if current is not None else "–",
            service_th=service_th,
            service_en=service_en,
            state=state_key,
            state_th=state_th,
            state_en=state_en,
            calls=current.calls if current is not None else 0,
            waiting=s.waiting if s is not None else 0,
            parked=tuple(s.parked) if s is not None else (),
            enabled=self.enabled(),
            pending=self._pending.button if self._pending is not None else None,
            notice=self.notice,
            banner_th=banner_th,
            banner_en=banner_en,
            picker=self.picker,
            has_state=s is not None,
        )

    def _banner(self) -> tuple[str, str]:
        if not self.connected:
            if not self._ever_connected:
                return "กำลังเชื่อมต่อระบบคิว…", "Connecting to the queue system…"
            return "ขาดการเชื่อมต่อกับระบบคิว กำลังเชื่อมต่อใหม่…", "Connection lost: reconnecting…"
        if self.server_online is False:
            return "ระบบคิวหยุดทำงาน สั่งงานไม่ได้ชั่วคราว", "The queue server is stopped: commands are paused."
        if self.state is None:
            return "ยังไม่ได้รับสถานะของช่องบริการจากระบบ", "Waiting for this counter's state from the server."
        return "", ""
