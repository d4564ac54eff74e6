"""Backups of an office and their restore: `khiu admin backup` and `khiu admin restore`.

One archive (`khiu-backup-{site}-{local time}.tar.gz`, readable by its owner only) holds everything needed
to bring the office back on a new machine:

- `database/khiu.db`: a consistent copy of the SQLite database made with SQLite's online backup API
  (https://www.sqlite.org/backup.html) while the server keeps writing, checked with `integrity_check`;
  or `database/khiu.pgdump`: `pg_dump --format=custom` of PostgreSQL, taken in the same snapshot as
  the row counts of the manifest (`pg_export_snapshot`);
- `broker/`: the device registry, password file, ACL, TLS certificates and keys, extra broker config;
- `config/office.toml`: the office file;
- `web/secret.key`: the web app's key (sessions and forms keep working after a restore);
- `manifest.json`: when, which Khiu and schema revision, the row count of every table, and the SHA-256 of
  every file, so a restore can tell a damaged archive before it touches anything.

A restore checks the archive first, refuses while the server runs (unless `--force`), keeps what it
replaces (the old SQLite file renamed, a dump of the old PostgreSQL data, replaced files in a
`before-restore-*` folder), checks the restored row counts against the manifest, then brings the schema
up to date (an archive from an older Khiu is migrated like any database)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import hashlib
import io
import json
import logging
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from server.diskspace import storage_full
from server.retention import AdminError, audit_cli, common_options, config_path, database_url, use_data_dir

if TYPE_CHECKING:
    from server.store.lock import ServerLock

log = logging.getLogger(__name__)

ARCHIVE_FORMAT = 1
ARCHIVE_PREFIX = "khiu-backup-"
ARCHIVE_SUFFIX = ".tar.gz"
DEFAULT_KEEP = 14
"""Archives of the same office kept in the backup folder: two weeks of the daily timer."""
SQLITE_MEMBER = "database/khiu.db"
PGDUMP_MEMBER = "database/khiu.pgdump"
MANIFEST = "manifest.json"
BROKER_FILES = ("devices.toml", "passwd", "acl")
BROKER_DIRS = ("tls", "conf.d")
PRIVATE_KEYS = frozenset({"broker/tls/ca.key"})
"""Files the broker never reads: restored owner-only even when the broker directory belongs to Mosquitto."""
DEFAULT_HTTP_PORT = 8000
SYSTEMD_UNIT = "khiu-server.service"
_SEARCH_PATH = re.compile(r"search_path\s*=\s*([A-Za-z0-9_]+)")
ALLOWED_FOLDERS = ("database/", "broker/", "config/", "web/")
MAX_SMALL_FILE = 16 * 1024 * 1024
"""Any member but the database is a few KiB: a huge one means the archive is not ours."""
CHUNK = 1024 * 1024
BACKUP_CREATED = "backup.create"
BACKUP_FAILED = "backup.failed"
"""The audit log's actions of `khiu admin backup`: the archive's name, or why it failed."""
FAILURE_KEPT = 600
"""Characters of a failure's message kept in the audit log."""
FULL_BELOW_BYTES = 1024 * 1024
"""A write that failed with less than this left free failed because the disk is full."""
KEEP_FREE_BYTES = 200_000_000
"""What a backup leaves free on the disk it writes to, at the least: the office keeps issuing tickets
while it runs, and on a Raspberry Pi the archives share the SD card with the database. 200 MB is weeks of
a busy office's database growth and logs, time to notice the today page's warning and copy archives off."""


class BackupError(AdminError):
    """The backup or restore cannot go on; nothing was changed unless the message says so."""


# ------------------------------------------------------------------------------------------------ manifest


