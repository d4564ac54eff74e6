"""Telling a full disk from other database errors, measuring each disk once, and watching them."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from server.diskspace import DiskWatch, database_folder, disks, storage_full


def test_a_database_that_cannot_grow_is_told_from_other_errors(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'small.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x BLOB)"))
    with pytest.raises(OperationalError) as full, engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA max_page_count=3")
        for _ in range(10):
            connection.execute(text("INSERT INTO t VALUES (randomblob(3000))"))
    with pytest.raises(OperationalError) as other, engine.begin() as connection:
        connection.execute(text("SELECT * FROM no_such_table"))
    engine.dispose()
    assert storage_full(full.value), "SQLAlchemy's error around SQLite's SQLITE_FULL"
    assert storage_full(full.value.orig)
    assert not storage_full(other.value)
    assert not storage_full(sqlite3.OperationalError("database or disk is full")), "by code, not wording"
    try:
        raise RuntimeError("the batch failed") from psycopg.errors.DiskFull("could not extend file")
    except RuntimeError as wrapped:
        assert storage_full(wrapped), "PostgreSQL's disk_full, as the cause of another error"
    assert not storage_full(psycopg.errors.UniqueViolation("duplicate key"))


def test_each_disk_is_measured_once_and_a_missing_folder_at_its_parent(tmp_path: Path) -> None:
    found = disks([tmp_path, tmp_path / "not" / "made" / "yet", tmp_path / "also"])
    assert [d.path for d in found] == [tmp_path]
    assert 0 <= found[0].free <= found[0].total
    assert found[0].low(threshold=found[0].free + 1) and not found[0].low(threshold=0)
    assert database_folder(f"sqlite:///{tmp_path / 'db' / 'khiu.db'}") == (tmp_path / "db").resolve()
    assert database_folder("sqlite://") is None
    assert database_folder("postgresql+psycopg://u@127.0.0.1/test") is None


def test_the_running_server_logs_a_disk_once_when_it_fills_and_again_when_it_has_room(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The real disk under the test's folder, with the threshold moved around it: one warning when it
    goes below (not one every look), one line when it has room again, and the watch's thread looks by
    itself."""
    watch = DiskWatch(lambda: disks([tmp_path]), threshold=0, interval_s=0.05)
    with caplog.at_level(logging.INFO, logger="server.diskspace"):
        assert watch.check() == []
        watch.threshold = 10**18
        assert [d.path for d in watch.check()] == [tmp_path]
        watch.check()
        full = [r for r in caplog.records if "is nearly full" in r.getMessage()]
        assert len(full) == 1 and full[0].levelno == logging.WARNING
        assert full[0].getMessage().startswith(f"the disk of {tmp_path} is nearly full (")
        watch.threshold = 0
        watch.start()  # its first look is at once
        try:
            assert f"the disk of {tmp_path} has room again" in caplog.text
            watch.threshold = 10**18
            deadline = time.monotonic() + 10
            while sum("is nearly full" in r.getMessage() for r in caplog.records) < 2:
                assert time.monotonic() < deadline, "the thread looked again"
                time.sleep(0.02)
        finally:
            watch.stop()
    assert caplog.text.count("has room again") == 1
