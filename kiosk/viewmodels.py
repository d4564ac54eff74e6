"""What the kiosk shows and does, in plain Python: no Kivy, no MQTT, no printer here.

`KioskModel` holds the state of the ticket flow (home → services of a group → one service → priority →
the ticket) and reacts to three kinds of event, all on one thread (the Kivy main thread in the app, a
test's own thread in tests):

- the citizen's taps (`open_group`, `open_service`, `take_ticket`, `choose_priority`, `back`, ...);
- the network (`set_catalog`, `on_reply`, `on_broker_connection`, `on_server_status`), handed over by
  the MQTT link;
- the printer worker (`on_print_result`) and timers (`Scheduler`).

It talks to the outside through three small ports (`TicketChannel`, `PrintQueue`, `Scheduler`), so tests
drive it without a window, a broker or a printer. Screens read the `*_view()` methods, which return
frozen dataclasses with every word already in the chosen language.

Server unreachable (DESIGN.md principle 1 and 2; docs/mqtt.md `ticket.offline`): when no reply comes
within `reply_timeout_s`, the request is withdrawn, the kiosk gives its own number
(`{prefix}{series}{seq:02d}`), sends a durable `ticket.offline` that `replaces` the request, and prints.
The citizen sees a ticket like any other; staff see `server_reachable: false` in the device status.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from common.contract import (
    Catalog,
    CatalogService,
    Reply,
    ServerStatus,
    TicketIssued,
    TicketOffline,
    TicketRejected,
    TicketRequest,
)
from common.thaidate import business_date, format_en_date, format_thai_date, to_local
from common.vocabulary import Lang, PrinterState, Priority, ServiceGroup
from kiosk import texts
from kiosk.offline_numbers import OfflineNumbers, OfflineNumbersExhausted
from kiosk.texts import pick, text

log = logging.getLogger(__name__)

GROUP_ORDER: tuple[ServiceGroup, ...] = (
    ServiceGroup.citizen,
    ServiceGroup.business,
    ServiceGroup.labour,
    ServiceGroup.local,
    ServiceGroup.tang_rat,
)
"""The guideline's order: citizens, business/SMEs, labour, then the office's own and Tang Rat."""

PRIORITY_ORDER: tuple[Priority, ...] = (
    Priority.none,
    Priority.elderly,
    Priority.disabled,
    Priority.pregnant,
    Priority.monk,
)
"""Most citizens have no priority: that choice comes first and largest."""

_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# ------------------------------------------------------------------------------------------------ ports


class Timer(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """Calls back later on the model's thread (Kivy's Clock in the app)."""

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Timer: ...


class TicketChannel(Protocol):
    """The way to the server (the MQTT link in the app). Requests are durable: written before sent."""

    def request_ticket(self, request: TicketRequest) -> None: ...

    def withdraw(self, request_id: uuid.UUID) -> bool: ...

    def send_offline(self, ticket: TicketOffline) -> None: ...

    def publish_health(self, health: KioskHealth) -> None: ...


class PrintQueue(Protocol):
    """The printer worker: prints off the UI thread and reports back with `KioskModel.on_print_result`."""

    def submit(self, job: PrintJob) -> None: ...

    def reprint_last(self) -> None: ...


class PrintOutcome(Protocol):
    """What `kiosk.printing.PrintResult` carries."""

    @property
    def ok(self) -> bool: ...

    @property
    def state(self) -> PrinterState: ...

    @property
    def message_th(self) -> str: ...

    @property
    def message_en(self) -> str: ...


# ------------------------------------------------------------------------------------------------ state


class Screen(StrEnum):
    home = "home"
    services = "services"
    service = "service"
    priority = "priority"
    ticket = "ticket"


class TicketPhase(StrEnum):
    asking = "asking"
    """The request is out; the number is not known yet."""
    issued = "issued"
    """The server gave the number."""
    offline = "offline"
    """No reply in time: the kiosk gave its own number."""
    rejected = "rejected"
    """The server refused (office closed, daily cap...)."""
    unavailable = "unavailable"
    """No reply in time and no offline series configured: the citizen is sent to staff."""


class PrintPhase(StrEnum):
    none = "none"
    """No printer on this kiosk."""
    printing = "printing"
    printed = "printed"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class PrintJob:
    """One ticket to print: the fields of `kiosk.ticket_image.TicketPrint` plus the job's id."""

    job_id: int
    office_name_th: str
    office_name_en: str
    service_name_th: str
    service_name_en: str
    number: str
    priority: Priority
    issued_at: dt.datetime
    waiting_ahead: int | None = None
    estimated_wait_min: int | None = None
    documents_th: tuple[str, ...] = ()
    documents_en: tuple[str, ...] = ()
    qr_url: str | None = None
    lang: Lang = Lang.th
    offline: bool = False

    def ticket_fields(self) -> dict[str, object]:
        """Keyword arguments for `TicketPrint`."""
        return {name: getattr(self, name) for name in self.__slots__ if name != "job_id"}


