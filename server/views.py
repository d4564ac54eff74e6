"""What the office publishes and shows, built from the queue's state: the retained catalog, counter and
board states, ticket views, and the frozen snapshots the web console reads (CounterPanel, CaseView)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from common.catalog import catalog_from_config
from common.config import OfficeConfig
from common.contract import (
    BoardRecentCall,
    BoardServing,
    BoardState,
    BoardWaiting,
    Catalog,
    CounterState,
    TicketView,
    rejection_text,
)
from common.thaidate import BE_OFFSET, to_local
from server.engine import Availability, OfficeQueue, Ticket


class CaseStatus(StrEnum):
    """Follow-up of a forwarded matter (DESIGN.md, "Completion")."""

    open = "open"
    in_progress = "in_progress"
    done = "done"


@dataclass(frozen=True, slots=True)
class CounterPanel:
    """Everything the staff console shows of one counter, read at one instant."""

    counter: str
    open: bool
    staff: str | None
    current: TicketView | None
    parked: tuple[TicketView, ...]
    waiting: tuple[TicketView, ...]
    """Tickets waiting for this counter's services, in call order (priority first, then issue time)."""


@dataclass(frozen=True, slots=True)
class CaseView:
    """A forwarded matter as staff follow it up."""

    case_id: str
    ticket: str
    """The ticket number it came from (A012)."""
    service: str
    reference: str | None
    opened_at: dt.datetime
    due_on: dt.date
    status: CaseStatus
    note: str = ""
    updated_by: str | None = None
    updated_at: dt.datetime | None = None
    agency_th: str = ""
    agency_en: str = ""
    business_date: dt.date | None = None

    def overdue(self, today: dt.date) -> bool:
        """Not done and past its due date (the office's local date)."""
        return self.status is not CaseStatus.done and today > self.due_on


def case_view(row: Any) -> CaseView:
    """A `cases` row as a CaseView."""
    return CaseView(
        case_id=row.id,
        ticket=row.number,
        service=row.service,
        reference=row.reference,
        opened_at=row.opened_at,
        due_on=row.due_date,
        status=CaseStatus(row.status),
        note=row.note,
        updated_by=row.staff,
        updated_at=row.updated_at,
        agency_th=row.agency_th,
        agency_en=row.agency_en,
        business_date=row.business_date,
    )


def ticket_view(ticket: Ticket) -> TicketView:
    return TicketView(
        ticket_id=ticket.id,
        number=ticket.number,
        service=ticket.service,
        priority=ticket.priority,
        state=ticket.state,
        calls=ticket.calls,
        issued_at=ticket.issued_at,
        called_at=ticket.called_at,
    )


def counter_panel(queue: OfficeQueue, counter: str) -> CounterPanel | None:
    desk = queue.desks.get(counter)
    if desk is None:
        return None
    current = queue.current(counter)
    return CounterPanel(
        counter=counter,
        open=desk.open,
        staff=desk.staff,
        current=ticket_view(current) if current else None,
        parked=tuple(ticket_view(t) for t in queue.parked_at(counter)),
        waiting=tuple(ticket_view(t) for t in queue.waiting(desk.services)),
    )


# ------------------------------------------------------------------------------------------------ catalog


def closed_reason(
    config: OfficeConfig, service: str, availability: Availability, now: dt.datetime
) -> tuple[str, str]:
    """Why a service takes no tickets now, in Thai and English, with the hours or the holiday's name."""
    code = availability.code or "office_closed"
    th, en = rejection_text(code)
    day = to_local(now).date()
    if code == "holiday":
        holiday = config.queue.holiday_on(day)
        if holiday is not None:
            return (f"{th} ({holiday.name_th})", f"{en} ({holiday.name_en})")
    if code == "office_closed":
        window = config.queue.issuing_window(day, config.service_by_code(service))
        if window is not None:
            start, end = (t.strftime("%H:%M") for t in window)
            return (f"{th} (เปิดรับบัตรคิว {start}–{end} น.)", f"{en} (Tickets {start}–{end}.)")
    return (th, en)


def catalog_message(
    config: OfficeConfig,
    availability: Mapping[str, Availability],
    *,
    business_date: dt.date,
    now: dt.datetime,
) -> Catalog:
    """The retained catalog: the office, its enabled services with whether they take tickets now, the
    counters and the survey form."""
    closed = {
        s.code: closed_reason(config, s.code, state, now)
        for s in config.enabled_services()
        if not (state := availability.get(s.code, Availability(True))).accepting
    }
    return catalog_from_config(config, business_date, now=now, closed=closed)


# ------------------------------------------------------------------------------------------------ states


