"""The durable outbox of a device (DESIGN.md principle 2): every request is written here, and fsynced,
before it is published, and stays until the server's reply naming it arrives. After a reconnect or a
restart, everything still pending is sent again with its original event id; the server answers a
resend with its stored reply, so nothing is lost and nothing is applied twice.

SQLite in WAL mode with synchronous=FULL: a committed request or reply survives power loss
(https://www.sqlite.org/pragma.html#pragma_synchronous). Only the note that a request was sent again is
committed without a sync (`mark_sent`): losing it costs an early resend, nothing else.

A request costs two statements, each its own commit: `add` (which notes the first send when it is
made at once) and `settle`. The count of pending requests is kept in memory as well."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_PENDING = 100_000
"""A bound on what one device may hold while the server is away: a kiosk issues a few hundred tickets a
day, so this is weeks of offline work; past it `add` refuses rather than grow without end."""


class OutboxFull(Exception):
    """The outbox holds MAX_PENDING requests; the device must stop taking new work."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A request waiting for its reply."""

    event_id: str
    topic: str
    payload: bytes
    created_at: float
    attempts: int
    last_sent_at: float | None


@dataclass(frozen=True, slots=True)
class Answered:
    """A request and the reply that settled it (kept for a while so a device can show it again)."""

    event_id: str
    reply: bytes
    answered_at: float


_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    event_id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_sent_at REAL,
    answered_at REAL,
    reply BLOB
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (answered_at, created_at);
"""


class Outbox:
    """Thread-safe: the UI thread adds, the MQTT thread marks sends and replies."""

    def __init__(self, path: Path | str, *, max_pending: int = MAX_PENDING) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        (self._pending,) = self._db.execute(
            "SELECT count(*) FROM outbox WHERE answered_at IS NULL"
        ).fetchone()
        """Requests without a reply; this process is the outbox's only writer."""

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, event_id: str, topic: str, payload: bytes, *, sent: bool = False) -> None:
        """Store a request durably; `sent`: it is being published right now (its first send, noted in the
        same commit). Adding the same event id again changes nothing."""
        with self._lock:
            if self._pending >= self.max_pending:
                raise OutboxFull(f"{self._pending} requests are waiting for the server; not taking more")
            now = time.time()
            cur = self._db.execute(
                "INSERT OR IGNORE INTO outbox (event_id, topic, payload, created_at, attempts, last_sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (event_id, topic, payload, now, 1 if sent else 0, now if sent else None),
            )
            self._pending += cur.rowcount

    def mark_sent(self, event_id: str) -> None:
        """Note a later send, for the resend timer. Committed without a sync of its own: a mark lost to a
        power cut costs one early resend, which the server answers like the first, while a sync here
        would hold the lock that the reply's `settle` waits for (on a kiosk's SD card, a sync can take
        longer than the whole round trip). The next `add` or `settle` syncs it with its own."""
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_sent_at = ? WHERE event_id = ?",
                    (time.time(), event_id),
                )
            finally:
                self._db.execute("PRAGMA synchronous=FULL")

    def settle(self, event_id: str, reply: bytes) -> bool:
        """Record the reply to a request. True when it was pending (the first reply wins)."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE outbox SET answered_at = ?, reply = ? WHERE event_id = ? AND answered_at IS NULL",
                (time.time(), reply, event_id),
            )
            settled: bool = cur.rowcount == 1
            self._pending -= settled
            return settled

    def pending(self, *, limit: int = 1000, sent_before: float | None = None) -> list[Pending]:
        """Oldest first. With `sent_before`, only those last sent before that time, or never sent and
        added before it (one added a moment ago is being sent by `request` right now: not twice)."""
        query = "SELECT event_id, topic, payload, created_at, attempts, last_sent_at FROM outbox "
        query += "WHERE answered_at IS NULL "
        args: list[object] = []
        if sent_before is not None:
            query += "AND coalesce(last_sent_at, created_at) < ? "
            args.append(sent_before)
        query += "ORDER BY created_at, rowid LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [Pending(r[0], r[1], bytes(r[2]), r[3], r[4], r[5]) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(self._pending)

    def answered(self, event_id: str) -> Answered | None:
        with self._lock:
            row = self._db.execute(
                "SELECT event_id, reply, answered_at FROM outbox "
                "WHERE event_id = ? AND answered_at IS NOT NULL",
                (event_id,),
            ).fetchone()
        return None if row is None else Answered(row[0], bytes(row[1]), row[2])

    def purge_answered(self, older_than_s: float = 7 * 86400) -> int:
        """Forget settled requests after a week; pending ones are never purged."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM outbox WHERE answered_at IS NOT NULL AND answered_at < ?",
                (time.time() - older_than_s,),
            )
            return cur.rowcount