@dataclass(frozen=True, slots=True)
class KioskHealth:
    """What staff must see of this kiosk (published in its retained `device.status`)."""

    printer: PrinterState
    printer_message_th: str | None
    printer_message_en: str | None
    server_reachable: bool | None


@dataclass
class Ticket:
    """The ticket of the citizen at the kiosk, from the tap to the printed paper."""

    request_id: uuid.UUID
    service: CatalogService
    priority: Priority
    lang: Lang
    phase: TicketPhase = TicketPhase.asking
    number: str | None = None
    issued_at: dt.datetime | None = None
    waiting_ahead: int | None = None
    estimated_wait_min: int | None = None
    status_url: str | None = None
    rejection: tuple[str, str] | None = None
    print_phase: PrintPhase = PrintPhase.none
    print_message: tuple[str, str] | None = None
    job_id: int | None = None
    tapped_at: float = field(default_factory=time.perf_counter)
    """perf_counter() of the tap; `numbered_at - tapped_at` is the tap-to-number latency."""
    numbered_at: float | None = None


@dataclass(frozen=True, slots=True)
class KioskSettings:
    device_id: str
    offline_series: str | None = None
    """The kiosk's offline letter (config `devices[].offline_series`); None: no offline tickets."""
    reply_timeout_s: float = 2.0
    idle_timeout_s: float = 60.0
    """Back home after this long without a touch (a citizen who walked away)."""
    ticket_linger_s: float = 20.0
    """The number stays this long after the ticket printed."""
    fault_linger_s: float = 90.0
    """...and this long when it did not print, so the citizen can show it to staff."""
    notice_s: float = 5.0
    has_printer: bool = True


# ------------------------------------------------------------------------------------------------ views


@dataclass(frozen=True, slots=True)
class ChromeView:
    lang_button: str
    large_button: str
    back: str
    home: str
    show_back: bool
    show_home: bool
    notice: str


@dataclass(frozen=True, slots=True)
class GroupTile:
    group: ServiceGroup
    title: str
    subtitle: str


@dataclass(frozen=True, slots=True)
class HomeView:
    office_name: str
    office_name_other: str
    date_text: str
    time_text: str
    prompt: str
    groups: tuple[GroupTile, ...]


@dataclass(frozen=True, slots=True)
class ServiceTile:
    code: str
    name: str
    detail: str
    accepting: bool


@dataclass(frozen=True, slots=True)
class ServicesView:
    title: str
    prompt: str
    services: tuple[ServiceTile, ...]


@dataclass(frozen=True, slots=True)
class ServiceView:
    code: str
    name: str
    kind_text: str
    agency_text: str
    time_text: str
    documents_title: str
    documents: tuple[str, ...]
    accepting: bool
    action: str
    closed_title: str
    closed_reason: str


@dataclass(frozen=True, slots=True)
class PriorityChoice:
    priority: Priority
    label: str


