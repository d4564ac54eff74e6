"""Registering and removing devices: the registry, the password file and the ACL change together, under
one lock, and a running broker is told to reload them.

A device's plain password exists only in what `add_devices` returns (printed once by the CLI); the
broker keeps its PBKDF2 hash. Adding an id that exists gives it a new password (rotation).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from .acl import render_acl
from .control import reload_broker
from .files import BrokerFiles, locked, write_private
from .passwd import hash_password, new_password, parse_passwd, render_passwd
from .registry import Device, Registry, RegistryError, check_site_id, load_registry, save_registry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceCredentials:
    """A device just (re)registered and its new password; `rotated` when it replaced an older one."""

    device: Device
    password: str
    rotated: bool

    @property
    def username(self) -> str:
        return self.device.id


def _open_registry(files: BrokerFiles, site: str | None) -> Registry:
    registry = load_registry(files.registry)
    if registry is None:
        if site is None:
            raise RegistryError(
                "ยังไม่มีทะเบียนเครื่อง ต้องระบุ --site / no device registry yet: give the office id with --site"
            )
        return Registry(check_site_id(site))
    if site is not None and site != registry.site:
        raise RegistryError(
            f"ทะเบียนเครื่องนี้เป็นของสำนักงาน {registry.site!r} ไม่ใช่ {site!r} / this broker's devices belong to "
            f"site {registry.site!r}, not {site!r}: check --site (or edit `site` in {files.registry})"
        )
    return registry


def _write_security_files(files: BrokerFiles, registry: Registry, hashes: dict[str, str]) -> None:
    """Password file first, ACL second: both are complete before the broker is asked to reload."""
    write_private(files.passwd, render_passwd(hashes))
    write_private(files.acl, render_acl(registry.site, registry.sorted()))


def add_devices(
    files: BrokerFiles, devices: Iterable[Device], *, site: str | None = None
) -> list[DeviceCredentials]:
    """Register (or re-register) devices with new passwords and reload a running broker.

    `site` is needed only for the first device; afterwards the registry knows it, and a different
    `site` is refused rather than silently moving every device to another topic tree.
    """
    issued: list[DeviceCredentials] = []
    with locked(files):
        registry = _open_registry(files, site)
        hashes = parse_passwd(files.passwd.read_text("utf-8")) if files.passwd.exists() else {}
        for device in devices:
            password = new_password()
            rotated = registry.put(device)
            hashes[device.id] = hash_password(password)
            issued.append(DeviceCredentials(device, password, rotated))
        save_registry(files.registry, registry)
        _write_security_files(files, registry, hashes)
    for credentials in issued:
        log.info(
            "device %s registered as %s%s",
            credentials.device.id,
            credentials.device.role.value,
            " (password rotated)" if credentials.rotated else "",
        )
    reload_broker(files)
    return issued


def remove_device(files: BrokerFiles, device_id: str) -> Device:
    """Unregister a device: it can no longer log in (a connection already open stays until it drops)."""
    with locked(files):
        registry = _open_registry(files, None)
        device = registry.remove(device_id)
        hashes = parse_passwd(files.passwd.read_text("utf-8")) if files.passwd.exists() else {}
        hashes.pop(device_id, None)
        save_registry(files.registry, registry)
        _write_security_files(files, registry, hashes)
    log.info("device %s removed", device_id)
    reload_broker(files)
    return device


def list_devices(files: BrokerFiles) -> list[Device]:
    """Every registered device, by id (empty when none was ever registered)."""
    registry = load_registry(files.registry)
    return registry.sorted() if registry else []


def registered_site(files: BrokerFiles) -> str | None:
    """The office id the registry was made for, or None before the first device."""
    registry = load_registry(files.registry)
    return registry.site if registry else None


def sync_security_files(files: BrokerFiles) -> None:
    """Make sure `passwd` and `acl` exist and match the registry (before the broker starts): the ACL is
    re-rendered (the rules in acl.py may have changed with an upgrade) and hashes of devices no longer
    registered are dropped."""
    with locked(files):
        registry = load_registry(files.registry)
        hashes = parse_passwd(files.passwd.read_text("utf-8")) if files.passwd.exists() else {}
        if registry is None:
            write_private(files.passwd, render_passwd({}))
            write_private(files.acl, "# No device registered yet: `khiu admin device add`.\n")
            return
        kept = {device_id: h for device_id, h in hashes.items() if device_id in registry.devices}
        missing = sorted(set(registry.devices) - set(kept))
        if missing:
            log.warning("devices without a password (re-add them to issue one): %s", ", ".join(missing))
        _write_security_files(files, registry, kept)
