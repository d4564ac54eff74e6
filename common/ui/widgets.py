"""Thai-capable widgets every Khiu screen uses: `ThaiLabel`, `ThaiButton` and `TouchTile`.

Kivy gets three things wrong for Thai unless told (REFERENCE.md, "Kivy"): it shapes with the Latin script
(tone marks collide: `font_script_name` must be "Thai"), it has no font fallback (the font must cover Thai
*and* Latin: `THAI_FONT`, registered by `common.ui.setup`), and it breaks lines only at ASCII spaces
(`ThaiLabel` breaks at Thai word boundaries itself). The kv rules below set all three, so a screen's
`.kv` file only says what to show.

Importing this module imports Kivy; call `common.ui.setup()` before building any widget.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from common.ui.thai import Measure, kivy_measure, wrap

log = logging.getLogger(__name__)

THAI_FONT = "KhiuThai"
"""The Kivy font name every Khiu label uses (a Thai+Latin face registered by `common.ui.setup`)."""

LINE_HEIGHT = 0.88
"""TLWG fonts leave room above and below each line for stacked Thai marks; Kivy adds that room again
between lines of a paragraph. 0.88 closes the gap without marks of one line touching the next."""

KV_RULES = f"""
<Label>:
    font_name: "{THAI_FONT}"
    font_script_name: "Thai"

<ThaiLabel>:
    font_name: "{THAI_FONT}"
    font_script_name: "Thai"
    line_height: {LINE_HEIGHT}

<ThaiButton>:
    halign: "center"
    valign: "middle"
    padding: self.pad, 0
    canvas.before:
        Color:
            rgba: self.bg_color_down if self.state == "down" else self.bg_color
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [self.radius]
        Color:
            rgba: self.border_color
        Line:
            width: self.border_width if self.border_width > 0 else 1
            rounded_rectangle: (self.x, self.y, self.width, self.height, self.radius)
        Color:
            rgba: 1, 1, 1, 1

<TouchTile>:
    canvas.before:
        Color:
            rgba: self.bg_color_down if self.state == "down" else self.bg_color
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [self.radius]
        Color:
            rgba: self.border_color
        Line:
            width: self.border_width if self.border_width > 0 else 1
            rounded_rectangle: (self.x, self.y, self.width, self.height, self.radius)
        Color:
            rgba: 1, 1, 1, 1
"""


_measures: dict[tuple[str, float, bool], Measure] = {}


def _measure_for(font_name: str, font_size: float, bold: bool) -> Measure:
    key = (font_name, round(float(font_size), 2), bold)
    measure = _measures.get(key)
    if measure is None:
        measure = _measures[key] = kivy_measure(font_name, font_size, bold=bold)
    return measure


class ThaiLabel(Label):  # type: ignore[misc]
    """A label that wraps Thai at word boundaries to its width.

    Set `text` as usual; the label shows it with line breaks inserted where the words fit. The height of
    the text is `texture_size[1]`: bind `height` to it for labels that grow with their text."""

    text: str
    thai_wrap = BooleanProperty(True)
    """False shows the text as given (a one-line number, a clock)."""
    fit_width = BooleanProperty(True)
    """True: `text_size` follows the width, so the text wraps inside the label. Set it False when the
    label sizes itself to its text (`text_size: None, None`) or sets `text_size` itself: a kv rule
    cannot undo a binding of a base class's rule, and two bindings of `text_size` fight."""

    def __init__(self, **kwargs: Any) -> None:
        self._source = ""
        self._shown: str | None = None
        self._rewrap_trigger = Clock.create_trigger(self._rewrap, -1)
        super().__init__(**kwargs)
        for name in ("text_size", "font_size", "font_name", "bold", "padding", "thai_wrap"):
            self.fbind(name, self._rewrap_trigger)
        self.fbind("width", self._fit)
        self.fbind("fit_width", self._fit)
        self._fit()
        self._rewrap_trigger()  # kv rules may have set text_size during __init__, before the binding

    @property
    def source_text(self) -> str:
        """The text as set, before line breaks were inserted."""
        return self._source

    def on_text(self, _instance: Any, value: str) -> None:
        if value == self._shown:
            return
        self._source = value
        self._rewrap()

    def _fit(self, *_args: Any) -> None:
        if self.fit_width:
            self.text_size = (self.width, None)

    def _rewrap(self, *_args: Any) -> None:
        width = self.text_size[0] if self.text_size else None
        shown = self._source
        if self.thai_wrap and width and width > 0 and self._source:
            available = width - self.padding[0] - self.padding[2] - 2
            measure = _measure_for(self.font_name, self.font_size, bool(self.bold))
            shown = "\n".join(wrap(self._source, max(1.0, available), measure))
        self._shown = shown
        if self.text != shown:
            self.text = shown


class ThaiButton(ButtonBehavior, ThaiLabel):  # type: ignore[misc]
    """A flat, rounded button with a Thai label: colours come from the theme, not from images, so the
    high-contrast mode can recolour it."""

    bg_color = ColorProperty([0.9, 0.9, 0.9, 1])
    bg_color_down = ColorProperty([0.75, 0.8, 0.9, 1])
    border_color = ColorProperty([0, 0, 0, 0])
    border_width = NumericProperty(0)
    radius = NumericProperty(12)
    pad = NumericProperty(10)


class TouchTile(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A pressable panel holding several labels (a title and a line under it, a pictogram and a word)."""

    bg_color = ColorProperty([1, 1, 1, 1])
    bg_color_down = ColorProperty([0.75, 0.8, 0.9, 1])
    border_color = ColorProperty([0, 0, 0, 0])
    border_width = NumericProperty(0)
    radius = NumericProperty(12)
