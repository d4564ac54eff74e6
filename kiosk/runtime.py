"""Wiring one kiosk together: the MQTT link, the catalog cache, the offline numbers, the printer worker
and the view-model. No Kivy here: the app passes Kivy's handoff and scheduler, tests and benchmarks a
`HeadlessLoop`.

Files in the kiosk's data directory (`{data_dir}/kiosk/{device_id}/`): `outbox.sqlite3` (requests not
yet answered), `catalog.json` (the last catalog), `offline-numbers.json` (today's offline sequences).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.bootclock import boot_mark
from common.config import PrinterConfig
from common.contract import (
    Catalog,
    DecodeFailure,
    DeviceStatus,
    Reply,
    ServerStatus,
    TicketOffline,
    TicketRequest,
)
from common.link import RESEND_INTERVAL_S, Inbound, MqttLink
from common.vocabulary import DeviceRole, PrinterState
from kiosk.catalog_cache import CatalogCache
from kiosk.offline_numbers import OfflineNumbers
from kiosk.print_worker import PrintWorker
from kiosk.viewmodels import KioskHealth, KioskModel, KioskSettings, Scheduler, Timer

log = logging.getLogger(__name__)

STATUS_REFRESH_S = 15.0
"""How often the outbox is counted for the device status, so staff see requests waiting for the server."""

Task = Callable[[], None]


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """How this kiosk reaches the broker (`common.device_settings`' file, or the command line)."""

    host: str
    port: int
    site: str
    username: str
    password: str
    tls_ca: Path | None = None


class OutboxStatusChannel:
    """A device's retained `device.status` that says how many of its requests wait in the outbox for
    the server; republished when that count or the device's health changes. Subclasses say `status()`."""

    def __init__(self, link: MqttLink, device_id: str, version: str) -> None:
        self.link = link
        self.device_id = device_id
        self.version = version
        self._last_pending = -1

    def outbox_pending(self) -> int:
        return self.link.outbox.pending_count() if self.link.outbox is not None else 0

    def refresh_status(self) -> None:
        """Republish when the number of requests waiting for the server changed."""
        if self.outbox_pending() != self._last_pending:
            self._publish()

    def status(self) -> DeviceStatus:
        raise NotImplementedError

    def say_status(self) -> None:
        """Publish the status again, as it is now."""
        self._publish()

    def _publish(self) -> None:
        self._last_pending = self.outbox_pending()
        self.link.set_status(self.status())


class LinkChannel(OutboxStatusChannel):
    """`viewmodels.TicketChannel` over the MQTT link: durable requests, status in the retained
    `device.status`."""

    def __init__(self, link: MqttLink, device_id: str, version: str) -> None:
        super().__init__(link, device_id, version)
        self.topics = link.topics
        self._health = KioskHealth(PrinterState.unknown, None, None, None)

    def request_ticket(self, request: TicketRequest) -> None:
        self.link.request(self.topics.ticket_request(self.device_id), request)

    def withdraw(self, request_id: uuid.UUID) -> bool:
        return self.link.withdraw(str(request_id))

    def send_offline(self, ticket: TicketOffline) -> None:
        """Send (from the outbox, until answered) a ticket just printed, marked on the boot clock."""
        printed = ticket.model_copy(update={"printed": boot_mark()})
        self.link.request(self.topics.ticket_offline(self.device_id), printed)
        self.refresh_status()

    def publish_health(self, health: KioskHealth) -> None:
        self._health = health
        self._publish()

    def status(self) -> DeviceStatus:
        h = self._health
        return DeviceStatus(
            device=self.device_id,
            role=DeviceRole.kiosk,
            online=True,
            version=self.version,
            printer=h.printer,
            printer_message_th=h.printer_message_th,
            printer_message_en=h.printer_message_en,
            server_reachable=h.server_reachable,
            outbox_pending=self._last_pending,
        )


class KioskRuntime:
    """One kiosk: `start()` connects and starts the printer worker, `stop()` says offline and stops."""

    def __init__(
        self,
        *,
        settings: KioskSettings,
        link_settings: LinkSettings,
        data_dir: Path,
        printer: PrinterConfig,
        handoff: Callable[[Task], None],
        scheduler: Scheduler,
        fallback_catalog: Callable[[], Catalog | None] | None = None,
        version: str = "",
        printer_factory: Callable[[PrinterConfig], Any] | None = None,
        resend_interval_s: float = RESEND_INTERVAL_S,
    ) -> None:
        """`resend_interval_s`: how soon an unanswered request or offline ticket is published again
        (tests shorten it to see resends reach a server that was away)."""
        self.data_dir = data_dir
        self.scheduler = scheduler
        self.site = link_settings.site
        self.cache = CatalogCache(data_dir / "catalog.json")
        self.link = MqttLink(
            host=link_settings.host,
            port=link_settings.port,
            username=link_settings.username,
            password=link_settings.password,
            site=link_settings.site,
            device_id=settings.device_id,
            role=DeviceRole.kiosk,
            tls_ca=link_settings.tls_ca,
            outbox_path=data_dir / "outbox.sqlite3",
            handoff=handoff,
            version=version,
            resend_interval_s=resend_interval_s,
        )
        self.channel = LinkChannel(self.link, settings.device_id, version)
        has_printer = printer.kind != "none"
        self.worker = (
            PrintWorker(
                printer, handoff=handoff, on_result=self._on_print_result, printer_factory=printer_factory
            )
            if has_printer
            else None
        )
        catalog = self.cache.load(self.site)
        if catalog is None and fallback_catalog is not None:
            catalog = fallback_catalog()
            if catalog is not None:
                log.info("no cached catalog yet: showing the services of the office file")
        self.model = KioskModel(
            dataclasses.replace(settings, has_printer=has_printer),
            channel=self.channel,
            scheduler=scheduler,
            offline_numbers=OfflineNumbers(data_dir / "offline-numbers.json"),
            printer=self.worker,
            catalog=catalog,
        )
        topics = self.link.topics
        self.link.subscribe(topics.catalog(), self._on_catalog)
        self.link.subscribe(topics.ticket_reply(settings.device_id), self._on_reply_topic)
        self.link.subscribe(topics.server_status(), self._on_server_status)
        self.link.on_reply(self.model.on_reply)
        self.link.on_connection_change(self.model.on_broker_connection)
        self._refresh_timer: Timer | None = None
        self._printer_started = False

    def start(self, *, printer: bool = True) -> None:
        """Connect and start the printer worker. `printer=False` leaves the worker for `start_printer`:
        the app starts it once its first screen is drawn, because the worker's warm-up (fonts, the Thai
        word list, the QR encoder, python-escpos's printer profiles) would otherwise take turns with the
        start itself for the Python interpreter, and nobody can tap before the first screen."""
        self._tidy_outbox()
        if printer:
            self.start_printer()
        self.channel.publish_health(self.model.health())
        self.link.start()
        self._schedule_refresh()

    def start_printer(self) -> None:
        """Start the print worker (once; jobs submitted before wait in its queue)."""
        if self.worker is not None and not self._printer_started:
            self._printer_started = True
            self.worker.start()

    def _tidy_outbox(self) -> None:
        """Before connecting: a ticket request still pending from before a restart belongs to a citizen
        who never saw a number and has gone; sending it would give the server a ticket nobody holds.
        Offline tickets stay: they were printed and must reach the server. Old answers are forgotten."""
        outbox = self.link.outbox
        if outbox is None:
            return
        request_topic = self.link.topics.ticket_request(self.channel.device_id)
        stale = [p.event_id for p in outbox.pending() if p.topic == request_topic]
        for event_id in stale:
            outbox.settle(event_id, b"")
        if stale:
            log.warning("dropped %d ticket request(s) left unanswered before the restart", len(stale))
        outbox.purge_answered()

    def stop(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.cancel()
        if self.worker is not None:
            self.worker.stop()
        self.link.stop()

    def _schedule_refresh(self) -> None:
        def refresh() -> None:
            try:
                self.channel.refresh_status()
            finally:
                self._schedule_refresh()

        self._refresh_timer = self.scheduler.call_later(STATUS_REFRESH_S, refresh)

    def _on_print_result(self, job_id: int | None, result: Any) -> None:
        self.model.on_print_result(job_id, result)

    def _on_catalog(self, inbound: Inbound) -> None:
        message = inbound.decode(expect=(Catalog,))
        if isinstance(message, DecodeFailure):
            log.error("ignoring a catalog that cannot be read: %s", message.reason)
            return
        assert isinstance(message, Catalog)
        if message.office.id != self.site:
            log.error("ignoring the catalog of office %s on site %s", message.office.id, self.site)
            return
        try:
            self.cache.save(inbound.payload)
        except OSError:
            log.exception("could not cache the catalog (the kiosk still shows it)")
        self.model.set_catalog(message)

    def _on_server_status(self, inbound: Inbound) -> None:
        message = inbound.decode(expect=(ServerStatus,))
        if isinstance(message, ServerStatus):
            self.model.on_server_status(message)
            if message.online and not inbound.retain:
                # The server just came online: it may have missed this kiosk's status (published before it
                # subscribed) and need its boot clock to place offline tickets stamped by a wrong clock.
                self.channel.say_status()

    def _on_reply_topic(self, inbound: Inbound) -> None:
        # Replies that settle a request reach the model through `on_reply`; this only notes the rest.
        message = inbound.decode()
        if isinstance(message, Reply) and message.request_id is None:
            log.error(
                "the server could not read a request of this kiosk: %s", getattr(message, "message_en", "")
            )
