"""The Thai+Latin font of the pages, served by the server itself (no CDN): the stylesheet asks for a
locally installed Sarabun first and falls back to this file, so every browser in the office shows the
same readable Thai without reaching the internet."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from fastapi import HTTPException
from starlette.responses import FileResponse, Response

from server.web.security import Access, guarded_router

logger = logging.getLogger(__name__)

assets = guarded_router(Access.anonymous)

FONT_DIRS: tuple[Path, ...] = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

FONT_FILES: dict[str, tuple[str, ...]] = {
    # face: candidate file names, best first. Sarabun when the office installed it; else TLWG's Loma
    # (Debian fonts-thai-tlwg), a plain sans with Thai and Latin; Garuda as the last resort.
    "regular": ("Sarabun-Regular.ttf", "Loma.ttf", "Waree.ttf", "Garuda.ttf"),
    "bold": ("Sarabun-Bold.ttf", "Loma-Bold.ttf", "Waree-Bold.ttf", "Garuda-Bold.ttf"),
}


@lru_cache(maxsize=4)
def font_file(face: str) -> Path | None:
    """The installed file for a face, or None (the browser then uses its own fonts)."""
    for name in FONT_FILES.get(face, ()):
        for base in FONT_DIRS:
            if not base.is_dir():
                continue
            found = next(iter(sorted(base.rglob(name))), None)
            if found is not None:
                return found
    if face in FONT_FILES:
        logger.warning(
            "no Thai font file for the web pages (install fonts-thai-tlwg); browsers use their own"
        )
    return None


@assets.get("/fonts/{face}.ttf")
def font(face: str) -> Response:
    path = font_file(face)
    if path is None:
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type="font/ttf", headers={"Cache-Control": "public, max-age=604800"})
