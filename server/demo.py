"""`khiu demo`: a whole office on one machine.

It starts, each as its own process with its own log: our Mosquitto (broker_config/), the office server
(queue, database, web app), the kiosk, the hall board and a counter terminal (on this screen, or on a
virtual screen when there is none), and simulated traffic (citizens taking tickets at simulated kiosks,
staff calling at every counter, ratings at the exit) through the real MQTT contract. It prints what it
started, where to look and how to stop, then runs until Ctrl-C (or `--duration`).

The demo office is the example office (`examples/office.toml`) taking tickets round the clock, so it
works at night and on Sundays too; its files live in `var/demo` (`--data-dir`).

`--check` (with `--duration`) makes it a smoke test of the front door: after the run it checks that
tickets were issued and served, that every process stayed up and that the web app answered."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.paths import EXAMPLE_CONFIG

LOOPBACK = "127.0.0.1"
VIRTUAL_SCREEN = "2320x1390x24"
"""Room for the three windows side by side, so one screenshot shows the whole office."""
WINDOWS = {"kiosk": (0, 0, 1024, 768), "board": (1034, 0, 1280, 720), "counter": (0, 778, 1024, 600)}
"""left, top, width, height of each window."""
SCREENSHOT_EVERY_S = 20.0
DEMO_USERS = (("admin", "admin"), ("manager", "manager"), ("staff", "staff"))


def register(sub: Any, admin_sub: Any) -> None:
    """Add `khiu demo` to the `khiu` command."""
    p = sub.add_parser(
        "demo",
        help="a whole office on this machine: broker, server, kiosk, board, counter, simulated traffic",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data-dir", type=Path, default=Path("var/demo"), help="demo files (default var/demo)")
    p.add_argument("--base-config", type=Path, default=EXAMPLE_CONFIG, help="the office to play")
    p.add_argument("--mqtt-port", type=int, default=1883, help="broker port; another is chosen if taken")
    p.add_argument("--http-port", type=int, default=8000, help="web app port; another is chosen if taken")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: run until Ctrl-C)")
    p.add_argument(
        "--check", action="store_true", help="after the run, check the office worked; exit 1 if not"
    )
    p.add_argument("--speed", default="60", help="simulated seconds per real second (default 60)")
    p.add_argument("--tickets", type=int, default=300, help="simulated citizens (default 300)")
    p.add_argument("--no-screens", action="store_true", help="no kiosk, board or counter windows")
    p.add_argument("--no-traffic", action="store_true", help="no simulated citizens and staff")
    p.set_defaults(handler=run_demo)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    essential: bool = True


@dataclass
class Demo:
    args: argparse.Namespace
    data_dir: Path
    children: list[Child] = field(default_factory=list)
    screenshot: Callable[[], None] | None = None

    def say(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def spawn(self, name: str, cmd: list[str], *, env: dict[str, str], essential: bool = True) -> Child:
        log_path = self.data_dir / "logs" / f"{name}.log"
        log_file = log_path.open("ab")
        process = subprocess.Popen(
            cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        log_file.close()
        child = Child(name, process, log_path, essential)
        self.children.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait(5)


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                continue
            chosen: int = probe.getsockname()[1]
            return chosen
    raise OSError("no free TCP port on loopback")


def _khiu() -> list[str]:
    return [sys.executable, "-m", "common.cli"]


def _wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status < 500)
        except OSError:
            time.sleep(0.3)
    return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _virtual_screen(demo: Demo, env: dict[str, str]) -> Iterator[str | None]:
    """This machine's screen when there is one, else a private Xvfb for the windows."""
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        yield env.get("DISPLAY")
        return
    if shutil.which("Xvfb") is None:
        demo.say("  ไม่มีหน้าจอและไม่มี Xvfb: ไม่เปิดหน้าต่าง / no screen and no Xvfb: no windows")
        yield None
        return
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", VIRTUAL_SCREEN, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as reader:
        number = reader.readline().strip()
    try:
        yield f":{number}" if number else None
    finally:
        xvfb.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            xvfb.wait(5)


def _office(demo: Demo, config_path: Path) -> tuple[Any, dict[str, str]]:
    """Write the demo office and register its devices; returns (config, device passwords)."""
    from broker_config.devices import add_devices
    from broker_config.files import BrokerFiles
    from broker_config.registry import Device
    from common.config import load_config
    from common.vocabulary import DeviceRole
    from server.simulation.office import always_open_office, write_office

    base = load_config(demo.args.base_config)
    counters = [c.id for c in base.counters]
    site = base.office.id
    sim_kiosks = ["sim-kiosk-1", "sim-kiosk-2"]
    raw = always_open_office(
        site=site,
        base=demo.args.base_config,
        kiosks=["kiosk-1", *sim_kiosks],
        counter_terminals={"counter-1": counters[0], **{f"sim-counter-{c}": c for c in counters}},
        surveys=["survey-1", "sim-survey-1"],
        displays=["display-1"],
    )
    for device, series in zip(raw["devices"][:3], ("X", "Y", "Z"), strict=True):
        device["offline_series"] = series
    devices_by_id = {d["id"]: d for d in raw["devices"]}
    devices_by_id["kiosk-1"]["printer"] = {"kind": "file", "path": str(demo.data_dir / "printer.bin")}
    write_office(config_path, raw)
    config = load_config(config_path)

    wanted = [Device.create("server", DeviceRole.server)]
    wanted += [Device.create(d.id, d.role, d.counter) for d in config.devices]
    issued = add_devices(BrokerFiles.for_data_dir(demo.data_dir), wanted, site=site)
    return config, {c.device.id: c.password for c in issued}


