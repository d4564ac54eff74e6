"""What the dashboard's routes share: a read-only engine on the office database, a cache of computed
reports, the export jobs, the office file and the broker's device files.

Reports are computed on the store's *read* engine (on SQLite a plain deferred BEGIN: under WAL it never
waits for the sequencer, and the sequencer never waits for it). A computed report is kept while the
data under it is unchanged (`queries.data_version`, one cheap query), so a manager moving between the
report and its exports, or two managers opening the same quarter, pay for it once.

A long period's survey and requeued tickets are read on other read connections while the first
reads and groups the tickets: the database counts answers while Python groups tickets, so on two
cores they cost little. Each read is consistent in itself; on a live day they may be a moment
apart (on PostgreSQL every statement already reads its own snapshot)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from sqlalchemy.engine import Connection

from broker_config.files import BrokerFiles
from common.config import OfficeConfig
from common.thaidate import to_local
from server.diskspace import LOW_FREE_BYTES, DiskSpace, server_disks
from server.reports import queries
from server.reports.model import Period, Report
from server.web.accounts import reader_for
from server.web.context import WebContext
from server.web.dashboard.backups import BackupAlert, backup_alert
from server.web.dashboard.jobs import ExportJobs
from server.web.dashboard.live import LiveQueue, live_queue
from server.web.dashboard.officefile import OfficeFile
from server.web.port import SHARED_DEVICE_WINDOW, ClockStep, OtherServer, SharedDevice

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
T = TypeVar("T")
REPORTS_KEPT = 6
"""Computed reports kept in memory (a quarter's is a few hundred kilobytes)."""


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    """Where the administration pages find the office file and the broker's device files."""

    config_path: Path | None
    """The office TOML the server was started with; None: not known, so not editable here."""
    broker_dir: Path
    max_range_days: int = 400
    """The longest date range the range report computes (a year and a bit)."""
    late_cases_shown: int = 30
    """Late cases listed on a page (every one is in the exports)."""
    disk_low_bytes: int = LOW_FREE_BYTES
    """The today page warns when a disk the server writes to has less than this free."""

    @property
    def broker_files(self) -> BrokerFiles:
        return BrokerFiles(self.broker_dir)


class ReportCache:
    """The last few computed reports, by period, judgement date and data version."""

    def __init__(self, size: int = REPORTS_KEPT) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Any, ...], Report] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Report | None:
        with self._lock:
            report = self._items.get(key)
            if report is not None:
                self._items.move_to_end(key)
            return report

    def put(self, key: tuple[Any, ...], report: Report) -> None:
        with self._lock:
            self._items[key] = report
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class Dashboard:
    """The dashboard of one app."""

    def __init__(self, web: WebContext, settings: DashboardSettings) -> None:
        self.settings = settings
        self.read_engine = reader_for(web.office.engine)
        self.reports = ReportCache()
        self.aside = ThreadPoolExecutor(max_workers=3, thread_name_prefix="dashboard-aside")
        """Reads a long period's survey and requeued tickets beside its tickets."""
        self.exports = ExportJobs(web.now)
        self.office_file = OfficeFile(settings.config_path, lambda: web.office.config)
        loader = ChoiceLoader([FileSystemLoader(str(TEMPLATE_DIR)), web.templates.env.loader])  # type: ignore[list-item]
        self.templates = Jinja2Templates(env=Environment(loader=loader, autoescape=True))
        self.asset_version = web.asset_version + "-" + _asset_version()

    def web(self, request: Request) -> WebContext:
        """The app's web context rendering this package's templates (they extend the app's base.html)."""
        web: WebContext = request.app.state.web
        return replace(web, templates=self.templates)

    def report(self, config: OfficeConfig, period: Period, *, today: dt.date, now: dt.datetime) -> Report:
        """The period's report as of today (open cases are judged late on today, or on the period's
        last day once it is over), from the cache when nothing under it changed."""
        as_of = min(today, period.last)
        with self.read_engine.connect() as connection, connection.begin():
            version = queries.data_version(connection, period)
            key = (period, as_of, id(config), version)
            cached = self.reports.get(key)
            if cached is not None:
                return cached
            long = (period.last - period.first).days >= queries.SHORT_PERIOD_DAYS
            report = queries.period_report(
                connection,
                period,
                config,
                as_of=as_of,
                generated_at=now,
                aside=self._aside if long else None,
            )
        self.reports.put(key, report)
        return report

    def _aside(self, read: Callable[[Connection], T]) -> Callable[[], T]:
        """`read` on a connection of its own in a worker thread (see the module's docstring)."""

        def run() -> T:
            with self.read_engine.connect() as connection, connection.begin():
                return read(connection)

        return self.aside.submit(run).result

    def office_records(self, *, today: dt.date) -> queries.OfficeRecords:
        """Devices and overdue cases, from the database."""
        with self.read_engine.connect() as connection, connection.begin():
            return queries.office_records(connection, today=today)

    def disks_low(self, web: WebContext) -> list[DiskSpace]:
        """The disks the server writes to with less than `settings.disk_low_bytes` free."""
        disks = server_disks(web.settings.web_dir.parent, web.office.engine.url)
        return [d for d in disks if d.low(self.settings.disk_low_bytes)]

    @staticmethod
    def clock_steps_today(web: WebContext) -> list[ClockStep]:
        """The times the server's clock was set today (the office's local date), oldest first."""
        today = web.today()
        return [step for step in list(web.office.clock_steps) if to_local(step.at).date() == today]

    @staticmethod
    def shared_devices(web: WebContext) -> list[SharedDevice]:
        """Device ids that more than one machine took turns connecting as in the last minutes."""
        now = web.now()
        shared = web.office.shared_devices.values()
        return sorted((s for s in shared if now - s.last <= SHARED_DEVICE_WINDOW), key=lambda s: s.device)

    @staticmethod
    def other_servers(web: WebContext) -> list[OtherServer]:
        """Other servers online on the office's broker now or in the last minutes, first seen first."""
        now = web.now()
        return sorted((s for s in web.office.other_servers.values() if s.shown(now)), key=lambda s: s.since)

    def backup_alert(self, *, now: dt.datetime) -> BackupAlert | None:
        """What the today page says of the office's backups, from the audit log."""
        with self.read_engine.connect() as connection, connection.begin():
            return backup_alert(connection, now=now)

    def live_queue(self, web: WebContext) -> LiveQueue:
        """The queue now, from the sequencer: every counter's panel, asked for all at once."""
        config = web.office.config
        futures = [web.office.counter_panel(counter.id) for counter in config.counters]
        return live_queue([web.wait(future) for future in futures], config, web.now())

    def close(self) -> None:
        self.aside.shutdown(wait=True, cancel_futures=True)
        self.read_engine.dispose()


def _asset_version() -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def dashboard_of(request: Request) -> Dashboard:
    """The dashboard of the request's app, made on first use (the office is known by then)."""
    app: FastAPI = request.app
    dashboard: Dashboard | None = getattr(app.state, "dashboard", None)
    if dashboard is None:
        with _MAKE_LOCK:
            dashboard = getattr(app.state, "dashboard", None)
            if dashboard is None:
                dashboard = Dashboard(app.state.web, app.state.dashboard_settings)
                app.state.dashboard = dashboard
    return dashboard


_MAKE_LOCK = threading.Lock()
