"""A whole office for a chaos run, each part killable: Mosquitto (broker_config/) and the real server
(`khiu server`, its own process) on a fresh database, both on loopback, plus a watcher that sees what a
hall board sees (the retained states)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker_config.conf import BrokerSettings
from broker_config.devices import add_devices
from broker_config.files import BrokerFiles
from broker_config.registry import Device
from broker_config.runner import start_mosquitto, stop_mosquitto
from common.contract import BoardState, Catalog, CounterState, ServerStatus, decode
from common.link import Inbound, MqttLink
from common.paths import REPO_ROOT
from common.vocabulary import DeviceRole
from server.simulation.office import always_open_office, write_office

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
SERVER_READY_TIMEOUT_S = 60.0
WATCHER = "display-1"

KIOSK_SERIES = ("X", "Y", "V", "U", "Q", "Z", "N", "M", "L")
"""Offline letters for the chaos kiosks: none is a service prefix of the example office."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Devices:
    """The office's simulated devices."""

    kiosks: tuple[str, ...]
    counters: dict[str, str]
    """Terminal device id -> counter id."""
    surveys: tuple[str, ...]

    @classmethod
    def standard(cls, kiosks: int, counters: int, surveys: int) -> Devices:
        return cls(
            kiosks=tuple(f"kiosk-{i}" for i in range(1, kiosks + 1)),
            counters={f"counter-{i}": f"c{i}" for i in range(1, counters + 1)},
            surveys=tuple(f"survey-{i}" for i in range(1, surveys + 1)),
        )

    @property
    def series(self) -> dict[str, str]:
        return dict(zip(self.kiosks, KIOSK_SERIES, strict=False))


@dataclass
class ChaosOffice:
    """The broker, the server and their files, in `work_dir`."""

    work_dir: Path
    site: str
    devices: Devices
    database_url: str
    broker_port: int = 0
    http_port: int = 0
    passwords: dict[str, str] = field(default_factory=dict)
    broker: subprocess.Popen[bytes] | None = None
    server: subprocess.Popen[bytes] | None = None
    config_path: Path | None = None
    starts: dict[str, int] = field(default_factory=lambda: {"broker": 0, "server": 0})

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def server_log(self) -> Path:
        return self.work_dir / "server.log"

    # ------------------------------------------------------------------------------------------ setup

    def prepare(self) -> None:
        """Device credentials, the office file (open round the clock, kiosks with offline series)."""
        files = BrokerFiles.for_data_dir(self.data_dir)
        devices = [Device.create("server", DeviceRole.server), Device.create(WATCHER, DeviceRole.display)]
        devices += [Device.create(k, DeviceRole.kiosk) for k in self.devices.kiosks]
        devices += [Device.create(d, DeviceRole.counter, c) for d, c in self.devices.counters.items()]
        devices += [Device.create(s, DeviceRole.survey) for s in self.devices.surveys]
        issued = add_devices(files, devices, site=self.site)
        self.passwords = {c.device.id: c.password for c in issued}
        raw = always_open_office(
            site=self.site,
            counters=len(self.devices.counters),
            kiosks=self.devices.kiosks,
            counter_terminals=self.devices.counters,
            surveys=self.devices.surveys,
            displays=(WATCHER,),
        )
        series = self.devices.series
        for device in raw["devices"]:
            if device["id"] in series:
                device["offline_series"] = series[device["id"]]
        self.config_path = write_office(self.work_dir / "office.toml", raw)
        password_file = self.work_dir / "server.password"
        password_file.write_text(self.passwords["server"], "utf-8")
        password_file.chmod(0o600)
        self.broker_port = free_port()
        self.http_port = free_port()

    # ------------------------------------------------------------------------------------------ broker

    def start_broker(self) -> None:
        self.broker = start_mosquitto(
            self.data_dir, self.broker_port, LOOPBACK, settings=BrokerSettings(tls_port=None)
        )
        self.starts["broker"] += 1

    def kill_broker(self) -> None:
        """SIGKILL: Mosquitto keeps only what its last persistence snapshot holds."""
        _kill(self.broker)

    def stop_broker(self) -> None:
        if self.broker is not None:
            stop_mosquitto(self.broker)

    # ------------------------------------------------------------------------------------------ server

    def start_server(self) -> None:
        assert self.config_path is not None
        command = [
            sys.executable,
            "-m",
            "common.cli",
            "server",
            "--config",
            str(self.config_path),
            "--database-url",
            self.database_url,
            "--mqtt-host",
            LOOPBACK,
            "--mqtt-port",
            str(self.broker_port),
            "--username",
            "server",
            "--password-file",
            str(self.work_dir / "server.password"),
            "--http-host",
            LOOPBACK,
            "--http-port",
            str(self.http_port),
            "--data-dir",
            str(self.data_dir),
        ]
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        with self.server_log.open("ab") as out:
            self.server = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd=self.work_dir
            )
        self.starts["server"] += 1

    def kill_server(self) -> None:
        """SIGKILL: no goodbye, no flush; the will says offline."""
        _kill(self.server)

    def stop_server(self) -> None:
        process = self.server
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def server_alive(self) -> bool:
        return self.server is not None and self.server.poll() is None

    def log_tail(self, limit: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.server_log.read_text("utf-8", "replace")[-limit:]
        return ""

    # ------------------------------------------------------------------------------------------ watching

    @contextlib.contextmanager
    def watcher(self) -> Iterator[Watcher]:
        """A display's view of the retained states, straight on the broker (not through the LAN relay)."""
        watcher = Watcher(self)
        watcher.start()
        try:
            yield watcher
        finally:
            watcher.stop()

    def wait_until_serving(self, timeout: float = SERVER_READY_TIMEOUT_S) -> None:
        """Until the server's retained status says online with a catalog, since its latest start."""
        with self.watcher() as watcher:
            deadline = time.monotonic() + timeout
            while not watcher.serving.wait(0.2):
                if self.server is not None and self.server.poll() is not None:
                    raise RuntimeError(f"the server exited ({self.server.returncode}):\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not come up in {timeout:.0f} s:\n{self.log_tail()}")


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait()


class Watcher:
    """The retained server status, catalog, board and counter states, as a display sees them."""

    def __init__(self, office: ChaosOffice) -> None:
        self.link = MqttLink(
            host=LOOPBACK,
            port=office.broker_port,
            username=WATCHER,
            password=office.passwords[WATCHER],
            site=office.site,
            device_id=WATCHER,
            role=DeviceRole.display,
            handoff=lambda task: task(),
            client_id=f"khiu-{office.site}-{WATCHER}-chaos-{os.getpid()}-{time.monotonic_ns()}",
        )
        self.serving = threading.Event()
        self.board: BoardState | None = None
        self.counters: dict[str, CounterState] = {}
        self._online = False
        self._catalog = False
        self._lock = threading.Lock()
        topics = self.link.topics
        for topic in (
            topics.server_status(),
            topics.catalog(),
            topics.board_state(),
            f"{topics.base}/counter/+/state",
        ):
            self.link.subscribe(topic, self._on_message)

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop(publish_offline=False)

    def _on_message(self, inbound: Inbound) -> None:
        message: Any = decode(inbound.payload)
        with self._lock:
            if isinstance(message, ServerStatus):
                self._online = message.online
            elif isinstance(message, Catalog):
                self._catalog = True
            elif isinstance(message, BoardState):
                self.board = message
            elif isinstance(message, CounterState):
                self.counters[message.counter] = message
            if self._online and self._catalog:
                self.serving.set()
            else:
                self.serving.clear()
