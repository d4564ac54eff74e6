"""The device settings file (`common.device_settings`): what `khiu admin device add` prints is what every
device app reads, and a wrong file stops the app with one message naming the file, the key and what to do."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from broker_config import cli as broker_cli
from common.device_settings import (
    SETTINGS_ENV,
    DeviceSettingsError,
    load_device_settings,
    settings_path,
)
from common.paths import EXAMPLE_CONFIG
from common.vocabulary import DeviceRole

KHIU = [sys.executable, "-m", "common.cli"]

KIOSK = """\
# ค่าการเชื่อมต่อของเครื่อง kiosk-1 / connection settings of device kiosk-1
[mqtt]
host = "192.168.1.10"  # ที่อยู่เครื่องแม่ข่าย MQTT / broker host
port = 1883
site = "ban-suan-ngam"
device_id = "kiosk-1"
role = "kiosk"
username = "kiosk-1"
password = "s3cret-from-device-add"
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def device_add(data_dir: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run `khiu admin device add ...` and return the `[mqtt]` text it printed, as staff would save it."""
    parser = argparse.ArgumentParser(prog="khiu")
    sub = parser.add_subparsers()
    broker_cli.register(sub, sub.add_parser("admin").add_subparsers())
    args = parser.parse_args(["admin", "device", "add", *argv, "--data-dir", str(data_dir)])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    return out[out.index("[mqtt]") :]


def test_what_device_add_prints_is_read_as_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    printed = device_add(
        tmp_path / "server", capsys, "counter-3", "--role", "counter", "--counter", "c3", "--site", "ban-mai"
    )
    settings = load_device_settings(write(tmp_path / "counter-3.toml", printed))
    assert (settings.device_id, settings.role, settings.counter, settings.site) == (
        "counter-3",
        DeviceRole.counter,
        "c3",
        "ban-mai",
    )
    assert settings.username == "counter-3" and len(settings.password) >= 16
    assert not settings.uses_tls and settings.broker_port == settings.port


def test_tls_settings_use_the_tls_port_and_find_the_copied_ca_beside_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = tmp_path / "server"
    parser = argparse.ArgumentParser(prog="khiu")
    sub = parser.add_subparsers()
    broker_cli.register(sub, sub.add_parser("admin").add_subparsers())
    tls = parser.parse_args(["admin", "tls", "init", "--ip", "127.0.0.1", "--data-dir", str(server)])
    assert tls.handler(tls) == 0
    capsys.readouterr()
    table = device_add(server, capsys, "display-2", "--role", "display", "--site", "ban-mai")
    ca_on_server = next(line for line in table.splitlines() if line.startswith("tls_ca")).split('"')[1]

    device = tmp_path / "device"  # staff copy the CA next to the settings file on the display
    device.mkdir()
    (device / "office-ca.crt").write_bytes(Path(ca_on_server).read_bytes())
    settings_file = write(device / "display-2.toml", table.replace(ca_on_server, "office-ca.crt"))

    settings = load_device_settings(settings_file)
    assert settings.uses_tls and settings.broker_port == settings.tls_port != settings.port
    assert settings.tls_ca == device / "office-ca.crt"

    (device / "office-ca.crt").unlink()
    with pytest.raises(DeviceSettingsError, match=r"display-2\.toml: mqtt\.tls_ca: no file .*office-ca\.crt"):
        load_device_settings(settings_file)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("password = ", "pasword = "), r"mqtt\.pasword: unknown key .*password"),
        (
            ('password = "s3cret-from-device-add"\n', ""),
            r"mqtt\.password: missing; run `khiu admin device add`",
        ),
        (('role = "kiosk"', 'role = "kisok"'), r"mqtt\.role: .*'kisok'"),
        (("port = 1883", 'port = "1883x"'), r"mqtt\.port: "),
        (('device_id = "kiosk-1"', 'device_id = "Kiosk 1"'), r"mqtt\.device_id: "),
        (("[mqtt]", "[broker]"), r"no \[mqtt\] table"),
        (('host = "192.168.1.10"', "host = 192.168.1.10"), r"not a TOML file"),
    ],
)
def test_a_wrong_file_names_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path / "kiosk-1.toml", KIOSK.replace(*change))
    with pytest.raises(DeviceSettingsError, match=message) as caught:
        load_device_settings(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DeviceSettingsError, match=r"nowhere\.toml: cannot read the device settings file"):
        load_device_settings(tmp_path / "nowhere.toml")


def test_a_file_copied_to_the_wrong_device_or_office_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "kiosk-1.toml", KIOSK)
    assert load_device_settings(path, device_id="kiosk-1", site="ban-suan-ngam", roles=[DeviceRole.kiosk])
    with pytest.raises(DeviceSettingsError, match=r"mqtt\.device_id: .*kiosk-1, not kiosk-2"):
        load_device_settings(path, device_id="kiosk-2")
    with pytest.raises(DeviceSettingsError, match=r"mqtt\.site: .*'ban-suan-ngam'.*'ban-mai'"):
        load_device_settings(path, site="ban-mai")
    with pytest.raises(DeviceSettingsError, match=r"mqtt\.role: kiosk-1 is registered as a kiosk"):
        load_device_settings(path, roles=[DeviceRole.display, DeviceRole.counter])


def test_the_settings_path_comes_from_the_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTINGS_ENV, "/etc/khiu/display-1.toml")
    assert settings_path("here.toml") == Path("here.toml")
    assert settings_path(None) == Path("/etc/khiu/display-1.toml")
    monkeypatch.delenv(SETTINGS_ENV)
    with pytest.raises(DeviceSettingsError, match=f"--settings FILE .*{SETTINGS_ENV}"):
        settings_path(None)


def test_the_kiosk_reads_the_same_file_and_refuses_another_devices(tmp_path: Path) -> None:
    """`khiu kiosk` (ticket and survey mode) stops before any window opens, naming the file."""
    from kiosk.cli import _link_settings

    path = write(tmp_path / "kiosk-1.toml", KIOSK)
    for mode in ("ticket", "survey"):
        args = argparse.Namespace(
            settings=path, device="kiosk-1", mode=mode, password_file=None, tls_ca=None, mqtt_host=None,
            mqtt_port=None,
        )  # fmt: skip
        link = _link_settings(args, site="ban-suan-ngam")
        assert (link.host, link.port, link.username, link.password, link.tls_ca) == (
            "192.168.1.10",
            1883,
            "kiosk-1",
            "s3cret-from-device-add",
            None,
        )
    display = write(tmp_path / "display-1.toml", KIOSK.replace("kiosk-1", "display-1"))
    done = subprocess.run(
        [*KHIU, "kiosk", "--device", "kiosk-1", "--config", str(EXAMPLE_CONFIG), "--settings", str(display)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{display}: mqtt.device_id:" in done.stderr and "display-1, not kiosk-1" in done.stderr
