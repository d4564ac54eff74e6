"""The survey terminal's Kivy app: screens bound to `SurveyModel`, the USB scanner's key bursts, touches
that keep a rating alive.

The app decides nothing: it shows what the model's views say and forwards taps and scans. Redraws are
coalesced: every model change triggers one refresh before the next frame."""

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
from common.ui.widgets import THAI_FONT
from counter_display.fonts import register_number_font
from kiosk.survey.model import SurveyModel, SurveyScreen
from kiosk.survey.scanner import ScanBuffer
from kiosk.survey.screens import (
    ChoiceButton,
    FaceButton,
    MessageScreen,
    MoreScreen,
    PadScreen,
    ProfileScreen,
    QuestionScreen,
    SurveyScreenBase,
)

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).parent / "kv"
KV_FILES = ("survey", "pad", "question", "more", "profile", "message")

ENTER_KEYS = (13, 271)
"""Return and the keypad's Enter (SDL2 key codes): a scanner ends each code with one of them."""

SCREEN_OF: dict[SurveyScreen, str] = {
    SurveyScreen.pad: "pad",
    SurveyScreen.overall: "question",
    SurveyScreen.item: "question",
    SurveyScreen.more: "more",
    SurveyScreen.profile: "profile",
    SurveyScreen.sending: "message",
    SurveyScreen.thanks: "message",
    SurveyScreen.refused: "message",
}

_kv_loaded = False


def load_kv() -> None:
    """The shared Thai rules, then the survey's own files (once per process)."""
    global _kv_loaded
    if _kv_loaded:
        return
    ui.setup()
    for cls in (FaceButton, ChoiceButton):
        Factory.register(cls.__name__, cls=cls)
    for name in KV_FILES:
        Builder.load_file(str(KV_DIR / f"{name}.kv"))
    _kv_loaded = True


def survey_screens() -> list[SurveyScreenBase]:
    return [
        PadScreen(name="pad"),
        QuestionScreen(name="question"),
        MoreScreen(name="more"),
        ProfileScreen(name="profile"),
        MessageScreen(name="message"),
    ]


class SurveyApp(App):  # type: ignore[misc]
    """`SurveyApp(model).run()`; tests call `_run_prepare()` and drive frames themselves."""

    theme = ObjectProperty(None)
    model = ObjectProperty(None)
    title_text = StringProperty("")
    ticket_text = StringProperty("")
    lang_button = StringProperty("")
    large_button = StringProperty("")
    narrow = BooleanProperty(False)
    """A portrait window: the header keeps room for what matters."""
    number_font = StringProperty(THAI_FONT)
    """Ticket numbers and the pad's keys: Waree when installed, whose zero is not an O (see
    counter_display/fonts.py)."""

    def __init__(
        self,
        model: SurveyModel,
        *,
        on_first_frame: Callable[[float], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title = "Khiu survey"
        self.model = model
        self.theme = Theme()
        self.screens: dict[str, SurveyScreenBase] = {}
        self.scanner = ScanBuffer()
        self._on_first_frame = on_first_frame
        self._refresh = redraw_trigger(self.refresh)

    def _install_settings_keys(self, _window: Any) -> None:
        """No Kivy settings panel on F1: citizens must not reach it."""

    def open_settings(self, *_args: Any) -> bool:
        return False

    def build(self) -> Any:
        load_kv()
        self.number_font = register_number_font()
        self.theme.fit(size=Window.size)
        self._fit_window(Window, Window.size)
        Window.bind(size=self.theme.fit)
        Window.bind(size=self._fit_window)
        root = Factory.SurveyRoot()
        sm = root.ids.sm
        sm.transition = NoTransition()
        for screen in survey_screens():
            screen.model = self.model
            self.screens[screen.name] = screen
            sm.add_widget(screen)
        self.model.add_listener(self._refresh)
        Window.bind(on_touch_down=self._on_touch_down)
        Window.bind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        if self._on_first_frame is not None:
            Window.bind(on_flip=self._first_flip)
        self.refresh()
        return root

    def on_stop(self) -> None:
        Window.unbind(on_touch_down=self._on_touch_down)
        Window.unbind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        Window.unbind(size=self.theme.fit)
        Window.unbind(size=self._fit_window)

    def _fit_window(self, _window: Any, size: tuple[float, float]) -> None:
        self.narrow = size[0] < size[1]

    def refresh(self) -> None:
        """Copy the model into the header and the current screen (once per frame at most)."""
        model = self.model
        if self.theme.large != model.large:
            self.theme.large = model.large
        chrome = model.chrome_view()
        self.title_text = chrome.title
        self.ticket_text = chrome.ticket
        self.lang_button = chrome.lang_button
        self.large_button = chrome.large_button
        name = SCREEN_OF[model.screen]
        screen = self.screens[name]
        screen.refresh(model)
        if self.root is not None and self.root.ids.sm.current != name:
            self.root.ids.sm.current = name

    def _first_flip(self, *_args: Any) -> None:
        Window.unbind(on_flip=self._first_flip)
        if self._on_first_frame is not None:
            self._on_first_frame(time.perf_counter())

    # --- input -------------------------------------------------------------------------------------

    def _on_touch_down(self, _window: Any, _touch: Any) -> bool:
        self.model.touched()
        return False

    def _on_textinput(self, _window: Any, text: str) -> bool:
        now = time.monotonic()
        for char in text:
            self.scanner.key(char, now)
        return True

    def _on_key_down(self, _window: Any, key: int, *_args: Any) -> bool:
        if key in ENTER_KEYS:
            scanned = self.scanner.enter(time.monotonic())
            if scanned is not None:
                log.info("scanned a ticket (%s)", scanned.number or "number not in the code")
                self.model.on_scan(scanned)
            return True
        return False


class KivyScheduler:
    """`model.Scheduler` on Kivy's Clock (main thread)."""

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Any:
        return Clock.schedule_once(lambda _dt: callback(), delay_s)
