"""The server's lock on the office database: what a server is told when an admin command holds it, how
a running server keeps it when it is lost (a PostgreSQL restart, a lock file removed by hand), and, on
SQLite, between users: an admin command run as root (a restore, a migrate) takes the lock too, and must
leave a lock file the service's user can still take."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from server.store.lock import MIGRATE, LockLost, LockWatch, ServerAlreadyRunning, ServerLock
from tests.fixtures.database import lose_server_lock as lose


def test_a_server_is_told_which_admin_command_it_waits_for(db_url: str) -> None:
    migrate = ServerLock(db_url, MIGRATE)
    migrate.acquire()
    try:
        with pytest.raises(ServerAlreadyRunning) as refused:
            ServerLock(db_url).acquire()
    finally:
        migrate.release()
    assert not refused.value.by_server
    assert '"khiu admin migrate" is working on' in str(refused.value)
    assert "another Khiu server" not in str(refused.value)
    assert "khiu admin migrate กำลังทำงาน" in str(refused.value)
    server = ServerLock(db_url)
    server.acquire()  # once the migrate is done
    server.release()


def test_a_lost_lock_is_taken_again_when_it_is_free(db_url: str) -> None:
    lock = ServerLock(db_url)
    lock.acquire()
    try:
        assert lock.check()
        lose(db_url)
        assert lock.check(), "it took the lock again"
        assert lock.held
        with pytest.raises(ServerAlreadyRunning, match="another Khiu server"):
            ServerLock(db_url).acquire()
    finally:
        lock.release()


def test_a_lost_lock_another_server_took_stops_the_watch(db_url: str) -> None:
    lock = ServerLock(db_url)
    lock.acquire()
    lost: list[LockLost] = []
    called = threading.Event()
    watch = LockWatch(lock, lambda exc: (lost.append(exc), called.set()), interval_s=0.05)
    watch.start()
    other = ServerLock(db_url)
    try:
        lose(db_url)
        other.acquire()  # a second server, refused until now, takes the lock first
        assert called.wait(10), "the watch saw the lock taken"
        assert "this server lost its lock on the office database" in str(lost[0])
        assert "another Khiu server" in str(lost[0]) and lost[0].by_server
        assert len(lost) == 1
        assert not lock.held
        assert lock.check() and not lock.held, "it does not try again behind the other's back"
        assert other.check() and other.held, "the other server keeps it"
    finally:
        watch.stop()
        lock.release()
        other.release()


SERVICE_UID = 4321
"""A user id of nobody on this machine, standing for the service user `khiu`."""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as two users")
def test_a_lock_file_made_by_root_is_left_to_the_service_user() -> None:
    folder = Path(tempfile.mkdtemp(prefix="khiu-lock-"))
    try:
        folder.chmod(0o755)
        data = folder / "data"
        data.mkdir()
        os.chown(data, SERVICE_UID, SERVICE_UID)
        url = f"sqlite:///{data / 'khiu.db'}"
        as_root = ServerLock(url)  # `sudo khiu admin migrate`, say
        as_root.acquire()
        as_root.release()
        lock_file = data / "khiu.db.lock"
        assert lock_file.stat().st_uid == SERVICE_UID

        os.setegid(SERVICE_UID)
        os.seteuid(SERVICE_UID)  # the server, started by systemd as the service user
        try:
            server = ServerLock(url)
            server.acquire()
            note = lock_file.read_text()
            server.release()
        finally:
            os.seteuid(0)
            os.setegid(0)
        assert note.startswith(f"khiu server: process {os.getpid()} on "), "it took the lock, wrote its note"
    finally:
        shutil.rmtree(folder)
