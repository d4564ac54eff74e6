"""A whole office for one benchmark: its own Mosquitto (broker_config/) on a free loopback port, the
real server on a fresh database (SQLite file, or PostgreSQL in a schema of its own), an office file
open all day, and MQTT clients that speak as the office's devices.

    with start_office(ctx.work_dir, kiosks=10) as office:
        link = office.link("kiosk-1", DeviceRole.kiosk)
        ...

Benchmarks never start a second server or broker on the same files, and stop both when done."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import StealMeter
from broker_config.conf import BrokerSettings
from broker_config.devices import add_devices
from broker_config.files import BrokerFiles
from broker_config.registry import Device
from broker_config.runner import find_mosquitto, prepare_broker, start_mosquitto, stop_mosquitto
from common.contract import Catalog, ServerStatus
from common.link import Handoff, Inbound, MqttLink, port_open
from common.paths import REPO_ROOT
from common.vocabulary import DeviceRole
from server.simulation.office import always_open_office, write_office

log = logging.getLogger(__name__)

SITE = "bench-office"
LOOPBACK = "127.0.0.1"
POSTGRES_URL = os.environ.get("KHIU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SERVER_START_TIMEOUT_S = 60.0
SHM = Path("/dev/shm")


BrokerEdit = Callable[[str], str]
"""Turns the office's rendered mosquitto.conf into a variant (diagnostic runs only)."""


def save_after_every_change(conf: str) -> str:
    """The office broker config as it was before its snapshot went to once a second: Mosquitto saves and
    fsyncs its persistence file after every pass of its loop that changed something. Shows what that
    costs."""
    return conf.replace("autosave_on_changes false", "autosave_on_changes true")


