"""Pictograms for the priority choice, drawn with Kivy canvas instructions (no icon set is copied in).

Each figure is a few thick strokes and filled shapes in a unit square (x right, y up), scaled to the
widget: a standing person (no priority), an older person bent over a cane, a person in a wheelchair, a
pregnant woman, a monk in his robe holding an alms bowl. Strokes are thick so they read from a metre
away and in high contrast; `cut_color` (the tile's background) draws the folds cut into filled shapes."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Ellipse, Line, Quad
from kivy.properties import ColorProperty, StringProperty
from kivy.uix.widget import Widget

Shape = tuple[str, tuple[float, ...]]
"""("disc", (cx, cy, r)); ("line", (x0, y0, x1, y1, ...)); ("thin", points): a cane;
("ring", (cx, cy, r)); ("arc", (cx, cy, r, start, end)) with Kivy's angles (0 at the top, clockwise);
("half", (cx, cy, r, start, end)): a filled sector; ("quad", (x0, y0, ... x3, y3)): filled;
("cut", points) and ("cuthalf", ...): a stroke or sector in the background colour."""

FIGURES: dict[str, list[Shape]] = {
    "none": [
        ("disc", (0.5, 0.85, 0.095)),
        ("line", (0.5, 0.68, 0.5, 0.42)),
        ("line", (0.34, 0.44, 0.42, 0.64, 0.58, 0.64, 0.66, 0.44)),
        ("line", (0.42, 0.07, 0.5, 0.4, 0.58, 0.07)),
    ],
    "elderly": [
        ("disc", (0.44, 0.84, 0.095)),
        ("line", (0.42, 0.68, 0.34, 0.42)),
        ("line", (0.41, 0.63, 0.5, 0.5, 0.62, 0.52)),
        ("thin", (0.64, 0.52, 0.64, 0.06)),
        ("arc", (0.6, 0.53, 0.04, 270, 450)),
        ("line", (0.26, 0.07, 0.34, 0.4, 0.44, 0.07)),
    ],
    "disabled": [
        ("disc", (0.42, 0.85, 0.09)),
        ("line", (0.41, 0.7, 0.39, 0.46, 0.62, 0.46, 0.7, 0.2, 0.8, 0.2)),
        ("line", (0.4, 0.62, 0.58, 0.6)),
        ("ring", (0.42, 0.3, 0.2)),
    ],
    "pregnant": [
        ("disc", (0.45, 0.85, 0.095)),
        ("line", (0.44, 0.68, 0.42, 0.4)),
        ("half", (0.45, 0.5, 0.15, 0, 180)),
        ("line", (0.36, 0.07, 0.42, 0.4, 0.52, 0.07)),
    ],
    "monk": [
        ("disc", (0.5, 0.85, 0.095)),
        ("quad", (0.3, 0.06, 0.7, 0.06, 0.64, 0.7, 0.36, 0.7)),
        ("cut", (0.38, 0.68, 0.64, 0.3)),
        ("cuthalf", (0.5, 0.42, 0.12, 90, 270)),
    ],
}


class Pictogram(Widget):  # type: ignore[misc]
    """A priority pictogram filling the largest square that fits the widget."""

    kind = StringProperty("none")
    color = ColorProperty([0, 0, 0, 1])
    cut_color = ColorProperty([1, 1, 1, 1])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("pos", "size", "kind", "color", "cut_color"):
            self.fbind(name, self._draw)
        self._draw()

    def _draw(self, *_args: Any) -> None:
        side = min(self.width, self.height)
        ox = self.x + (self.width - side) / 2
        oy = self.y + (self.height - side) / 2
        stroke = max(2.0, side * 0.045)

        def pts(data: tuple[float, ...]) -> list[float]:
            return [ox + v * side if i % 2 == 0 else oy + v * side for i, v in enumerate(data)]

        self.canvas.clear()
        with self.canvas:
            for shape, data in FIGURES.get(self.kind, FIGURES["none"]):
                Color(rgba=self.cut_color if shape.startswith("cut") else self.color)
                if shape == "disc":
                    cx, cy, r = data
                    d = 2 * r * side
                    Ellipse(pos=(ox + (cx - r) * side, oy + (cy - r) * side), size=(d, d))
                elif shape in ("half", "cuthalf"):
                    cx, cy, r, start, end = data
                    d = 2 * r * side
                    Ellipse(
                        pos=(ox + (cx - r) * side, oy + (cy - r) * side),
                        size=(d, d),
                        angle_start=start,
                        angle_end=end,
                    )
                elif shape == "ring":
                    cx, cy, r = data
                    Line(circle=(ox + cx * side, oy + cy * side, r * side), width=stroke * 0.8)
                elif shape == "arc":
                    cx, cy, r, start, end = data
                    Line(circle=(ox + cx * side, oy + cy * side, r * side, start, end), width=stroke * 0.5)
                elif shape == "quad":
                    Quad(points=pts(data))
                elif shape == "thin":
                    Line(points=pts(data), width=stroke * 0.5, cap="round")
                else:  # line, cut
                    width = stroke * (0.5 if shape == "cut" else 1.0)
                    Line(points=pts(data), width=width, cap="round", joint="round")
