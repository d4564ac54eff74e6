"""Fakes and data the kiosk tests share (no tests here): a scheduler whose time the test moves, a
channel and a print queue that record what the model sends, catalogs built from the example office, and
the decoder of the ESC/POS bytes a printer receives."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import Image, ImageChops

from common.catalog import catalog_from_config
from common.config import load_config
from common.contract import Catalog, CatalogService, TicketIssued, TicketOffline, TicketRequest
from common.paths import EXAMPLE_CONFIG
from common.vocabulary import PrinterState
from kiosk.offline_numbers import OfflineNumbers
from kiosk.viewmodels import KioskHealth, KioskModel, KioskSettings, PrintJob

NOW = dt.datetime(2026, 11, 26, 3, 4, 5, tzinfo=dt.UTC)
"""10:04 on Thursday 26 November 2569 in Bangkok."""


@cache
def example_catalog() -> Catalog:
    """The example municipality's services (examples/office.toml), every one open."""
    return catalog_from_config(load_config(EXAMPLE_CONFIG), NOW.date())


def with_service(catalog: Catalog, code: str, **changes: object) -> Catalog:
    """A copy of `catalog` whose service `code` has `changes` (e.g. accepting=False)."""
    services = [s.model_copy(update=changes) if s.code == code else s for s in catalog.services]
    return catalog.model_copy(update={"services": services})


def service(catalog: Catalog, code: str) -> CatalogService:
    return next(s for s in catalog.services if s.code == code)


class ManualTimer:
    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """Time stands still until the test calls `advance`."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[ManualTimer] = []

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> ManualTimer:
        timer = ManualTimer(self.now + delay_s, callback)
        self.timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while True:
            due = [t for t in self.timers if not t.cancelled and t.due <= end]
            if not due:
                break
            timer = min(due, key=lambda t: t.due)
            self.timers.remove(timer)
            self.now = timer.due
            timer.callback()
        self.now = end


@dataclass
class RecordingChannel:
    requests: list[TicketRequest] = field(default_factory=list)
    withdrawn: list[uuid.UUID] = field(default_factory=list)
    offline: list[TicketOffline] = field(default_factory=list)
    health: list[KioskHealth] = field(default_factory=list)

    def request_ticket(self, request: TicketRequest) -> None:
        self.requests.append(request)

    def withdraw(self, request_id: uuid.UUID) -> bool:
        self.withdrawn.append(request_id)
        return True

    def send_offline(self, ticket: TicketOffline) -> None:
        self.offline.append(ticket)

    def publish_health(self, health: KioskHealth) -> None:
        self.health.append(health)


@dataclass
class RecordingPrinter:
    jobs: list[PrintJob] = field(default_factory=list)
    reprints: int = 0

    def submit(self, job: PrintJob) -> None:
        self.jobs.append(job)

    def reprint_last(self) -> None:
        self.reprints += 1


@dataclass(frozen=True)
class Outcome:
    ok: bool
    state: PrinterState
    message_th: str = ""
    message_en: str = ""


@dataclass
class Kiosk:
    """A model with its fakes."""

    model: KioskModel
    channel: RecordingChannel
    printer: RecordingPrinter
    clock: ManualScheduler


def make_kiosk(
    tmp_path: Path,
    *,
    catalog: Catalog | None = None,
    offline_series: str | None = "X",
    connected: bool = True,
    now: Callable[[], dt.datetime] = lambda: NOW,
    **settings: object,
) -> Kiosk:
    channel, printer, clock = RecordingChannel(), RecordingPrinter(), ManualScheduler()
    model = KioskModel(
        KioskSettings(device_id="kiosk-1", offline_series=offline_series, **settings),  # type: ignore[arg-type]
        channel=channel,
        scheduler=clock,
        offline_numbers=OfflineNumbers(tmp_path / "offline-numbers.json"),
        printer=printer,
        catalog=catalog or example_catalog(),
        now=now,
    )
    model.on_broker_connection(connected)
    return Kiosk(model, channel, printer, clock)


def issued_for(
    request: TicketRequest, number: str = "A012", *, ahead: int = 4, wait: int = 18
) -> TicketIssued:
    return TicketIssued(
        request_id=request.id,
        ticket_id=str(uuid.uuid4()),
        number=number,
        service=request.service,
        priority=request.priority,
        issued_at=NOW,
        business_date=NOW.date(),
        waiting_ahead=ahead,
        estimated_wait_min=wait,
        status_url="http://127.0.0.1:8000/t/abc",
    )


FEED_AND_CUT = b"\x1bd\x06" + b"\x1dV\x00"
"""How every printed ticket ends: feed and cut."""


def decode_raster(data: bytes) -> Image.Image:
    """The ticket image carried by ESC @, GS v 0 bands, ESC d n, GS V 0 (what the kiosk sends a printer);
    asserts nothing else is there."""
    init = b"\x1b@"
    assert data.startswith(init), "a ticket starts by initialising the printer"
    position = len(init)
    bands: list[Image.Image] = []
    while data.startswith(b"\x1dv0", position):
        width_bytes = data[position + 4] | data[position + 5] << 8
        height = data[position + 6] | data[position + 7] << 8
        start = position + 8
        raster = data[start : start + width_bytes * height]
        assert len(raster) == width_bytes * height, "a raster band was cut short"
        # In GS v 0 a set bit burns a dot; in a mode "1" image a set bit is white.
        bands.append(ImageChops.invert(Image.frombytes("1", (width_bytes * 8, height), raster)))
        position = start + width_bytes * height
    assert bands, "no raster image in the ticket"
    assert data[position:] == FEED_AND_CUT, "the ticket must end by feeding and cutting"
    image = Image.new("1", (bands[0].width, sum(b.height for b in bands)), 1)
    y = 0
    for band in bands:
        image.paste(band, (0, y))
        y += band.height
    return image
