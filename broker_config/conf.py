"""Rendering `mosquitto.conf` from `mosquitto.template.conf` and a few settings.

The plain listener is for this machine (the server, a local kiosk or board) and binds to loopback by
default; devices on the office LAN use the TLS listener, opened when `khiu admin tls init` has made the
certificates. Settings that must hold for every listener (`per_listener_settings false`) keep one
password file and one ACL for both.
"""

from __future__ import annotations

import logging
import os
import pwd
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from .files import BrokerFiles, ensure_private_dir, write_private
from .tls import TlsFiles

log = logging.getLogger(__name__)

DEFAULT_PORT = 1883
DEFAULT_BIND = "127.0.0.1"
DEFAULT_TLS_PORT = 8883
DEFAULT_TLS_BIND = ""
"""Empty: the TLS listener answers on every address, since it is the one meant for the LAN."""

MOSQUITTO_USER = "mosquitto"


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """What may differ between brokers; the rest of the configuration is fixed in the template."""

    port: int = DEFAULT_PORT
    bind: str = DEFAULT_BIND
    tls_port: int | None = DEFAULT_TLS_PORT
    """None: no TLS listener even when certificates exist."""
    tls_bind: str = DEFAULT_TLS_BIND
    max_queued_messages: int = 1_000_000
    max_packet_size: int = 266_240
    """256 KiB of payload plus 4 KiB for topic and properties: the catalog, the biggest message, is a few
    KiB; anything near this is a bug or abuse."""
    persistent_client_expiration: str = "14d"
    """A device away for two weeks starts a fresh session; its outbox still resends what matters."""


def broker_run_as(broker_dir: Path) -> str | None:
    """The `user` line Mosquitto needs, or None when it needs none.

    Mosquitto started as root drops to the `mosquitto` user and then cannot read files in a root-only
    directory (REFERENCE.md). So as root: if the broker directory belongs to `mosquitto` and that user
    can reach it, let Mosquitto drop its privileges (our files follow the directory's owner, see
    files.py); otherwise run as root. Not root: Mosquitto cannot switch user, no line is needed.
    """
    if os.geteuid() != 0:
        return None
    try:
        account = pwd.getpwnam(MOSQUITTO_USER)
    except KeyError:
        return "root"
    owned = broker_dir.exists() and broker_dir.stat().st_uid == account.pw_uid
    return MOSQUITTO_USER if owned and _reachable_by(broker_dir, account) else "root"


def _reachable_by(path: Path, account: pwd.struct_passwd) -> bool:
    """True when `account` may traverse every directory from / down to `path`."""
    groups = set(os.getgrouplist(account.pw_name, account.pw_gid))
    for directory in [*reversed(path.resolve().parents), path.resolve()]:
        info = directory.stat()
        if info.st_uid == account.pw_uid:
            allowed = bool(info.st_mode & stat.S_IXUSR)
        elif info.st_gid in groups:
            allowed = bool(info.st_mode & stat.S_IXGRP)
        else:
            allowed = bool(info.st_mode & stat.S_IXOTH)
        if not allowed:
            return False
    return True


def _listener_line(port: int, bind: str) -> str:
    bind = bind.strip()
    return f"listener {port} {bind}" if bind and bind not in {"*", "0.0.0.0"} else f"listener {port}"


def render_config(files: BrokerFiles, settings: BrokerSettings) -> str:
    """The text of `mosquitto.conf` for the broker directory `files` (no file is written)."""
    tls = TlsFiles(files.tls_dir)
    listeners = [
        "# Plain MQTT, for clients on this machine (or a trusted network when bound wider).",
        _listener_line(settings.port, settings.bind),
        "protocol mqtt",
    ]
    if settings.tls_port is not None and tls.ready():
        listeners += [
            "",
            "# MQTT over TLS, for devices on the office LAN; they trust ca.crt (khiu admin tls init).",
            _listener_line(settings.tls_port, settings.tls_bind),
            "protocol mqtt",
            f"cafile {tls.ca_cert}",
            f"certfile {tls.server_cert}",
            f"keyfile {tls.server_key}",
            "tls_version tlsv1.2",
            "require_certificate false",
        ]
    elif settings.tls_port is not None:
        log.info("no TLS listener: run `khiu admin tls init` to create the certificates in %s", tls.dir)
    include = ""
    if files.include_dir.is_dir():
        include = f"# Extra configuration (a bridge, say).\ninclude_dir {files.include_dir}"
    run_as = broker_run_as(files.dir)
    template = Template(resources.files(__package__).joinpath("mosquitto.template.conf").read_text("utf-8"))
    return template.substitute(
        passwd_file=files.passwd,
        acl_file=files.acl,
        run_as=f"user {run_as}" if run_as else "# (not root: Mosquitto keeps the user it was started as)",
        persistence_dir=files.persistence,
        persistent_client_expiration=settings.persistent_client_expiration,
        max_queued_messages=settings.max_queued_messages,
        max_packet_size=settings.max_packet_size,
        pid_file=files.pid_file,
        listeners="\n".join(listeners),
        include=include,
    )


def write_config(files: BrokerFiles, settings: BrokerSettings) -> Path:
    """Render and write `mosquitto.conf`, creating the persistence folder; returns the config path."""
    ensure_private_dir(files.persistence)
    write_private(files.config, render_config(files, settings))
    return files.config
