"""`khiu broker`, `khiu admin device add|list|remove` and `khiu admin tls init`.

Output for people goes to stdout (Thai first, English beside); problems go to stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from common import paths
from common.vocabulary import DeviceRole

from .conf import DEFAULT_BIND, DEFAULT_PORT, DEFAULT_TLS_BIND, DEFAULT_TLS_PORT, BrokerSettings
from .control import BrokerError, running_broker_pid
from .devices import DeviceCredentials, add_devices, list_devices, registered_site, remove_device
from .files import BrokerFiles
from .registry import Device, RegistryError
from .tls import TlsFiles, certificate_names, init_tls

log = logging.getLogger(__name__)

ROLE_NAMES_TH: dict[DeviceRole, str] = {
    DeviceRole.kiosk: "ตู้กดบัตรคิว",
    DeviceRole.display: "จอแสดงคิว",
    DeviceRole.counter: "เครื่องประจำช่องบริการ",
    DeviceRole.survey: "เครื่องประเมินความพึงพอใจ",
    DeviceRole.server: "เครื่องแม่ข่าย",
}


class CliError(Exception):
    """A problem to report to the operator in one message (no traceback)."""


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _files(args: argparse.Namespace) -> BrokerFiles:
    data_dir: Path | None = args.data_dir
    return BrokerFiles.for_data_dir(data_dir.resolve() if data_dir else None)


def _site_for(args: argparse.Namespace, files: BrokerFiles) -> str | None:
    """--site, else None when the registry already knows the site, else the office config's id."""
    if args.site:
        return str(args.site)
    if registered_site(files) is not None:
        return None
    try:
        from common.config import load_config
    except ImportError as exc:
        raise CliError(
            "อ่านไฟล์ตั้งค่าสำนักงานไม่ได้ ให้ระบุ --site / cannot read the office config "
            f"(common.config.load_config is not available: {exc}); give the office id with --site"
        ) from exc
    config_path = paths.default_config_path()
    try:
        return str(load_config(config_path).office.id)
    except Exception as exc:  # any reason the file cannot be used; the message names it
        raise CliError(
            f"อ่านไฟล์ตั้งค่าสำนักงานไม่ได้ / cannot read the office config {config_path}: {exc}\n"
            "ให้แก้ไฟล์ หรือระบุ --site / fix the file or give the office id with --site"
        ) from exc


def _warn_unknown_counter(counter: str | None) -> None:
    """A counter id the office config does not know is allowed (the config may come later) but said."""
    if counter is None:
        return
    try:
        from common.config import load_config

        config = load_config(paths.default_config_path())
    except Exception:  # no usable office config: nothing to compare with
        return
    if config.counter_by_id(counter) is None:
        known = ", ".join(c.id for c in config.counters)
        sys.stderr.write(
            f"คำเตือน: ไม่มีช่องบริการ {counter!r} ในไฟล์ตั้งค่าสำนักงาน / warning: the office config has no "
            f"counter {counter!r} (known: {known})\n"
        )