@dataclass(frozen=True, slots=True)
class PriorityView:
    service_name: str
    prompt: str
    hint: str
    choices: tuple[PriorityChoice, ...]


@dataclass(frozen=True, slots=True)
class TicketView:
    phase: TicketPhase
    heading: str
    number: str
    service_name: str
    priority_label: str
    lines: tuple[str, ...]
    print_text: str
    print_fault: bool
    done: str


# ------------------------------------------------------------------------------------------------ model


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class KioskModel:
    """The kiosk's state and behaviour. Not thread-safe: call it on one thread only."""

    def __init__(
        self,
        settings: KioskSettings,
        *,
        channel: TicketChannel,
        scheduler: Scheduler,
        offline_numbers: OfflineNumbers,
        printer: PrintQueue | None = None,
        catalog: Catalog | None = None,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.channel = channel
        self.scheduler = scheduler
        self.offline_numbers = offline_numbers
        self.printer = printer
        self.now = now
        self.catalog: Catalog | None = catalog

        self.screen = Screen.home
        self.lang = Lang.th
        self.large = False
        self.group: ServiceGroup | None = None
        self.service_code: str | None = None
        self.ticket: Ticket | None = None
        self.notice: tuple[str, str] | None = None

        self.printer_state = PrinterState.unknown if printer is not None else PrinterState.none
        self.printer_message: tuple[str, str] | None = None
        self.server_reachable: bool | None = None
        self.broker_connected = False
        self.server_online: bool | None = None

        self.tickets_issued = 0
        self.latencies_s: list[float] = []
        """Tap-to-number times of recent tickets (benchmarks read them); bounded."""

        self._listeners: list[Callable[[], None]] = []
        self._reply_timer: Timer | None = None
        self._idle_timer: Timer | None = None
        self._notice_timer: Timer | None = None
        self._job_ids = itertools.count(1)
        self._last_health: KioskHealth | None = None

    # --- observers ---------------------------------------------------------------------------------

    def add_listener(self, listener: Callable[[], None]) -> None:
        """`listener()` runs after every change (the app coalesces redraws)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    # --- catalog -----------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog) -> None:
        """A new catalog (retained from the server, or the cache at start)."""
        self.catalog = catalog
        gone = (
            not self._services_of(self.group)
            if self.screen is Screen.services
            else self.current_service() is None
        )
        if self.screen in (Screen.services, Screen.service, Screen.priority) and gone:
            self._go(Screen.home, notify=False)  # what the citizen looked at is no longer offered
        self._changed()

    def groups(self) -> list[ServiceGroup]:
        """The groups that have at least one service, in the guideline's order."""
        present = {s.group for s in self.catalog.services} if self.catalog else set()
        return [g for g in GROUP_ORDER if g in present]

    def _services_of(self, group: ServiceGroup | None) -> list[CatalogService]:
        if self.catalog is None or group is None:
            return []
        return [s for s in self.catalog.services if s.group is group]

    def current_service(self) -> CatalogService | None:
        if self.catalog is None or self.service_code is None:
            return None
        return next((s for s in self.catalog.services if s.code == self.service_code), None)

    # --- the citizen's taps -------------------------------------------------------------------------

    def touched(self) -> None:
        """Any touch: the citizen is still here."""
        self._arm_idle()

    def open_group(self, group: ServiceGroup) -> None:
        if not self._services_of(group):
            return
        self.group = group
        self._go(Screen.services)

    def open_service(self, code: str) -> None:
        self.service_code = code
        if self.current_service() is None:
            self.service_code = None
            return
        self._go(Screen.service)

    def take_ticket(self) -> None:
        """From a service's page to the priority choice; nothing happens for a closed service."""
        service = self.current_service()
        if service is None or not service.accepting:
            return
        self._go(Screen.priority)

    def choose_priority(self, priority: Priority) -> None:
        """The tap that asks for a number."""
        service = self.current_service()
        if self.screen is not Screen.priority or service is None or not service.accepting:
            return
        request = TicketRequest(service=service.code, priority=priority, lang=self.lang)
        self.ticket = Ticket(request_id=request.id, service=service, priority=priority, lang=self.lang)
        self._go(Screen.ticket, notify=False)
        if self._server_known_down() and self.settings.offline_series:
            # The broker link is down or the server said it is offline: no reply can come, so do not
            # keep an elderly citizen waiting for the timeout.
            self._issue_offline(self.ticket, replaces=None)
        else:
            try:
                self.channel.request_ticket(request)
            except Exception:
                log.exception("could not queue the ticket request")
                self._issue_offline(self.ticket, replaces=None)
            else:
                self._reply_timer = self.scheduler.call_later(
                    self.settings.reply_timeout_s, functools.partial(self._on_reply_timeout, request.id)
                )
        self._changed()

    def back(self) -> None:
        previous = {
            Screen.services: Screen.home,
            Screen.service: Screen.services,
            Screen.priority: Screen.service,
        }.get(self.screen)
        if previous is not None:
            self._go(previous)

    def go_home(self) -> None:
        self._go(Screen.home)

    def finish(self) -> None:
        """The citizen is done (or walked away): home, in Thai, normal text."""
        self.lang = Lang.th
        self.large = False
        self.group = None
        self.service_code = None
        self._go(Screen.home)

    def toggle_lang(self) -> None:
        self.lang = Lang.en if self.lang is Lang.th else Lang.th
        self._arm_idle()
        self._changed()

    def toggle_large(self) -> None:
        self.large = not self.large
        self._arm_idle()
        self._changed()

    def _go(self, screen: Screen, *, notify: bool = True) -> None:
        self.screen = screen
        if screen is Screen.home:
            self.group = None
            self.service_code = None
        self._arm_idle()
        if notify:
            self._changed()

    # --- timers ------------------------------------------------------------------------------------

    def _arm_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        delay = self._idle_delay()
        if delay is not None:
            self._idle_timer = self.scheduler.call_later(delay, self._on_idle)

    def _idle_delay(self) -> float | None:
        if self.screen is Screen.home:
            return None
        if self.screen is not Screen.ticket or self.ticket is None:
            return self.settings.idle_timeout_s
        t = self.ticket
        if t.phase is TicketPhase.asking:
            return None  # the reply timeout decides what happens next
        if t.print_phase in (PrintPhase.failed, PrintPhase.none) and t.number is not None:
            return self.settings.fault_linger_s
        if t.print_phase is PrintPhase.printing:
            return self.settings.fault_linger_s
        if t.phase in (TicketPhase.rejected, TicketPhase.unavailable):
            return self.settings.idle_timeout_s
        return self.settings.ticket_linger_s

    def _on_idle(self) -> None:
        self._idle_timer = None
        log.debug("idle on %s: back home", self.screen)
        self.finish()

    # --- the server --------------------------------------------------------------------------------

    def _server_known_down(self) -> bool:
        return not self.broker_connected or self.server_online is False

    def on_broker_connection(self, up: bool) -> None:
        self.broker_connected = up
        if not up:
            self._set_reachable(False)

    def on_server_status(self, status: ServerStatus) -> None:
        self.server_online = status.online
        if not status.online:
            self._set_reachable(False)

    def on_reply(self, reply: Reply) -> None:
        """A reply that settled one of this kiosk's requests (the link drops duplicates and replies to
        withdrawn requests)."""
        self._set_reachable(True)
        t = self.ticket
        waited_for = t is not None and t.phase is TicketPhase.asking and reply.request_id == t.request_id
        if isinstance(reply, TicketIssued):
            if waited_for and t is not None:
                self._cancel_reply_timer()
                t.phase = TicketPhase.issued
                t.number = reply.number
                t.issued_at = reply.issued_at
                t.waiting_ahead = reply.waiting_ahead
                t.estimated_wait_min = reply.estimated_wait_min
                t.status_url = reply.status_url
                self._numbered(t)
            elif reply.offline:
                log.info("the server took in offline ticket %s", reply.number)
            else:
                log.info("ignoring ticket %s: its request is no longer waited for", reply.number)
        elif isinstance(reply, TicketRejected):
            if waited_for and t is not None:
                self._cancel_reply_timer()
                t.phase = TicketPhase.rejected
                t.rejection = (reply.message_th, reply.message_en)
                self._arm_idle()
                self._changed()
            else:
                # An offline ticket the server refused (e.g. duplicate_number): staff must sort it out.
                log.error(
                    "the server refused request %s: %s (%s)", reply.request_id, reply.code, reply.message_en
                )

    def _on_reply_timeout(self, request_id: uuid.UUID) -> None:
        self._reply_timer = None
        t = self.ticket
        if t is None or t.request_id != request_id or t.phase is not TicketPhase.asking:
            return
        log.warning("no reply to ticket request %s in %.1f s", request_id, self.settings.reply_timeout_s)
        self.channel.withdraw(request_id)
        self._set_reachable(False)
        self._issue_offline(t, replaces=request_id)
        self._changed()

    def _issue_offline(self, t: Ticket, *, replaces: uuid.UUID | None) -> None:
        series = self.settings.offline_series
        now = self.now()
        if series is None:
            t.phase = TicketPhase.unavailable
            self._arm_idle()
            return
        try:
            number = self.offline_numbers.next_number(t.service.prefix, series, business_date(now))
        except (OfflineNumbersExhausted, OSError):
            log.exception("no offline number could be given")
            t.phase = TicketPhase.unavailable
            self._arm_idle()
            return
        offline = TicketOffline(
            service=t.service.code,
            priority=t.priority,
            lang=t.lang,
            number=number,
            issued_at=now,
            replaces=replaces,
        )
        try:
            self.channel.send_offline(offline)
        except Exception:
            # The number is ours and printed; the server learns of it when staff re-enter it.
            log.exception("could not queue offline ticket %s for the server", number)
        t.phase = TicketPhase.offline
        t.number = number
        t.issued_at = now
        self._numbered(t)

    def _numbered(self, t: Ticket) -> None:
        t.numbered_at = time.perf_counter()
        self.tickets_issued += 1
        self.latencies_s.append(t.numbered_at - t.tapped_at)
        del self.latencies_s[:-1000]
        self._print(t)
        self._arm_idle()
        self._changed()

    def _cancel_reply_timer(self) -> None:
        if self._reply_timer is not None:
            self._reply_timer.cancel()
            self._reply_timer = None

    def _set_reachable(self, reachable: bool) -> None:
        if self.server_reachable != reachable:
            log.info("server %s", "reachable" if reachable else "unreachable")
        self.server_reachable = reachable
        self._publish_health()

    # --- printing ----------------------------------------------------------------------------------

    def _print(self, t: Ticket) -> None:
        if self.printer is None or not self.settings.has_printer or t.number is None or t.issued_at is None:
            t.print_phase = PrintPhase.none
            return
        catalog = self.catalog
        job = PrintJob(
            job_id=next(self._job_ids),
            office_name_th=catalog.office.name_th if catalog else "",
            office_name_en=catalog.office.name_en if catalog else "",
            service_name_th=t.service.name_th,
            service_name_en=t.service.name_en,
            number=t.number,
            priority=t.priority,
            issued_at=t.issued_at,
            waiting_ahead=t.waiting_ahead,
            estimated_wait_min=t.estimated_wait_min,
            documents_th=tuple(t.service.documents_th),
            documents_en=tuple(t.service.documents_en),
            qr_url=t.status_url,
            lang=t.lang,
            offline=t.phase is TicketPhase.offline,
        )
        t.job_id = job.job_id
        t.print_phase = PrintPhase.printing
        self.printer.submit(job)

    def on_print_result(self, job_id: int | None, result: PrintOutcome) -> None:
        """The worker finished job `job_id` (None: a staff reprint)."""
        self.printer_state = result.state
        self.printer_message = None if result.ok else (result.message_th, result.message_en)
        self._publish_health()
        t = self.ticket
        if job_id is not None and t is not None and t.job_id == job_id:
            t.print_phase = PrintPhase.printed if result.ok else PrintPhase.failed
            t.print_message = (result.message_th, result.message_en)
            if self.screen is Screen.ticket:
                self._arm_idle()
        self._changed()

    def reprint_last(self) -> None:
        """Staff: print the last ticket again (after loading paper or closing the cover)."""
        if self.printer is None:
            return
        log.info("staff asked for a reprint of the last ticket")
        self.printer.reprint_last()
        self._show_notice(texts.TEXTS["reprinting"])

    def _show_notice(self, notice: tuple[str, str]) -> None:
        self.notice = notice
        if self._notice_timer is not None:
            self._notice_timer.cancel()
        self._notice_timer = self.scheduler.call_later(self.settings.notice_s, self._clear_notice)
        self._changed()

    def _clear_notice(self) -> None:
        self.notice = None
        self._notice_timer = None
        self._changed()

    # --- status for staff --------------------------------------------------------------------------

    def health(self) -> KioskHealth:
        message = self.printer_message
        return KioskHealth(
            printer=self.printer_state,
            printer_message_th=message[0] if message else None,
            printer_message_en=message[1] if message else None,
            server_reachable=self.server_reachable,
        )

    def _publish_health(self) -> None:
        health = self.health()
        if health != self._last_health:
            self._last_health = health
            self.channel.publish_health(health)

    # --- what the screens show ---------------------------------------------------------------------

    def _t(self, key: str, **values: object) -> str:
        return text(key, self.lang, **values)

    def chrome_view(self) -> ChromeView:
        return ChromeView(
            lang_button=self._t("switch_lang"),
            large_button=self._t("large_off" if self.large else "large_on"),
            back=self._t("back"),
            home=self._t("home"),
            show_back=self.screen in (Screen.services, Screen.service, Screen.priority),
            show_home=self.screen in (Screen.services, Screen.service, Screen.priority),
            notice=pick(self.notice, self.lang) if self.notice else "",
        )

    def group_title(self, group: ServiceGroup) -> str:
        title = pick(texts.GROUP_TITLES[group], self.lang)
        if "{lao}" in title:
            lao = self.catalog.office.lao_type if self.catalog else "municipality"
            title = title.format(
                lao=pick(texts.LAO_NAMES.get(lao, texts.LAO_NAMES["municipality"]), self.lang)
            )
        return title

    def home_view(self) -> HomeView:
        now = to_local(self.now())
        office = self.catalog.office if self.catalog else None
        names = (office.name_th, office.name_en) if office else ("", "")
        if self.lang is Lang.th:
            date_text = format_thai_date(now.date(), weekday=True)
            time_text = f"{now:%H:%M} น."
        else:
            date_text = f"{_WEEKDAYS_EN[now.weekday()]} {format_en_date(now.date())}"
            time_text = f"{now:%H:%M}"
        groups = []
        for group in self.groups():
            n = len(self._services_of(group))
            subtitle = self._t("one_service") if n == 1 else self._t("n_services", n=n)
            groups.append(GroupTile(group=group, title=self.group_title(group), subtitle=subtitle))
        return HomeView(
            office_name=pick(names, self.lang),
            office_name_other=pick(names, Lang.en if self.lang is Lang.th else Lang.th),
            date_text=date_text,
            time_text=time_text,
            prompt=self._t("home_prompt") if groups else self._t("no_services"),
            groups=tuple(groups),
        )

    def services_view(self) -> ServicesView:
        tiles = []
        for s in self._services_of(self.group):
            if s.accepting:
                detail = self._t("standard_time", time=texts.duration(s.standard_minutes, self.lang))
            else:
                reason = pick((s.closed_reason_th or "", s.closed_reason_en or ""), self.lang)
                detail = f"{self._t('closed')}: {reason}" if reason else self._t("closed")
            tiles.append(
                ServiceTile(
                    code=s.code,
                    name=pick((s.name_th, s.name_en), self.lang),
                    detail=detail,
                    accepting=s.accepting,
                )
            )
        return ServicesView(
            title=self.group_title(self.group) if self.group else "",
            prompt=self._t("services_prompt"),
            services=tuple(tiles),
        )

    def service_view(self) -> ServiceView | None:
        s = self.current_service()
        if s is None:
            return None
        documents: Sequence[str] = (
            s.documents_th if self.lang is Lang.th else (s.documents_en or s.documents_th)
        )
        agency = pick((s.agency_th, s.agency_en or s.agency_th), self.lang)
        reason = pick((s.closed_reason_th or "", s.closed_reason_en or ""), self.lang)
        return ServiceView(
            code=s.code,
            name=pick((s.name_th, s.name_en), self.lang),
            kind_text=pick(texts.KIND_TEXTS[s.kind], self.lang),
            agency_text=self._t("agency", agency=agency) if agency else "",
            time_text=self._t("standard_time", time=texts.duration(s.standard_minutes, self.lang)),
            documents_title=self._t("documents"),
            documents=tuple(documents) if documents else (self._t("no_documents"),),
            accepting=s.accepting,
            action=self._t("take_ticket"),
            closed_title=self._t("closed"),
            closed_reason="" if s.accepting else (reason or self._t("closed_reason_default")),
        )

    def priority_view(self) -> PriorityView:
        s = self.current_service()
        return PriorityView(
            service_name=pick((s.name_th, s.name_en), self.lang) if s else "",
            prompt=self._t("priority_prompt"),
            hint=self._t("priority_hint"),
            choices=tuple(
                PriorityChoice(p, pick(texts.PRIORITY_TEXTS[p], self.lang)) for p in PRIORITY_ORDER
            ),
        )

    def ticket_view(self) -> TicketView | None:
        t = self.ticket
        if t is None:
            return None
        lang = self.lang
        service_name = pick((t.service.name_th, t.service.name_en), lang)
        priority_label = "" if t.priority is Priority.none else pick(texts.PRIORITY_TEXTS[t.priority], lang)
        lines: tuple[str, ...]
        if t.phase is TicketPhase.asking:
            return TicketView(
                t.phase, self._t("issuing"), "", service_name, priority_label, (), "", False, ""
            )
        if t.phase in (TicketPhase.rejected, TicketPhase.unavailable):
            reason = pick(t.rejection, lang) if t.rejection else self._t("unavailable")
            lines = (reason, self._t("ask_staff")) if t.rejection else (reason,)
            heading = self._t("rejected_title")
            return TicketView(t.phase, heading, "", service_name, "", lines, "", False, self._t("done"))
        if t.phase is TicketPhase.offline or t.waiting_ahead is None:
            lines = (self._t("in_turn"),)
        else:
            if t.waiting_ahead == 0:
                ahead = self._t("ahead_none")
            elif t.waiting_ahead == 1:
                ahead = self._t("ahead_one")
            else:
                ahead = self._t("ahead_n", n=t.waiting_ahead)
            lines = (ahead,)
            if t.waiting_ahead > 0 and t.estimated_wait_min:
                lines += (self._t("estimated_wait", n=t.estimated_wait_min),)
        fault = t.print_phase is PrintPhase.failed
        print_text = {
            PrintPhase.none: self._t("no_printer"),
            PrintPhase.printing: self._t("printing"),
            PrintPhase.printed: self._t("printed"),
            PrintPhase.failed: self._t("print_failed"),
        }[t.print_phase]
        if (
            t.print_phase is PrintPhase.printed
            and self.printer_state is not PrinterState.ok
            and t.print_message
        ):
            print_text = pick(t.print_message, lang)  # sent, but the printer could not confirm it
        return TicketView(
            t.phase,
            self._t("your_number"),
            t.number or "",
            service_name,
            priority_label,
            lines,
            print_text,
            fault,
            self._t("done"),
        )
