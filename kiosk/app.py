"""The kiosk's Kivy app: screens bound to `KioskModel`, the staff gestures, the clock on the home screen.

The app decides nothing: it shows what the model's views say and forwards taps. Redraws are coalesced:
every model change triggers one refresh before the next frame. Screen sets are chosen by mode, so the
survey mode can bring its own screens without touching the ticket flow (`SCREEN_SETS`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition

from common import ui
from common.ui.clock import redraw_trigger
from common.ui.theme import Theme
from kiosk.screens import (
    DocumentLine,
    GroupTile,
    HomeScreen,
    KioskScreen,
    PriorityScreen,
    PriorityTile,
    ServiceScreen,
    ServicesScreen,
    ServiceTile,
    TicketScreen,
)
from kiosk.viewmodels import KioskModel, Screen

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).parent / "kv"

F12 = 293
"""Kivy's key code of F12 (SDL2): staff reprint the last ticket."""

STAFF_CORNER_MM = 20.0
STAFF_HOLD_S = 3.0
"""A 3-second press in the top-left corner also reprints (a kiosk has no keyboard most of the day)."""


def _ticket_screens() -> list[KioskScreen]:
    return [
        HomeScreen(name=Screen.home.value),
        ServicesScreen(name=Screen.services.value),
        ServiceScreen(name=Screen.service.value),
        PriorityScreen(name=Screen.priority.value),
        TicketScreen(name=Screen.ticket.value),
    ]


SCREEN_SETS: dict[str, Callable[[], list[KioskScreen]]] = {"ticket": _ticket_screens}
"""Screens per `--mode`. The survey mode registers its own set here (and its own model)."""

_kv_loaded = False


def load_kv() -> None:
    """The shared rules, then one file per screen (once per process)."""
    global _kv_loaded
    if _kv_loaded:
        return
    ui.setup()
    for cls in (GroupTile, ServiceTile, PriorityTile, DocumentLine):
        Factory.register(cls.__name__, cls=cls)
    Builder.load_file(str(KV_DIR / "kiosk.kv"))
    for name in ("home", "services", "service", "priority", "ticket"):
        Builder.load_file(str(KV_DIR / f"{name}.kv"))
    _kv_loaded = True


class KioskApp(App):  # type: ignore[misc]
    """`KioskApp(model).run()`; tests call `_run_prepare()` and drive frames themselves."""

    staff_hold_s = STAFF_HOLD_S
    theme = ObjectProperty(None)
    model = ObjectProperty(None)
    lang_button = StringProperty("")
    large_button = StringProperty("")
    back_text = StringProperty("")
    home_text = StringProperty("")
    show_back = BooleanProperty(False)
    show_home = BooleanProperty(False)
    notice = StringProperty("")

    def __init__(
        self,
        model: KioskModel,
        *,
        mode: str = "ticket",
        on_first_frame: Callable[[float], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title = "Khiu kiosk"
        self.model = model
        self.mode = mode
        self.theme = Theme()
        self.screens: dict[str, KioskScreen] = {}
        self._on_first_frame = on_first_frame
        self._refresh = redraw_trigger(self.refresh)
        self._corner_press: Any = None
        self._clock_event: Any = None

    # --- building ----------------------------------------------------------------------------------

    def _install_settings_keys(self, _window: Any) -> None:
        """No Kivy settings panel on F1: citizens must not reach it."""

    def open_settings(self, *_args: Any) -> bool:
        return False

    def build(self) -> Any:
        load_kv()
        self.theme.fit(size=Window.size)
        Window.bind(size=self.theme.fit)
        root = Factory.KioskRoot()
        sm = root.ids.sm
        sm.transition = NoTransition()
        for screen in SCREEN_SETS[self.mode]():
            screen.model = self.model
            self.screens[screen.name] = screen
            sm.add_widget(screen)
        self.model.add_listener(self._refresh)
        Window.bind(on_touch_down=self._on_touch_down, on_touch_up=self._on_touch_up)
        Window.bind(on_key_down=self._on_key_down)
        if self._on_first_frame is not None:
            Window.bind(on_flip=self._first_flip)
        self._clock_event = Clock.schedule_interval(self._tick, 1.0)
        self.refresh()
        return root

    def on_stop(self) -> None:
        if self._clock_event is not None:
            self._clock_event.cancel()
        Window.unbind(on_touch_down=self._on_touch_down, on_touch_up=self._on_touch_up)
        Window.unbind(on_key_down=self._on_key_down)

    # --- showing the model -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Copy the model into the header and the current screen (runs once per frame at most)."""
        model = self.model
        if self.theme.large != model.large:
            self.theme.large = model.large
        chrome = model.chrome_view()
        self.lang_button = chrome.lang_button
        self.large_button = chrome.large_button
        self.back_text = chrome.back
        self.home_text = chrome.home
        self.show_back = chrome.show_back
        self.show_home = chrome.show_home
        self.notice = chrome.notice
        screen = self.screens.get(model.screen.value)
        if screen is None:
            log.error("no screen %s in mode %s", model.screen, self.mode)
            return
        screen.refresh(model)
        if self.root is not None and self.root.ids.sm.current != screen.name:
            self.root.ids.sm.current = screen.name

    def _tick(self, _dt: float) -> None:
        home = self.screens.get(Screen.home.value)
        if isinstance(home, HomeScreen) and self.model.screen is Screen.home:
            home.update_clock(self.model)

    def _first_flip(self, *_args: Any) -> None:
        Window.unbind(on_flip=self._first_flip)
        if self._on_first_frame is not None:
            self._on_first_frame(time.perf_counter())

    # --- touches and staff gestures ----------------------------------------------------------------

    def _in_staff_corner(self, touch: Any) -> bool:
        from kivy.metrics import mm

        size = mm(STAFF_CORNER_MM)
        return bool(touch.x <= size and touch.y >= Window.height - size)

    def _on_touch_down(self, _window: Any, touch: Any) -> bool:
        self.model.touched()
        if self._in_staff_corner(touch):
            self._cancel_corner()
            self._corner_press = Clock.schedule_once(lambda _dt: self.model.reprint_last(), self.staff_hold_s)
        return False

    def _on_touch_up(self, _window: Any, _touch: Any) -> bool:
        self._cancel_corner()
        return False

    def _cancel_corner(self) -> None:
        if self._corner_press is not None:
            self._corner_press.cancel()
            self._corner_press = None

    def _on_key_down(self, _window: Any, key: int, *_args: Any) -> bool:
        if key == F12:
            self.model.reprint_last()
            return True
        return False


class KivyScheduler:
    """`viewmodels.Scheduler` on Kivy's Clock (main thread)."""

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Any:
        return Clock.schedule_once(lambda _dt: callback(), delay_s)