@dataclass(frozen=True, slots=True)
class Manifest:
    """What an archive holds; `manifest.json` inside it."""

    format: int
    created_at: str
    khiu_version: str
    site: str
    database: str
    """`sqlite` or `postgresql`."""
    schema_revision: str | None
    tables: dict[str, int]
    """Row count of every table at the moment of the copy."""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Member name -> {"sha256": ..., "size": ...} (every member but the manifest)."""
    postgres_schema: str | None = None
    """The schema dumped when the database URL named one (search_path), else None: the whole database."""

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise BackupError(f"the archive's manifest cannot be read: {exc}") from exc


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    manifest: Manifest
    removed: list[Path]
    """Older archives deleted by `keep`."""


@dataclass(frozen=True, slots=True)
class RestoreResult:
    manifest: Manifest
    kept_aside: list[Path]
    """What the restore moved aside or dumped before replacing it."""
    config_written: Path | None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _khiu_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("khiu")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _stamp(now: dt.datetime) -> str:
    """Local (Bangkok) time in file names: what an operator looks for."""
    from common.thaidate import to_local

    return to_local(now).strftime("%Y%m%d-%H%M%S")


# ------------------------------------------------------------------------------------------------ databases


def _sqlite_path(url: str) -> Path:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"cannot back up the SQLite database {url!r}: it is not a file")
    return Path(database)


def _sqlite_facts(connection: sqlite3.Connection) -> tuple[dict[str, int], str | None]:
    names = [
        r[0]
        for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    tables = {name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names}
    revision = None
    if "alembic_version" in tables:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return tables, revision


def copy_sqlite(source: Path, target: Path) -> tuple[dict[str, int], str | None]:
    """A consistent copy of a live SQLite database (online backup API), checked, as one file."""
    if not source.is_file():
        raise BackupError(f"ไม่พบฐานข้อมูล / no database at {source}")
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # one step: a read transaction on the source, so the copy is one moment
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                raise BackupError(f"the copy of {source} failed its integrity check: {check[:5]}")
            return _sqlite_facts(dst)
        finally:
            dst.close()
    finally:
        src.close()


def check_sqlite(path: Path) -> tuple[dict[str, int], str | None]:
    """integrity_check and the row counts of a SQLite file."""
    connection = sqlite3.connect(path)
    try:
        check = connection.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise BackupError(f"the database in the archive is damaged: {check[:5]}")
        return _sqlite_facts(connection)
    finally:
        connection.close()


@dataclass(frozen=True, slots=True)
class PgTarget:
    """A PostgreSQL database as libpq tools take it: a URI without the password, which goes in the
    environment (`PGPASSWORD`), so it never shows in `ps`."""

    conninfo: str
    password: str | None
    schema: str | None

    @classmethod
    def of(cls, url: str) -> PgTarget:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        user = quote(parsed.username or "", safe="")
        host = parsed.host or "localhost"
        port = f":{parsed.port}" if parsed.port else ""
        conninfo = f"postgresql://{user + '@' if user else ''}{host}{port}/{quote(parsed.database or '')}"
        query = {k: v for k, v in parsed.query.items() if isinstance(v, str)}
        if query:
            conninfo += "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query.items())
        found = _SEARCH_PATH.search(str(parsed.query.get("options", "")))
        return cls(conninfo, parsed.password, found.group(1) if found else None)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"ไม่พบโปรแกรม {name} / {name} not found: install the PostgreSQL client "
            "(apt-get install postgresql-client), the same major version as the server or newer"
        )
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(
            f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}"
        )


def _pg_tables(connection: Any, schema: str | None) -> dict[str, int]:
    where = "table_schema = %s" if schema else "table_schema = current_schema()"
    params = (schema,) if schema else ()
    names = [
        r[0]
        for r in connection.execute(
            f"SELECT table_name FROM information_schema.tables WHERE {where} AND table_type = 'BASE TABLE' "
            "ORDER BY table_name",
            params,
        )
    ]
    prefix = f'"{schema}".' if schema else ""
    return {
        name: int(connection.execute(f'SELECT count(*) FROM {prefix}"{name}"').fetchone()[0])
        for name in names
    }


def _pg_revision(connection: Any, tables: dict[str, int], schema: str | None) -> str | None:
    if "alembic_version" not in tables:
        return None
    prefix = f'"{schema}".' if schema else ""
    row = connection.execute(f"SELECT version_num FROM {prefix}alembic_version").fetchone()
    return str(row[0]) if row else None


def _pg_connect(target: PgTarget) -> Any:
    import psycopg

    return psycopg.connect(target.conninfo, password=target.password, connect_timeout=10, autocommit=True)


def dump_postgres(url: str, out: Path) -> tuple[dict[str, int], str | None, str | None]:
    """`pg_dump --format=custom` in the snapshot the row counts were taken in (exact, even while the
    server writes); only the URL's schema when it names one."""
    target = PgTarget.of(url)
    pg_dump = _pg_tool("pg_dump")
    with _pg_connect(target) as connection:
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        schema = target.schema or connection.execute("SELECT current_schema()").fetchone()[0]
        tables = _pg_tables(connection, schema)
        if not tables:
            raise BackupError(f"the PostgreSQL schema {schema!r} has no tables: nothing to back up")
        revision = _pg_revision(connection, tables, schema)
        command = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
        command += [f"--schema={schema}", f"--file={out}", f"--dbname={target.conninfo}"]
        _run(command, target.env())
        connection.execute("COMMIT")
    return tables, revision, schema


