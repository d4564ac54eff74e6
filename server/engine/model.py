"""The queue's records: tickets, counters, transitions and the effects of one operation.

Plain dataclasses. A `Ticket` is mutable and owned by the engine; callers read it right after an
operation, on the same thread (the sequencer), and copy what they keep."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from common.vocabulary import Lang, Outcome, Priority, TicketState

TERMINAL_STATES: frozenset[TicketState] = frozenset(
    {TicketState.done, TicketState.no_show, TicketState.cancelled}
)
"""States a ticket never leaves."""

LEGAL_TRANSITIONS: frozenset[tuple[TicketState | None, TicketState]] = frozenset(
    {
        (None, TicketState.waiting),  # issued
        (TicketState.waiting, TicketState.called),  # call next
        (TicketState.called, TicketState.called),  # recall
        (TicketState.called, TicketState.serving),  # start
        (TicketState.serving, TicketState.done),  # complete
        (TicketState.called, TicketState.no_show),  # no-show (staff, or after the last recall)
        (TicketState.serving, TicketState.waiting),  # transfer to another service
        (TicketState.called, TicketState.parked),  # park
        (TicketState.serving, TicketState.parked),
        (TicketState.parked, TicketState.waiting),  # resume
        (TicketState.waiting, TicketState.cancelled),  # cancel, end of day
    }
)
"""DESIGN.md, "The queue": the only state changes the engine makes."""


@dataclass(slots=True)
class Ticket:
    """One citizen's place in the queue."""

    id: str
    business_date: dt.date
    number: str
    service: str
    """The service the ticket waits for or is served in now (a transfer changes it)."""
    priority: Priority
    issued_at: dt.datetime
    """Orders the queue; a transfer and a resume keep it, so the citizen does not start again."""
    state: TicketState = TicketState.waiting
    seq: int | None = None
    """The server's sequence within its prefix and day; None for a ticket a kiosk issued offline."""
    lang: Lang = Lang.th
    offline: bool = False
    source: str | None = None
    """The kiosk (or web) that issued it."""
    calls: int = 0
    """How many times it was announced at its current counter (1 after call next, +1 per recall)."""
    counter: str | None = None
    """The counter calling or serving it, or the one that parked it."""
    called_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    outcome: Outcome | None = None
    staff: str | None = None
    updated_at: dt.datetime | None = None

    @property
    def is_priority(self) -> bool:
        return self.priority is not Priority.none

    @property
    def order_key(self) -> OrderKey:
        return (self.issued_at, self.number, self.id)


OrderKey = tuple[dt.datetime, str, str]
"""Queue order within one class (priority or normal): issue time, then number, then id."""


@dataclass(slots=True)
class Desk:
    """A counter as the queue sees it."""

    id: str
    services: tuple[str, ...]
    open: bool = False
    staff: str | None = None
    current: str | None = None
    """Id of the ticket called or being served here."""
    priority_streak: int = 0
    """Priority tickets called in a row here (the starvation guard)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One state change: a row of the transitions table."""

    ticket_id: str
    number: str
    service: str
    """The ticket's service when it happened (for a transfer: the service it left)."""
    from_state: TicketState | None
    to_state: TicketState
    at: dt.datetime
    counter: str | None = None
    staff: str | None = None
    outcome: Outcome | None = None
    to_service: str | None = None
    reason: str | None = None
    """Why, when not a staff action: `max_calls`, `end_of_day`."""


@dataclass(frozen=True, slots=True)
class Call:
    """Announce this ticket at this counter (`repeat` 0 for the first call, 1 for the first recall)."""

    ticket_id: str
    number: str
    service: str
    counter: str
    repeat: int
    at: dt.datetime


@dataclass(slots=True)
class Effects:
    """What one operation changed, so the adapter knows what to store, reply and republish."""

    transitions: list[Transition] = field(default_factory=list)
    ticket: Ticket | None = None
    """The ticket the operation was about (None for counter and day operations)."""
    touched: dict[str, Ticket] = field(default_factory=dict)
    """Every ticket a transition changed, by id (end of day changes many)."""
    counters: set[str] = field(default_factory=set)
    """Counters whose published state changed (their own ticket, or the waiting count of a service)."""
    services: set[str] = field(default_factory=set)
    """Services whose waiting count changed."""
    call: Call | None = None
    auto_no_show: bool = False
    """A recall went past `max_calls_before_no_show`: the ticket became a no-show instead."""
    counter_changed: str | None = None
    """A counter opened, closed or changed staff (store its row)."""