def _start_variant_broker(data_dir: Path, port: int, edit: BrokerEdit) -> subprocess.Popen[bytes]:
    """Mosquitto with the office's files and an edited copy of its config."""
    files = BrokerFiles.for_data_dir(data_dir)
    settings = BrokerSettings(port=port, bind=LOOPBACK, tls_port=None)
    config = prepare_broker(files, settings)
    variant = config.with_name("mosquitto.variant.conf")
    edited = edit(config.read_text("utf-8"))
    if edited == config.read_text("utf-8"):
        raise ValueError("the broker edit changed nothing: the template has moved on")
    variant.write_text(edited, "utf-8")
    with files.log_file.open("ab") as out:
        process = subprocess.Popen([find_mosquitto(), "-c", str(variant)], stdout=out, stderr=out)
    deadline = time.monotonic() + 15
    while not port_open(LOOPBACK, port, timeout=0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_mosquitto(process)
            raise RuntimeError(f"the variant broker did not start: see {files.log_file}")
        time.sleep(0.02)
    return process


def cpu_seconds(pid: int | None = None) -> float:
    """User and system CPU a process has used so far (this one when `pid` is None), from /proc."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


DEVICE_LINKS = "the devices' links"
"""What a `CpuShare` calls the benchmark's own process unless told otherwise."""


@dataclass(frozen=True, slots=True)
class CpuShare:
    """CPU per unit of work (ticket) of the server, Mosquitto and this process (the devices' load
    generator) over a measured stretch: what each part costs on the machine's shared cores."""

    server_us: float
    broker_us: float
    devices_us: float
    steal_percent: float | None = None
    """The share of the machine's CPU time its host took meanwhile (None: not known)."""
    devices: str = DEVICE_LINKS
    """What this process ran as the devices."""

    def __str__(self) -> str:
        text = (
            f"server {self.server_us:,.0f} µs, Mosquitto {self.broker_us:,.0f} µs, "
            f"{self.devices} {self.devices_us:,.0f} µs"
        )
        if self.steal_percent is not None:
            text += f" (the host took {self.steal_percent:.0f} % of the CPU)"
        return text


class CpuMeter:
    """CPU used by the office's server, its Mosquitto and this process since the meter was made."""

    def __init__(self, office: BenchOffice, *, devices: str = DEVICE_LINKS) -> None:
        self._devices = devices
        self._pids = (office.server.pid, office.broker.pid)
        self._steal = StealMeter()
        self._start = self._read()

    def _read(self) -> tuple[float, float, float]:
        server, broker = (cpu_seconds(pid) for pid in self._pids)
        return server, broker, cpu_seconds()

    def per(self, units: int) -> CpuShare:
        """Since the meter was made, per unit of work (microseconds)."""
        server, broker, devices = (
            (now - then) / max(units, 1) * 1e6 for now, then in zip(self._read(), self._start, strict=True)
        )
        return CpuShare(server, broker, devices, self._steal.percent(), self._devices)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class InlineHandoff:
    """A link hand-off that runs the handler at once on paho's thread and notes when the message came:
    benchmarks time arrivals there, not after a queue."""

    def __init__(self) -> None:
        self.arrived_at = 0.0

    def __call__(self, task: Callable[[], None]) -> None:
        self.arrived_at = time.perf_counter()
        task()


@dataclass
class BenchOffice:
    """A running broker and server, and the passwords of the office's devices."""

    work_dir: Path
    host: str
    port: int
    site: str
    config_path: Path
    database_url: str
    database: str
    passwords: dict[str, str]
    broker: subprocess.Popen[bytes]
    server: Any = None
    """The server handle (a subprocess.Popen, or what the server's Python API returns)."""
    server_log: Path | None = None
    links: list[MqttLink] = field(default_factory=list)
    outbox_dir: Path | None = None
    catalog: Catalog | None = None
    server_args: tuple[str, ...] = ()
    """More options of `khiu server` (diagnostic runs)."""

    def link(
        self,
        device: str,
        role: DeviceRole,
        *,
        outbox: bool = True,
        handoff: Handoff | None = None,
        start: bool = True,
    ) -> MqttLink:
        """A device's MQTT link (outboxes on tmpfs when there is one: the load generators stand for
        devices with their own disks and must not take the server's fsyncs)."""
        box_dir = self.outbox_dir or (self.work_dir / "outboxes")
        link = MqttLink(
            host=self.host,
            port=self.port,
            username=device,
            password=self.passwords[device],
            site=self.site,
            device_id=device,
            role=role,
            outbox_path=(box_dir / f"{device}.sqlite") if outbox else None,
            handoff=handoff,
            version="bench",
        )
        self.links.append(link)
        if start:
            link.start()
            if not link.wait_connected(15):
                raise RuntimeError(f"{device} could not connect to the benchmark broker")
        return link

    def stop_links(self) -> None:
        for link in self.links:
            with contextlib.suppress(Exception):
                link.stop()
        self.links.clear()

    def server_log_tail(self, limit: int = 3000) -> str:
        if self.server_log is None or not self.server_log.exists():
            return ""
        return self.server_log.read_text("utf-8", "replace")[-limit:]


# ---------------------------------------------------------------------------------------------- server


def start_server(office: BenchOffice, password_file: Path) -> None:
    """Start the real server as its own process, as an office runs it (`khiu server`)."""
    assert office.server_log is not None
    command = [
        sys.executable,
        "-m",
        "common.cli",
        "server",
        "--config",
        str(office.config_path),
        "--database-url",
        office.database_url,
        "--mqtt-host",
        office.host,
        "--mqtt-port",
        str(office.port),
        "--username",
        "server",
        "--password-file",
        str(password_file),
        # A port of its own: a fixed one (8000) may be held by another server on this machine.
        "--http-host",
        "127.0.0.1",
        "--http-port",
        "0",
        *office.server_args,
    ]
    env = dict(os.environ, KHIU_DATA_DIR=str(office.work_dir / "data"), PYTHONPATH=str(REPO_ROOT))
    with office.server_log.open("ab") as out:
        office.server = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd=office.work_dir
        )


