"""Ticket numbers a kiosk gives while the server is unreachable.

The server is the only sequencer (DESIGN.md principle 1), so an offline number must never be one the
server could give: it is `{prefix}{series}{seq:02d}` (AX05), the kiosk's own offline letter in second
place where a server number has a digit (common/vocabulary.py, TICKET_NUMBER_PATTERN). The sequence is
per prefix per local day and kept in a small file in the kiosk's data directory, written and fsynced
before the number is shown or printed: a kiosk restarted mid-morning must not give AX05 twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from pathlib import Path

from common.vocabulary import PREFIX_PATTERN, TICKET_NUMBER_PATTERN

log = logging.getLogger(__name__)

MAX_SEQUENCE = 9999
"""The number pattern allows four digits; a kiosk offline all day issues a few hundred at most."""

_PREFIX_RE = re.compile(PREFIX_PATTERN)
_NUMBER_RE = re.compile(TICKET_NUMBER_PATTERN)


class OfflineNumbersExhausted(RuntimeError):
    """The day's offline sequence of a prefix is used up; staff must issue numbers by hand."""


class OfflineNumbers:
    """The offline sequences of one kiosk. Main thread only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._day: str | None = None
        self._seq: dict[str, int] = {}
        self._load()

    def next_number(self, prefix: str, series: str, day: dt.date) -> str:
        """The next offline number of `prefix` on `day`, durably recorded before it is returned."""
        if not _PREFIX_RE.match(prefix) or not _PREFIX_RE.match(series):
            raise ValueError(f"prefix {prefix!r} and series {series!r} must each be one capital letter")
        if day.isoformat() != self._day:
            if self._day is not None:
                log.info("new local day %s: offline sequences restart (were %s)", day, self._seq)
            self._day, self._seq = day.isoformat(), {}
        seq = self._seq.get(prefix, 0) + 1
        if seq > MAX_SEQUENCE:
            raise OfflineNumbersExhausted(f"offline numbers of prefix {prefix} are used up for {day}")
        self._seq[prefix] = seq
        self._save()
        number = f"{prefix}{series}{seq:02d}"
        assert _NUMBER_RE.match(number), number
        return number

    def issued_today(self, prefix: str, day: dt.date) -> int:
        """How many offline numbers of `prefix` were given on `day`."""
        return self._seq.get(prefix, 0) if day.isoformat() == self._day else 0

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            # Losing the file could repeat a number; the server then refuses the duplicate
            # (`duplicate_number`) and staff see it, which beats not starting at all.
            log.error(
                "offline numbers file %s is unreadable (%s); starting the sequences again", self.path, exc
            )
            return
        day = raw.get("day")
        seq = raw.get("seq")
        if isinstance(day, str) and isinstance(seq, dict):
            self._day = day
            self._seq = {k: int(v) for k, v in seq.items() if isinstance(v, int) and _PREFIX_RE.match(k)}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        data = json.dumps({"day": self._day, "seq": self._seq}, sort_keys=True).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
