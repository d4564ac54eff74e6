"""Writing the broker's files safely: atomically (a crash never leaves half a password file for the
broker to reload), readable only by their owner, and owned like the broker directory.

Ownership rule: when we run as root, each file we write takes the owner and group of the broker
directory. An operator who wants Mosquitto to drop its privileges `chown`s that directory to the
`mosquitto` user once; everything written later stays readable by it (see `conf.broker_run_as`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from common.paths import broker_dir

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) if missing; a directory we create is private to its owner."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        _match_parent_owner(path)
    return path


def write_private(
    path: Path, data: str | bytes, *, mode: int = PRIVATE_FILE_MODE, broker_readable: bool = True
) -> None:
    """Replace `path` with `data` atomically (temp file, fsync, rename) with permissions `mode`.

    `broker_readable=False` keeps the file owned by us even when the directory belongs to the broker's
    user (the CA key: Mosquitto never needs it)."""
    ensure_private_dir(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        if broker_readable:
            _match_parent_owner(Path(tmp_name))
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _match_parent_owner(path: Path) -> None:
    """As root, give `path` the owner and group of its directory (no-op for other users)."""
    if os.geteuid() != 0:
        return
    parent = path.parent.stat()
    here = path.stat()
    if (here.st_uid, here.st_gid) != (parent.st_uid, parent.st_gid):
        os.chown(path, parent.st_uid, parent.st_gid)


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    """The layout of `{data_dir}/broker/` (common.paths.broker_dir)."""

    dir: Path

    @classmethod
    def for_data_dir(cls, data_dir: Path | None = None) -> BrokerFiles:
        """The broker files of a data directory (`common.paths.data_dir()` when None)."""
        return cls(broker_dir(data_dir))

    @property
    def config(self) -> Path:
        return self.dir / "mosquitto.conf"

    @property
    def passwd(self) -> Path:
        return self.dir / "passwd"

    @property
    def acl(self) -> Path:
        return self.dir / "acl"

    @property
    def registry(self) -> Path:
        return self.dir / "devices.toml"

    @property
    def tls_dir(self) -> Path:
        return self.dir / "tls"

    @property
    def persistence(self) -> Path:
        return self.dir / "persistence"

    @property
    def pid_file(self) -> Path:
        return self.dir / "mosquitto.pid"

    @property
    def log_file(self) -> Path:
        """Mosquitto's stderr when `khiu broker` runs it in the background."""
        return self.dir / "mosquitto.log"

    @property
    def include_dir(self) -> Path:
        """Extra `*.conf` files (a bridge, say) the rendered config includes when the folder exists."""
        return self.dir / "conf.d"

    @property
    def lock(self) -> Path:
        return self.dir / ".lock"


@contextlib.contextmanager
def locked(files: BrokerFiles) -> Iterator[None]:
    """Hold the broker directory's lock: two `khiu admin device` runs at once must not lose a device."""
    ensure_private_dir(files.dir)
    with open(os.open(files.lock, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)) as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