def stop_process(process: subprocess.Popen[Any], timeout: float) -> None:
    """Ask a child process to stop (SIGTERM); kill it if it has not within `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stop_server(office: BenchOffice) -> None:
    process = office.server
    if isinstance(process, subprocess.Popen):
        stop_process(process, 20)


def wait_for_server(office: BenchOffice, timeout: float = SERVER_START_TIMEOUT_S) -> Catalog:
    """Wait until the server says it is online and its catalog is retained; return the catalog."""
    got: dict[str, Any] = {}
    ready = threading.Event()

    def on_status(inbound: Inbound) -> None:
        message = inbound.decode(expect=(ServerStatus,))
        if isinstance(message, ServerStatus) and message.online:
            got["online"] = True
        if "online" in got and "catalog" in got:
            ready.set()

    def on_catalog(inbound: Inbound) -> None:
        message = inbound.decode(expect=(Catalog,))
        if isinstance(message, Catalog):
            got["catalog"] = message
        if "online" in got and "catalog" in got:
            ready.set()

    watcher = office.link("display-1", DeviceRole.display, outbox=False, handoff=InlineHandoff(), start=False)
    watcher.subscribe(watcher.topics.server_status(), on_status)
    watcher.subscribe(watcher.topics.catalog(), on_catalog)
    watcher.start()
    deadline = time.monotonic() + timeout
    try:
        while not ready.wait(0.2):
            process = office.server
            if isinstance(process, subprocess.Popen) and process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with code {process.returncode}:\n{office.server_log_tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server was not ready within {timeout:.0f} s:\n{office.server_log_tail()}"
                )
    finally:
        watcher.stop(publish_offline=False)
        office.links.remove(watcher)
    _wait_until_serving(office, deadline)
    catalog: Catalog = got["catalog"]
    return catalog


SERVING = " serving; config "
"""What `khiu server` logs once its whole start is done, the web app included (server/cli.py)."""


def _wait_until_serving(office: BenchOffice, deadline: float) -> None:
    """The server answers MQTT before its web app has started, and the web app's imports hold the GIL
    for most of a second: measuring then would time the start, not the office."""
    if office.server_log is None:
        return
    while SERVING not in office.server_log.read_text("utf-8", errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not finish starting:\n{office.server_log_tail()}")
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------------- databases


@contextlib.contextmanager
def database(work_dir: Path, kind: str) -> Iterator[str]:
    """A fresh database URL: a SQLite file in `work_dir`, or a PostgreSQL schema of its own (dropped
    afterwards) in the `test` database. "sqlite-tmpfs" (diagnostic) puts the SQLite file in memory, where
    its commits' fsyncs cost nothing."""
    if kind == "sqlite":
        yield f"sqlite:///{work_dir / 'khiu.db'}"
        return
    if kind == "sqlite-tmpfs":
        if not SHM.is_dir():
            raise RuntimeError(f"no tmpfs at {SHM} for the diagnostic database")
        folder = Path(tempfile.mkdtemp(prefix="khiu-bench-db-", dir=SHM))
        try:
            yield f"sqlite:///{folder / 'khiu.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    import psycopg

    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{dt.datetime.now():%H%M%S}_{secrets.token_hex(3)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(
            POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3
        ):
            return True
    except Exception:
        return False


# ---------------------------------------------------------------------------------------------- office


@contextlib.contextmanager
def start_office(
    work_dir: Path,
    *,
    kiosks: int = 1,
    counters: int = 4,
    surveys: int = 1,
    displays: int = 2,
    db: str = "sqlite",
    broker_edit: BrokerEdit | None = None,
    server_args: tuple[str, ...] = (),
) -> Iterator[BenchOffice]:
    """Broker, office file and server, stopped (and the PostgreSQL schema dropped) on exit. With
    `broker_edit`, Mosquitto runs an edited copy of the office's config (diagnostics)."""
    data_dir = work_dir / "data"
    files = BrokerFiles.for_data_dir(data_dir)
    devices = [Device.create("server", DeviceRole.server)]
    devices += [Device.create(f"kiosk-{i}", DeviceRole.kiosk) for i in range(1, kiosks + 1)]
    devices += [Device.create(f"counter-{i}", DeviceRole.counter, f"c{i}") for i in range(1, counters + 1)]
    devices += [Device.create(f"survey-{i}", DeviceRole.survey) for i in range(1, surveys + 1)]
    devices += [Device.create(f"display-{i}", DeviceRole.display) for i in range(1, displays + 1)]
    issued = add_devices(files, devices, site=SITE)
    passwords = {c.device.id: c.password for c in issued}
    port = free_port()
    if broker_edit is None:
        broker = start_mosquitto(data_dir, port, LOOPBACK, settings=BrokerSettings(tls_port=None))
    else:
        broker = _start_variant_broker(data_dir, port, broker_edit)
    config_path = work_dir / "office.toml"
    write_office(
        config_path,
        always_open_office(
            site=SITE,
            counters=max(counters, 1),
            kiosks=[f"kiosk-{i}" for i in range(1, kiosks + 1)],
            counter_terminals={f"counter-{i}": f"c{i}" for i in range(1, counters + 1)},
            surveys=[f"survey-{i}" for i in range(1, surveys + 1)],
            displays=[f"display-{i}" for i in range(1, displays + 1)],
        ),
    )
    password_file = work_dir / "server.password"
    password_file.write_text(passwords["server"], "utf-8")
    password_file.chmod(0o600)
    outbox_dir = Path(tempfile.mkdtemp(prefix="khiu-bench-outbox-", dir=SHM)) if SHM.is_dir() else None
    try:
        with database(work_dir, db) as url:
            office = BenchOffice(
                work_dir=work_dir,
                host=LOOPBACK,
                port=port,
                site=SITE,
                config_path=config_path,
                database_url=url,
                database=db,
                passwords=passwords,
                broker=broker,
                server_log=work_dir / "server.log",
                outbox_dir=outbox_dir,
                server_args=server_args,
            )
            try:
                start_server(office, password_file)
                office.catalog = wait_for_server(office)
                yield office
            finally:
                office.stop_links()
                stop_server(office)
    finally:
        stop_mosquitto(broker)
        if outbox_dir is not None:
            shutil.rmtree(outbox_dir, ignore_errors=True)