def restore_postgres(url: str, dump: Path, schema: str | None) -> None:
    """Replace the schema's objects with the dump's, in one transaction."""
    target = PgTarget.of(url)
    if schema is not None and target.schema is not None and target.schema != schema:
        raise BackupError(
            f"the archive holds schema {schema!r}, the database URL uses {target.schema!r}: pg_restore "
            "restores into the schema it was dumped from; use a URL with that schema"
        )
    command = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges"]
    command += ["--single-transaction", "--exit-on-error", f"--dbname={target.conninfo}", str(dump)]
    _run(command, target.env())


def postgres_facts(url: str, schema: str | None) -> dict[str, int]:
    target = PgTarget.of(url)
    with _pg_connect(target) as connection:
        return _pg_tables(connection, schema or target.schema)


def _pg_size(url: str) -> int:
    """Bytes of the URL's schema on the PostgreSQL server, indexes included: more than its dump takes."""
    target = PgTarget.of(url)
    with _pg_connect(target) as connection:
        schema = target.schema or connection.execute("SELECT current_schema()").fetchone()[0]
        row = connection.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (schema,),
        ).fetchone()
        return int(row[0])


def space_needed(url: str) -> int:
    """An upper bound of what a backup of the database at `url` writes before its temporary copy is
    deleted: the copy (SQLite's pages, at most its file and WAL; or the dump, at most the schema's
    size) and the compressed archive, at most as big again."""
    from server.store.database import is_sqlite

    if is_sqlite(url):
        path = _sqlite_path(url)
        wal = path.with_name(path.name + "-wal")
        size = sum(p.stat().st_size for p in (path, wal) if p.is_file())
    else:
        size = _pg_size(url)
    return 2 * size


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def _check_space(to_dir: Path, need: int, keep_free: int) -> None:
    free = shutil.disk_usage(to_dir).free
    if free - need < keep_free:
        raise BackupError(
            f"ที่ว่างในดิสก์ไม่พอสำหรับสำรองข้อมูล / not enough free space for a backup in {to_dir}: "
            f"it needs up to {_mb(need)}, {_mb(free)} is free, and a backup leaves {_mb(keep_free)} for "
            "the queue. Copy old archives off the machine and delete them, or give --to a folder on "
            "another disk. Nothing was written."
        )


# ------------------------------------------------------------------------------------------------ backup


def _site_of(config: Path | None) -> str:
    if config is None or not config.is_file():
        return "office"
    from common.config import ConfigError, load_config

    try:
        return load_config(config).office.id
    except ConfigError:
        return "office"


def _broker_members(data_dir: Path) -> Iterator[tuple[str, Path]]:
    from common.paths import broker_dir

    base = broker_dir(data_dir)
    for name in BROKER_FILES:
        if (base / name).is_file():
            yield f"broker/{name}", base / name
    for folder in BROKER_DIRS:
        if (base / folder).is_dir():
            for path in sorted((base / folder).rglob("*")):
                if path.is_file() and not path.is_symlink():
                    yield f"broker/{path.relative_to(base).as_posix()}", path


def backup(
    *,
    url: str,
    data_dir: Path,
    config: Path | None,
    to_dir: Path,
    keep: int = DEFAULT_KEEP,
    now: dt.datetime | None = None,
    keep_free: int = KEEP_FREE_BYTES,
) -> BackupResult:
    """Write one archive of the office into `to_dir` (made owner-only); delete the oldest archives of the
    same office beyond `keep` (0 keeps all). Safe while the server runs. Refused before anything is
    written when it could leave less than `keep_free` bytes free on the disk of `to_dir`; a disk that
    fills all the same (something else writing) leaves no partial archive."""
    now = now or dt.datetime.now(dt.UTC)
    site = _site_of(config)
    try:
        to_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupError(
            f"ไม่สามารถเขียนไฟล์สำรองใน {to_dir} / cannot write backups to {to_dir}: {exc.strerror or exc}"
        ) from exc
    files: dict[str, bytes] = {}
    for name, source in _broker_members(data_dir):
        files[name] = source.read_bytes()
    if config is not None and config.is_file():
        files["config/office.toml"] = config.read_bytes()
    secret = data_dir / "web" / "secret.key"
    if secret.is_file():
        files["web/secret.key"] = secret.read_bytes()
    _check_space(to_dir, space_needed(url) + sum(map(len, files.values())), keep_free)
    path, manifest = _archive(url, to_dir, site, now, files)
    removed = _rotate(to_dir, site, keep) if keep > 0 else []
    log.info("backup of %s written to %s (%d files, %s)", site, path, len(manifest.files), manifest.database)
    return BackupResult(path, manifest, removed)


