"""The Kivy app behind `khiu display`: the hall board or a counter terminal, wired to the MQTT link.

The one thread crossing is the link's handoff (`common.ui.clock.kivy_handoff`): every message,
reply and connection change reaches the view-model on Kivy's main thread, and redraws are coalesced
with a trigger. Importing this module imports Kivy: `counter_display.cli` imports it only to run.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Keyboard, Window

import common.ui
from common.contract import CounterCommand
from common.link import Inbound, MqttLink
from common.topics import Topics
from common.ui.clock import kivy_handoff, redraw_trigger
from common.vocabulary import DeviceRole
from counter_display import READY
from counter_display.announce import AnnouncementBuilder, Announcer
from counter_display.board_screen import BoardScreen
from counter_display.board_vm import LIVE_AFTER_S, BoardViewModel
from counter_display.clips import ClipSet
from counter_display.counter_screen import CounterScreen
from counter_display.counter_vm import CounterViewModel
from counter_display.kivy_audio import KivyPlayer
from counter_display.options import DisplayOptions

log = logging.getLogger(__name__)

DISPLAY_KEEPALIVE_S = 2
"""MQTT keepalive of displays. paho pings after this long without traffic and drops the connection
when no answer comes within as long again, so a pulled cable shows the banner within about 4 s (the
brief allows 5); a stopped broker closes the socket and shows it at once. Two small packets every
2 s per device is nothing on an office LAN."""

REDRAW_MIN_INTERVAL_S = 0.0
"""The board redraws before the next frame, never later: a call must be on the screen within 100 ms
of the press, and any wait here comes out of that budget (0.1 s spent all of it). Bursts stay cheap:
the trigger redraws once per frame however many messages came, and the server sends the board state
at most every 0.25 s."""

BLINK_S = 0.5


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


KEY_NAMES: dict[int, str] = {code: name for name, code in Keyboard.keycodes.items()}


def key_name(key: int, codepoint: str | None, modifiers: list[str]) -> str:
    """Kivy's key event as a KEY_MAP name: "f1", "numpadenter", "+", "shift+f12"."""
    name = "+" if codepoint == "+" else KEY_NAMES.get(key, codepoint or "")
    if "shift" in modifiers and name.startswith("f") and name[1:].isdigit():
        name = "shift+" + name
    return name


class DisplayApp(App):  # type: ignore[misc]
    """One screen, one link, one view-model."""

    def __init__(self, options: DisplayOptions, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = options
        self.title = "Khiu (คิว)"
        self.link: MqttLink | None = None
        self.announcer: Announcer | None = None
        self._blink = True

    # ------------------------------------------------------------------------------------------ build

    def build(self) -> Any:
        common.ui.setup()
        o = self.options
        o.device_dir.mkdir(parents=True, exist_ok=True)
        self.link = MqttLink(
            host=o.mqtt.host,
            port=o.mqtt.broker_port,
            username=o.mqtt.username,
            password=o.mqtt.password,
            site=o.mqtt.site,
            device_id=o.mqtt.device_id,
            role=DeviceRole.counter if o.mode == "counter" else DeviceRole.display,
            tls_ca=o.mqtt.tls_ca if o.mqtt.uses_tls else None,
            outbox_path=o.device_dir / "outbox.db" if o.mode == "counter" else None,
            handoff=kivy_handoff,
            keepalive=DISPLAY_KEEPALIVE_S,
        )
        root = self._build_board() if o.mode == "board" else self._build_counter()
        self.link.start()
        return root

    def _subscribe(self, filters: list[str], on_message: Callable[[Inbound, dt.datetime], None]) -> None:
        assert self.link is not None
        for topic_filter in filters:
            self.link.subscribe(topic_filter, lambda inbound: on_message(inbound, utcnow()))

    def _build_board(self) -> BoardScreen:
        o = self.options
        assert self.link is not None
        screen = BoardScreen()
        builder = AnnouncementBuilder(ClipSet(o.clips), o.device_dir / "sound", o.announcement)
        self.announcer = Announcer(builder, KivyPlayer(muted=o.muted))
        vm = BoardViewModel(
            Topics(o.mqtt.site), self.announcer.announce, office_th=o.office_th, office_en=o.office_en
        )
        redraw = redraw_trigger(lambda: screen.show(vm.view(utcnow())), REDRAW_MIN_INTERVAL_S)
        vm.changed = redraw
        self.announcer.on_start.append(lambda a: vm.on_announcement(a, utcnow()))
        connected_at: list[float | None] = [None]
        """When the link last connected, on a clock that is never set (the display's own may be)."""

        def on_connection(up: bool) -> None:
            connected_at[0] = time.monotonic() if up else None
            vm.on_connection(up)

        def on_message(inbound: Inbound, now: dt.datetime) -> None:
            since = connected_at[0]
            vm.on_message(inbound, now, live=since is not None and time.monotonic() - since >= LIVE_AFTER_S)

        self._subscribe(vm.subscriptions(), on_message)
        self.link.on_connection_change(on_connection)

        def blink(_dt: float) -> None:
            if vm.next_change(utcnow()) is not None:
                self._blink = not self._blink
                screen.set_blink(self._blink)
            elif not self._blink:
                self._blink = True
                screen.set_blink(True)

        Clock.schedule_interval(lambda _dt: redraw(), 1.0)  # the clock, and flashes that end
        Clock.schedule_interval(blink, BLINK_S)
        screen.show(vm.view(utcnow()))
        return screen

    def _build_counter(self) -> CounterScreen:
        o = self.options
        assert self.link is not None and o.counter is not None
        link = self.link
        topics = Topics(o.mqtt.site)

        def send(command: CounterCommand) -> None:
            link.request(topics.counter_command(o.counter or ""), command)

        vm = CounterViewModel(
            topics,
            o.counter,
            send,
            counter_th=o.counter_th,
            counter_en=o.counter_en,
            staff=o.staff,
            service_names=o.service_names,
        )
        screen = CounterScreen(on_button=lambda b: vm.press(b, utcnow()))
        screen.on_pick = lambda i: vm.pick(i, utcnow())
        screen.on_cancel_picker = vm.cancel_picker
        vm.changed = redraw_trigger(lambda: screen.show(vm.view()))
        self._subscribe(vm.subscriptions(), vm.on_message)
        link.on_connection_change(vm.on_connection)
        Clock.schedule_interval(lambda _dt: vm.tick(utcnow()), 1.0)

        def on_key(
            _window: Any, key: int, _scancode: int, codepoint: str | None, modifiers: list[str]
        ) -> bool:
            return vm.press_key(key_name(key, codepoint, modifiers), utcnow())

        Window.bind(on_key_down=on_key)
        screen.show(vm.view())
        return screen

    def on_start(self) -> None:
        # After the first frame: the window is up and the screen drew once.
        Clock.schedule_once(lambda _dt: log.info("%s ready: %s", READY, self.options.mode), 0)

    def on_stop(self) -> None:
        if self.announcer is not None:
            self.announcer.clear()
        if self.link is not None:
            self.link.stop()
