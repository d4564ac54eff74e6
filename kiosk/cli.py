"""`khiu kiosk`: the touchscreen kiosk of one office.

    khiu kiosk --device kiosk-1 --settings kiosk-1.toml            # settings from `khiu admin device add`
    khiu kiosk --device kiosk-1 --mqtt-host 192.168.1.10 --password-file /etc/khiu/kiosk-1.pass
    KHIU_MQTT_PASSWORD=... khiu kiosk --device kiosk-1 --windowed  # a window instead of full screen

Kivy and the rest of the app are imported only when the command runs, so `khiu --help` stays instant.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path
from typing import Any

from common.kivy_env import set_device_kivy_env

log = logging.getLogger(__name__)

PASSWORD_ENV = "KHIU_MQTT_PASSWORD"
MODES = ("ticket", "survey")


def register(sub: Any, admin_sub: Any) -> None:
    """Add `khiu kiosk` (the kiosk has no admin subcommands)."""
    p = sub.add_parser(
        "kiosk",
        help="the touchscreen kiosk: take a queue ticket (ตู้กดบัตรคิว), or --mode survey: rate the service",
        description="Run the kiosk of one office: Thai first, large text, prints tickets, keeps working "
        "when the server is away.",
    )
    p.add_argument("--device", required=True, metavar="ID", help="this kiosk's device id, e.g. kiosk-1")
    p.add_argument("--config", type=Path, metavar="PATH", help="the office TOML (default: $KHIU_CONFIG)")
    p.add_argument(
        "--settings",
        type=Path,
        metavar="FILE",
        help="device settings file printed by `khiu admin device add`",
    )
    p.add_argument("--mqtt-host", metavar="H", help="broker host (overrides the settings file)")
    p.add_argument("--mqtt-port", type=int, metavar="P", help="broker port (default 1883)")
    p.add_argument(
        "--password-file", type=Path, metavar="F", help=f"file holding the MQTT password (or ${PASSWORD_ENV})"
    )
    p.add_argument(
        "--tls-ca", type=Path, metavar="PEM", help="the office CA certificate, to connect with TLS"
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="where the kiosk keeps its files (default: $KHIU_DATA_DIR)",
    )
    p.add_argument("--windowed", action="store_true", help="a window with a cursor instead of full screen")
    p.add_argument("--mode", choices=MODES, default="ticket", help="ticket (default) or survey")
    p.add_argument("--benchmark", type=Path, metavar="JSON", help="write start-up (and ticket) timings here")
    p.add_argument(
        "--benchmark-tickets",
        type=int,
        default=0,
        metavar="N",
        help="with --benchmark: take N tickets, then quit",
    )
    p.set_defaults(handler=run)


class UsageError(Exception):
    """Something in the command line or the files keeps the kiosk from starting; the message says what."""


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except UsageError as exc:
        sys.stderr.write(f"khiu kiosk: {exc}\n")
        return 2


def _run(args: argparse.Namespace) -> int:
    from common.config import ConfigError, load_config
    from common.paths import data_dir, default_config_path
    from common.vocabulary import DeviceRole
    from kiosk.heap import limit_heap_arenas

    config_path = args.config or default_config_path()
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.mode == "survey":  # a survey device or a kiosk: kiosk/survey/
        from kiosk.survey.cli import run_survey

        return run_survey(args, config, config_path)
    device = config.device_by_id(args.device)
    if device is None:
        known = ", ".join(d.id for d in config.devices_with_role(DeviceRole.kiosk)) or "none"
        raise UsageError(f"{config_path}: no device {args.device!r} (kiosks: {known})")
    if device.role is not DeviceRole.kiosk:
        raise UsageError(f"device {device.id} is a {device.role.value}, not a kiosk")

    link = _link_settings(args, site=config.office.id)
    kiosk_dir = (args.data_dir or data_dir()) / "kiosk" / device.id
    limit_heap_arenas()  # before Kivy, paho and the print worker start their threads
    _configure_kivy(windowed=args.windowed)
    _keep_printer_profiles(kiosk_dir / "escpos")

    from common.catalog import catalog_from_config
    from common.thaidate import business_date
    from common.ui.clock import kivy_handoff
    from kiosk.app import KioskApp, KivyScheduler
    from kiosk.runtime import KioskRuntime
    from kiosk.viewmodels import KioskSettings

    benchmark = None
    if args.benchmark is not None:
        from kiosk.bench import Benchmark

        benchmark = Benchmark(args.benchmark)

    runtime = KioskRuntime(
        settings=KioskSettings(
            device_id=device.id,
            offline_series=device.offline_series,
            reply_timeout_s=config.queue.kiosk_reply_timeout_s,
        ),
        link_settings=link,
        data_dir=kiosk_dir,
        printer=device.printer,
        handoff=benchmark.timed_handoff(kivy_handoff) if benchmark is not None else kivy_handoff,
        scheduler=KivyScheduler(),
        fallback_catalog=lambda: catalog_from_config(config, business_date(dt.datetime.now(dt.UTC))),
        version=_version(),
    )

    def first_frame(at: float) -> None:
        if benchmark is not None:
            benchmark.first_frame(at)
        runtime.start_printer()

    app = KioskApp(runtime.model, mode=args.mode, on_first_frame=first_frame)
    if benchmark is not None and args.benchmark_tickets > 0:
        from kiosk.bench import TicketRun

        def finished(run: TicketRun) -> None:
            benchmark.tickets_done(run)
            app.stop()

        run_ = TicketRun(runtime.model, args.benchmark_tickets, finished, handoffs=benchmark.handoffs)
        app.bind(on_start=lambda *_: run_.start())
    runtime.start(printer=False)  # the printer worker starts with the first frame
    try:
        app.run()
    finally:
        runtime.stop()
    return 0


def _link_settings(args: argparse.Namespace, *, site: str) -> Any:
    """How this device reaches the broker: the settings file (`common.device_settings`), with the
    command line's options over it; without a file, the options alone."""
    from common.device_settings import DeviceSettingsError, load_device_settings
    from common.vocabulary import DeviceRole
    from kiosk.runtime import LinkSettings

    roles = (DeviceRole.survey, DeviceRole.kiosk) if args.mode == "survey" else (DeviceRole.kiosk,)
    file = None
    if args.settings is not None:
        try:
            file = load_device_settings(args.settings, device_id=args.device, site=site, roles=roles)
        except DeviceSettingsError as exc:
            raise UsageError(str(exc)) from None
    password = file.password if file is not None else None
    if args.password_file is not None:
        try:
            password = args.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read the password file {args.password_file}: {exc.strerror}") from None
    elif os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    if not password:
        raise UsageError(
            "no MQTT password: pass --settings (from `khiu admin device add`), --password-file "
            f"or set {PASSWORD_ENV}"
        )
    if args.tls_ca is not None:
        tls_ca: Path | None = args.tls_ca
        port = (file.tls_port or file.port) if file is not None else None
    elif file is not None and file.uses_tls:
        tls_ca, port = file.tls_ca, file.broker_port
    else:
        tls_ca, port = None, file.port if file is not None else None
    return LinkSettings(
        host=args.mqtt_host or (file.host if file is not None else "127.0.0.1"),
        port=int(args.mqtt_port or port or 1883),
        site=site,
        username=file.username if file is not None else args.device,
        password=password,
        tls_ca=tls_ca,
    )


