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
