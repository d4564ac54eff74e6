"""First start without a default password: while no user exists, the app asks for the first
administrator on /setup, guarded by a one-time code that only someone with access to the server (its log
or its data directory) can read. A stranger on the office LAN cannot claim the office."""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from pathlib import Path

from common.paths import write_private_file

logger = logging.getLogger(__name__)

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: the code is read off a screen and typed."""


def new_setup_code() -> str:
    """Twelve characters in three groups (about 60 bits): `K7QM-3XRT-PWZ9`."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(chars[i : i + 4] for i in range(0, 12, 4))


def _canonical(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in _ALPHABET)


class FirstRun:
    """The one-time setup code of an office with no users. Kept in `path` (owner-only) so a restart
    before setup keeps the code that was printed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._code: str | None = None
        self._lock = threading.Lock()

    @property
    def pending(self) -> bool:
        return self._code is not None

    def arm(self) -> str:
        """Make (or reuse) the code and tell the operator where it is."""
        with self._lock:
            code = self._read() or new_setup_code()
            self._write(code)
            self._code = code
        logger.warning(
            "no users yet: open /setup in a browser and enter the one-time setup code %s "
            "(also in %s) to create the first administrator",
            code,
            self.path,
        )
        return code

    def check(self, code: str) -> bool:
        with self._lock:
            if self._code is None:
                return False
            return hmac.compare_digest(_canonical(code), _canonical(self._code))

    def disarm(self) -> None:
        """Setup is done: the code is spent."""
        with self._lock:
            self._code = None
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                logger.warning("could not remove the spent setup code %s: %s", self.path, exc)

    def _read(self) -> str | None:
        try:
            code = self.path.read_text(encoding="ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return code if len(_canonical(code)) == 12 else None

    def _write(self, code: str) -> None:
        write_private_file(self.path, code + "\n")