def _configure_kivy(*, windowed: bool) -> None:
    """Kiosk settings through Kivy's environment (REFERENCE.md): full screen, no cursor, Escape does not
    quit; Kivy must not read our command line. Set before Kivy is imported."""
    set_device_kivy_env()
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # The "interrupt" clock wakes from its between-frames sleep when the network hands work over, so a
    # number arriving from the server is drawn in the next frame, not one sleep later.
    os.environ.setdefault("KCFG_KIVY_KIVY_CLOCK", "interrupt")
    if not windowed:
        os.environ.setdefault("KCFG_GRAPHICS_FULLSCREEN", "auto")
        os.environ.setdefault("KCFG_GRAPHICS_SHOW_CURSOR", "0")
    from kivy.config import Config

    # One input path: some USB touchscreens report every touch twice when SDL's touch events and the
    # probesysfs provider are both on (kivy #1903, #3801). SDL's own events cover touch and mouse.
    for key, value in Config.items("input"):
        if value.startswith("probesysfs"):
            Config.remove_option("input", key)


def _keep_printer_profiles(folder: Path) -> None:
    """python-escpos reads its printer profiles (a large JSON file, about 0.25 s) and caches them as a
    pickle in a new temporary folder on every start, so the cache never helps and /tmp gains a folder
    per start. Give it a folder of the kiosk's own that survives restarts. Set before escpos is imported."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("no cache folder for the printer profiles (%s): they load on every start", exc)
        return
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(folder))


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("khiu")
    except Exception:
        return ""