def _write_device_files(demo: Demo, config: Any, passwords: dict[str, str], port: int) -> None:
    """Settings for the windows (as `khiu admin device add` prints them) and the simulator's device file."""
    import tomli_w

    devices_dir = demo.data_dir / "devices"
    devices_dir.mkdir(parents=True, exist_ok=True)
    for device in config.devices:
        table = {
            "host": LOOPBACK,
            "port": port,
            "site": config.office.id,
            "device_id": device.id,
            "role": device.role.value,
            "username": device.id,
            "password": passwords[device.id],
        }
        if device.counter:
            table["counter"] = device.counter
        path = devices_dir / f"{device.id}.toml"
        path.write_text(tomli_w.dumps({"mqtt": table}), "utf-8")
        path.chmod(0o600)
    simulated = [
        {
            "id": d.id,
            "role": d.role.value,
            "password": passwords[d.id],
            **({"counter": d.counter} if d.counter else {}),
        }
        for d in config.devices
        if d.id.startswith("sim-")
    ]
    path = devices_dir / "simulator.toml"
    path.write_text(tomli_w.dumps({"device": simulated}), "utf-8")
    path.chmod(0o600)
    (demo.data_dir / "server.password").write_text(passwords["server"], "utf-8")
    (demo.data_dir / "server.password").chmod(0o600)


def _web_users(demo: Demo, env: dict[str, str], database_url: str) -> list[tuple[str, str, str]]:
    """Demo logins (new passwords each run), created through `khiu admin user`."""
    made = []
    for name, role in DEMO_USERS:
        password = f"{name}-{secrets.token_hex(3)}"
        for action in (["add", name, "--role", role], ["passwd", name]):
            done = subprocess.run(
                [*_khiu(), "admin", "user", *action, "--password-stdin", "--database-url", database_url],
                input=f"{password}\n".encode(),
                env=env,
                capture_output=True,
            )
            if done.returncode == 0:
                made.append((name, role, password))
                break
    return made


def _screenshot(display: str, path: Path) -> None:
    """Save the virtual screen as a PNG (Pillow reads X11 through XCB)."""
    from PIL import ImageGrab

    try:
        image = ImageGrab.grab(xdisplay=display)
    except OSError:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _check(demo: Demo, database: Path, web_url: str) -> bool:
    ok = True
    for child in demo.children:
        if child.process.poll() is not None and child.essential:
            demo.say(f"  FAIL {child.name} stopped (exit {child.process.returncode}); log {child.log}")
            ok = False
    with contextlib.closing(sqlite3.connect(database)) as db:
        issued = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
        served = db.execute("SELECT count(*) FROM tickets WHERE state = 'done'").fetchone()[0]
    demo.say(f"  tickets issued {issued}, served {served}")
    if not demo.args.no_traffic and (issued == 0 or served == 0):
        demo.say("  FAIL no ticket went from kiosk to counter")
        ok = False
    if not _wait_http(f"{web_url}/login", 5):
        demo.say("  FAIL the web app does not answer")
        ok = False
    demo.say("  OK: the office worked end to end" if ok else "  the demo check failed")
    return ok


