"""The simulated day of `server.simulation`, with kiosks that behave as the real kiosk does when the
server does not answer (kiosk/viewmodels.py, DESIGN.md principle 2): after `kiosk_reply_timeout_s`
without a reply, or at once when its link to the broker is down or the server says it is offline, the
kiosk withdraws the request, gives its own number from its offline series (kiosk/offline_numbers.py,
the kiosk's own durable allocator), and sends a durable `ticket.offline` that `replaces` the request.

What each kiosk gave out offline is kept, so the run can account for every number afterwards."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from common.contract import Message, ServerStatus, TicketOffline, TicketRequest, utcnow
from common.link import Inbound
from common.thaidate import business_date
from kiosk.offline_numbers import OfflineNumbers
from server.simulation import Simulator, SimulatorSettings
from server.simulation.runner import ReplyCallback

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OfflineTicket:
    """A number a kiosk gave while the server was away."""

    kiosk: str
    number: str
    event_id: str
    replaces: str | None


class ChaosSimulator(Simulator):
    """A simulated day whose kiosks issue offline tickets like the real ones."""

    def __init__(
        self,
        settings: SimulatorSettings,
        *,
        offline_series: dict[str, str],
        reply_timeout_s: float,
        numbers_dir: Path,
    ) -> None:
        super().__init__(settings)
        if settings.speed is None:
            raise ValueError("the chaos run needs a paced day (a speed): kiosk timeouts are wall-clock time")
        self.series = dict(offline_series)
        self.reply_timeout_s = reply_timeout_s
        self.offline_numbers = {
            kiosk: OfflineNumbers(numbers_dir / f"{kiosk}.offline-numbers.json") for kiosk in self.series
        }
        self.offline: list[OfflineTicket] = []
        self.withdrawn: list[str] = []
        """Ticket requests a kiosk gave up on (each replaced by an offline ticket)."""
        self.server_online = True

    # ------------------------------------------------------------------------------------------ wiring

    def _connect(self) -> None:
        super()._connect()
        for kiosk in self.series:
            link = self.links[kiosk]
            link.subscribe(link.topics.server_status(), self._on_server_status)

    def _on_server_status(self, inbound: Inbound) -> None:
        message = inbound.decode(expect=(ServerStatus,))
        if isinstance(message, ServerStatus):
            self.server_online = message.online

    # ------------------------------------------------------------------------------------------ kiosks

    def request(self, device: str, topic: str, message: Message, kind: str, then: ReplyCallback) -> None:
        if not isinstance(message, TicketRequest) or device not in self.series:
            super().request(device, topic, message, kind, then)
            return
        if not self.links[device].connected or not self.server_online:
            # The kiosk knows no reply can come: it does not keep the citizen waiting for the timeout.
            self._issue_offline(device, message, replaces=None)
            return
        super().request(device, topic, message, kind, then)
        assert self.settings.speed is not None
        self.clock.after(self.reply_timeout_s * self.settings.speed, lambda: self._timed_out(device, message))

    def _timed_out(self, kiosk: str, request: TicketRequest) -> None:
        event_id = str(request.id)
        if event_id not in self._pending:
            return  # answered in time
        log.info("%s: no reply to %s in %.1f s, issuing offline", kiosk, event_id, self.reply_timeout_s)
        self.links[kiosk].withdraw(event_id)
        del self._pending[event_id]
        self.withdrawn.append(event_id)
        self._issue_offline(kiosk, request, replaces=request.id)

    def _issue_offline(self, kiosk: str, request: TicketRequest, *, replaces: uuid.UUID | None) -> None:
        if not self._active:
            return
        prefix = self._prefix(request.service)
        now = utcnow()
        number = self.offline_numbers[kiosk].next_number(prefix, self.series[kiosk], business_date(now))
        ticket = TicketOffline(
            service=request.service,
            priority=request.priority,
            lang=request.lang,
            number=number,
            issued_at=now,
            replaces=replaces,
        )
        self.offline.append(OfflineTicket(kiosk, number, str(ticket.id), str(replaces) if replaces else None))
        super().request(kiosk, self.topics.ticket_offline(kiosk), ticket, "ticket", self._ticket_reply)

    def _prefix(self, service: str) -> str:
        catalog = self._catalog_msg
        assert catalog is not None
        return next(s.prefix for s in catalog.services if s.code == service)
