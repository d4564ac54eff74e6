"""`khiu simulate`: a realistic office day played through the real MQTT contract against a running
broker and server: citizens at kiosks, staff at counters, ratings at survey tablets.

    khiu simulate                       # one day at speed 60 (an hour per real minute), 150 citizens
    khiu simulate --speed max --tickets 200 --seed 7
    khiu simulate --speed 1 --duration 2h --start 09:00
    khiu simulate --devices sim-devices.toml --host 192.168.1.10

Without `--devices`, the simulator registers its own devices (sim-kiosk-1, sim-counter-c1, ...) in the
broker data directory of this machine (`--data-dir`, else $KHIU_DATA_DIR or ./var), so the office's
real devices keep their passwords. Exit code 0 when every request was answered exactly once and the
ticket numbers are unique and gapless, 1 otherwise, 2 when the run could not start."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

from common import paths

log = logging.getLogger(__name__)

_DURATION_RE = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")


def parse_duration(text: str) -> dt.timedelta:
    """`90m`, `3h`, `1h30m`, `45s` -> a timedelta."""
    m = _DURATION_RE.fullmatch(text.strip())
    if not text.strip() or m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90m, 3h or 1h30m")
    return dt.timedelta(hours=int(m["h"] or 0), minutes=int(m["m"] or 0), seconds=int(m["s"] or 0))


def parse_speed(text: str) -> float | None:
    """`max` -> None (as fast as the server answers); a number -> simulated seconds per real second."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number (60 = an hour a minute) or max") from None
    if speed <= 0:
        raise argparse.ArgumentTypeError("speed must be positive")
    return speed


def parse_time(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time like 08:00") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="office TOML (default: $KHIU_CONFIG or ./office.toml)")
    parser.add_argument("--host", default="127.0.0.1", help="broker host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=1883, help="broker port (default 1883)")
    parser.add_argument("--tls-ca", type=Path, help="CA certificate of the broker's TLS listener")
    parser.add_argument("--site", help="office id (default: the config's office.id)")
    parser.add_argument("--data-dir", type=Path, help="data directory whose broker gets the sim devices")
    parser.add_argument("--devices", type=Path, help="device file (TOML) with ids, roles and passwords")
    parser.add_argument("--kiosks", type=int, default=3, help="kiosks to register (default 3)")
    parser.add_argument("--surveys", type=int, default=2, help="survey tablets to register (default 2)")
    speed_help = "simulated seconds per real second, or max (default 60)"
    parser.add_argument("--speed", type=parse_speed, default=60.0, help=speed_help)
    parser.add_argument("--tickets", type=int, default=150, help="citizens in the day (default 150)")
    parser.add_argument("--duration", type=parse_duration, help="simulated time to play, e.g. 3h")
    parser.add_argument("--start", type=parse_time, default=dt.time(8, 0), help="simulated start, 08:00")
    parser.add_argument("--seed", type=int, help="random seed: the same seed plays the same day")
    parser.add_argument("--no-lunch", action="store_true", help="no counter closes for lunch")
    parser.add_argument("--wall-timeout", type=float, help="stop after this many real seconds")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")


def register(sub: Any, admin_sub: Any) -> None:
    """Add `khiu simulate` to the `khiu` command (common/cli.py)."""
    parser = sub.add_parser(
        "simulate",
        help="play a realistic office day through the real MQTT contract (kiosks, counters, surveys)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(handler=handle)


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


STANDARD_DAY = (dt.time(8, 30), dt.time(16, 0))
"""Issuing hours of a Thai local office; played when the office file is open round the clock (a demo
or test setup), since nobody queues at midnight."""


def _issuing_hours(config: Any, day: dt.date) -> tuple[dt.time, dt.time]:
    """The office's issuing window on `day`, or on the next day that has one (a simulated day on a
    Sunday plays a Monday)."""
    for offset in range(14):
        window = config.queue.issuing_window(day + dt.timedelta(days=offset))
        if window is None:
            continue
        opens, closes = window
        span = dt.datetime.combine(day, closes) - dt.datetime.combine(day, opens)
        if span > dt.timedelta(hours=12):
            log.info("the office issues tickets %s-%s: playing %s-%s", opens, closes, *STANDARD_DAY)
            return STANDARD_DAY
        return opens, closes
    return STANDARD_DAY


def build_settings(args: argparse.Namespace) -> Any:
    """SimulatorSettings from the command line: reads the office config, provisions or reads devices."""
    from common.config import load_config
    from server.simulation import SimulatorSettings
    from server.simulation.devices import DevicePlan, provision, read_device_file

    config_path = args.config or paths.default_config_path()
    config = load_config(config_path)
    site = args.site or config.office.id
    today = dt.date.today()
    opens, closes = _issuing_hours(config, today)
    if args.devices is not None:
        devices = read_device_file(args.devices)
    else:
        devices = provision(
            args.data_dir,
            site,
            kiosks=max(args.kiosks, 1),
            counters=[c.id for c in config.counters],
            surveys=max(args.surveys, 0),
            host=args.host,
            port=args.port,
        )
    plan = DevicePlan.of(devices)
    return SimulatorSettings(
        host=args.host,
        port=args.port,
        site=site,
        credentials=plan.credentials,
        kiosks=plan.kiosks,
        counters=plan.counters,
        surveys=plan.surveys,
        speed=args.speed,
        tickets=args.tickets,
        start=args.start,
        duration=args.duration,
        opens=opens,
        closes=closes,
        max_calls=config.queue.max_calls_before_no_show,
        lunch_breaks=not args.no_lunch,
        seed=args.seed,
        tls_ca=args.tls_ca,
        wall_timeout_s=args.wall_timeout,
    )


def handle(args: argparse.Namespace) -> int:
    from broker_config.control import BrokerError
    from common.config import ConfigError
    from server.simulation import SimulationError, run_simulation
    from server.simulation.devices import DeviceFileError

    try:
        settings = build_settings(args)
        speed = "max" if settings.speed is None else f"{settings.speed:g}x"
        _out(
            f"เริ่มจำลองวันทำการ / simulating a day at {settings.site}: {settings.tickets} citizens, "
            f"{len(settings.kiosks)} kiosks, {len(settings.counters)} counters, "
            f"{len(settings.surveys)} survey tablets, speed {speed}"
        )
        summary = run_simulation(settings)
    except (ConfigError, DeviceFileError, BrokerError, SimulationError, ValueError, OSError) as exc:
        _err(f"จำลองไม่ได้ / cannot simulate: {exc}")
        return 2
    _out(summary.render())
    if args.json is not None:
        args.json.write_text(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2), "utf-8")
    return 0 if summary.ok else 1


def main(argv: list[str] | None = None) -> int:
    """`python -m server.simulate`: the same as `khiu simulate`."""
    parser = argparse.ArgumentParser(prog="khiu simulate", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return handle(args)


if __name__ == "__main__":
    sys.exit(main())
