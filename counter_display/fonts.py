"""The face of ticket numbers on the board and the counter terminal.

Read from 10 m, "A012" must never look like "AO12": Garuda's zero is as round as its O. Waree Bold
(Debian `fonts-thai-tlwg`, the package that already gives Garuda; its Latin comes from DejaVu Sans) has
a narrow zero and heavy strokes, so numbers use it when installed, and the shared Thai font otherwise.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

NUMBER_FONT = "KhiuNumbers"
"""Kivy font name of the ticket-number face (registered by `register_number_font`)."""

_CANDIDATES = (
    Path("/usr/share/fonts/truetype/tlwg/Waree-Bold.ttf"),
    Path("/usr/share/fonts/opentype/tlwg/Waree-Bold.otf"),
)


@lru_cache(maxsize=1)
def number_font_path() -> Path | None:
    """Waree Bold if installed, else None (the caller falls back to the Thai font)."""
    for path in _CANDIDATES:
        if path.is_file():
            return path
    fc_match = shutil.which("fc-match")
    if fc_match is not None:
        try:
            out = subprocess.run(
                [fc_match, "--format", "%{family[0]}|%{file}", "Waree:bold"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        family, _, file = out.partition("|")
        if family.strip().casefold() == "waree" and Path(file).is_file():
            return Path(file)
    return None


def register_number_font() -> str:
    """Register `NUMBER_FONT` with Kivy (call after `common.ui.setup()`); returns the font name."""
    from kivy.core.text import LabelBase

    path = number_font_path()
    if path is None:
        from kiosk.fonts import thai_font_path

        path = thai_font_path(bold=True)
        log.info("Waree Bold not found: ticket numbers use %s", path)
    LabelBase.register(name=NUMBER_FONT, fn_regular=str(path), fn_bold=str(path))
    return NUMBER_FONT
