"""The five faces of the satisfaction levels, drawn on Kivy's canvas: no emoji (Kivy has no font
fallback, and the Thai fonts carry no emoji), no image files. Colour and mouth both change with the
level, so the faces read without colour too."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line
from kivy.properties import ColorProperty, NumericProperty
from kivy.uix.widget import Widget

FACE_COLORS: dict[int, tuple[float, float, float, float]] = {
    5: (0.18, 0.62, 0.31, 1),
    4: (0.55, 0.76, 0.29, 1),
    3: (0.96, 0.76, 0.05, 1),
    2: (0.95, 0.55, 0.16, 1),
    1: (0.85, 0.19, 0.15, 1),
}
"""Green to red, as on paper forms; the same colours as the phone page's faces."""

MOUTH_CURVE: dict[int, float] = {5: 0.34, 4: 0.17, 3: 0.0, 2: -0.15, 1: -0.3}
"""How far the middle of the mouth bends, as a share of the face's size: up for a smile."""


def mouth_points(cx: float, cy: float, size: float, level: int, steps: int = 16) -> list[float]:
    """Points of the mouth: a quadratic curve between the corners, bent by `MOUTH_CURVE[level]`."""
    half = size * 0.22
    y = cy - size * (0.16 if level >= 3 else 0.24)
    bend = -MOUTH_CURVE.get(level, 0.0) * size
    x0, x2 = cx - half, cx + half
    points: list[float] = []
    for i in range(steps + 1):
        t = i / steps
        x = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t**2 * x2
        yy = (1 - t) ** 2 * y + 2 * (1 - t) * t * (y + bend) + t**2 * y
        points += [x, yy]
    return points


class FaceDrawing(Widget):  # type: ignore[misc]
    """A face for `level` (1..5), as large as fits the widget, centred."""

    level = NumericProperty(5)
    line_color = ColorProperty([0.08, 0.1, 0.13, 1])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Drawn once per frame, after the layout settled: a face in a row is resized and moved in
        # several steps, and drawing at each step left it where an intermediate step had put it.
        self._trigger = Clock.create_trigger(self._redraw, -1)
        for name in ("pos", "size", "level", "line_color"):
            self.fbind(name, self._trigger)
        self._trigger()

    def _redraw(self, *_args: Any) -> None:
        size = max(1.0, min(self.width, self.height))
        cx, cy = self.center_x, self.center_y
        level = int(self.level)
        self.canvas.clear()
        with self.canvas:
            Color(*FACE_COLORS.get(level, FACE_COLORS[3]))
            Ellipse(pos=(cx - size / 2, cy - size / 2), size=(size, size))
            Color(*self.line_color)
            Line(ellipse=(cx - size / 2, cy - size / 2, size, size), width=max(1.2, size * 0.025))
            eye = size * 0.11
            for dx in (-0.17, 0.17):
                Ellipse(pos=(cx + dx * size - eye / 2, cy + size * 0.1 - eye / 2), size=(eye, eye))
            Line(points=mouth_points(cx, cy, size, level), width=max(1.5, size * 0.045), cap="round")
