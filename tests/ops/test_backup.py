"""Backups and restore, on SQLite and PostgreSQL: an archive made while the office keeps working is
consistent; a restore brings back exactly what the archive holds, keeps what it replaces, refuses a
damaged archive and a running server, and leaves an office that starts."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from common.cli import main
from common.contract import TicketIssued, TicketRequest
from server.backup import (
    BackupError,
    RestoreResult,
    backup,
    restore,
    server_running,
    space_needed,
    verify,
)
from server.store import Store
from server.store.lock import ServerAlreadyRunning, ServerLock
from server.web.models import AuditEntry
from tests.fixtures.broker import free_port
from tests.ops.office_data import OfficeFiles, busy_days, serve_and_rate, table_counts, write_office_files
from tests.server.office_helpers import barrier, start_office

DAY = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def office_files(tmp_path: Path, db_url: str) -> Iterator[OfficeFiles]:
    files = write_office_files(tmp_path, db_url)
    store = Store(db_url)
    store.migrate()
    busy_days(store, [DAY - dt.timedelta(days=1), DAY])
    store.close()
    yield files


def restore_into(
    files: OfficeFiles, archive: Path, *, http_port: int | None = None, force: bool = False
) -> RestoreResult:
    return restore(
        archive,
        url=files.url,
        data_dir=files.data_dir,
        config_target=files.config,
        http_port=http_port,
        force=force,
        safety_dir=files.data_dir / "backups",
    )


def test_backup_while_the_office_works_then_restore_brings_back_that_moment(
    office_files: OfficeFiles,
) -> None:
    files = office_files
    store = Store(files.url)
    office, _recorder, clock = start_office(store)
    clock.set(DAY + dt.timedelta(hours=2))
    stop = threading.Event()

    def citizens() -> None:
        while not stop.is_set():
            reply = office.submit(TicketRequest(service="tax"), sender="kiosk-2").result(30)
            assert isinstance(reply, TicketIssued)

    busy = threading.Thread(target=citizens)
    busy.start()
    try:
        result = backup(
            url=files.url, data_dir=files.data_dir, config=files.config, to_dir=files.data_dir / "b"
        )
    finally:
        stop.set()
        busy.join()
    serve_and_rate(office, 2)  # the office goes on after the backup
    barrier(office)
    office.stop()
    after_backup = table_counts(store.engine)
    store.close()

    manifest = result.manifest
    assert manifest.site == "test-office" and manifest.database in ("sqlite", "postgresql")
    assert manifest.schema_revision is not None
    assert manifest.tables["tickets"] >= 6 and manifest.tables["survey_responses"] == 6
    assert after_backup["survey_responses"] == 8
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    names = set(manifest.files)
    assert {
        "broker/devices.toml",
        "broker/passwd",
        "broker/acl",
        "config/office.toml",
        "web/secret.key",
    } <= names

    # Disaster: the office file and the device registry are edited badly, then everything is restored.
    files.config.write_text("broken", "utf-8")
    (files.data_dir / "broker" / "devices.toml").write_text("broken", "utf-8")
    restored = restore_into(files, result.path)

    store = Store(files.url)
    counts = table_counts(store.engine)
    with store.read_engine.connect() as connection:
        entry = connection.execute(
            select(AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id.desc()).limit(1)
        ).one()
    store.close()
    for table, rows in manifest.tables.items():
        if table not in ("audit_log", "alembic_version"):
            assert counts.get(table, rows) == rows, table
    assert counts["audit_log"] == manifest.tables["audit_log"] + 1
    assert entry.action == "backup.restore" and result.path.name in entry.detail
    assert files.config.read_bytes() != b"broken" and b"test-office" in files.config.read_bytes()
    assert b"kiosk-1" in (files.data_dir / "broker" / "devices.toml").read_bytes()
    kept = restored.kept_aside
    assert any(p.name.startswith("office.toml.before-restore-") for p in kept)
    assert any(p.read_bytes() == b"broken" for p in kept if p.is_file() and p.suffix != ".pgdump")

    # The restored office starts and carries on numbering after the backup's last ticket.
    store = Store(files.url)
    office, _recorder, clock = start_office(store)
    clock.set(DAY + dt.timedelta(hours=3))
    try:
        reply = office.submit(TicketRequest(service="reg"), sender="kiosk-1").result(30)
    finally:
        office.stop()
        store.close()
    assert isinstance(reply, TicketIssued) and reply.number == "A004"


def test_the_old_sqlite_database_is_kept_aside_whole(office_files: OfficeFiles, sqlite_url: str) -> None:
    if not office_files.url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL keeps a dump (tested above)")
    files = office_files
    result = backup(url=files.url, data_dir=files.data_dir, config=files.config, to_dir=files.data_dir / "b")
    store = Store(files.url)
    office, _recorder, clock = start_office(store)
    clock.set(DAY + dt.timedelta(hours=2))
    serve_and_rate(office, 1)
    office.stop()
    newer = table_counts(store.engine)
    store.close()

    restored = restore_into(files, result.path)
    aside = [p for p in restored.kept_aside if p.name.startswith("khiu.db.before-restore-")]
    assert aside and not aside[0].name.endswith(("-wal", "-shm"))
    old = Store(f"sqlite:///{aside[0]}")
    assert table_counts(old.engine)["tickets"] == newer["tickets"]
    old.close()


def test_a_damaged_or_foreign_archive_is_refused_and_nothing_changes(office_files: OfficeFiles) -> None:
    files = office_files
    result = backup(url=files.url, data_dir=files.data_dir, config=files.config, to_dir=files.data_dir / "b")
    with tarfile.open(result.path) as archive:
        members = {info.name: archive.extractfile(info).read() for info in archive}  # type: ignore[union-attr]
    database = next(name for name in members if name.startswith("database/"))

    def rewrite(path: Path, changes: dict[str, bytes]) -> Path:
        with tarfile.open(result.path) as source, tarfile.open(path, "w:gz") as target:
            for info in source:
                data = changes.get(info.name, source.extractfile(info).read())  # type: ignore[union-attr]
                info.size = len(data)
                target.addfile(info, io.BytesIO(data))
        return path

    data = bytearray(members[database])
    data[len(data) // 2] ^= 0xFF
    damaged = rewrite(files.data_dir / "damaged.tar.gz", {database: bytes(data)})
    truncated = files.data_dir / "truncated.tar.gz"
    truncated.write_bytes(result.path.read_bytes()[: result.path.stat().st_size // 2])
    foreign = files.data_dir / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as archive:
        info = tarfile.TarInfo("../../etc/passwd")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))

    before = (files.config.read_bytes(), sorted(os.listdir(files.data_dir)))
    for bad, reason in ((damaged, "damaged"), (truncated, "cannot be read"), (foreign, "unexpected entry")):
        with pytest.raises(BackupError, match=reason):
            restore_into(files, bad)
    assert (files.config.read_bytes(), sorted(os.listdir(files.data_dir))) == before
    assert verify(result.path) == result.manifest


def test_restore_refuses_while_the_server_runs(office_files: OfficeFiles) -> None:
    files = office_files
    result = backup(url=files.url, data_dir=files.data_dir, config=files.config, to_dir=files.data_dir / "b")
    port = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert any("web port" in r for r in server_running(files.url, http_port=port))
        with pytest.raises(BackupError, match="stop it first"):
            restore_into(files, result.path, http_port=port)
        restore_into(files, result.path, http_port=port, force=True)
    server = ServerLock(files.url)  # a server on this database, on this machine or (PostgreSQL) another
    server.acquire()
    try:
        with pytest.raises(BackupError, match="another Khiu server"):
            restore_into(files, result.path, http_port=None)
    finally:
        server.release()
    if files.url.startswith("sqlite"):
        path = files.url.removeprefix("sqlite:///")
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sqlite3, time; c = sqlite3.connect({path!r}); c.execute('select 1'); "
                "print('open', flush=True); time.sleep(60)",
            ],
            stdout=subprocess.PIPE,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
            reasons = server_running(files.url, http_port=None)
            assert any(f"process {holder.pid}" in r for r in reasons)
            with pytest.raises(BackupError, match=f"process {holder.pid}"):
                restore_into(files, result.path)
        finally:
            holder.kill()
            holder.wait()


def test_a_server_started_during_a_restore_waits_for_it(
    office_files: OfficeFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restore holds the server's lock from its check to its migrate: a server started meanwhile
    (systemd retrying, someone typing `khiu server`) is refused, told what it waits for, rather than
    open a database being replaced under it. Once the restore is done the lock is free."""
    import server.backup as backup_module

    files = office_files
    result = backup(url=files.url, data_dir=files.data_dir, config=files.config, to_dir=files.data_dir / "b")
    refusals: list[ServerAlreadyRunning] = []
    restore_files = backup_module._restore_files

    def server_starts_meanwhile(*args: Any, **kwargs: Any) -> list[Path]:
        with pytest.raises(ServerAlreadyRunning) as refused:
            ServerLock(files.url).acquire()
        refusals.append(refused.value)
        return restore_files(*args, **kwargs)

    monkeypatch.setattr(backup_module, "_restore_files", server_starts_meanwhile)
    restore_into(files, result.path, http_port=None)
    assert len(refusals) == 1 and not refusals[0].by_server
    assert '"khiu admin restore" is working on' in str(refusals[0])
    server = ServerLock(files.url)
    server.acquire()
    server.release()


