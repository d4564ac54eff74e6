"""One chaos run: a simulated office day through the real contract while the broker and the server are
SIGKILLed and a kiosk loses its network, then the reconciliation of every device's outbox with the
database and of the boards with the database."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import platform
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any

from server.chaos.kiosks import ChaosSimulator
from server.chaos.lan import LanRelay
from server.chaos.office import ChaosOffice, Devices
from server.chaos.reconcile import Reconciliation, read_outboxes, reconcile
from server.simulation import SimulationSummary, SimulatorSettings
from server.store.database import create_database_engine

log = logging.getLogger(__name__)

DAY_START = dt.time(8, 0)
DAY_PLAYED = dt.timedelta(hours=9)
"""08:00 to about 17:00: the office opens at 08:30, issues until 16:00, serves who is left, closes."""
SITE = "chaos-office"
SETTLE_S = 3.0
"""After the day: long enough for the last held-back retained states to go out (0.25 s) many times."""


@dataclass(frozen=True, slots=True)
class ChaosPlan:
    """What to break, and how big a day."""

    minutes: float = 6.0
    """Wall-clock length of the simulated day (08:00-17:00)."""
    tickets: int = 150
    kiosks: int = 5
    counters: int = 3
    surveys: int = 2
    broker_kills: int = 3
    server_kills: int = 3
    cut_s: float = 120.0
    """How long one kiosk is off the network."""
    down_s: float = 3.0
    """How long a killed broker or server stays down before it is started again."""
    seed: int | None = None
    database_url: str | None = None
    """None: a fresh SQLite file in the work folder (the office default)."""

    @property
    def speed(self) -> float:
        return DAY_PLAYED.total_seconds() / (self.minutes * 60)


@dataclass(frozen=True, slots=True)
class Fault:
    at_s: float
    """Seconds after the day started."""
    kind: str
    """`kill broker`, `kill server`, `unplug kiosk`, `plug kiosk`."""
    target: str = ""


@dataclass
class ChaosResult:
    plan: ChaosPlan
    faults: list[tuple[float, str, str]] = field(default_factory=list)
    """(seconds into the day, what, detail) of every fault and recovery, as they happened."""
    summary: dict[str, Any] = field(default_factory=dict)
    reconciliation: Reconciliation = field(default_factory=Reconciliation)
    offline_issued: int = 0
    withdrawn: int = 0
    wall_s: float = 0.0
    relayed_connections: int = 0
    machine: dict[str, str] = field(default_factory=dict)
    started_at: str = ""

    @property
    def ok(self) -> bool:
        return self.reconciliation.ok and not self.summary.get("replies_conflicting")

    def injected(self, kind: str) -> int:
        return sum(1 for _at, what, _detail in self.faults if what == kind)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "plan": asdict(self.plan),
            "faults": self.faults,
            "summary": self.summary,
            "reconciliation": self.reconciliation.as_dict(),
            "offline_issued": self.offline_issued,
            "withdrawn": self.withdrawn,
            "wall_s": round(self.wall_s, 1),
            "relayed_connections": self.relayed_connections,
            "machine": self.machine,
            "started_at": self.started_at,
        }


def schedule(plan: ChaosPlan, victim: str) -> list[Fault]:
    """Kills spread evenly over the busy part of the day (10 % to 80 %), broker and server in turn; the
    kiosk unplugged from a quarter of the way in for `cut_s`."""
    run_s = plan.minutes * 60
    brokers = ["kill broker"] * plan.broker_kills
    servers = ["kill server"] * plan.server_kills
    order = [kind for pair in zip_longest(brokers, servers) for kind in pair if kind is not None]
    faults = [
        Fault(run_s * 0.1 + run_s * 0.7 * (i + 1) / (len(order) + 1), kind) for i, kind in enumerate(order)
    ]
    if plan.cut_s > 0:
        start = run_s * 0.25
        faults += [Fault(start, "unplug kiosk", victim), Fault(start + plan.cut_s, "plug kiosk", victim)]
    return sorted(faults, key=lambda f: f.at_s)


class Injector(threading.Thread):
    """Plays the fault schedule against the office while the day runs."""

    def __init__(
        self, office: ChaosOffice, relay: LanRelay, faults: list[Fault], result: ChaosResult, down_s: float
    ):
        super().__init__(name="chaos-injector", daemon=True)
        self.office, self.relay, self.faults, self.result, self.down_s = office, relay, faults, result, down_s
        self.started = time.monotonic()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def note(self, what: str, detail: str = "") -> None:
        at = round(time.monotonic() - self.started, 1)
        self.result.faults.append((at, what, detail))
        log.warning("chaos %6.1f s: %s %s", at, what, detail)

    def run(self) -> None:
        try:
            for fault in self.faults:
                wait = fault.at_s - (time.monotonic() - self.started)
                if wait > 0 and self.stopping.wait(wait):
                    return
                self.apply(fault)
        except BaseException as exc:  # reported by the run; the office is put back together there
            log.exception("fault injection failed")
            self.error = exc

    def apply(self, fault: Fault) -> None:
        if fault.kind == "kill broker":
            self.office.kill_broker()
            self.note("kill broker", "SIGKILL")
            time.sleep(self.down_s)
            self.office.start_broker()
            self.note("broker back")
        elif fault.kind == "kill server":
            self.office.kill_server()
            self.note("kill server", "SIGKILL")
            time.sleep(self.down_s)
            self.office.start_server()
            self.office.wait_until_serving()
            self.note("server back")
        elif fault.kind == "unplug kiosk":
            self.relay.cut(fault.target)
            self.note("unplug kiosk", fault.target)
        elif fault.kind == "plug kiosk":
            self.relay.restore(fault.target)
            self.note("plug kiosk", fault.target)


def run_chaos(
    plan: ChaosPlan, work_dir: Path, *, progress: Callable[[str], None] | None = None
) -> ChaosResult:
    """Play the plan in `work_dir` (made empty first); everything started is stopped before returning."""
    say = progress or (lambda text: log.info("%s", text))
    work_dir.mkdir(parents=True, exist_ok=True)
    result = ChaosResult(
        plan=plan, machine=_machine(), started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    devices = Devices.standard(plan.kiosks, plan.counters, plan.surveys)
    url = plan.database_url or f"sqlite:///{work_dir / 'khiu.db'}"
    office = ChaosOffice(work_dir=work_dir, site=SITE, devices=devices, database_url=url)
    office.prepare()
    began = time.monotonic()
    with _running(office) as relay:
        victim = devices.kiosks[-1]
        settings = SimulatorSettings(
            host="127.0.0.1",
            port=relay.port,
            site=SITE,
            credentials=office.passwords,
            kiosks=devices.kiosks,
            counters=devices.counters,
            surveys=devices.surveys,
            speed=plan.speed,
            tickets=plan.tickets,
            start=DAY_START,
            seed=plan.seed,
            workdir=work_dir / "devices",
            reply_grace_s=120.0,
            stall_timeout_s=max(240.0, plan.cut_s * 2),
            catalog_timeout_s=60.0,
        )
        simulator = ChaosSimulator(
            settings,
            offline_series=devices.series,
            reply_timeout_s=2.0,
            numbers_dir=work_dir / "devices",
        )
        faults = schedule(plan, victim)
        say(
            f"วันจำลอง {plan.minutes:g} นาที / a {plan.minutes:g}-minute day at speed {plan.speed:.0f}: "
            f"{len(faults)} faults planned, {plan.kiosks} kiosks, {plan.counters} counters, "
            f"{plan.surveys} tablets"
        )
        injector = Injector(office, relay, faults, result, plan.down_s)
        injector.start()
        summary: SimulationSummary = simulator.run()
        injector.stopping.set()
        injector.join(timeout=120)
        # Whatever the schedule left broken is mended before the books are checked.
        if relay.is_cut(victim):
            relay.restore(victim)
        if office.broker is None or office.broker.poll() is not None:
            office.start_broker()
        if not office.server_alive():
            office.start_server()
        office.wait_until_serving()
        result.summary = summary.as_dict()
        result.offline_issued = len(simulator.offline)
        result.withdrawn = len(simulator.withdrawn)
        result.relayed_connections = relay.connections
        say("ตรวจกระดานแสดงคิว / checking the boards against the database")
        time.sleep(SETTLE_S)
        with office.watcher() as watcher:
            deadline = time.monotonic() + 30
            while (
                watcher.board is None or len(watcher.counters) < len(devices.counters)
            ) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.0)
            board, counters = watcher.board, dict(watcher.counters)
            engine = create_database_engine(url, writer=False)
            try:
                result.reconciliation = reconcile(
                    read_outboxes(work_dir / "devices"),
                    engine,
                    board=board,
                    counters=counters,
                    offline_series=devices.series,
                )
            finally:
                engine.dispose()
        if injector.error is not None:
            result.reconciliation.problems.append(f"fault injection failed: {injector.error!r}")
    result.wall_s = time.monotonic() - began
    (work_dir / "result.json").write_text(json.dumps(result.as_dict(), indent=2, default=str), "utf-8")
    return result


@contextlib.contextmanager
def _running(office: ChaosOffice) -> Iterator[LanRelay]:
    """Broker, server and LAN relay up; all stopped (gently) at the end, whatever happened."""
    relay = None
    try:
        office.start_broker()
        office.start_server()
        office.wait_until_serving()
        relay = LanRelay("127.0.0.1", office.broker_port, site=office.site)
        relay.start()
        yield relay
    finally:
        if relay is not None:
            relay.stop()
        office.stop_server()
        office.stop_broker()


def _machine() -> dict[str, str]:
    import os

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": str(os.cpu_count()),
        "load_before": load,
    }
