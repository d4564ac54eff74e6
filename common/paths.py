"""Where an office keeps its files. One data directory holds everything that changes at run time
(database, broker files, device outboxes, caches, backups); the office TOML says what the office is."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO_ROOT / "examples" / "office.toml"


def data_dir() -> Path:
    """`$KHIU_DATA_DIR`, else `./var` (production installs set /var/lib/khiu)."""
    return Path(os.environ.get("KHIU_DATA_DIR", "var")).resolve()


def default_config_path() -> Path:
    """`$KHIU_CONFIG`, else `./office.toml` when present, else the shipped example office."""
    env = os.environ.get("KHIU_CONFIG")
    if env:
        return Path(env)
    local = Path("office.toml")
    return local if local.exists() else EXAMPLE_CONFIG


def broker_dir(base: Path | None = None) -> Path:
    """Broker files: mosquitto.conf, passwd, acl, devices.toml, tls/, persistence/."""
    return (base or data_dir()) / "broker"


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` with `text`, readable by this user alone (a secret), whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(path.name + ".tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(draft, path)