def run_demo(args: argparse.Namespace) -> int:
    data_dir = args.data_dir.resolve()
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    demo = Demo(args, data_dir)
    env = {**os.environ, "KHIU_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    config_path = data_dir / "office.toml"
    env["KHIU_CONFIG"] = str(config_path)
    database = data_dir / "khiu.db"
    database_url = f"sqlite:///{database}"

    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    from server.store.lock import lock_holder

    holder = lock_holder(database_url)
    if holder is not None:  # before anything here is rewritten (the office, the broker's passwords)
        demo.say(holder)
        demo.say(
            f"อีกเดโมหนึ่งทำงานอยู่ใน {data_dir} / another demo runs in {data_dir}: stop it (Ctrl-C) "
            "or pass --data-dir"
        )
        return 1
    from broker_config.conf import BrokerSettings
    from broker_config.runner import start_mosquitto, stop_mosquitto

    demo.say("Khiu demo: สำนักงานจำลองบนเครื่องนี้ / a whole office on this machine")
    config, passwords = _office(demo, config_path)
    mqtt_port = _free_port(args.mqtt_port)
    http_port = _free_port(args.http_port)
    _write_device_files(demo, config, passwords, mqtt_port)
    broker = start_mosquitto(
        data_dir, mqtt_port, LOOPBACK, settings=BrokerSettings(port=mqtt_port, tls_port=None)
    )
    web_url = f"http://{LOOPBACK}:{http_port}"
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    ok = True
    try:
        demo.say(f"  broker      mqtt://{LOOPBACK}:{mqtt_port} (Mosquitto, our ACL; pid {broker.pid})")
        users = _web_users(demo, env, database_url)
        demo.spawn(
            "server",
            [
                *_khiu(),
                "server",
                "--config",
                str(config_path),
                "--database-url",
                database_url,
                "--mqtt-port",
                str(mqtt_port),
                "--password-file",
                str(data_dir / "server.password"),
                "--http-host",
                LOOPBACK,
                "--http-port",
                str(http_port),
            ],
            env=env,
        )
        if not _wait_http(f"{web_url}/login", 60):
            demo.say(f"  the server did not come up; its log ({data_dir / 'logs/server.log'}):")
            demo.say(_tail(data_dir / "logs" / "server.log"))
            return 1
        demo.say(f"  server      {web_url}  (staff console, dashboard; database {database})")
        for name, role, password in users:
            demo.say(f"              login {name} / {password}  ({role})")
        with _virtual_screen(demo, env) as display:
            if not args.no_screens and display is not None:
                virtual = display != env.get("DISPLAY")
                devices = data_dir / "devices"
                mute = ["--mute"] if virtual else []
                commands = {
                    "kiosk": ["kiosk", "--device", "kiosk-1", "--settings", str(devices / "kiosk-1.toml")],
                    "board": [
                        "display",
                        "--mode",
                        "board",
                        "--settings",
                        str(devices / "display-1.toml"),
                        *mute,
                    ],
                    "counter": [
                        "display",
                        "--mode",
                        "counter",
                        "--settings",
                        str(devices / "counter-1.toml"),
                        *mute,
                    ],
                }
                for name, command in commands.items():
                    left, top, width, height = WINDOWS[name]
                    screen_env = {
                        **env,
                        # A Kivy home each: three screens starting at once would write one config.ini.
                        "KIVY_HOME": str(data_dir / "kivy" / name),
                        "DISPLAY": display,
                        "KIVY_NO_ARGS": "1",
                        "KIVY_NO_FILELOG": "1",
                        "KCFG_GRAPHICS_POSITION": "custom",
                        "KCFG_GRAPHICS_LEFT": str(left),
                        "KCFG_GRAPHICS_TOP": str(top),
                        "KCFG_GRAPHICS_WIDTH": str(width),
                        "KCFG_GRAPHICS_HEIGHT": str(height),
                    }
                    demo.spawn(name, [*_khiu(), *command, "--windowed"], env=screen_env)
                where = f"virtual screen {display} (Xvfb)" if virtual else "this screen"
                demo.say(f"  screens     kiosk-1, hall board display-1, counter terminal of c1 on {where}")
                if virtual:
                    shots = data_dir / "screenshots"
                    demo.say(
                        f"              a screenshot of the virtual screen every {SCREENSHOT_EVERY_S:g} s: "
                        f"{shots}/office.png"
                    )
                    demo.screenshot = lambda: _screenshot(display, shots / "office.png")
            if not args.no_traffic:
                demo.spawn(
                    "simulator",
                    [
                        *_khiu(),
                        "simulate",
                        "--config",
                        str(config_path),
                        "--devices",
                        str(data_dir / "devices" / "simulator.toml"),
                        "--port",
                        str(mqtt_port),
                        "--speed",
                        str(args.speed),
                        "--tickets",
                        str(args.tickets),
                        "--start",
                        "08:25",
                    ],
                    env=env,
                    essential=False,
                )
                demo.say(
                    f"  traffic     {args.tickets} simulated citizens at speed {args.speed}x "
                    "(2 kiosks, every counter, exit survey)"
                )
            demo.say(f"  logs        {data_dir / 'logs'}")
            demo.say(
                "หยุดด้วย Ctrl-C / stop with Ctrl-C"
                if args.duration is None
                else f"running for {args.duration:g} s"
            )
            started = time.monotonic()
            last_shot = started
            while not stopping:
                if demo.screenshot is not None and time.monotonic() - last_shot >= SCREENSHOT_EVERY_S:
                    demo.screenshot()
                    last_shot = time.monotonic()
                if args.duration is not None and time.monotonic() - started >= args.duration:
                    break
                for child in demo.children:
                    if child.essential and child.process.poll() is not None:
                        demo.say(f"  {child.name} stopped (exit {child.process.returncode}); its log:")
                        demo.say(_tail(child.log))
                        stopping = True
                        ok = False
                time.sleep(0.5)
            if demo.screenshot is not None:
                demo.screenshot()
            if args.check:
                ok = _check(demo, database, web_url) and ok
            demo.say("stopping ...")
            demo.stop_all()
    finally:
        demo.stop_all()
        stop_mosquitto(broker)
    demo.say("stopped")
    return 0 if ok else 1
