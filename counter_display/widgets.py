"""`ThaiLine`: one line of Thai cut at a word boundary, with an ellipsis when the rest does not fit.

A service name on a board tile gets one line. Kivy's `shorten` cuts inside a Thai word (Kivy sees no
spaces), and `ThaiLabel` with `max_lines: 1` shows the first line followed by the start of the second,
cut mid-word (Kivy joins the lines past `max_lines`). So the cut is made here, with the word breaking
of `common.ui.thai`. Importing this module imports Kivy."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import StringProperty
from kivy.uix.label import Label

from common.ui.thai import Measure, kivy_measure, wrap

ELLIPSIS = "…"

_measures: dict[tuple[str, float, bool], Measure] = {}


def _measure(font_name: str, font_size: float, bold: bool) -> Measure:
    key = (font_name, round(float(font_size), 2), bold)
    if key not in _measures:
        _measures[key] = kivy_measure(font_name, font_size, bold=bold)
    return _measures[key]


def first_line(text: str, width: float, measure: Measure) -> str:
    """The words of `text` that fit in `width` (at least one piece of the first word), plus an ellipsis
    when some were left out."""
    if not text or measure(text) <= width:
        return text
    room = max(1.0, width - measure(ELLIPSIS))
    lines = wrap(text.replace("\n", " "), room, measure)
    return (lines[0] if lines else "") + ELLIPSIS


class ThaiLine(Label):  # type: ignore[misc]
    """Set `full_text`; the label shows as much of it as fits on one line."""

    full_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._fit_trigger = Clock.create_trigger(self._fit, -1)
        super().__init__(**kwargs)
        for name in ("full_text", "width", "font_size", "font_name", "bold"):
            self.fbind(name, self._fit_trigger)

    def _fit(self, *_args: Any) -> None:
        width = self.width - self.padding[0] - self.padding[2] - 2
        if width <= 2:
            return
        self.text = first_line(
            self.full_text, width, _measure(self.font_name, self.font_size, bool(self.bold))
        )
