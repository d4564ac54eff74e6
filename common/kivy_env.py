"""Kivy settings every Khiu screen (kiosk, survey tablet, counter terminal, hall board) runs with. Kivy
reads them from the environment when it is first imported (`KCFG_<SECTION>_<KEY>`), so the commands set
them with `setdefault` before importing Kivy: an office can still override any of them."""

from __future__ import annotations

import os
from pathlib import Path

MULTISAMPLES = "0"
"""Kivy's default of 2x multisampling doubles the window's colour and depth buffers and the fill work of
every frame: 64 MB of a 1080x1920 kiosk and most of a Full HD board's frame time without a GPU (a
simple frame: 26 ms with it, 2.6 ms without, on Mesa's software renderer). Our screens are text and
straight edges, where it only softens the rounded corners of the tiles. A device with a GPU to spare
can set KCFG_GRAPHICS_MULTISAMPLES=2 in its service's environment."""

DEVICE_KIVY_ENV: dict[str, str] = {
    "KIVY_NO_ARGS": "1",  # Kivy must not read our command line
    "KCFG_KIVY_EXIT_ON_ESCAPE": "0",
    "KCFG_GRAPHICS_MULTISAMPLES": MULTISAMPLES,
}


def set_device_kivy_env() -> None:
    """Set `DEVICE_KIVY_ENV` where the environment does not already say otherwise, and make Kivy's home
    folder (`KIVY_HOME`, else ~/.kivy) with its `mods`. Kivy makes them when first imported, checking
    first: two screens starting together on one machine (a kiosk and a board sharing /var/lib/khiu/kivy,
    the demo's three) raced, and the one that lost stopped with FileExistsError."""
    for key, value in DEVICE_KIVY_ENV.items():
        os.environ.setdefault(key, value)
    home = Path(os.environ.get("KIVY_HOME") or Path("~/.kivy")).expanduser()
    (home / "mods").mkdir(parents=True, exist_ok=True)