def _archive(
    url: str, to_dir: Path, site: str, now: dt.datetime, files: dict[str, bytes]
) -> tuple[Path, Manifest]:
    """The database copied beside `files` into one archive in `to_dir`; its temporary copy deleted, and
    a plain message when the disk filled up on the way."""
    with tempfile.TemporaryDirectory(prefix=".khiu-backup-", dir=to_dir) as work:
        try:
            return _archive_in(url, to_dir, site, now, files, Path(work))
        except (OSError, sqlite3.Error, BackupError) as exc:
            # SQLite's copy may say SQLITE_FULL or only "disk I/O error", pg_dump that it could not
            # write: the disk, measured before the temporary copy is deleted, tells.
            full = (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or storage_full(exc)
            if not (full or shutil.disk_usage(work).free < FULL_BELOW_BYTES):
                raise
            raise BackupError(
                f"ดิสก์เต็มระหว่างสำรองข้อมูล / the disk of {to_dir} filled up during the backup: no "
                "archive was kept and its temporary files are deleted. Free space and back up again."
            ) from exc


def _archive_in(
    url: str, to_dir: Path, site: str, now: dt.datetime, files: dict[str, bytes], work: Path
) -> tuple[Path, Manifest]:
    from server.store.database import is_sqlite

    if is_sqlite(url):
        database, member = Path(work) / "khiu.db", SQLITE_MEMBER
        tables, revision = copy_sqlite(_sqlite_path(url), database)
        kind, schema = "sqlite", None
    else:
        database, member = Path(work) / "khiu.pgdump", PGDUMP_MEMBER
        tables, revision, schema = dump_postgres(url, database)
        kind = "postgresql"
    listed = {name: {"sha256": _sha256(data), "size": len(data)} for name, data in files.items()}
    listed[member] = {"sha256": _file_sha256(database), "size": database.stat().st_size}
    manifest = Manifest(
        format=ARCHIVE_FORMAT,
        created_at=now.isoformat(),
        khiu_version=_khiu_version(),
        site=site,
        database=kind,
        schema_revision=revision,
        tables=tables,
        files=dict(sorted(listed.items())),
        postgres_schema=schema,
    )
    path = to_dir / f"{ARCHIVE_PREFIX}{site}-{_stamp(now)}{ARCHIVE_SUFFIX}"
    _write_archive(path, manifest, files, (member, database))
    return path, manifest


def _write_archive(
    path: Path, manifest: Manifest, files: dict[str, bytes], database: tuple[str, Path]
) -> None:
    """The archive, written beside its final name and renamed when complete (a crash leaves no half
    archive that looks whole). The database is streamed from its file: it can be large."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    mtime = int(dt.datetime.now(dt.UTC).timestamp())

    def entry(name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, mtime
        return info

    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            for name, data in [(MANIFEST, manifest.to_json()), *sorted(files.items())]:
                archive.addfile(entry(name, len(data)), io.BytesIO(data))
            member, source = database
            with source.open("rb") as handle:
                archive.addfile(entry(member, source.stat().st_size), handle)
            archive.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rotate(to_dir: Path, site: str, keep: int) -> list[Path]:
    mine = sorted(to_dir.glob(f"{ARCHIVE_PREFIX}{site}-*{ARCHIVE_SUFFIX}"))
    old = mine[:-keep] if len(mine) > keep else []
    for path in old:
        path.unlink()
        log.info("old backup %s deleted (keeping %d)", path.name, keep)
    return old


# ------------------------------------------------------------------------------------------------ verify


@dataclass(frozen=True, slots=True)
class Unpacked:
    """An archive checked and unpacked: its manifest, its small files in memory, its database on disk."""

    manifest: Manifest
    files: dict[str, bytes]
    """Every member but the database (broker files, office file, web key)."""
    database: Path


@contextlib.contextmanager
def unpacked(path: Path, *, work_dir: Path | None = None) -> Iterator[Unpacked]:
    """Check an archive and unpack it into a temporary folder (in `work_dir`, so the database can be
    moved into place from there): regular files under known folders only, each with the SHA-256 the
    manifest names, none missing or extra, a SQLite database that passes `integrity_check` with the
    manifest's row counts, a schema this Khiu knows. Raises BackupError; removed on exit."""
    if not path.is_file():
        raise BackupError(f"ไม่พบไฟล์สำรอง / no backup file at {path}")
    with tempfile.TemporaryDirectory(prefix=".khiu-restore-", dir=work_dir) as work:
        manifest, files, database = _unpack(path, Path(work))
        if manifest.database == "sqlite":
            tables, _revision = check_sqlite(database)
            if tables != manifest.tables:
                raise BackupError(
                    "the database in the archive does not have the row counts its manifest names"
                )
        _check_revision(manifest)
        yield Unpacked(manifest, files, database)


def verify(path: Path) -> Manifest:
    """Check an archive without restoring anything."""
    with unpacked(path) as archive:
        return archive.manifest


def _unpack(path: Path, work: Path) -> tuple[Manifest, dict[str, bytes], Path]:
    files: dict[str, bytes] = {}
    digests: dict[str, str] = {}
    database = work / "database"
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for info in archive:
                name = info.name
                if not info.isfile() or name.startswith("/") or ".." in Path(name).parts:
                    raise BackupError(f"the archive holds an unexpected entry {name!r}: not a Khiu backup")
                if not name.startswith(ALLOWED_FOLDERS) and name != MANIFEST:
                    raise BackupError(f"unexpected file {name!r} in the archive: not a Khiu backup")
                handle = archive.extractfile(info)
                if handle is None:
                    raise BackupError(f"cannot read {name!r} from the archive")
                if name in (SQLITE_MEMBER, PGDUMP_MEMBER):
                    digests[name] = _copy_with_digest(handle, database)
                elif info.size > MAX_SMALL_FILE:
                    raise BackupError(f"{name!r} in the archive is far too large ({info.size} bytes)")
                else:
                    files[name] = handle.read()
                    digests[name] = _sha256(files[name])
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"the archive {path} cannot be read (damaged or not a backup): {exc}") from exc
    raw = files.pop(MANIFEST, None)
    digests.pop(MANIFEST, None)
    if raw is None:
        raise BackupError(f"{path} has no {MANIFEST}: not a Khiu backup")
    manifest = Manifest.from_json(raw)
    if manifest.format != ARCHIVE_FORMAT:
        raise BackupError(
            f"archive format {manifest.format} is not known to this Khiu (knows {ARCHIVE_FORMAT})"
        )
    if set(digests) != set(manifest.files):
        missing = sorted(set(manifest.files) - set(digests))
        extra = sorted(set(digests) - set(manifest.files))
        raise BackupError(f"the archive does not match its manifest (missing {missing}, unexpected {extra})")
    for name, digest in digests.items():
        if digest != manifest.files[name]["sha256"]:
            raise BackupError(f"{name} in the archive is damaged (SHA-256 differs from the manifest)")
    expected = SQLITE_MEMBER if manifest.database == "sqlite" else PGDUMP_MEMBER
    if expected not in digests:
        raise BackupError(f"the archive has no database ({expected})")
    return manifest, files, database


