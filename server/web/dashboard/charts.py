"""Charts drawn on the server as inline SVG: no chart library, no script, nothing from the internet.

The pages' Content-Security-Policy forbids inline `style` attributes, so sizes are SVG geometry
(`width`, `height`, `x`, `y` attributes), which the policy does not touch; colours come from the
dashboard's stylesheet through class names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label, its value, and the text shown for it."""

    label: str
    value: float
    shown: str
    tone: str = ""
    """Extra class for the bar (`warn`, `muted`)."""


def meter(value: float | None, maximum: float, *, tone: str = "", label: str = "") -> Markup:
    """A thin horizontal bar (0..maximum) to sit in a table cell beside its number."""
    width = 0.0 if value is None or maximum <= 0 else max(0.0, min(100.0, value / maximum * 100))
    title = f"<title>{escape(label)}</title>" if label else ""
    return Markup(
        f'<svg class="meter {escape(tone)}" viewBox="0 0 100 8" preserveAspectRatio="none" '
        f'role="img" aria-hidden="{"false" if label else "true"}">{title}'
        f'<rect class="meter-track" x="0" y="0" width="100" height="8" rx="2"/>'
        f'<rect class="meter-bar" x="0" y="0" width="{width:.2f}" height="8" rx="2"/></svg>'
    )


def columns(bars: Sequence[Bar], *, title: str, height: int = 160) -> Markup:
    """A column chart (e.g. tickets by hour): one column per bar, its value above and label below."""
    if not bars:
        return Markup("")
    step = max(30, min(64, 640 // len(bars)))
    width = step * len(bars)
    top = 18
    bottom = 22
    plot = height - top - bottom
    biggest = max((b.value for b in bars), default=0) or 1
    parts = [
        # Natural size in pixels (attributes, not CSS): text stays 12 px; a phone shrinks it to fit.
        f'<svg class="columns" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="0" y1="{top + plot}" x2="{width}" y2="{top + plot}"/>',
    ]
    show_values = step >= 40
    label_every = -(-36 // step)  # crowded labels: every n-th only
    for i, bar in enumerate(bars):
        h = plot * bar.value / biggest
        x = i * step + 8
        y = top + plot - h
        parts.append(
            f'<g class="col {escape(bar.tone)}">'
            f'<rect x="{x}" y="{y:.1f}" width="{step - 16}" height="{h:.1f}" rx="3">'
            f"<title>{escape(bar.label)}: {escape(bar.shown)}</title></rect>"
            + (
                f'<text class="value" x="{x + (step - 16) / 2}" y="{y - 4:.1f}">{escape(bar.shown)}</text>'
                if show_values
                else ""
            )
            + (
                f'<text class="label" x="{x + (step - 16) / 2}" y="{height - 6}">{escape(bar.label)}</text>'
                if i % label_every == 0
                else ""
            )
            + "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
