"""A device's connection settings: the `[mqtt]` table that `khiu admin device add` prints
(broker_config/cli.py `device_settings_snippet`), saved by staff as a file on the device.

Every device app (the kiosk, the survey terminal, the hall board, the counter terminal) reads it here,
checked at start like the office file (DESIGN.md principle 5): unknown keys are refused, and a bad file
stops the app with one message naming the file and the key, and what to do.

    [mqtt]
    host = "192.168.1.10"
    port = 1883
    site = "ban-mai"
    device_id = "kiosk-1"
    role = "kiosk"
    username = "kiosk-1"
    password = "..."

With TLS the table also has `tls_port` and `tls_ca` (the office CA certificate copied to the device; a
relative path is taken from the settings file's folder).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.vocabulary import DEVICE_ID_PATTERN, SITE_ID_PATTERN, DeviceRole

SETTINGS_ENV = "KHIU_DEVICE_SETTINGS"
"""Where a device app finds its settings file when no `--settings` is given."""

_AGAIN = "run `khiu admin device add` again on the server and save what it prints"


class DeviceSettingsError(Exception):
    """The settings file cannot be used; the message names the file and the key."""


class DeviceSettings(BaseModel):
    """How one device reaches the office's broker, and who it is there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1, description="Broker host (the office server's address).")
    port: int = Field(1883, ge=1, le=65535, description="MQTT port.")
    tls_port: int | None = Field(None, ge=1, le=65535, description="MQTT over TLS port (with tls_ca).")
    tls_ca: Path | None = Field(None, description="The office CA certificate, copied to the device.")
    site: Annotated[str, Field(pattern=SITE_ID_PATTERN)] = Field(description="Office id.")
    device_id: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)] = Field(description="This device's id.")
    role: DeviceRole = Field(description="kiosk, survey, display or counter.")
    counter: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)] | None = Field(
        None, description="The counter a counter terminal or survey tablet is bound to."
    )
    username: str = Field(min_length=1, description="MQTT username (the device id).")
    password: str = Field(min_length=1, description="MQTT password.")

    @property
    def uses_tls(self) -> bool:
        """Connect with TLS: the file gives both the TLS port and the CA certificate."""
        return self.tls_port is not None and self.tls_ca is not None

    @property
    def broker_port(self) -> int:
        """The port to connect to: the TLS port when TLS is used."""
        return self.tls_port if self.uses_tls and self.tls_port is not None else self.port


def settings_path(given: str | os.PathLike[str] | None) -> Path:
    """`--settings`, else `$KHIU_DEVICE_SETTINGS`; an error saying both when neither is there."""
    chosen = given or os.environ.get(SETTINGS_ENV)
    if not chosen:
        raise DeviceSettingsError(
            "ไม่ได้ระบุไฟล์ค่าการเชื่อมต่อ / no connection settings: pass --settings FILE (the text "
            f"`khiu admin device add` printed, saved as a file) or set ${SETTINGS_ENV}"
        )
    return Path(chosen)


def load_device_settings(
    path: str | os.PathLike[str],
    *,
    device_id: str | None = None,
    site: str | None = None,
    roles: Collection[DeviceRole] | None = None,
) -> DeviceSettings:
    """Read and check the settings file at `path`.

    With `device_id`, `site` or `roles`, the file must also be this device's, of this office, and of
    one of these roles (a file copied to the wrong machine is refused before it connects)."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeviceSettingsError(
            f"{file}: cannot read the device settings file: {exc.strerror or exc}"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DeviceSettingsError(f"{file}: not a TOML file ({exc}); {_AGAIN}") from None
    table = data.get("mqtt")
    if not isinstance(table, dict):
        raise DeviceSettingsError(f"{file}: no [mqtt] table; {_AGAIN}")
    try:
        settings = DeviceSettings.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise DeviceSettingsError(f"{file}: {problems}") from None
    if settings.tls_ca is not None and not settings.tls_ca.is_absolute():
        settings = settings.model_copy(update={"tls_ca": file.parent / settings.tls_ca})
    if settings.tls_ca is not None and not settings.tls_ca.is_file():
        raise DeviceSettingsError(
            f"{file}: mqtt.tls_ca: no file {settings.tls_ca} (copy the office CA certificate to this device)"
        )
    _check_identity(file, settings, device_id=device_id, site=site, roles=roles)
    return settings


def _check_identity(
    file: Path,
    settings: DeviceSettings,
    *,
    device_id: str | None,
    site: str | None,
    roles: Collection[DeviceRole] | None,
) -> None:
    if device_id is not None and settings.device_id != device_id:
        raise DeviceSettingsError(
            f"{file}: mqtt.device_id: ไฟล์นี้เป็นของเครื่อง {settings.device_id} ไม่ใช่ {device_id} / "
            f"this is the settings file of {settings.device_id}, not {device_id}"
        )
    if site is not None and settings.site != site:
        raise DeviceSettingsError(
            f"{file}: mqtt.site: the file is for office {settings.site!r}, the office file says {site!r}"
        )
    if roles is not None and settings.role not in roles:
        wanted = " or ".join(r.value for r in roles)
        raise DeviceSettingsError(
            f"{file}: mqtt.role: {settings.device_id} is registered as a {settings.role.value}, "
            f"this app runs on a {wanted}"
        )


def _problem(error: Any) -> str:
    """One validation error as `mqtt.key: what is wrong`."""
    key = "mqtt." + ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        known = ", ".join(DeviceSettings.model_fields)
        return f"{key}: unknown key (known: {known})"
    if kind == "missing":
        return f"{key}: missing; {_AGAIN}"
    if kind == "enum":
        return f"{key}: {error['msg']} (got {error.get('input')!r})"
    return f"{key}: {error['msg']}"
