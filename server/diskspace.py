"""Free space where the server writes: its data folder (web keys, broker files, backups, logs) and, on
SQLite, the database file's disk. An office server is often a Raspberry Pi on a 16-32 GB card that
also keeps the nightly backups, and a full disk stops the queue: the database cannot grow, so every
request is answered `internal_error` until space is freed (nothing half-written stays: a refused
request is not stored, and the sequencer carries on by itself once there is room). The manager's
dashboard says so while there is still time (`LOW_FREE_BYTES`), and the log says plainly why requests
fail."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

log = logging.getLogger(__name__)

LOW_FREE_BYTES = 1_000_000_000
"""Below 1 GB free the dashboard warns: weeks of an office's database and logs, a few nightly backups."""

WATCH_INTERVAL_S = 600.0
"""How often the running server looks at its disks: a card fills over days, not minutes."""

POSTGRES_DISK_FULL = "53100"
"""PostgreSQL's SQLSTATE `disk_full`."""


@dataclass(frozen=True, slots=True)
class DiskSpace:
    """The filesystem holding `path`."""

    path: Path
    free: int
    total: int

    def low(self, threshold: int | None = None) -> bool:
        """Less than `threshold` free (`LOW_FREE_BYTES` when not given)."""
        return self.free < (LOW_FREE_BYTES if threshold is None else threshold)


def disks(paths: Iterable[Path]) -> list[DiskSpace]:
    """Each filesystem under `paths` once (the first path that names it), measured where the path is or,
    when it does not exist yet, at its nearest existing parent. One that cannot be read is left out."""
    seen: set[int] = set()
    found: list[DiskSpace] = []
    for path in paths:
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is None:
            continue
        try:
            device = os.stat(existing).st_dev
            usage = shutil.disk_usage(existing)
        except OSError:
            continue
        if device in seen:
            continue
        seen.add(device)
        found.append(DiskSpace(path, usage.free, usage.total))
    return found


def database_folder(url: str | URL) -> Path | None:
    """The folder of a SQLite database file; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).resolve().parent


def server_disks(data_dir: Path, database_url: str | URL) -> list[DiskSpace]:
    """The disks the server writes to: its data folder's and, on SQLite, the database file's."""
    folders = [data_dir]
    database = database_folder(database_url)
    if database is not None:
        folders.append(database)
    return disks(folders)


def storage_full(error: BaseException) -> bool:
    """True when `error`, or what it wraps, is the database saying it could not grow: SQLite's
    SQLITE_FULL, PostgreSQL's disk_full."""
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if (
            isinstance(current, sqlite3.Error)
            and getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        ):
            return True
        if getattr(current, "sqlstate", None) == POSTGRES_DISK_FULL:
            return True
        orig = getattr(current, "orig", None)  # SQLAlchemy's wrapper of a driver's error
        pending += [orig if isinstance(orig, BaseException) else None, current.__cause__, current.__context__]
    return False


def describe(space: DiskSpace) -> str:
    """`0.8 GB free of 29.1 GB` (decimal gigabytes, as a card's label counts them)."""
    return f"{space.free / 1e9:.1f} GB free of {space.total / 1e9:.1f} GB"


class DiskWatch:
    """The server's log on its disks: a warning when one has less than `threshold` free (at start, and
    once when it gets there while the server runs) and a line when it has room again. The today page
    says it too, but only to a manager who opens it."""

    def __init__(
        self,
        measure: Callable[[], list[DiskSpace]],
        *,
        threshold: int | None = None,
        interval_s: float = WATCH_INTERVAL_S,
    ) -> None:
        self._measure = measure
        self.threshold = threshold
        """None: `LOW_FREE_BYTES`."""
        self._interval_s = interval_s
        self._low: set[Path] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> list[DiskSpace]:
        """Measure now; log what changed since the last look. The disks that are low."""
        low = [space for space in self._measure() if space.low(self.threshold)]
        for space in low:
            if space.path not in self._low:
                log.warning(
                    "the disk of %s is nearly full (%s): when it is full, no ticket can be issued",
                    space.path,
                    describe(space),
                )
        for path in self._low - {space.path for space in low}:
            log.info("the disk of %s has room again", path)
        self._low = {space.path for space in low}
        return low

    def start(self) -> None:
        """`check` now, then every `interval_s` on a thread of its own until `stop`."""
        self.check()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="disk-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.check()
            except Exception:  # a look that failed is not worth stopping the server for
                log.exception("could not measure the server's disks")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