def counter_state_message(
    config: OfficeConfig,
    queue: OfficeQueue,
    counter: str,
    *,
    now: dt.datetime,
    last_completed: TicketView | None = None,
) -> CounterState:
    """The retained state of one counter; `last_completed`: the ticket it completed last today."""
    spec = config.counter_by_id(counter)
    desk = queue.desks[counter]
    current = queue.current(counter)
    if spec is None:
        raise KeyError(counter)
    return CounterState(
        ts=now,
        counter=counter,
        number=spec.number,
        name_th=spec.name_th,
        name_en=spec.name_en,
        open=desk.open,
        staff=desk.staff,
        current=ticket_view(current) if current else None,
        waiting=queue.waiting_for_counter(counter),
        parked=[t.number for t in queue.parked_at(counter)],
        last_completed=last_completed,
    )


@dataclass(frozen=True, slots=True)
class RecentCall:
    """One line of the board's recent calls."""

    number: str
    counter: str
    service: str
    at: dt.datetime


def board_state_message(
    config: OfficeConfig,
    queue: OfficeQueue,
    *,
    recent_calls: Iterable[RecentCall],
    kiosks_offline: Sequence[str],
    now: dt.datetime,
) -> BoardState:
    """The retained hall board: who is served where, the latest calls, how many wait per service."""
    serving = []
    for spec in config.counters:
        desk = queue.desks[spec.id]
        current = queue.current(spec.id)
        if not desk.open and current is None:
            continue
        serving.append(
            BoardServing(
                counter=spec.id,
                counter_number=spec.number,
                counter_name_th=spec.name_th,
                counter_name_en=spec.name_en,
                number=current.number if current else None,
                service=current.service if current else None,
                state=current.state if current else None,
                since=(current.started_at or current.called_at) if current else None,
            )
        )
    numbers = {c.id: c.number for c in config.counters}
    waiting = [
        BoardWaiting(
            service=s.code,
            prefix=s.prefix,
            name_th=s.name_th,
            name_en=s.name_en,
            waiting=queue.waiting_count(s.code),
        )
        for s in config.services
        if s.enabled or queue.waiting_count(s.code)
    ]
    return BoardState(
        ts=now,
        business_date=queue.business_date,
        serving=serving,
        recent_calls=[
            BoardRecentCall(
                number=c.number,
                counter=c.counter,
                counter_number=numbers.get(c.counter, 0),
                service=c.service,
                at=c.at,
            )
            for c in recent_calls
        ],
        waiting=waiting,
        kiosks_offline=sorted(kiosks_offline),
    )


@dataclass(frozen=True, slots=True)
class ClockStep:
    """The server's clock set by `step` (negative: back) just before `at`, when it read `was`."""

    at: dt.datetime
    was: dt.datetime

    @property
    def step(self) -> dt.timedelta:
        return self.at - self.was

    @property
    def buddhist_era(self) -> bool:
        """The step is 543 years, give or take a day or two: the year typed in the Buddhist Era (2569 for
        2026) or put right from it."""
        return abs(abs(self.step) - BUDDHIST_ERA_OFFSET) <= dt.timedelta(days=2)


SHARED_DEVICE_WINDOW = dt.timedelta(minutes=10)
"""Live statuses of one device id from two boots taking turns within this: two machines share the id."""


@dataclass(frozen=True, slots=True)
class SharedDevice:
    """Machines connecting under one device id (an SD card or a settings file copied to a second kiosk):
    the broker keeps one connection per id, so each drops the other's whenever it connects, and the
    replies of one go to whichever is connected. Seen as live statuses from boots taking turns, first at
    `since`, last at `last` (how many machines is not known: a machine's restart is a boot too)."""

    device: str
    since: dt.datetime
    last: dt.datetime


OTHER_SERVER_WINDOW = dt.timedelta(minutes=10)
"""Another server seen online within this is still said: two servers on one client id take turns, each
connection ending the other's, so each one's status goes offline and online again."""


@dataclass(frozen=True, slots=True)
class OtherServer:
    """A second server on the office's broker (another machine or process given the server's account,
    on a database of its own): seen as live statuses of another `ServerStatus.instance`. Its request
    lanes take requests of their own, and its main connection may end this one's, so kiosks can get
    numbers this server never gave; the two databases hold different days."""

    instance: str
    version: str
    since: dt.datetime
    last_online: dt.datetime
    online: bool

    def shown(self, now: dt.datetime) -> bool:
        return self.online or now - self.last_online <= OTHER_SERVER_WINDOW


BUDDHIST_ERA_OFFSET = dt.timedelta(days=BE_OFFSET * 365.2425)
"""How far a year typed in the Buddhist Era puts a clock ahead."""


FIRST_YEAR = 2026
"""No office numbered a ticket with Khiu before this year: a clock reading an earlier one is wrong (a
Raspberry Pi that found neither a time server nor a saved time starts in 1970)."""
BUDDHIST_ERA_FROM = 2400
"""A year from this one on is a Buddhist Era year typed where the Common Era's belongs (2569 for 2026)."""


def wrong_year(moment: dt.datetime) -> int | None:
    """The year the server's clock reads, in the office's time, when no office could be in it; None when
    it could be right."""
    year = to_local(moment).year
    return year if year < FIRST_YEAR or year >= BUDDHIST_ERA_FROM else None
