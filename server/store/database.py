"""Opening the office database, SQLite or PostgreSQL by URL, and bringing its schema up to date.

SQLite is set up for durability and one writer (REFERENCE.md, "SQLAlchemy 2.x"): WAL, synchronous FULL
(NORMAL can roll back recent commits on power loss: https://www.sqlite.org/pragma.html#pragma_synchronous),
a busy timeout, foreign keys on, and `BEGIN IMMEDIATE` for every write transaction so a writer takes the
lock at the start instead of failing at commit. Readers (reports, the web app) get their own engine with
a plain deferred `BEGIN`: under WAL they never block the writer. While the server runs, a
`WalCheckpointer` copies the WAL into the database file in the pauses between the writer's commits."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url

from common.paths import data_dir
from server.store.models import Base

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
"""A reader's checkpoint or a backup can hold the file briefly; ten seconds is far beyond either."""
WAL_AUTOCHECKPOINT_PAGES = 40_000
"""The writer's own checkpoint (160 MB of WAL at 4 KiB pages; SQLite's default is 1,000). SQLite starts
the WAL file again from its beginning only at a write that finds it all copied. An office pauses
between requests every few seconds, and the `WalCheckpointer` copies it then, so its WAL stays small.
Under writes without a pause (a benchmark's thousands of tickets a second, each about ten pages of
WAL) only the writer's own checkpoint copies it and starts it again, and that commit waits for the copy
and the database file's fsync: at 40,000 pages every two or three seconds, 16-38 ms each (10,000 pages
made it twice a second, 25-45 ms each). Few long waits cost the round trip's 99th percentile less than
many short ones: each holds up one request of each kiosk."""
CHECKPOINT_INTERVAL_S = 0.25
"""How often the `WalCheckpointer` looks for a pause in writing (a look is a read of the WAL index):
a pause that long means no request is waiting on a commit."""


def default_database_url() -> str:
    """The embedded default: `khiu.db` in the data directory."""
    return f"sqlite:///{data_dir() / 'khiu.db'}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_database_engine(url: str, *, writer: bool = True, **kwargs: Any) -> Engine:
    """An engine for `url`. `writer=False` makes a read-only-intent engine (deferred BEGIN on SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, begin="BEGIN IMMEDIATE" if writer else "BEGIN")
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the installed driver
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def _configure_sqlite(engine: Engine, *, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (the pysqlite recipe in the
        # SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # On the driver's own connection: through SQLAlchemy's execution path, this BEGIN cost the
        # sequencer about 13 µs more a batch.
        connection.connection.dbapi_connection.execute(begin)


class WalCheckpointer:
    """Copies a SQLite database's WAL into its file from a thread of its own when writing pauses, so the
    sequencer's commits seldom do it. By default the commit that takes the WAL past 1,000 pages copies
    it all and fsyncs the database file before it returns: at a busy office's rate that was one commit
    in a hundred or so taking 7-9 ms instead of about 1, the longest wait a kiosk saw. A PASSIVE
    checkpoint waits for no reader or writer and runs without the GIL
    (https://www.sqlite.org/wal.html#ckpt).

    It looks four times a second and checkpoints only when something was committed since its last
    checkpoint and nothing since its last look: an office pauses between requests every few seconds,
    so its WAL is copied while nobody waits. Copying while the sequencer commits is not free even from
    another thread: the checkpoint's fsync of the database file and the commit's fsync of the WAL
    queue on the same disk. Under writes without a pause (a benchmark), copying four times a second
    made one commit in about 200 take over 4 ms (ten kiosks' round trip, 2-core machine: 31-36 slow
    commits in 20 s against 14-18 when it waits for a pause; docs/benchmarks.md); the writer's own
    checkpoint at `WAL_AUTOCHECKPOINT_PAGES` bounds the WAL then."""

    def __init__(self, database: Path, *, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self.database = database
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: sqlite3.Connection | None = None
        """Opened at the first checkpoint and kept: one thread uses it at a time (the checkpointer's,
        or a caller's while it is not started)."""
        self._seen: int | None = None
        """`PRAGMA data_version` at the last look: it changes with every commit of another connection."""
        self._checkpointed: int | None = None
        """`PRAGMA data_version` when the last checkpoint started."""

    @classmethod
    def for_url(cls, url: str, **kwargs: Any) -> WalCheckpointer | None:
        """A checkpointer for a SQLite file at `url`; None for PostgreSQL (its own checkpointer does it)
        or an in-memory database."""
        parsed = make_url(url)
        database = parsed.database
        if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        return cls(Path(database), **kwargs)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def run_once(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, frames in the WAL, frames copied into the database file)."""
        busy, frames, copied = self._connect().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)

    def tick(self) -> bool:
        """One look at the database: checkpoint if something was written since the last complete
        checkpoint and nothing since the last look. True when it checkpointed. A checkpoint that could
        not copy everything (a reader still on an older snapshot, a report say) is tried again at the
        next look."""
        version = self._connect().execute("PRAGMA data_version").fetchone()[0]
        writing, self._seen = version != self._seen, version
        if writing or version == self._checkpointed:
            return False
        busy, frames, copied = self.run_once()
        if not busy and copied == frames:
            self._checkpointed = version
        return True

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = sqlite3.connect(
                self.database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
        return self._connection

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except sqlite3.Error as exc:  # the writer's safety net still checkpoints meanwhile
                log.warning("WAL checkpoint of %s failed: %s", self.database, exc)


def schema_metadata() -> list[MetaData]:
    """Every table the migrations create: the store's and the web app's (users, sessions, audit),
    whichever declarative base the web models use."""
    metadata = [Base.metadata]
    try:
        from server.web import models as web_models
    except ModuleNotFoundError:
        return metadata
    if web_models.Base.metadata is not Base.metadata:
        metadata.append(web_models.Base.metadata)
    return metadata


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (every start does this: an up-to-date schema is a no-op)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "empty", after)


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def describe_url(url: str) -> str:
    """The URL without its password, for logs."""
    return make_url(url).render_as_string(hide_password=True)
