"""The device registry (`{data_dir}/broker/devices.toml`): which devices exist, their role, and the
counter a counter terminal is bound to. It is the source the ACL is rendered from; password hashes
live only in the `passwd` file, and plain passwords nowhere.

```toml
site = "nong-khai-muang"

[[device]]
id = "counter-1"
role = "counter"
counter = "c1"
```
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from common.vocabulary import DEVICE_ID_RE, SITE_ID_PATTERN, DeviceRole

from .files import write_private

log = logging.getLogger(__name__)

_SITE_RE = re.compile(SITE_ID_PATTERN)

ROLES_WITH_COUNTER: frozenset[DeviceRole] = frozenset(
    {DeviceRole.counter, DeviceRole.survey, DeviceRole.display}
)
"""A counter terminal must be bound to a counter; a survey tablet or a small display may stand at one
(as in the office config's `devices`). Only the counter terminal's ACL depends on it."""


class RegistryError(ValueError):
    """A device or registry that cannot be accepted; the message says what to change."""


def check_device_id(device_id: str) -> str:
    """`device_id` if it is a valid device id (it becomes an MQTT username and a topic level)."""
    if not DEVICE_ID_RE.fullmatch(device_id):
        raise RegistryError(
            f"รหัสเครื่อง {device_id!r} ใช้ไม่ได้: ใช้ได้เฉพาะ a-z 0-9 และ - (1-64 ตัว) / "
            f"device id {device_id!r} is not allowed: use only a-z, 0-9 and '-' (1 to 64 characters); "
            "'/', '+' and '#' would let it match other devices' topics"
        )
    return device_id


def check_site_id(site: str) -> str:
    """`site` if it is a valid office id (the `{site}` level of every topic)."""
    if not _SITE_RE.fullmatch(site):
        raise RegistryError(
            f"รหัสสำนักงาน {site!r} ใช้ไม่ได้ / site id {site!r} is not allowed: it must match {SITE_ID_PATTERN}"
        )
    return site


@dataclass(frozen=True, slots=True)
class Device:
    """One device: its id (also its MQTT username), its role, and its counter when bound to one."""

    id: str
    role: DeviceRole
    counter: str | None = None

    @classmethod
    def create(cls, device_id: str, role: DeviceRole | str, counter: str | None = None) -> Device:
        """A validated device: the id and counter id must be topic-safe, a counter terminal needs a
        counter, and only counter terminals and survey tablets may have one."""
        check_device_id(device_id)
        try:
            device_role = DeviceRole(role)
        except ValueError:
            roles = ", ".join(r.value for r in DeviceRole)
            raise RegistryError(f"บทบาท {role!r} ไม่รู้จัก / unknown role {role!r}: use one of {roles}") from None
        if counter is not None and not DEVICE_ID_RE.fullmatch(counter):
            raise RegistryError(
                f"รหัสช่องบริการ {counter!r} ใช้ไม่ได้ / counter id {counter!r} is not allowed: "
                "use only a-z, 0-9 and '-'"
            )
        if device_role is DeviceRole.counter and counter is None:
            raise RegistryError(
                f"เครื่องประจำช่องบริการต้องระบุ --counter / a counter terminal needs --counter "
                f"(the counter id it serves, e.g. c1) for {device_id!r}"
            )
        if counter is not None and device_role not in ROLES_WITH_COUNTER:
            raise RegistryError(
                f"บทบาท {device_role.value} ไม่ผูกกับช่องบริการ / a {device_role.value} is not bound "
                "to a counter: drop --counter"
            )
        return cls(device_id, device_role, counter)


@dataclass(slots=True)
class Registry:
    """Every device of one office's broker, keyed by id."""

    site: str
    devices: dict[str, Device] = field(default_factory=dict)

    def put(self, device: Device) -> bool:
        """Add or replace a device; True when it was already registered."""
        existed = device.id in self.devices
        self.devices[device.id] = device
        return existed

    def remove(self, device_id: str) -> Device:
        """Drop a device; an unknown id is an error that names it."""
        try:
            return self.devices.pop(device_id)
        except KeyError:
            raise RegistryError(
                f"ไม่มีเครื่อง {device_id!r} ในทะเบียน / no device {device_id!r} is registered"
            ) from None

    def sorted(self) -> list[Device]:
        """Devices in id order."""
        return [self.devices[k] for k in sorted(self.devices)]


def load_registry(path: Path) -> Registry | None:
    """The registry at `path`, or None when no device was ever registered there."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    unknown = set(raw) - {"site", "device"}
    if unknown:
        raise RegistryError(f"{path}: unknown keys {sorted(unknown)}")
    if "site" not in raw:
        raise RegistryError(f"{path}: missing `site`")
    registry = Registry(check_site_id(str(raw["site"])))
    for entry in raw.get("device", []):
        extra = set(entry) - {"id", "role", "counter"}
        if extra:
            raise RegistryError(f"{path}: device {entry.get('id')!r} has unknown keys {sorted(extra)}")
        registry.put(Device.create(entry["id"], entry["role"], entry.get("counter")))
    return registry


def render_registry(registry: Registry) -> str:
    """TOML text of the registry, one `[[device]]` table per device (values are validated ids, so JSON
    string quoting is valid TOML)."""
    lines = [
        "# Khiu broker devices. Managed by `khiu admin device add|remove`; the ACL is rendered from it.",
        f"site = {json.dumps(registry.site)}",
        "",
    ]
    for device in registry.sorted():
        lines += ["[[device]]", f"id = {json.dumps(device.id)}", f"role = {json.dumps(device.role.value)}"]
        if device.counter is not None:
            lines.append(f"counter = {json.dumps(device.counter)}")
        lines.append("")
    return "\n".join(lines)


def save_registry(path: Path, registry: Registry) -> None:
    """Write the registry atomically."""
    write_private(path, render_registry(registry))
    log.debug("registry saved: %d devices in %s", len(registry.devices), path)
