"""The counter terminal screen: `counter.kv` for the layout, this module to put a `CounterView` on it
and to hand taps back as `Button`s. Importing this module imports Kivy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from common.ui.widgets import TouchTile
from counter_display.counter_vm import KEY_HINTS, LABELS, Button, CounterView, Picker, Tone
from counter_display.fonts import register_number_font
from counter_display.widgets import ThaiLine  # noqa: F401  (registers the kv class)

KV_FILE = Path(__file__).with_name("counter.kv")

_NOTICE_COLOURS: dict[Tone, tuple[tuple[float, ...], tuple[float, ...]]] = {
    # tone: (background, ink)
    Tone.info: ((0.88, 0.91, 0.96, 1), (0.1, 0.15, 0.25, 1)),
    Tone.ok: ((0.83, 0.94, 0.85, 1), (0.02, 0.3, 0.1, 1)),
    Tone.waiting: ((0.93, 0.93, 0.93, 1), (0.25, 0.27, 0.3, 1)),
    Tone.error: ((0.99, 0.86, 0.84, 1), (0.55, 0.05, 0.02, 1)),
}
_NO_NOTICE = ((0, 0, 0, 0), (0, 0, 0, 1))
_GO, _GO_DOWN = (0.05, 0.5, 0.26, 1), (0.03, 0.35, 0.18, 1)
_PLAIN, _PLAIN_DOWN, _INK = (1, 1, 1, 1), (0.8, 0.87, 0.97, 1), (0.08, 0.1, 0.13, 1)


def load_kv() -> None:
    """Register the number face and load counter.kv (once; after `common.ui.setup()`)."""
    if str(KV_FILE) not in Builder.files:
        register_number_font()
        Builder.load_file(str(KV_FILE))


class CommandButton(TouchTile):
    """A staff control: Thai caption, English caption and its key."""

    u = NumericProperty(10)
    th = StringProperty("")
    en = StringProperty("")
    key = StringProperty("")
    enabled = BooleanProperty(True)
    scale = NumericProperty(1.0)
    fill = ColorProperty((1, 1, 1, 1))
    fill_down = ColorProperty((0.8, 0.87, 0.97, 1))
    ink = ColorProperty((0.08, 0.1, 0.13, 1))

    def on_enabled(self, _instance: Any, enabled: bool) -> None:
        # Not Kivy's `disabled`: it would grey the labels with its own colour and refuse the touch
        # silently; this keeps our colours and lets the screen say why nothing happened.
        self.opacity = 1.0 if enabled else 0.75


class PickerView(ModalView):  # type: ignore[misc]
    """Choose a service to transfer to, or a parked ticket to resume (touch, or keys 1-9 and Esc)."""

    u = NumericProperty(10)
    title = StringProperty("")

    def __init__(
        self, picker: Picker, on_pick: Callable[[int], object], on_cancel: Callable[[], object], **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.picker = picker
        self.title = f"{picker.title_th}   {picker.title_en}"
        self._on_pick, self._on_cancel = on_pick, on_cancel
        for index, choice in enumerate(picker.choices):
            row = CommandButton(
                u=self.u,
                th=choice.th,
                en=choice.en,
                key=str(index + 1) if index < 9 else "",
                size_hint_y=None,
                height=self.u * 7.5,
            )
            row.bind(on_release=lambda _w, i=index: self._on_pick(i))
            self.ids.rows.add_widget(row)

    def cancel(self) -> None:
        self._on_cancel()


class CounterScreen(BoxLayout):  # type: ignore[misc]
    """The terminal. Call `show(view)` on every change; taps come back through `on_button`."""

    u = NumericProperty(8)
    counter_th = StringProperty("")
    counter_en = StringProperty("")
    is_open = BooleanProperty(False)
    number = StringProperty("–")
    state_key = StringProperty("")
    state_th = StringProperty("")
    state_en = StringProperty("")
    service_th = StringProperty("")
    service_en = StringProperty("")
    waiting_text = StringProperty("")
    parked_text = StringProperty("")
    banner = StringProperty("")
    notice_th = StringProperty("")
    notice_en = StringProperty("")
    notice_bg = ColorProperty(_NO_NOTICE[0])
    notice_ink = ColorProperty(_NO_NOTICE[1])

    def __init__(self, on_button: Callable[[Button], object] | None = None, **kwargs: Any) -> None:
        load_kv()
        super().__init__(**kwargs)
        self.on_button: Callable[[Button], object] = on_button or (lambda _b: None)
        self.on_pick: Callable[[int], object] = lambda _i: None
        self.on_cancel_picker: Callable[[], object] = lambda: None
        self._view: CounterView | None = None
        self._picker_view: PickerView | None = None
        self.bind(height=lambda *_: setattr(self, "u", self.height / 100.0))
        for button in Button:
            widget = self._widget(button)
            if widget is not None and button not in (Button.open, Button.close):
                widget.th, widget.en = LABELS[button]
                widget.key = KEY_HINTS.get(button, "")

    def _widget(self, button: Button) -> Any:
        name = "open_close" if button in (Button.open, Button.close) else button.value
        return self.ids.get(name)

    def pressed(self, name: str) -> None:
        if name == "open_close":
            button = Button.close if self._view is not None and self._view.open else Button.open
        else:
            button = Button(name)
        self.on_button(button)

    def show(self, view: CounterView) -> None:
        self._view = view
        self.counter_th, self.counter_en = view.counter_th, view.counter_en
        self.is_open = view.open
        self.number = view.number
        self.state_key = view.state
        recalled = self.state_key == "called" and view.calls > 1
        calls = f" ครั้งที่ {view.calls}" if recalled else ""
        calls_en = f" (call {view.calls})" if recalled else ""
        self.state_th, self.state_en = view.state_th + calls, view.state_en + calls_en
        self.service_th, self.service_en = view.service_th, view.service_en
        self.waiting_text = f"รอคิว {view.waiting} คน   Waiting: {view.waiting}" if view.has_state else ""
        self.parked_text = (
            f"พักคิวไว้ {', '.join(view.parked)}   Parked: {', '.join(view.parked)}" if view.parked else ""
        )
        self.banner = f"{view.banner_th}   {view.banner_en}".strip()
        for button in Button:
            widget = self._widget(button)
            if widget is None or button in (Button.open, Button.close):
                continue
            widget.enabled = button in view.enabled
        toggle = self.ids.open_close
        toggle_button = Button.close if view.open else Button.open
        toggle.th, toggle.en = LABELS[toggle_button]
        toggle.key = KEY_HINTS[toggle_button]
        toggle.enabled = toggle_button in view.enabled
        # A closed counter can only be opened: that button then looks like the main action.
        opening = toggle_button is Button.open
        toggle.fill = _GO if opening else _PLAIN
        toggle.fill_down = _GO_DOWN if opening else _PLAIN_DOWN
        toggle.ink = (1, 1, 1, 1) if opening else _INK
        if view.notice is None:
            self.notice_th = self.notice_en = ""
            self.notice_bg, self.notice_ink = _NO_NOTICE
        else:
            self.notice_th, self.notice_en = view.notice.th, view.notice.en
            self.notice_bg, self.notice_ink = _NOTICE_COLOURS[view.notice.tone]
        self._show_picker(view.picker)

    def _show_picker(self, picker: Picker | None) -> None:
        if picker is None:
            if self._picker_view is not None:
                self._picker_view.dismiss(animation=False)
                self._picker_view = None
            return
        if self._picker_view is not None and self._picker_view.picker == picker:
            return
        if self._picker_view is not None:
            self._picker_view.dismiss(animation=False)
        self._picker_view = PickerView(picker, self.on_pick, self.on_cancel_picker, u=self.u)
        self._picker_view.open(animation=False)
