"""A USB barcode scanner types like a keyboard: the QR code of a ticket arrives as a fast burst of
characters ending with Enter. `ScanBuffer` turns such bursts into `ScannedTicket`s and ignores slow key
presses (a person at a keyboard), so the terminal reacts only to scans.

The QR holds the ticket page's address, `{public_url}/t/{ticket_id}`, optionally with the number
(`?n=A012`); a code with only the number (`A012`) works too. Plain Python: the app feeds it the key
events with their time."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from common.vocabulary import TICKET_NUMBER_PATTERN

MAX_GAP_S = 0.08
"""Scanners send a character every few milliseconds; people type a key every 100 ms or more. A gap
longer than this starts a new burst."""
MAX_LENGTH = 300
"""A ticket URL is about 70 characters; anything longer is not ours (and must not grow without end)."""

_NUMBER = re.compile(TICKET_NUMBER_PATTERN)
_TICKET_PATH = re.compile(r"/t/([0-9a-fA-F-]{36})/?$")


@dataclass(frozen=True, slots=True)
class ScannedTicket:
    """What a scan told: the ticket's id (from its page address), its number, or both."""

    ticket_id: str | None
    number: str | None


def parse_scan(code: str) -> ScannedTicket | None:
    """The ticket in a scanned code, or None when it is not a Khiu ticket."""
    code = code.strip()
    if not code:
        return None
    upper = code.upper()
    if _NUMBER.match(upper):
        return ScannedTicket(ticket_id=None, number=upper)
    if _is_uuid(code):
        return ScannedTicket(ticket_id=code.lower(), number=None)
    parts = urlsplit(code)
    if parts.scheme not in ("http", "https"):
        return None
    found = _TICKET_PATH.search(parts.path)
    if found is None or not _is_uuid(found.group(1)):
        return None
    number = None
    for candidate in [*parse_qs(parts.query).get("n", []), parts.fragment]:
        if _NUMBER.match(candidate.upper()):
            number = candidate.upper()
            break
    return ScannedTicket(ticket_id=found.group(1).lower(), number=number)


def _is_uuid(value: str) -> bool:
    try:
        return len(value) == 36 and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


class ScanBuffer:
    """Collects key presses; `enter()` returns the ticket of a burst that was fast enough."""

    def __init__(self, max_gap_s: float = MAX_GAP_S) -> None:
        self.max_gap_s = max_gap_s
        self._chars: list[str] = []
        self._last: float | None = None
        self._slow = False

    def key(self, char: str, at: float) -> None:
        """One printable character typed at monotonic time `at`."""
        if self._last is not None and at - self._last > self.max_gap_s:
            self._chars.clear()  # a pause: what came before was typed, not scanned
            self._slow = False
        self._last = at
        if len(self._chars) < MAX_LENGTH:
            self._chars.append(char)
        else:
            self._slow = True  # too long to be a ticket: refuse the whole burst

    def enter(self, at: float) -> ScannedTicket | None:
        """Enter ends a burst: its ticket, or None (too slow, too long, or not a ticket)."""
        chars, last, too_long = "".join(self._chars), self._last, self._slow
        self.clear()
        if not chars or last is None or at - last > self.max_gap_s or too_long:
            return None
        return parse_scan(chars)

    def clear(self) -> None:
        self._chars.clear()
        self._last = None
        self._slow = False
