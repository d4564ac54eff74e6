"""What a citizen would stumble on in a Kivy screen: text cut or running out of its box, a widget
spilling out of the panel that holds it, touch targets under 15 mm, text not shaped as Thai."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def widgets(root: Any) -> Iterator[Any]:
    yield root
    for child in root.children:
        yield from widgets(child)


def find(root: Any, cls_name: str) -> list[Any]:
    return [w for w in widgets(root) if type(w).__name__ == cls_name]


def by_text(root: Any, text: str) -> Any:
    """The visible widget showing `text` (its words, line breaks aside)."""
    for w in widgets(root):
        shown = getattr(w, "source_text", None) or getattr(w, "text", None)
        if isinstance(shown, str) and shown.replace("\n", "") == text and w.opacity > 0 and not w.disabled:
            return w
    raise AssertionError(f"nothing shows {text!r}")


def check_layout(root: Any) -> None:
    from kivy.metrics import mm
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    from common.ui.widgets import ThaiLabel

    for w in widgets(root):
        if not w.get_root_window() or w.opacity == 0:
            continue
        parent = w.parent
        nested = (
            parent is not None and parent is not w.get_root_window() and not isinstance(parent, ScrollView)
        )
        if nested and w.height > 0 and w.width > 0 and parent.opacity > 0:
            inside = (
                w.x >= parent.x - 1
                and w.right <= parent.right + 1
                and w.y >= parent.y - 1
                and w.top <= parent.top + 1
            )
            label = getattr(w, "text", "") or type(w).__name__
            where = f"{w.pos}, {w.size} in {parent.pos}, {parent.size}"
            assert inside, f"{label!r} spills out of {type(parent).__name__} ({where})"
        if isinstance(w, Label) and w.text.strip():
            assert w.font_script_name == "Thai", f"{w.text!r} is not shaped as Thai"
            tw, th = w.texture_size
            assert tw <= w.width + 1, f"{w.text!r} runs off its box ({tw} > {w.width})"
            if isinstance(w, ThaiLabel) and w.text_size[0]:
                assert th <= w.height + 1, f"{w.text!r} is cut ({th} > {w.height})"
        if isinstance(w, ButtonBehavior) and w.height > 0 and w.width > 0 and not w.disabled:
            assert w.height >= mm(15) - 1, f"{type(w).__name__} {getattr(w, 'text', '')!r} is under 15 mm"
            assert w.width >= mm(15) - 1, f"{type(w).__name__} {getattr(w, 'text', '')!r} is under 15 mm"
