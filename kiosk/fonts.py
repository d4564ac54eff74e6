"""Finds one font that covers Thai *and* Latin, for the printed ticket and the Kivy screens.

Kivy has no font fallback and a ticket number like "A012" sits next to Thai on every line, so a
Thai-only font (Noto Sans Thai has no Latin letters) shows boxes: we need one font with both
(REFERENCE.md, "Kivy"; DOMAIN.md, "Fonts"). Debian's `fonts-thai-tlwg` gives Garuda, Loma and Laksaman
(Laksaman is TLWG's TH Sarabun); Sarabun itself is used when an office installed it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

DEBIAN_PACKAGE = "fonts-thai-tlwg"

FAMILIES: tuple[str, ...] = ("Garuda", "Loma", "Laksaman", "Sarabun", "TH Sarabun New", "TH SarabunPSK")
"""Families covering Thai and Latin, best first for a ticket and a touchscreen."""

_FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local" / "share" / "fonts",
    Path.home() / ".fonts",
)
"""Searched when fontconfig (`fc-list`) is not installed."""

_KNOWN_FILES: dict[str, tuple[str, str]] = {
    # family: (regular file name, bold file name), as shipped by fonts-thai-tlwg and Google Fonts.
    "Garuda": ("Garuda.ttf", "Garuda-Bold.ttf"),
    "Loma": ("Loma.ttf", "Loma-Bold.ttf"),
    "Laksaman": ("Laksaman.ttf", "Laksaman-Bold.ttf"),
    "Sarabun": ("Sarabun-Regular.ttf", "Sarabun-Bold.ttf"),
    "TH Sarabun New": ("THSarabunNew.ttf", "THSarabunNew Bold.ttf"),
    "TH SarabunPSK": ("THSarabun.ttf", "THSarabun Bold.ttf"),
}

_FC_TIMEOUT_S = 10.0
"""fc-list answers from its cache in milliseconds; the first run after installing fonts rebuilds it."""


class ThaiFontNotFoundError(RuntimeError):
    """No installed font covers both Thai and Latin; the message names the package to install."""


def thai_font_path(bold: bool = False) -> Path:
    """The file of the best installed Thai+Latin font (bold face when asked and available).

    Raises ThaiFontNotFoundError naming the Debian package when none is installed.
    """
    return _find(bold)


@lru_cache(maxsize=2)
def _find(bold: bool) -> Path:
    candidates = _from_fontconfig() or _from_known_dirs()
    for family in FAMILIES:
        faces = candidates.get(family.casefold())
        if not faces:
            continue
        wanted = faces.get("bold" if bold else "regular")
        if wanted is not None:
            return wanted
        fallback = faces.get("regular") or faces.get("bold")
        if fallback is not None:
            log.warning("font %s has no %s face; using %s", family, "bold" if bold else "regular", fallback)
            return fallback
    raise ThaiFontNotFoundError(
        "ไม่พบฟอนต์ภาษาไทย / No font covering Thai and Latin was found "
        f"(looked for {', '.join(FAMILIES)}). Install the Debian package {DEBIAN_PACKAGE}: "
        f"sudo apt-get install {DEBIAN_PACKAGE}"
    )


def _from_fontconfig() -> dict[str, dict[str, Path]]:
    """Regular and bold faces of the wanted families as fontconfig lists them; empty without fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return {}
    try:
        out = subprocess.run(
            [fc_list, "--format", "%{family[0]}|%{style[0]}|%{file}\\n", ":lang=th"],
            capture_output=True,
            text=True,
            timeout=_FC_TIMEOUT_S,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("fc-list failed (%s); searching font folders instead", exc)
        return {}
    wanted = {f.casefold() for f in FAMILIES}
    faces: dict[str, dict[str, Path]] = {}
    for line in out.splitlines():
        parts = line.split("|", 2)
        if len(parts) != 3:
            continue
        family, style, file = (p.strip() for p in parts)
        face = _face(style)
        if family.casefold() in wanted and face is not None:
            faces.setdefault(family.casefold(), {}).setdefault(face, Path(file))
    return faces


def _face(style: str) -> str | None:
    """'regular' or 'bold' for an upright style; None for italic, oblique, light and the like."""
    s = style.casefold()
    if any(word in s for word in ("italic", "oblique", "light", "thin", "medium", "semi", "extra")):
        return None
    if s in ("regular", "normal", "book", "roman"):
        return "regular"
    if s == "bold":
        return "bold"
    return None


def _from_known_dirs() -> dict[str, dict[str, Path]]:
    """The wanted families found by their usual file names under the standard font folders."""
    faces: dict[str, dict[str, Path]] = {}
    for family, (regular, bold) in _KNOWN_FILES.items():
        for face, name in (("regular", regular), ("bold", bold)):
            for root in _FONT_DIRS:
                if not root.is_dir():
                    continue
                found = next(iter(sorted(root.rglob(name))), None)
                if found is not None:
                    faces.setdefault(family.casefold(), {})[face] = found
                    break
    return faces
