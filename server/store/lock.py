"""One server per office database. The server is the office's only sequencer (DESIGN.md, "The queue"): a
second one started on the same database (the service already running and `khiu server` typed by hand, or
a second machine given the same PostgreSQL URL) would take over the first one's broker sessions, each
would number tickets the other had already numbered, and the office would see replies come twice and
connections drop every second. So the server takes a lock before it touches the database or the broker,
and holds it while it runs:

- SQLite: an exclusive `flock` on `<database>.lock` beside the file, with the holder's process, machine
  and start time written in it for the message the next one gives;
- PostgreSQL: a session-level advisory lock, keyed by the schema, on a connection of its own (a second
  machine on the same database is refused too).

Either is released by the operating system or PostgreSQL when the process ends, however it ends (a
killed server leaves no stale lock behind). An in-memory SQLite database takes none."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import socket
import zlib
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from server.store.database import create_database_engine, is_sqlite

LOCK_SUFFIX = ".lock"


class ServerAlreadyRunning(RuntimeError):
    """Another server holds the office database; nothing was changed."""


def _sqlite_lock_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + LOCK_SUFFIX)


def _pg_key(connection: Connection) -> int:
    """The advisory lock's key: the same for every server on this database's schema, below 2**31 so that
    pg_locks shows it whole in `objid`."""
    schema: str = connection.execute(text("SELECT coalesce(current_schema(), '')")).scalar_one()
    return zlib.crc32(f"khiu-server:{schema}".encode()) & 0x7FFFFFFF


def _pg_holder(connection: Connection, key: int) -> str:
    row = connection.execute(
        text(
            "SELECT a.application_name, a.client_addr::text, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1"
        ),
        {"key": key},
    ).first()
    if row is None:
        return "another server"
    name, address = row[0], row[1]
    started: dt.datetime | None = row[2]
    where = f" from {address}" if address else ""
    since = f" since {started.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if started is not None else ""
    return f"{name or 'another server'}{where}{since}"


class ServerLock:
    """The lock of the database at `url`; `acquire` raises ServerAlreadyRunning when it is held."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._fd: int | None = None
        self._pg: Connection | None = None
        self._engine: Engine | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None or self._pg is not None

    def acquire(self) -> None:
        if self.held:
            return
        if is_sqlite(self.url):
            self._acquire_file()
        else:
            self._acquire_pg()

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the last descriptor releases the flock; the file stays for the next
        if self._pg is not None:
            connection, self._pg = self._pg, None
            with contextlib.suppress(Exception):
                connection.close()  # NullPool: the session ends, and with it the advisory lock
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _acquire_file(self) -> None:
        path = _sqlite_lock_path(self.url)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        writable = True
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except PermissionError:  # another user's lock file: a lock needs no write access, only the note
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            writable = False
        try:
            if writable and os.geteuid() == 0:
                # An admin command run as root (a restore, a migrate) must not leave the file the service
                # user has to open its own.
                folder = path.parent.stat()
                with contextlib.suppress(OSError):
                    os.fchown(fd, folder.st_uid, folder.st_gid)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another server"
            os.close(fd)
            raise ServerAlreadyRunning(
                f"another Khiu server is running on {path.with_suffix('')}: {holder}. Stop it first "
                "(sudo systemctl stop khiu-server); two servers would number the same tickets. "
                "มีเซิร์ฟเวอร์ Khiu อีกตัวใช้ฐานข้อมูลนี้อยู่ ให้หยุดตัวนั้นก่อน"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        if writable:
            since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            note = f"process {os.getpid()} on {socket.gethostname()} since {since}\n".encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, note, 0)
        self._fd = fd

    def _acquire_pg(self) -> None:
        engine = create_database_engine(self.url, poolclass=NullPool)
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            key = _pg_key(connection)
            connection.execute(
                text("SELECT set_config('application_name', :name, false)"),
                {"name": f"khiu server on {socket.gethostname()}"[:63]},
            )
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
                holder = _pg_holder(connection, key)
                raise ServerAlreadyRunning(
                    f"another Khiu server holds this PostgreSQL database: {holder}. Stop it first; two "
                    "servers would number the same tickets. "
                    "มีเซิร์ฟเวอร์ Khiu อีกตัวใช้ฐานข้อมูลนี้อยู่ ให้หยุดตัวนั้นก่อน"
                )
        except BaseException:
            connection.close()
            engine.dispose()
            raise
        self._pg, self._engine = connection, engine


def lock_holder(url: str) -> str | None:
    """Who holds the server's lock on the database at `url` (None: nobody), without keeping it: for
    `khiu admin restore`, which must not replace a database a server is using."""
    probe = ServerLock(url)
    try:
        probe.acquire()
    except ServerAlreadyRunning as exc:
        return str(exc)
    finally:
        probe.release()
    return None