def test_old_archives_are_rotated(office_files: OfficeFiles) -> None:
    files = office_files
    made = []
    for hour in range(4):
        made.append(
            backup(
                url=files.url,
                data_dir=files.data_dir,
                config=files.config,
                to_dir=files.data_dir / "b",
                keep=2,
                now=DAY + dt.timedelta(hours=hour),
            )
        )
    left = sorted(p.name for p in (files.data_dir / "b").iterdir())
    assert left == [made[2].path.name, made[3].path.name]
    assert made[3].removed == [made[1].path]


def test_a_backup_that_would_leave_the_disk_too_full_is_refused_before_writing(
    office_files: OfficeFiles,
) -> None:
    """The archives share the disk with the database: a backup must not take the room the queue needs.
    It is refused, with what it needs and what is free, before a byte is written (on SQLite and
    PostgreSQL alike: the need is measured from the database)."""
    files = office_files
    to_dir = files.data_dir / "b"
    to_dir.mkdir()
    need = space_needed(files.url)
    assert need > 0
    if files.url.startswith("sqlite"):
        database = Path(str(make_url(files.url).database))
        assert need >= 2 * database.stat().st_size, "the copy, then the archive"
    free = shutil.disk_usage(to_dir).free
    with pytest.raises(BackupError, match=r"not enough free space .* it needs up to [\d,]+ MB") as refused:
        backup(
            url=files.url,
            data_dir=files.data_dir,
            config=files.config,
            to_dir=to_dir,
            keep_free=free - need // 2,
        )
    assert "ที่ว่างในดิสก์ไม่พอ" in str(refused.value)
    assert list(to_dir.iterdir()) == [], "nothing written, no temporary folder left"

    made = backup(url=files.url, data_dir=files.data_dir, config=files.config, to_dir=to_dir, keep_free=0)
    assert made.path.stat().st_size < need, "the estimate bounds what a backup writes"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """Mounts real filesystems (tmpfs) of a given size, far smaller than a real disk: root only."""
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("mounting a small filesystem needs root")
    mounted: list[Path] = []

    def make(size: int) -> Path:
        folder = tmp_path / f"small-disk-{len(mounted)}"
        folder.mkdir()
        options = f"size={size},mode=0700"
        made = subprocess.run(
            [mount, "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
        )
        if made.returncode != 0:
            pytest.skip(f"cannot mount a small filesystem here: {made.stderr.decode().strip()}")
        mounted.append(folder)
        return folder

    yield make
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_disk_that_fills_during_the_backup_keeps_no_partial_archive(
    office_files: OfficeFiles, small_disk: Callable[[int], Path]
) -> None:
    """Something else filled the disk after the space was checked (the check is turned off here): the
    backup stops with a plain message, and neither a partial archive nor its temporary copy stays to
    take the space the queue needs. On a tiny disk SQLite's copy fails with SQLITE_FULL, on one nearly
    the database's size with a mere "disk I/O error"; pg_dump says it could not write its file."""
    files = office_files
    sqlite = files.url.startswith("sqlite")
    sizes = [16 * 1024]
    if sqlite:
        sizes.append(Path(str(make_url(files.url).database)).stat().st_size + 8 * 1024)
    for size in sizes:
        disk = small_disk(size)
        to_dir = disk / "backups"
        with pytest.raises(BackupError) as stopped:
            backup(
                url=files.url,
                data_dir=files.data_dir,
                config=files.config,
                to_dir=to_dir,
                keep_free=-(10**12),
            )
        said = str(stopped.value)  # whatever failed: SQLite's copy, pg_dump's file, the archive
        assert said.startswith(f"ดิสก์เต็มระหว่างสำรองข้อมูล / the disk of {to_dir} filled up"), said
        assert list(to_dir.iterdir()) == [], "no archive, partial or whole, no temporary folder"
        assert shutil.disk_usage(disk).used == 0, "the space is given back"


def test_postgres_restores_into_a_dropped_schema(office_files: OfficeFiles) -> None:
    files = office_files
    if files.url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    result = backup(url=files.url, data_dir=files.data_dir, config=files.config, to_dir=files.data_dir / "b")
    schema = result.manifest.postgres_schema
    assert schema is not None and schema.startswith("t_")
    store = Store(files.url)
    with store.engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    store.close()

    restored = restore_into(files, result.path)

    store = Store(files.url)
    counts = table_counts(store.engine)
    store.close()
    assert counts["tickets"] == result.manifest.tables["tickets"] > 0
    assert counts["survey_answers"] == result.manifest.tables["survey_answers"]
    assert restored.kept_aside == [] or all(p.suffix == ".pgdump" for p in restored.kept_aside)


def test_the_commands_back_up_check_and_restore(
    office_files: OfficeFiles, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = office_files
    monkeypatch.setenv("KHIU_DATA_DIR", str(files.data_dir))
    monkeypatch.setenv("KHIU_DATABASE_URL", files.url)
    monkeypatch.setenv("KHIU_CONFIG", str(files.config))
    assert main(["admin", "backup", "--to", str(files.data_dir / "b")]) == 0
    out = capsys.readouterr().out
    assert "backup written" in out and "tickets 6" in out
    (archive,) = (files.data_dir / "b").glob("khiu-backup-test-office-*.tar.gz")

    assert main(["admin", "restore", str(archive), "--check"]) == 0
    assert "complete and undamaged" in capsys.readouterr().out

    assert main(["admin", "restore", str(archive), "--http-port", str(free_port())]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and "restart the broker and the server" in out

    store = Store(files.url)
    with store.read_engine.connect() as connection:
        actions = [r[0] for r in connection.execute(select(AuditEntry.action).order_by(AuditEntry.id))]
    store.close()
    assert actions[-1] == "backup.restore"  # the backup's own entry came after the copy, so it is gone
