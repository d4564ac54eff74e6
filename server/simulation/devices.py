"""The devices a simulation plays and their passwords.

Two ways to get them:
- `provision`: register the simulator's own devices (`sim-kiosk-1`, `sim-counter-c1`, `sim-survey-1`,
  ...) in the office broker's data directory, with fresh passwords, and let the running broker reload.
  Own ids, so the office's real kiosks and terminals keep their passwords and sessions.
- a device file (TOML) listing devices with their role, counter and password, for a broker on another
  machine or devices provisioned by someone else (the demo writes one with `write_device_file`):

```toml
[[device]]
id = "kiosk-1"
role = "kiosk"
password = "..."

[[device]]
id = "counter-1"
role = "counter"
counter = "c1"
password = "..."
```
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from common.vocabulary import DEVICE_ID_RE, DeviceRole

log = logging.getLogger(__name__)

PLAYED_ROLES = (DeviceRole.kiosk, DeviceRole.counter, DeviceRole.survey)


class DeviceFileError(ValueError):
    """A device file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class SimDevice:
    """A device the simulation plays: its id is its MQTT username."""

    id: str
    role: DeviceRole
    password: str
    counter: str | None = None


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """The devices of one run, split the way `SimulatorSettings` wants them."""

    kiosks: tuple[str, ...]
    counters: dict[str, str]
    surveys: tuple[str, ...]
    credentials: dict[str, str]

    @classmethod
    def of(cls, devices: Iterable[SimDevice]) -> DevicePlan:
        devices = list(devices)
        return cls(
            kiosks=tuple(d.id for d in devices if d.role is DeviceRole.kiosk),
            counters={d.id: d.counter for d in devices if d.role is DeviceRole.counter and d.counter},
            surveys=tuple(d.id for d in devices if d.role is DeviceRole.survey),
            credentials={d.id: d.password for d in devices},
        )


def provision(
    data_dir: Path | None,
    site: str,
    *,
    kiosks: int,
    counters: Sequence[str],
    surveys: int,
    prefix: str = "sim",
    host: str | None = None,
    port: int | None = None,
) -> list[SimDevice]:
    """Register (or give new passwords to) the simulator's devices in the broker of `data_dir`; with
    `host` and `port`, wait until the running broker accepts them."""
    from broker_config.control import wait_for_login
    from broker_config.devices import add_devices
    from broker_config.files import BrokerFiles
    from broker_config.registry import Device

    wanted = [Device.create(f"{prefix}-kiosk-{i}", DeviceRole.kiosk) for i in range(1, kiosks + 1)]
    wanted += [Device.create(f"{prefix}-counter-{c}", DeviceRole.counter, c) for c in counters]
    wanted += [Device.create(f"{prefix}-survey-{i}", DeviceRole.survey) for i in range(1, surveys + 1)]
    issued = add_devices(BrokerFiles.for_data_dir(data_dir), wanted, site=site)
    devices = [SimDevice(c.device.id, c.device.role, c.password, c.device.counter) for c in issued]
    if host is not None and port is not None:
        for device in devices:
            wait_for_login(host, port, device.id, device.password)
    log.info("provisioned %d simulated devices for site %s", len(devices), site)
    return devices


def read_device_file(path: Path) -> list[SimDevice]:
    """The devices of a device file (see the module docstring)."""
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DeviceFileError(f"{path}: {exc}") from exc
    unknown = set(raw) - {"device"}
    if unknown:
        raise DeviceFileError(f"{path}: unknown keys {sorted(unknown)}: only [[device]] tables")
    devices: list[SimDevice] = []
    for i, entry in enumerate(raw.get("device", [])):
        where = f"{path}: device[{i}]"
        extra = set(entry) - {"id", "role", "counter", "password"}
        if extra:
            raise DeviceFileError(f"{where}: unknown keys {sorted(extra)}")
        device_id = str(entry.get("id", ""))
        if not DEVICE_ID_RE.fullmatch(device_id):
            raise DeviceFileError(f"{where}: id {device_id!r} must match [a-z0-9-]")
        try:
            role = DeviceRole(entry.get("role"))
        except ValueError:
            raise DeviceFileError(f"{where}: role must be one of kiosk, counter, survey") from None
        if role not in PLAYED_ROLES:
            raise DeviceFileError(f"{where}: role {role.value} is not played by the simulator")
        counter = entry.get("counter")
        if role is DeviceRole.counter and not counter:
            raise DeviceFileError(f'{where}: a counter terminal needs `counter` (e.g. "c1")')
        password = entry.get("password")
        if not isinstance(password, str) or not password:
            raise DeviceFileError(f"{where}: `password` is missing")
        devices.append(SimDevice(device_id, role, password, str(counter) if counter else None))
    if not devices:
        raise DeviceFileError(f"{path}: no [[device]] listed")
    return devices


def write_device_file(path: Path, devices: Iterable[SimDevice]) -> None:
    """Write a device file readable only by its owner (it holds passwords)."""
    lines = ["# Devices the simulator plays (khiu simulate --devices). Holds passwords: keep private.", ""]
    for device in devices:
        lines += ["[[device]]", f"id = {json.dumps(device.id)}", f"role = {json.dumps(device.role.value)}"]
        if device.counter:
            lines.append(f"counter = {json.dumps(device.counter)}")
        lines += [f"password = {json.dumps(device.password)}", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("\n".join(lines), "utf-8")
