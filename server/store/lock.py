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
killed server leaves no stale lock behind). An in-memory SQLite database takes none.

The admin commands that rewrite the database (`khiu admin migrate`, `khiu admin restore`) take the same
lock while they work, naming themselves: a server started meanwhile waits for them, and says which
command it waits for.

A running server looks at its lock now and then (`LockWatch`): a PostgreSQL restart ends the session that
held it, and a lock file removed by hand lets the next server take a new one. It takes the lock again
when it is free, and stops (`LockLost`) when another server took it meanwhile."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import socket
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from server.store.database import create_database_engine, is_sqlite

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"
SERVER = "khiu server"
MIGRATE = "khiu admin migrate"
RESTORE = "khiu admin restore"
"""Who holds the lock: its note (SQLite) or its session's application name (PostgreSQL) starts with it."""
ADMIN_PREFIX = "khiu admin "
WATCH_INTERVAL_S = 15.0
"""How often a running server looks at its lock: a second server refused at start retries every few
seconds under systemd, so one that took a lost lock is noticed within this."""


class ServerAlreadyRunning(RuntimeError):
    """Another server (or an admin command that rewrites the database) holds the office database;
    nothing was changed."""

    def __init__(self, message: str, *, by_server: bool = True) -> None:
        super().__init__(message)
        self.by_server = by_server
        """False when the holder is an admin command (a migrate, a restore), which ends by itself."""


class LockLost(ServerAlreadyRunning):
    """A running server's lock was lost (PostgreSQL restarted, the lock file removed) and another server
    took it before this one could take it again: two servers now serve one database."""


def _admin_command(holder: str) -> str | None:
    """The admin command named at the start of a holder's note or application name (None: a server)."""
    if not holder.startswith(ADMIN_PREFIX):
        return None
    return holder.split(":", 1)[0].split(" on ", 1)[0].strip()


def _refusal(where: str, holder: str) -> ServerAlreadyRunning:
    command = _admin_command(holder)
    if command is None:
        return ServerAlreadyRunning(
            f"another Khiu server is running on {where}: {holder}. Stop it first "
            "(sudo systemctl stop khiu-server); two servers would number the same tickets. "
            "มีเซิร์ฟเวอร์ Khiu อีกตัวใช้ฐานข้อมูลนี้อยู่ ให้หยุดตัวนั้นก่อน"
        )
    return ServerAlreadyRunning(
        f'"{command}" is working on {where} ({holder}). Wait for it to finish, then try again. '
        f"คำสั่ง {command} กำลังทำงานกับฐานข้อมูลนี้อยู่ ให้รอจนเสร็จแล้วลองใหม่",
        by_server=False,
    )


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
    """The lock of the database at `url`, taken by `holder` (`SERVER`, `MIGRATE`, `RESTORE`); `acquire`
    raises ServerAlreadyRunning when it is held."""

    def __init__(self, url: str, holder: str = SERVER) -> None:
        self.url = url
        self.holder = holder
        self._fd: int | None = None
        self._pg: Connection | None = None
        self._pg_key = 0
        self._engine: Engine | None = None
        self._wanted = False
        """Acquired and not released: `check` takes the lock again when it was lost."""

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
        self._wanted = True

    def check(self) -> bool:
        """Make sure the lock acquired is still this process's, taking it again when it was lost and is
        free. False: it could not be looked at (PostgreSQL down); the next check tries again. Raises
        LockLost when another server holds it now."""
        if not self._wanted:
            return True
        if self._still_held():
            return True
        lost = (
            "its lock file was removed or replaced"
            if is_sqlite(self.url)
            else "the database session that held it ended"
        )
        self._drop()
        try:
            self.acquire()
        except ServerAlreadyRunning as exc:
            self._wanted = False
            raise LockLost(
                f"this server lost its lock on the office database ({lost}) and {exc}",
                by_server=exc.by_server,
            ) from None
        except (OSError, SQLAlchemyError) as exc:
            log.warning("could not take the server's lock again (%s); trying again later", exc)
            return False
        log.warning("the server's lock on the office database was lost (%s); it holds it again", lost)
        return True

    def _still_held(self) -> bool:
        if self._fd is not None:
            path = _sqlite_lock_path(self.url)
            try:
                return path is not None and os.stat(path).st_ino == os.fstat(self._fd).st_ino
            except OSError:
                return False
        if self._pg is not None:
            try:
                held: int = self._pg.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND pid = pg_backend_pid() AND classid = 0 AND objid = :key AND objsubid = 1"
                    ),
                    {"key": self._pg_key},
                ).scalar_one()
            except SQLAlchemyError:
                return False
            return bool(held)
        return False  # acquired, then lost, and not taken again yet

    def release(self) -> None:
        self._wanted = False
        self._drop()

    def _drop(self) -> None:
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
            raise _refusal(str(path.with_suffix("")), holder) from None
        except BaseException:
            os.close(fd)
            raise
        if writable:
            since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            note = f"{self.holder}: process {os.getpid()} on {socket.gethostname()} since {since}\n".encode()
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
                {"name": f"{self.holder} on {socket.gethostname()}"[:63]},
            )
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
                raise _refusal("this PostgreSQL database", _pg_holder(connection, key))
        except BaseException:
            connection.close()
            engine.dispose()
            raise
        self._pg, self._engine, self._pg_key = connection, engine, key


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


class LockWatch:
    """A running server's look at its lock every `interval_s` (`ServerLock.check`), on a thread of its
    own; `on_lost` is called once, with the LockLost, when another server took it."""

    def __init__(
        self,
        lock: ServerLock,
        on_lost: Callable[[LockLost], None],
        *,
        interval_s: float = WATCH_INTERVAL_S,
    ) -> None:
        self.lock = lock
        self.interval_s = interval_s
        self._on_lost = on_lost
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and self.lock.held:
            self._thread = threading.Thread(target=self._run, name="lock-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.lock.check()
            except LockLost as exc:
                log.error("%s", exc)
                self._on_lost(exc)
                return
            except Exception:  # the watch must not end the server by itself
                log.exception("could not look at the server's lock")
