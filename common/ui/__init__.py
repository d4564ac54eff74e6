"""What every Kivy app of Khiu shares (the kiosk, the hall board, the counter terminal).

- `setup()`: register the Thai+Latin font and the kv rules; call it once before building widgets.
- `common.ui.widgets`: `ThaiLabel` (wraps Thai at word boundaries), `ThaiButton`, `TouchTile`; every
  `Label` gets the Thai font and `font_script_name: "Thai"`.
- `common.ui.thai`: the line breaking itself (PyThaiNLP newmm + measuring), testable without a window.
- `common.ui.theme`: `Theme`, sizes that follow the window and a large-text / high-contrast mode.
- `common.ui.clock`: `kivy_handoff` (the one thread crossing: give it to `MqttLink(handoff=...)`) and
  `redraw_trigger` (coalesced redraws).
- `common.ui.testing`: `KivyDriver` to show widgets, tap them and save screenshots under Xvfb.

Importing this package does not import Kivy (a window opens on first import of kivy.core.window), so a
command line can import it cheaply; `setup()` and the submodules above do.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

_done = False


def setup(font_regular: Path | None = None, font_bold: Path | None = None) -> None:
    """Register the Thai+Latin font as `widgets.THAI_FONT` and load the shared kv rules (idempotent).

    The font defaults to `kiosk.fonts.thai_font_path` (Garuda, Loma, Laksaman or Sarabun from Debian
    `fonts-thai-tlwg`), which raises an error naming the package when none is installed."""
    global _done
    if _done:
        return
    from kivy.core.text import LabelBase
    from kivy.lang import Builder

    if font_regular is None:
        from kiosk.fonts import thai_font_path

        font_regular = thai_font_path(bold=False)
        font_bold = font_bold or thai_font_path(bold=True)
    from common.ui.widgets import KV_RULES, THAI_FONT

    LabelBase.register(name=THAI_FONT, fn_regular=str(font_regular), fn_bold=str(font_bold or font_regular))
    Builder.load_string(KV_RULES, filename="common-ui.kv")
    log.info("Thai font for the screens: %s", font_regular)
    _done = True
