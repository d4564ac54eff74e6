"""The server's lock on a SQLite database, between users: an admin command run as root (a restore, a
migrate) takes the lock too, and must leave a lock file the service's user can still take."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from server.store.lock import ServerLock

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
        assert note.startswith(f"process {os.getpid()} on "), "it took the lock and wrote its note"
    finally:
        shutil.rmtree(folder)
