"""Sizes and colours shared by a screen app, with a large-text / high-contrast mode.

Sizes follow the window so one layout serves a 15-inch 1024x768 kiosk and a 21.5-inch full-HD one; the
touch-target floor comes from the screen's physical size (`kivy.metrics.mm`), because elderly fingers
need about 15 mm whatever the resolution."""

from __future__ import annotations

from typing import Any

from kivy.event import EventDispatcher
from kivy.metrics import mm
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty

TEXT_SHARE_OF_HEIGHT = 0.036
"""Body text is 3.6 % of the window height: 29 px at 800, 39 px at 1080 (about 7 mm on a 21.5-inch
screen, readable by an elderly citizen at arm's length)..."""
TEXT_SHARE_OF_WIDTH = 0.045
"""...and at most 4.5 % of its width, so a portrait screen (1080x1920) keeps about 22 characters of
body text per line instead of 15: 49 px there, still 12 mm tall on a 21.5-inch screen."""

LARGE_FACTOR = 1.3
"""The large-text mode enlarges everything by this much; layouts are written to absorb it."""

MIN_TOUCH_MM = 15.0


NORMAL = {
    "bg": (0.95, 0.96, 0.97, 1),
    "fg": (0.08, 0.1, 0.13, 1),
    "muted": (0.3, 0.33, 0.38, 1),
    "surface": (1, 1, 1, 1),
    "surface_down": (0.8, 0.87, 0.97, 1),
    "line": (0.72, 0.76, 0.82, 1),
    "accent": (0.05, 0.29, 0.62, 1),
    "accent_down": (0.03, 0.2, 0.45, 1),
    "accent_fg": (1, 1, 1, 1),
    "header": (0.05, 0.29, 0.62, 1),
    "header_fg": (1, 1, 1, 1),
    "notice": (1, 0.95, 0.78, 1),
    "notice_fg": (0.25, 0.17, 0, 1),
    "disabled": (0.88, 0.89, 0.9, 1),
}
HIGH_CONTRAST = {
    "bg": (0, 0, 0, 1),
    "fg": (1, 1, 1, 1),
    "muted": (1, 1, 1, 1),
    "surface": (0, 0, 0, 1),
    "surface_down": (0.25, 0.25, 0.25, 1),
    "line": (1, 1, 1, 1),
    "accent": (1, 0.86, 0, 1),
    "accent_down": (0.8, 0.68, 0, 1),
    "accent_fg": (0, 0, 0, 1),
    "header": (0, 0, 0, 1),
    "header_fg": (1, 0.86, 0, 1),
    "notice": (1, 0.86, 0, 1),
    "notice_fg": (0, 0, 0, 1),
    "disabled": (0.15, 0.15, 0.15, 1),
}


class Theme(EventDispatcher):  # type: ignore[misc]
    """Bind kv to `app.theme.<name>`: `font_size: app.theme.unit * 1.2`, `color: app.theme.fg`."""

    large = BooleanProperty(False)
    """Large text and high contrast together: the people who need one usually need both."""
    unit = NumericProperty(28)
    """Body text size in pixels."""
    touch = NumericProperty(60)
    """Least height of anything a citizen taps, in pixels."""
    line_width = NumericProperty(1)

    bg = ColorProperty(NORMAL["bg"])
    fg = ColorProperty(NORMAL["fg"])
    muted = ColorProperty(NORMAL["muted"])
    surface = ColorProperty(NORMAL["surface"])
    surface_down = ColorProperty(NORMAL["surface_down"])
    line = ColorProperty(NORMAL["line"])
    accent = ColorProperty(NORMAL["accent"])
    accent_down = ColorProperty(NORMAL["accent_down"])
    accent_fg = ColorProperty(NORMAL["accent_fg"])
    header = ColorProperty(NORMAL["header"])
    header_fg = ColorProperty(NORMAL["header_fg"])
    notice = ColorProperty(NORMAL["notice"])
    notice_fg = ColorProperty(NORMAL["notice_fg"])
    disabled = ColorProperty(NORMAL["disabled"])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._window_width, self._window_height = 1280.0, 800.0

    def fit(self, _window: Any = None, size: tuple[float, float] | None = None) -> None:
        """Recompute sizes for a window of `size` (bind to `Window.size`)."""
        if size is not None:
            self._window_width, self._window_height = float(size[0]), float(size[1])
        factor = LARGE_FACTOR if self.large else 1.0
        base = min(self._window_height * TEXT_SHARE_OF_HEIGHT, self._window_width * TEXT_SHARE_OF_WIDTH)
        self.unit = max(18.0, base) * factor
        self.touch = max(float(mm(MIN_TOUCH_MM)), self.unit * 2.2)
        self.line_width = 3 if self.large else 1.2

    def on_large(self, _instance: Any, large: bool) -> None:
        for name, rgba in (HIGH_CONTRAST if large else NORMAL).items():
            setattr(self, name, rgba)
        self.fit()