def _broker_host(files: BrokerFiles) -> str:
    """The address LAN devices should use: the TLS certificate's first LAN name, else loopback."""
    tls = TlsFiles(files.tls_dir)
    if tls.ready():
        dns_names, ips = certificate_names(tls.server_cert)
        for name in [*dns_names, *ips]:
            if name not in {"localhost", "127.0.0.1", "::1"}:
                return name
    return "127.0.0.1"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def device_settings_snippet(
    credentials: DeviceCredentials,
    *,
    site: str,
    host: str,
    port: int,
    tls_port: int | None,
    tls_ca: Path | None,
) -> str:
    """The TOML a device needs to connect, with Thai and English labels (the keys match
    `common.link.MqttLink`'s arguments)."""
    device = credentials.device
    rows: list[tuple[str, str, str]] = [
        ("host", _toml_str(host), "ที่อยู่เครื่องแม่ข่าย MQTT / broker host"),
        ("port", str(port), "พอร์ต MQTT / MQTT port"),
    ]
    if tls_port is not None and tls_ca is not None:
        rows += [
            ("tls_port", str(tls_port), "พอร์ต MQTT แบบเข้ารหัส TLS / MQTT over TLS port"),
            ("tls_ca", _toml_str(str(tls_ca)), "ใบรับรอง CA ของสำนักงาน คัดลอกไปที่เครื่อง / office CA: copy it"),
        ]
    rows += [
        ("site", _toml_str(site), "รหัสสำนักงาน / office id"),
        ("device_id", _toml_str(device.id), "รหัสเครื่อง / device id"),
        ("role", _toml_str(device.role.value), f"บทบาท: {ROLE_NAMES_TH[device.role]} / role"),
    ]
    if device.counter is not None:
        rows.append(("counter", _toml_str(device.counter), "ช่องบริการ / counter"))
    rows += [
        ("username", _toml_str(credentials.username), "ชื่อผู้ใช้ / username"),
        ("password", _toml_str(credentials.password), "รหัสผ่าน / password"),
    ]
    width = max(len(f"{k} = {v}") for k, v, _ in rows)
    lines = [
        f"# ค่าการเชื่อมต่อของเครื่อง {device.id} / connection settings of device {device.id}",
        "# เก็บรหัสผ่านไว้ให้ดี จะไม่แสดงอีก / keep the password safe: it is not shown again",
        "[mqtt]",
    ]
    lines += [f"{f'{k} = {v}':<{width}}  # {label}" for k, v, label in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- handlers


def _audit(args: argparse.Namespace, action: str, detail: str) -> None:
    """Record a device change in the office database's audit log, as the web admin does (marked as done
    from the command line). Best effort: a new install registers the server's own device before its
    database exists, so the change stands and the operator is told it was not recorded."""
    try:
        from server.cli import DATABASE_ENV
        from server.retention import AdminError, audit_cli, open_existing
        from server.store.database import describe_url
    except ImportError:  # a device-only install, without the server's packages
        return
    data_dir = args.data_dir.resolve() if args.data_dir else paths.data_dir()
    url = args.database_url or os.environ.get(DATABASE_ENV) or f"sqlite:///{data_dir / 'khiu.db'}"
    try:
        engine = open_existing(url)
    except AdminError as exc:
        log.info("device change not audited: %s", exc)
        _out(
            "(ยังไม่มีฐานข้อมูลของสำนักงาน จึงไม่ได้บันทึกในบันทึกการตรวจสอบ / not in the audit log: "
            f"no office database at {describe_url(url)} yet)"
        )
        return
    try:
        audit_cli(engine, action, detail)
    except Exception as exc:  # the registry already changed: say so, do not fail the command
        log.warning("device change not audited: %s", exc)
        _out(f"(บันทึกการตรวจสอบไม่สำเร็จ / could not write the audit log: {exc})")
    finally:
        engine.dispose()


def _device_add(args: argparse.Namespace) -> int:
    files = _files(args)
    device = Device.create(args.device_id, args.role, args.counter)
    site = _site_for(args, files)
    _warn_unknown_counter(device.counter)
    (credentials,) = add_devices(files, [device], site=site)
    site = registered_site(files) or ""
    tls = TlsFiles(files.tls_dir)
    tls_on = tls.ready() and args.tls_port is not None
    if credentials.rotated:
        _out(
            f"เครื่อง {device.id} มีอยู่แล้ว: ออกรหัสผ่านใหม่ รหัสเดิมใช้ไม่ได้อีก / device {device.id} was already "
            "registered: it has a new password and the old one no longer works"
        )
    else:
        _out(f"ลงทะเบียนเครื่อง {device.id} แล้ว / device {device.id} registered")
    action = "device.rotate" if credentials.rotated else "device.add"
    _audit(args, action, f"{device.id} role={device.role.value}")
    if running_broker_pid(files) is None:
        _out("(ยังไม่มี broker ทำงาน: มีผลเมื่อเริ่ม `khiu broker` / no broker running: applies at `khiu broker`)")
    _out()
    _out(
        device_settings_snippet(
            credentials,
            site=site,
            # The server runs beside the broker; other devices come over the LAN.
            host=args.host or ("127.0.0.1" if device.role is DeviceRole.server else _broker_host(files)),
            port=args.port,
            tls_port=args.tls_port if tls_on else None,
            tls_ca=tls.ca_cert if tls_on else None,
        )
    )
    return 0


def _device_list(args: argparse.Namespace) -> int:
    files = _files(args)
    devices = list_devices(files)
    if not devices:
        _out("ยังไม่มีเครื่องที่ลงทะเบียน / no device registered yet (khiu admin device add)")
        return 0
    _out(f"สำนักงาน / site: {registered_site(files)}")
    _out(f"{'รหัสเครื่อง / id':<24} {'บทบาท / role':<36} ช่องบริการ / counter")
    for device in devices:
        role = f"{ROLE_NAMES_TH[device.role]} / {device.role.value}"
        _out(f"{device.id:<24} {role:<36} {device.counter or '-'}")
    return 0


def _device_remove(args: argparse.Namespace) -> int:
    device = remove_device(_files(args), args.device_id)
    _audit(args, "device.remove", device.id)
    _out(
        f"ลบเครื่อง {device.id} แล้ว เข้าระบบไม่ได้อีก / device {device.id} removed: it can no longer log in "
        "(a connection already open stays until it drops; restart the broker to cut it now)"
    )
    return 0


def _tls_init(args: argparse.Namespace) -> int:
    files = _files(args)
    issued = init_tls(files.tls_dir, hosts=args.host, ips=args.ip, new_ca=args.new_ca)
    names = ", ".join(issued.dns_names + issued.ip_addresses)
    if issued.new_ca:
        _out(f"สร้าง CA ใหม่ / new CA: {issued.files.ca_cert}")
        _out("คัดลอกไฟล์นี้ไปยังทุกเครื่อง / copy this file to every device (tls_ca)")
    else:
        _out(
            f"ใช้ CA เดิม เครื่องต่าง ๆ ไม่ต้องเปลี่ยน / kept the CA, devices need nothing new: {issued.files.ca_cert}"
        )
    _out(f"ใบรับรองเครื่องแม่ข่าย / server certificate: {issued.files.server_cert}")
    _out(f"ชื่อและที่อยู่ / names: {names}")
    _out(f"หมดอายุ / expires: {issued.not_after:%Y-%m-%d} (run `khiu admin tls init` again before then)")
    if running_broker_pid(files) is not None:
        _out("รีสตาร์ต broker เพื่อใช้ใบรับรองใหม่ / restart the broker to use the new certificate")
    return 0


def _broker(args: argparse.Namespace) -> int:
    # Imported here: `khiu --help` should not pay for subprocess machinery it does not use.
    from .runner import check_port_free, find_mosquitto, prepare_broker, start_mosquitto

    files = _files(args)
    settings = BrokerSettings(
        port=args.port,
        bind=args.bind,
        tls_port=None if args.no_tls else args.tls_port,
        tls_bind=args.tls_bind,
    )
    if not list_devices(files):
        sys.stderr.write(
            "คำเตือน: ยังไม่มีเครื่องที่ลงทะเบียน ไม่มีใครเชื่อมต่อได้ / warning: no device is registered, nobody "
            "can log in: `khiu admin device add server --role server` first\n"
        )
    if args.foreground:
        check_port_free(args.port, args.bind)
        config = prepare_broker(files, settings)
        executable = find_mosquitto()
        log.info("running %s -c %s", executable, config)
        sys.stdout.flush()
        sys.stderr.flush()
        # exec: signals from systemd or Ctrl-C reach Mosquitto itself, and its log goes to our stderr.
        os.execv(executable, [executable, "-c", str(config)])
    pid = running_broker_pid(files)
    if pid is not None:
        _out(f"broker ทำงานอยู่แล้ว (pid {pid}) / the broker is already running (pid {pid})")
        return 0
    process = start_mosquitto(args.data_dir, args.port, args.bind, settings=settings, detach=True)
    _out(f"broker ทำงานแล้ว / broker running: pid {process.pid}, {args.bind or '*'}:{args.port}")
    if settings.tls_port is not None and TlsFiles(files.tls_dir).ready():
        _out(f"TLS: {args.tls_bind or '*'}:{settings.tls_port}")
    _out(f"บันทึก / log: {files.log_file}")
    _out(f"หยุด / stop: kill {process.pid}")
    return 0


Handler = Callable[[argparse.Namespace], int]


def _run(handler: Handler) -> Handler:
    """Wrap a handler so expected problems print one clear message and exit 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (CliError, RegistryError, BrokerError, ValueError) as exc:
            sys.stderr.write(f"khiu: {exc}\n")
            return 1

    return run


def _help(parser: argparse.ArgumentParser) -> Handler:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


# ------------------------------------------------------------------------------------------ registration


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="data directory (default $KHIU_DATA_DIR or ./var)"
    )


def _audit_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the office database, for its audit log (default: $KHIU_DATABASE_URL, else khiu.db in the "
        "data directory)",
    )


if TYPE_CHECKING:
    SubParsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def register(sub: SubParsers, admin_sub: SubParsers) -> None:
    """Add `khiu broker` and `khiu admin device|tls` (called by common/cli.py)."""
    broker = sub.add_parser("broker", help="run Mosquitto with Khiu's configuration")
    broker.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"plain MQTT port (default {DEFAULT_PORT})"
    )
    broker.add_argument(
        "--bind", default=DEFAULT_BIND, help=f"plain listener address (default {DEFAULT_BIND})"
    )
    broker.add_argument(
        "--tls-port",
        type=int,
        default=DEFAULT_TLS_PORT,
        help=f"TLS port when certificates exist ({DEFAULT_TLS_PORT})",
    )
    broker.add_argument("--tls-bind", default=DEFAULT_TLS_BIND, help="TLS listener address (default: all)")
    broker.add_argument("--no-tls", action="store_true", help="no TLS listener even with certificates")
    broker.add_argument(
        "--foreground", action="store_true", help="run in this process, logging to stderr (for systemd)"
    )
    _data_dir_option(broker)
    broker.set_defaults(handler=_run(_broker))

    device = admin_sub.add_parser("device", help="devices allowed on the broker: add, list, remove")
    device_sub = device.add_subparsers(dest="device_command", metavar="DEVICE_COMMAND")
    device.set_defaults(handler=_help(device))

    add = device_sub.add_parser(
        "add", help="register a device (or give it a new password) and print its settings"
    )
    add.add_argument("device_id", metavar="ID", help="device id: a-z, 0-9, '-' (also its MQTT username)")
    add.add_argument("--role", required=True, choices=[r.value for r in DeviceRole])
    add.add_argument("--counter", help="counter id the device serves (required for --role counter)")
    add.add_argument("--site", help="office id (default: the office config's office.id)")
    add.add_argument("--host", help="broker address devices use (default: from the TLS certificate)")
    add.add_argument("--port", type=int, default=DEFAULT_PORT, help="plain MQTT port to print")
    add.add_argument("--tls-port", type=int, default=DEFAULT_TLS_PORT, help="TLS port to print")
    _data_dir_option(add)
    _audit_option(add)
    add.set_defaults(handler=_run(_device_add))

    listing = device_sub.add_parser("list", help="list registered devices")
    _data_dir_option(listing)
    listing.set_defaults(handler=_run(_device_list))

    remove = device_sub.add_parser("remove", help="unregister a device")
    remove.add_argument("device_id", metavar="ID")
    _data_dir_option(remove)
    _audit_option(remove)
    remove.set_defaults(handler=_run(_device_remove))

    tls = admin_sub.add_parser("tls", help="the office CA and the broker's TLS certificate")
    tls_sub = tls.add_subparsers(dest="tls_command", metavar="TLS_COMMAND")
    tls.set_defaults(handler=_help(tls))
    init = tls_sub.add_parser("init", help="create the CA (once) and a server certificate")
    init.add_argument("--host", action="append", default=[], help="a DNS name of the broker (repeat)")
    init.add_argument("--ip", action="append", default=[], help="an IP address of the broker (repeat)")
    init.add_argument(
        "--new-ca", action="store_true", help="replace the CA too (every device needs the new one)"
    )
    _data_dir_option(init)
    init.set_defaults(handler=_run(_tls_init))