def _copy_with_digest(source: IO[bytes], target: Path) -> str:
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_revision(manifest: Manifest) -> None:
    """Refuse an archive made by a newer Khiu (its schema has migrations this code does not know)."""
    from alembic.script import ScriptDirectory

    from server.store.database import alembic_config

    if manifest.schema_revision is None:
        return
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if manifest.schema_revision not in known:
        raise BackupError(
            f"the archive's database is at schema {manifest.schema_revision!r}, unknown to this Khiu "
            f"{_khiu_version()}: it was made by a newer version; upgrade Khiu first"
        )


# ------------------------------------------------------------------------------------------------ restore


def server_running(
    url: str, *, http_port: int | None = DEFAULT_HTTP_PORT, take: ServerLock | None = None
) -> list[str]:
    """Why we think the office server is running now (empty: it is not): a server holds the database's
    lock (server/store/lock.py; on PostgreSQL, one on another machine too), its systemd unit is active,
    something listens on its web port, or another process has the SQLite file open. With `take`, that
    lock is taken and kept when it is free (a restore holds it while it works), not only looked at."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.store.database import is_sqlite
    from server.store.lock import ServerAlreadyRunning, lock_holder

    reasons: list[str] = []
    holder: str | None = None
    try:
        if take is None:
            holder = lock_holder(url)
        else:
            try:
                take.acquire()
            except ServerAlreadyRunning as exc:
                holder = str(exc)
    except (OSError, SQLAlchemyError) as exc:  # the restore itself says what is wrong with the database
        log.debug("could not look for the server's lock: %s", exc)
    else:
        if holder is not None:
            reasons.append(holder)
    systemctl = shutil.which("systemctl")
    if systemctl is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            result = subprocess.run(
                [systemctl, "is-active", "--quiet", SYSTEMD_UNIT],
                capture_output=True,
                timeout=10,
                check=False,
            )
            if result.returncode == 0:
                reasons.append(f"systemd unit {SYSTEMD_UNIT} is active (systemctl stop {SYSTEMD_UNIT})")
    if http_port:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", http_port), timeout=0.5):
            reasons.append(f"something listens on the web port 127.0.0.1:{http_port}")
    if is_sqlite(url):
        path = _sqlite_path(url)
        for pid in processes_with_open(path):
            reasons.append(f"process {pid} has {path} open")
    return reasons


def processes_with_open(path: Path) -> list[int]:
    """Other processes that hold `path` (or its -wal) open, from /proc (Linux; processes of other users
    are seen only as root)."""
    wanted = {str(path.resolve()), str(path.resolve()) + "-wal"}
    found: list[int] = []
    me = os.getpid()
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        found.append(int(entry.name))
                        break
    return found


def _move_aside(path: Path, suffix: str, kept: list[Path]) -> None:
    if path.exists():
        aside = path.with_name(path.name + suffix)
        os.replace(path, aside)
        kept.append(aside)


def _write_owned(path: Path, data: bytes, *, private: bool = True, like_parent: bool = True) -> None:
    """Write atomically; as root, give the file its folder's owner (the service user must read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600 if private else 0o644)
        if like_parent and os.geteuid() == 0:
            parent = path.parent.stat()
            os.chown(tmp, parent.st_uid, parent.st_gid)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def restore(
    archive: Path,
    *,
    url: str,
    data_dir: Path,
    config_target: Path | None,
    force: bool = False,
    http_port: int | None = DEFAULT_HTTP_PORT,
    safety_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> RestoreResult:
    """Restore an archive over this office. Checks the archive and that the server is stopped first
    (`force` skips the latter); keeps what it replaces; migrates the restored database."""
    from server.store import Store
    from server.store.database import describe_url, is_sqlite
    from server.store.lock import RESTORE, ServerLock

    now = now or dt.datetime.now(dt.UTC)
    stage = _sqlite_path(url).parent if is_sqlite(url) else None
    if stage is not None:
        stage.mkdir(parents=True, exist_ok=True)
    # Held from the check to the migrate: a server started meanwhile waits, saying what for, rather than
    # open a database being replaced under it.
    lock = ServerLock(url, RESTORE)
    try:
        with unpacked(archive, work_dir=stage) as unpacked_archive:
            manifest = unpacked_archive.manifest
            if not force:
                reasons = server_running(url, http_port=http_port, take=lock)
                if reasons:
                    raise BackupError(
                        "เครื่องแม่ข่ายยังทำงานอยู่ หยุดก่อนกู้คืน / the server seems to be running; stop it "
                        "first (or pass --force): " + "; ".join(reasons)
                    )
            if (manifest.database == "sqlite") != is_sqlite(url):
                raise BackupError(
                    f"the archive holds a {manifest.database} database, the target {describe_url(url)} is "
                    "not: restore into the same kind of database"
                )
            kept = _restore_database(unpacked_archive, url, safety_dir or data_dir / "backups", now)
            written = _restore_files(unpacked_archive.files, data_dir, config_target, now, kept)
        store = Store(url)
        try:
            store.migrate()
            audit_cli(
                store.engine,
                "backup.restore",
                f"{archive.name} (made {manifest.created_at}); "
                f"kept aside: {', '.join(str(p) for p in kept) or '-'}",
            )
        finally:
            store.close()
    finally:
        lock.release()
    log.info("restored %s into %s; kept aside %s", archive, describe_url(url), kept)
    return RestoreResult(manifest, kept, written)


def _restore_database(archive: Unpacked, url: str, safety_dir: Path, now: dt.datetime) -> list[Path]:
    """Put the archive's database in place; what it replaced is kept (returned)."""
    manifest = archive.manifest
    kept: list[Path] = []
    if manifest.database == "sqlite":
        target = _sqlite_path(url)
        suffix = f".before-restore-{_stamp(now)}"
        os.chmod(archive.database, 0o600)
        if os.geteuid() == 0:
            parent = target.parent.stat()
            os.chown(archive.database, parent.st_uid, parent.st_gid)
        for path in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            if path.exists():
                aside = target.with_name(target.name + suffix + path.name[len(target.name) :])
                os.replace(path, aside)
                kept.append(aside)
        os.replace(archive.database, target)
        _fsync_dir(target.parent)
        return kept
    safety = safety_dir / f"before-restore-{_stamp(now)}.pgdump"
    safety.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(BackupError):  # an empty target has nothing to keep
        dump_postgres(url, safety)
        kept.append(safety)
    restore_postgres(url, archive.database, manifest.postgres_schema)
    tables = postgres_facts(url, manifest.postgres_schema)
    if tables != manifest.tables:
        raise BackupError(
            f"the restored database does not have the row counts of the manifest ({tables} vs "
            f"{manifest.tables}); the old data is in {kept[0] if kept else '(nothing was there)'}"
        )
    return kept


def _restore_files(
    files: dict[str, bytes], data_dir: Path, config_target: Path | None, now: dt.datetime, kept: list[Path]
) -> Path | None:
    """The broker files, the web key and (to `config_target`) the office file; replaced ones are kept
    (appended to `kept`). Returns where the office file was written, if it was."""
    from common.paths import broker_dir

    suffix = f".before-restore-{_stamp(now)}"
    broker = broker_dir(data_dir)
    for name, data in sorted(files.items()):
        if name.startswith("broker/"):
            path = broker / name.removeprefix("broker/")
            if path.exists() and path.read_bytes() != data:
                aside = broker / f"before-restore-{_stamp(now)}" / name.removeprefix("broker/")
                aside.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.replace(path, aside)
                kept.append(aside)
            _write_owned(path, data, like_parent=name not in PRIVATE_KEYS)
    secret = files.get("web/secret.key")
    if secret is not None:
        path = data_dir / "web" / "secret.key"
        if path.exists() and path.read_bytes() != secret:
            _move_aside(path, suffix, kept)
        _write_owned(path, secret)
    office = files.get("config/office.toml")
    if office is None or config_target is None:
        return None
    if config_target.exists() and config_target.read_bytes() != office:
        _move_aside(config_target, suffix, kept)
    _write_owned(config_target, office, private=False)
    return config_target


# ----------------------------------------------------------------------------------------------- command line


def register(sub: Any, admin_sub: Any) -> None:
    """Add `khiu admin backup` and `khiu admin restore`."""
    b = admin_sub.add_parser(
        "backup",
        help="one archive of the database, broker files and office file (สำรองข้อมูล)",
        description="Write a backup archive (safe while the server runs).",
    )
    common_options(b)
    b.add_argument(
        "--to", type=Path, metavar="DIR", help="folder for the archive (default: <data dir>/backups)"
    )
    b.add_argument(
        "--keep",
        type=int,
        default=DEFAULT_KEEP,
        metavar="N",
        help=f"keep the newest N archives of this office in that folder (default {DEFAULT_KEEP}; 0: all)",
    )
    b.set_defaults(handler=run_backup)

    r = admin_sub.add_parser(
        "restore",
        help="bring an office back from a backup archive (กู้คืนข้อมูล)",
        description="Restore a backup archive: checks it, refuses while the server runs, keeps what it "
        "replaces, migrates the restored database.",
    )
    r.add_argument("archive", type=Path, metavar="FILE", help="a khiu-backup-*.tar.gz")
    common_options(r)
    r.add_argument("--check", action="store_true", help="only check the archive and show what it holds")
    r.add_argument("--force", action="store_true", help="restore even though the server seems to run")
    r.add_argument(
        "--http-port",
        type=int,
        default=DEFAULT_HTTP_PORT,
        metavar="P",
        help=f"the server's web port, to tell whether it runs (default {DEFAULT_HTTP_PORT})",
    )
    r.set_defaults(handler=run_restore)


def _config_or_none(args: argparse.Namespace) -> Path | None:
    path = config_path(args)
    return path if path.is_file() else None


def run_backup(args: argparse.Namespace) -> int:
    from server.retention import open_existing

    url: str | None = None
    try:
        data = use_data_dir(args)
        url = database_url(args)
        result = backup(
            url=url,
            data_dir=data,
            config=_config_or_none(args),
            to_dir=args.to or data / "backups",
            keep=args.keep,
        )
        engine = open_existing(url)
        try:
            audit_cli(engine, BACKUP_CREATED, result.path.name)
        finally:
            engine.dispose()
    except AdminError as exc:
        sys.stderr.write(f"khiu: {exc}\n")
        if isinstance(exc, BackupError) and url is not None:
            _record_failure(url, str(exc))
        return 1
    except Exception as exc:  # one nobody foresaw (a bug, a failing disk): the manager must see it too
        if url is not None:
            _record_failure(url, f"{type(exc).__name__}: {exc}")
        raise  # with its traceback, for the journal
    counts = result.manifest.tables
    sys.stdout.write(
        f"สำรองข้อมูลแล้ว / backup written: {result.path}\n"
        f"  ฐานข้อมูล / database: {result.manifest.database}, "
        f"tickets {counts.get('tickets', 0)}, survey responses {counts.get('survey_responses', 0)}\n"
        f"  ไฟล์ / files: {len(result.manifest.files)}\n"
    )
    for path in result.removed:
        sys.stdout.write(f"  ลบไฟล์สำรองเก่า / old backup deleted: {path.name}\n")
    return 0


def _record_failure(url: str, reason: str) -> None:
    """A failed backup in the audit log, where the manager's today page finds it (the nightly timer's
    journal is read by nobody). Not when the database itself cannot be opened: that is said already."""
    from server.retention import open_existing

    try:
        engine = open_existing(url)
    except AdminError:
        return
    try:
        audit_cli(engine, BACKUP_FAILED, reason[:FAILURE_KEPT])
    except Exception as exc:  # the backup's own message is what matters; this one goes to the journal
        sys.stderr.write(f"khiu: the failure could not be recorded in the audit log: {exc}\n")
    finally:
        engine.dispose()


def run_restore(args: argparse.Namespace) -> int:
    try:
        if args.check:
            manifest = verify(args.archive)
            _describe(manifest)
            sys.stdout.write("ไฟล์สำรองสมบูรณ์ / the archive is complete and undamaged\n")
            return 0
        data = use_data_dir(args)
        config_target = args.config or (
            Path(os.environ["KHIU_CONFIG"]) if os.environ.get("KHIU_CONFIG") else None
        )
        result = restore(
            args.archive,
            url=database_url(args),
            data_dir=data,
            config_target=config_target,
            force=args.force,
            http_port=args.http_port,
        )
    except AdminError as exc:
        sys.stderr.write(f"khiu: {exc}\n")
        return 1
    _describe(result.manifest)
    sys.stdout.write("กู้คืนแล้ว / restored.\n")
    for path in result.kept_aside:
        sys.stdout.write(f"  เก็บของเดิมไว้ที่ / kept the old one: {path}\n")
    if result.config_written is None and "config/office.toml" in result.manifest.files:
        sys.stdout.write(
            "  ไฟล์ตั้งค่าสำนักงานไม่ได้เขียนทับ / the office file was not written: pass --config PATH "
            "(or set KHIU_CONFIG) to restore it\n"
        )
    sys.stdout.write("เริ่ม broker และเครื่องแม่ข่ายใหม่ / now restart the broker and the server\n")
    return 0


def _describe(manifest: Manifest) -> None:
    counts = manifest.tables
    sys.stdout.write(
        f"สำนักงาน / office: {manifest.site}, made {manifest.created_at} by Khiu {manifest.khiu_version}\n"
        f"  ฐานข้อมูล / database: {manifest.database}, schema {manifest.schema_revision}, "
        f"tickets {counts.get('tickets', 0)}, survey responses {counts.get('survey_responses', 0)}, "
        f"audit entries {counts.get('audit_log', 0)}\n"
        f"  ไฟล์ / files: {', '.join(sorted(manifest.files))}\n"
    )
