"""`khiu admin device …` as an operator uses it: what it refuses, what it prints, and that what it prints
lets the device in (and a rotated or removed password no longer does)."""

from __future__ import annotations

import argparse
import base64
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from broker_config import cli
from broker_config.control import try_login, wait_for_login
from broker_config.files import BrokerFiles
from broker_config.passwd import hash_password, new_password, parse_passwd, verify_password
from broker_config.registry import load_registry
from tests.fixtures.broker import RunningBroker


def khiu(argv: list[str]) -> int:
    """Run a `khiu` command of broker_config alone (the other parts' commands are not needed)."""
    parser = argparse.ArgumentParser(prog="khiu")
    sub = parser.add_subparsers()
    admin = sub.add_parser("admin")
    admin_sub = admin.add_subparsers()
    cli.register(sub, admin_sub)
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


def settings_from(output: str) -> dict[str, object]:
    """The `[mqtt]` table of what `device add` printed (it must be valid TOML)."""
    snippet = output[output.index("[mqtt]") :]
    table: dict[str, object] = tomllib.loads(snippet)["mqtt"]
    return table


@pytest.mark.parametrize("bad_id", ["kiosk/1", "kiosk+", "kiosk#", "Kiosk-1", "kiosk 1", "", "k" * 65])
def test_device_ids_that_could_match_other_topics_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_id: str
) -> None:
    code = khiu(
        [
            "admin",
            "device",
            "add",
            bad_id,
            "--role",
            "kiosk",
            "--site",
            "test-office",
            "--data-dir",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "a-z, 0-9 and '-'" in err
    assert repr(bad_id) in err
    files = BrokerFiles.for_data_dir(tmp_path)
    registry = load_registry(files.registry)
    assert registry is None or bad_id not in registry.devices
    assert not files.passwd.exists() or bad_id not in parse_passwd(files.passwd.read_text())


def test_a_counter_terminal_needs_its_counter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = khiu(
        [
            "admin",
            "device",
            "add",
            "counter-1",
            "--role",
            "counter",
            "--site",
            "s",
            "--data-dir",
            str(tmp_path),
        ]
    )
    assert code == 1
    assert "--counter" in capsys.readouterr().err


def test_a_second_site_in_the_same_broker_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["admin", "device", "add", "--data-dir", str(tmp_path), "--role", "kiosk"]
    assert khiu([*base, "kiosk-1", "--site", "office-a"]) == 0
    capsys.readouterr()
    assert khiu([*base, "kiosk-2", "--site", "office-b"]) == 1
    assert "'office-a'" in capsys.readouterr().err


def test_printed_settings_let_the_device_in_and_rotation_locks_the_old_password_out(
    fresh_broker: RunningBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(fresh_broker.data_dir)]
    assert (
        khiu(
            ["admin", "device", "add", "kiosk-99", "--role", "kiosk", "--port", str(fresh_broker.port), *data]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ลงทะเบียนเครื่อง kiosk-99 แล้ว" in out and "registered" in out
    first = settings_from(out)
    assert first["site"] == fresh_broker.site
    assert first["username"] == "kiosk-99"
    assert first["port"] == fresh_broker.port
    assert "password" in first
    wait_for_login(fresh_broker.host, fresh_broker.port, "kiosk-99", str(first["password"]))

    assert khiu(["admin", "device", "add", "kiosk-99", "--role", "kiosk", *data]) == 0
    out = capsys.readouterr().out
    assert "รหัสเดิมใช้ไม่ได้อีก" in out and "old one no longer works" in out
    second = settings_from(out)
    assert second["password"] != first["password"]
    wait_for_login(fresh_broker.host, fresh_broker.port, "kiosk-99", str(second["password"]))
    assert try_login(fresh_broker.host, fresh_broker.port, "kiosk-99", str(first["password"])) != 0

    assert khiu(["admin", "device", "list", *data]) == 0
    listing = capsys.readouterr().out
    assert "kiosk-99" in listing and "counter-12" in listing

    assert khiu(["admin", "device", "remove", "kiosk-99", *data]) == 0
    wait_for_login(fresh_broker.host, fresh_broker.port, "kiosk-99", str(second["password"]), accepted=False)


def test_tls_settings_are_printed_once_certificates_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert khiu(["admin", "tls", "init", "--host", "khiu-office.local", "--ip", "192.168.1.10", *data]) == 0
    assert "192.168.1.10" in capsys.readouterr().out
    assert khiu(["admin", "device", "add", "display-7", "--role", "display", "--site", "s", *data]) == 0
    settings = settings_from(capsys.readouterr().out)
    assert settings["host"] == "khiu-office.local"
    assert settings["tls_port"] == 8883
    assert Path(str(settings["tls_ca"])).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_an_invalid_address_for_the_certificate_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert khiu(["admin", "tls", "init", "--ip", "192.168.1.300", "--data-dir", str(tmp_path)]) == 1
    assert "192.168.1.300" in capsys.readouterr().err
    assert not (tmp_path / "broker" / "tls" / "server.crt").exists()


def test_our_password_hashes_are_the_ones_mosquitto_passwd_writes(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd (Debian mosquitto-clients) is not installed")
    passwd = tmp_path / "passwd"
    passwd.touch()
    subprocess.run([tool, "-b", str(passwd), "kiosk-1", "s3cret-ข้อความ"], check=True)
    theirs = parse_passwd(passwd.read_text())["kiosk-1"]
    assert verify_password("s3cret-ข้อความ", theirs)
    assert not verify_password("s3cret", theirs)
    # Same salt and count, same line: the formats are identical, not just compatible.
    _, _, iterations, salt, _ = theirs.split("$")
    assert hash_password("s3cret-ข้อความ", salt=base64.b64decode(salt), iterations=int(iterations)) == theirs


def test_generated_passwords_never_look_like_a_command_line_option() -> None:
    # token_urlsafe starts with "-" once in 64 draws; 2,000 draws miss that with odds below 1e-13.
    passwords = [new_password() for _ in range(2000)]
    assert all(p[0].isalnum() for p in passwords)
    assert len(set(passwords)) == len(passwords)
    assert all(len(p) >= 43 and p.isascii() for p in passwords)


def test_device_changes_from_the_command_line_go_to_the_audit_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import select

    from server.store import Store
    from server.web.models import AuditEntry

    monkeypatch.delenv("KHIU_DATABASE_URL", raising=False)
    data = ["--data-dir", str(tmp_path)]
    # A new install: the server's device is registered before its database exists. It still works.
    assert khiu(["admin", "device", "add", "server", "--role", "server", "--site", "test-office", *data]) == 0
    assert "not in the audit log" in capsys.readouterr().out
    assert not (tmp_path / "khiu.db").exists()  # no database created on the side

    url = f"sqlite:///{tmp_path / 'khiu.db'}"
    Store(url).migrate()
    assert khiu(["admin", "device", "add", "kiosk-7", "--role", "kiosk", *data]) == 0
    assert khiu(["admin", "device", "add", "kiosk-7", "--role", "kiosk", *data]) == 0
    assert khiu(["admin", "device", "remove", "kiosk-7", "--database-url", url, *data]) == 0
    assert "not in the audit log" not in capsys.readouterr().out

    store = Store(url)
    with store.read_engine.connect() as connection:
        entries = connection.execute(
            select(AuditEntry.action, AuditEntry.detail, AuditEntry.username).order_by(AuditEntry.id)
        ).all()
    store.close()
    assert [(action, detail) for action, detail, _ in entries] == [
        ("device.add", "kiosk-7 role=kiosk (command line)"),
        ("device.rotate", "kiosk-7 role=kiosk (command line)"),
        ("device.remove", "kiosk-7 (command line)"),
    ]
    assert all(username is None for *_, username in entries)
