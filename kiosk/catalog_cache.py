"""The kiosk's copy of the catalog, so it starts and issues (offline) tickets without the server.

The server keeps the catalog retained on `khiu/{site}/catalog`; each one the kiosk receives replaces a
JSON file in its data directory. At start the kiosk shows that file; without one (a new kiosk that has
never met the server) it builds the service list from the office TOML, every service open.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from common.contract import (
    Catalog,
    DecodeFailure,
    decode,
)

log = logging.getLogger(__name__)


class CatalogCache:
    """One JSON file holding the last catalog received, byte for byte as the server sent it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, site: str | None = None) -> Catalog | None:
        """The cached catalog, or None when there is none (or it is unreadable, or of another office)."""
        try:
            payload = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read the cached catalog %s: %s", self.path, exc)
            return None
        message = decode(payload, expect=(Catalog,))
        if isinstance(message, DecodeFailure):
            log.warning("ignoring the cached catalog %s: %s", self.path, message.reason)
            return None
        assert isinstance(message, Catalog)
        if site is not None and message.office.id != site:
            log.warning(
                "ignoring the cached catalog of office %s (this kiosk is in %s)", message.office.id, site
            )
            return None
        return message

    def save(self, payload: bytes) -> None:
        """Replace the cache atomically (a power cut leaves the old file or the new one, never half)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(tmp, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
