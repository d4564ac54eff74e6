"""The queue of one office for one business day: numbering, call order, every state change.

Pure: no database, MQTT or HTTP. The sequencer (server/office.py) is its only caller, on one thread;
each operation either raises `QueueError` (nothing changed) or changes the state and returns the
`Effects` to store and publish. DESIGN.md, "The queue", is the specification."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
import statistics
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from common.vocabulary import Lang, Outcome, Priority, TicketState
from server.engine.errors import QueueError
from server.engine.model import (
    LEGAL_TRANSITIONS,
    TERMINAL_STATES,
    Call,
    Desk,
    Effects,
    OrderKey,
    Ticket,
    Transition,
)
from server.engine.rules import MAX_SEQUENCE, Availability, CounterRule, QueueRules, ServiceRule

_OFFLINE_NUMBER = re.compile(r"^(?P<prefix>[A-Z])(?P<series>[A-Z])(?P<seq>[0-9]{2,4})$")
"""`{prefix}{series}{seq:02d}` (common.vocabulary.TICKET_NUMBER_PATTERN): the second letter keeps
offline numbers apart from server numbers."""


def new_ticket_id() -> str:
    return str(uuid.uuid4())


@dataclass(slots=True)
class _ServiceLine:
    """The waiting tickets of one service, in call order within each class."""

    priority: list[OrderKey] = field(default_factory=list)
    normal: list[OrderKey] = field(default_factory=list)

    def side(self, ticket: Ticket) -> list[OrderKey]:
        return self.priority if ticket.is_priority else self.normal

    def add(self, ticket: Ticket) -> None:
        bisect.insort(self.side(ticket), ticket.order_key)

    def remove(self, ticket: Ticket) -> None:
        side = self.side(ticket)
        key = ticket.order_key
        i = bisect.bisect_left(side, key)
        if i == len(side) or side[i] != key:
            raise AssertionError(f"ticket {ticket.number} is not in its waiting line")
        del side[i]

    def __len__(self) -> int:
        return len(self.priority) + len(self.normal)


class OfficeQueue:
    """One office's queue. Times are aware datetimes (UTC in practice); `now` is always passed in."""

    def __init__(
        self,
        *,
        business_date: dt.date,
        services: Iterable[ServiceRule],
        counters: Iterable[CounterRule],
        rules: QueueRules | None = None,
        new_id: Callable[[], str] = new_ticket_id,
    ) -> None:
        self.business_date = business_date
        self.rules = rules or QueueRules()
        self.services: dict[str, ServiceRule] = {s.code: s for s in services}
        self.desks: dict[str, Desk] = {c.id: Desk(c.id, tuple(c.services)) for c in counters}
        self._new_id = new_id
        self._by_prefix = {s.prefix: s for s in self.services.values()}
        self._counters_of: dict[str, tuple[str, ...]] = {
            code: tuple(d.id for d in self.desks.values() if code in d.services) for code in self.services
        }
        for desk in self.desks.values():
            for code in desk.services:
                if code not in self.services:
                    raise ValueError(f"counter {desk.id} serves unknown service {code!r}")
        self.tickets: dict[str, Ticket] = {}
        self._by_number: dict[str, str] = {}
        """Numbers of this business day -> ticket id."""
        self._carried: dict[str, str] = {}
        """Numbers of unfinished tickets of earlier days (end_of_day = keep, or still being served)."""
        self._lines: dict[str, _ServiceLine] = {code: _ServiceLine() for code in self.services}
        self._parked: dict[str, dict[str, Ticket]] = {}
        """Parked tickets by the counter that parked them (boards and consoles list them often)."""
        self._last_seq: Counter[str] = Counter()
        self._issued: Counter[str] = Counter()
        """Tickets issued today per prefix (the prefix names the service it was issued for)."""
        self._durations: dict[str, deque[float]] = {
            code: deque(maxlen=self.rules.wait_window) for code in self.services
        }

    # ---------------------------------------------------------------------------------------- reading

    def find(self, number: str) -> Ticket | None:
        """A ticket by its number: today's first, then an unfinished one of an earlier day."""
        ticket_id = self._by_number.get(number) or self._carried.get(number)
        return self.tickets.get(ticket_id) if ticket_id else None

    def current(self, counter: str) -> Ticket | None:
        desk = self.desks.get(counter)
        if desk is None or desk.current is None:
            return None
        return self.tickets[desk.current]

    def counters_serving(self, service: str) -> tuple[str, ...]:
        return self._counters_of.get(service, ())

    def waiting_count(self, service: str) -> int:
        line = self._lines.get(service)
        return len(line) if line is not None else 0

    def waiting_for_counter(self, counter: str) -> int:
        desk = self.desks.get(counter)
        return sum(self.waiting_count(code) for code in desk.services) if desk else 0

    def parked_at(self, counter: str) -> list[Ticket]:
        """Tickets this counter parked, oldest first."""
        return sorted(self._parked.get(counter, {}).values(), key=lambda t: t.order_key)

    def waiting(self, services: Iterable[str] | None = None) -> list[Ticket]:
        """Waiting tickets in call order (priority first, then by issue time; the starvation guard
        may pick a normal ticket earlier at a given counter)."""
        codes = list(services) if services is not None else list(self.services)
        priority: list[OrderKey] = []
        normal: list[OrderKey] = []
        for code in codes:
            line = self._lines.get(code)
            if line is not None:
                priority.extend(line.priority)
                normal.extend(line.normal)
        return [self.tickets[key[2]] for key in sorted(priority) + sorted(normal)]

    def issued_today(self, service: str) -> int:
        rule = self.services.get(service)
        return self._issued[rule.prefix] if rule else 0

    def last_sequence(self, prefix: str) -> int:
        return self._last_seq[prefix]

    def sequences(self) -> dict[str, int]:
        return {prefix: seq for prefix, seq in self._last_seq.items() if seq}

    def availability(self, service: str, now: dt.datetime) -> Availability:
        """Whether a kiosk may issue a ticket for `service` now, and why not."""
        rule = self.services.get(service)
        if rule is None:
            return Availability(False, "unknown_service")
        return self._availability(service, rule, now.astimezone(self.rules.tz))

    def service_availability(self, now: dt.datetime) -> dict[str, Availability]:
        """Every service's availability (the catalog's `accepting` and closed reasons); the server asks
        after every batch, so the local time is worked out once for all services."""
        local = now.astimezone(self.rules.tz)
        return {code: self._availability(code, rule, local) for code, rule in self.services.items()}

    def _availability(self, service: str, rule: ServiceRule, local: dt.datetime) -> Availability:
        if not rule.enabled:
            return Availability(False, "service_disabled")
        day = local.date()
        calendar = self.rules.calendar
        if calendar.is_holiday(day):
            return Availability(False, "holiday")
        window = calendar.window(day, service)
        if window is None or not (window[0] <= local.time() <= window[1]):
            return Availability(False, "office_closed")
        issued = self._issued[rule.prefix]
        if (rule.daily_cap is not None and issued >= rule.daily_cap) or self._last_seq[
            rule.prefix
        ] >= MAX_SEQUENCE:
            return Availability(False, "daily_cap_reached")
        return Availability(True)

    def expected_service_minutes(self, service: str) -> float:
        """Median of the last N service times of `service`, or the default when there are none."""
        durations = self._durations.get(service)
        if not durations:
            return self.rules.default_service_minutes
        return statistics.median(durations) / 60.0

    def estimate(self, ticket: Ticket) -> tuple[int, int]:
        """(tickets ahead, estimated wait in minutes) for a waiting ticket: the tickets of its service
        that come first, times the median service time, shared among the counters open for it (all its
        counters when none is open yet)."""
        line = self._lines.get(ticket.service)
        if line is None or ticket.state is not TicketState.waiting:
            return (0, 0)
        key = ticket.order_key
        if ticket.is_priority:
            ahead = bisect.bisect_left(line.priority, key)
        else:
            ahead = len(line.priority) + bisect.bisect_left(line.normal, key)
        serving = self.counters_serving(ticket.service)
        open_count = sum(1 for c in serving if self.desks[c].open) or max(len(serving), 1)
        minutes = math.ceil(ahead * self.expected_service_minutes(ticket.service) / open_count)
        return (ahead, minutes)

    # ---------------------------------------------------------------------------------------- issuing

    def issue(
        self,
        service: str,
        *,
        now: dt.datetime,
        priority: Priority = Priority.none,
        lang: Lang = Lang.th,
        source: str | None = None,
        check_hours: bool = True,
    ) -> Effects:
        """A new ticket with the next number of the service's prefix. `check_hours=False` (staff at the
        console) skips hours and holidays but never the cap, a disabled service or the number range."""
        rule = self._service(service)
        availability = self.availability(service, now)
        hours_only = availability.code in ("holiday", "office_closed")
        if not availability.accepting and (check_hours or not hours_only):
            raise QueueError(availability.code or "invalid", f"service {service!r} is not accepting")
        seq = self._last_seq[rule.prefix] + 1
        ticket = Ticket(
            id=self._new_id(),
            business_date=self.business_date,
            number=f"{rule.prefix}{seq:03d}",
            service=service,
            priority=priority,
            issued_at=now,
            seq=seq,
            lang=lang,
            source=source,
            updated_at=now,
        )
        self._last_seq[rule.prefix] = seq
        return self._admit(ticket, now)

    def take_offline(
        self,
        service: str,
        *,
        number: str,
        issued_at: dt.datetime,
        now: dt.datetime,
        priority: Priority = Priority.none,
        lang: Lang = Lang.th,
        source: str | None = None,
        series: str | None = None,
    ) -> Effects:
        """Take in a ticket a kiosk printed while the server was away. It was already handed to a
        citizen, so hours, caps and a disabled service do not refuse it; it is slotted in the queue by
        its issue time (never later than now). `series` is the kiosk's own offline letter, when known."""
        rule = self._service(service)
        m = _OFFLINE_NUMBER.match(number)
        if m is None:
            raise QueueError("invalid", f"offline number {number!r} is not of the form AX05")
        if m["prefix"] != rule.prefix:
            raise QueueError("invalid", f"offline number {number!r} does not start with {rule.prefix}")
        if series is not None and m["series"] != series:
            raise QueueError("invalid", f"offline number {number!r} is not of this kiosk's series {series}")
        if number in self._by_number:
            raise QueueError("duplicate_number", f"{number} was already taken in today")
        slot = min(issued_at, now)
        if slot.astimezone(self.rules.tz).date() < self.business_date:
            raise QueueError("offline_expired", f"{number} was issued on an earlier business day")
        ticket = Ticket(
            id=self._new_id(),
            business_date=self.business_date,
            number=number,
            service=service,
            priority=priority,
            issued_at=slot,
            lang=lang,
            offline=True,
            source=source,
            updated_at=now,
        )
        return self._admit(ticket, now)

    def _admit(self, ticket: Ticket, now: dt.datetime) -> Effects:
        self.tickets[ticket.id] = ticket
        self._by_number[ticket.number] = ticket.id
        self._issued[ticket.number[0]] += 1
        self._lines[ticket.service].add(ticket)
        effects = Effects(ticket=ticket)
        self._record(effects, ticket, None, TicketState.waiting, now)
        self._touch_service(effects, ticket.service)
        return effects

    def cancel(self, number: str, *, now: dt.datetime, staff: str | None = None) -> Effects:
        """A waiting ticket leaves the queue (the citizen went home; staff or the ticket page)."""
        ticket = self._ticket(number)
        self._require(ticket, TicketState.waiting)
        self._lines[ticket.service].remove(ticket)
        effects = Effects(ticket=ticket)
        ticket.ended_at = now
        self._record(effects, ticket, TicketState.waiting, TicketState.cancelled, now, staff=staff)
        self._touch_service(effects, ticket.service)
        return effects

    # ---------------------------------------------------------------------------------------- counters

    def open_counter(self, counter: str, *, now: dt.datetime, staff: str | None = None) -> Effects:
        """Open a counter (again: only the staff name changes)."""
        desk = self._desk(counter)
        desk.open = True
        if staff is not None:
            desk.staff = staff
        return Effects(counters={desk.id}, counter_changed=desk.id)

    def close_counter(self, counter: str, *, now: dt.datetime) -> Effects:
        """Close a counter; refused while it has a ticket (`busy`): finish or park it first."""
        desk = self._desk(counter)
        if desk.current is not None:
            raise QueueError("busy", f"counter {counter} still has {self.tickets[desk.current].number}")
        desk.open = False
        desk.staff = None
        desk.priority_streak = 0
        return Effects(counters={desk.id}, counter_changed=desk.id)

    def call_next(self, counter: str, *, now: dt.datetime, staff: str | None = None) -> Effects:
        """Call the next ticket for this counter: among its services, priority tickets first, then by
        issue time; after `priority_streak_limit` priority tickets in a row here, a normal ticket that
        has waited longer than the next priority ticket goes first."""
        desk = self._desk(counter)
        if not desk.open:
            raise QueueError("counter_closed", f"counter {counter} is closed")
        if desk.current is not None:
            raise QueueError("busy", f"counter {counter} still has {self.tickets[desk.current].number}")
        ticket = self._next_for(desk)
        if ticket is None:
            raise QueueError("queue_empty", f"nobody waits for counter {counter}")
        desk.priority_streak = desk.priority_streak + 1 if ticket.is_priority else 0
        self._lines[ticket.service].remove(ticket)
        desk.current = ticket.id
        ticket.counter = desk.id
        ticket.calls = 1
        ticket.called_at = now
        ticket.started_at = None
        effects = Effects(ticket=ticket, counters={desk.id})
        self._record(effects, ticket, TicketState.waiting, TicketState.called, now, desk, staff)
        self._touch_service(effects, ticket.service)
        effects.call = Call(ticket.id, ticket.number, ticket.service, desk.id, 0, now)
        return effects

    def _next_for(self, desk: Desk) -> Ticket | None:
        best_priority: OrderKey | None = None
        best_normal: OrderKey | None = None
        for code in desk.services:
            line = self._lines[code]
            if line.priority and (best_priority is None or line.priority[0] < best_priority):
                best_priority = line.priority[0]
            if line.normal and (best_normal is None or line.normal[0] < best_normal):
                best_normal = line.normal[0]
        if best_priority is None:
            chosen = best_normal
        elif best_normal is None:
            chosen = best_priority
        elif desk.priority_streak >= self.rules.priority_streak_limit and best_normal < best_priority:
            chosen = best_normal
        else:
            chosen = best_priority
        return self.tickets[chosen[2]] if chosen is not None else None

    def recall(
        self, counter: str, *, now: dt.datetime, staff: str | None = None, number: str | None = None
    ) -> Effects:
        """Announce the called ticket again. The recall that would make more than
        `max_calls_before_no_show` calls marks it no-show instead (`Effects.auto_no_show`)."""
        desk, ticket = self._at_desk(counter, number)
        self._require(ticket, TicketState.called)
        effects = Effects(ticket=ticket, counters={desk.id})
        if ticket.calls >= self.rules.max_calls_before_no_show:
            desk.current = None
            ticket.ended_at = now
            self._record(
                effects, ticket, TicketState.called, TicketState.no_show, now, desk, staff, reason="max_calls"
            )
            effects.auto_no_show = True
            return effects
        ticket.calls += 1
        self._record(effects, ticket, TicketState.called, TicketState.called, now, desk, staff)
        effects.call = Call(ticket.id, ticket.number, ticket.service, desk.id, ticket.calls - 1, now)
        return effects

    def start(
        self, counter: str, *, now: dt.datetime, staff: str | None = None, number: str | None = None
    ) -> Effects:
        """The citizen has come to the counter: service starts."""
        desk, ticket = self._at_desk(counter, number)
        self._require(ticket, TicketState.called)
        ticket.started_at = now
        effects = Effects(ticket=ticket, counters={desk.id})
        self._record(effects, ticket, TicketState.called, TicketState.serving, now, desk, staff)
        return effects

    def complete(
        self,
        counter: str,
        outcome: Outcome,
        *,
        now: dt.datetime,
        staff: str | None = None,
        number: str | None = None,
    ) -> Effects:
        """Service ended with `outcome`; its duration feeds the estimated waits."""
        desk, ticket = self._at_desk(counter, number)
        self._require(ticket, TicketState.serving)
        self._add_duration(ticket, now)
        desk.current = None
        ticket.ended_at = now
        ticket.outcome = outcome
        effects = Effects(ticket=ticket, counters={desk.id})
        done = TicketState.done
        self._record(effects, ticket, TicketState.serving, done, now, desk, staff, outcome=outcome)
        return effects

    def no_show(
        self, counter: str, *, now: dt.datetime, staff: str | None = None, number: str | None = None
    ) -> Effects:
        """Staff mark the called ticket as not come."""
        desk, ticket = self._at_desk(counter, number)
        self._require(ticket, TicketState.called)
        desk.current = None
        ticket.ended_at = now
        effects = Effects(ticket=ticket, counters={desk.id})
        self._record(effects, ticket, TicketState.called, TicketState.no_show, now, desk, staff)
        return effects

    def transfer(
        self,
        counter: str,
        to_service: str,
        *,
        now: dt.datetime,
        staff: str | None = None,
        number: str | None = None,
    ) -> Effects:
        """The citizen needs another service: back to waiting there, with the original issue time, so
        they do not queue again from the end."""
        desk, ticket = self._at_desk(counter, number)
        self._service(to_service)
        self._require(ticket, TicketState.serving)
        if to_service == ticket.service:
            raise QueueError("same_service", f"{ticket.number} is already in {to_service}")
        self._add_duration(ticket, now)
        from_service = ticket.service
        desk.current = None
        effects = Effects(ticket=ticket, counters={desk.id})
        self._record(
            effects, ticket, TicketState.serving, TicketState.waiting, now, desk, staff, to_service=to_service
        )
        ticket.service = to_service
        self._to_waiting(ticket)
        self._touch_service(effects, from_service)
        self._touch_service(effects, to_service)
        return effects

    def park(
        self, counter: str, *, now: dt.datetime, staff: str | None = None, number: str | None = None
    ) -> Effects:
        """Set the ticket aside (the citizen fetches a document); the counter is free for the next."""
        desk, ticket = self._at_desk(counter, number)
        if ticket.state not in (TicketState.called, TicketState.serving):
            raise QueueError("invalid_transition", f"{ticket.number} is {ticket.state}")
        desk.current = None
        effects = Effects(ticket=ticket, counters={desk.id})
        self._record(effects, ticket, ticket.state, TicketState.parked, now, desk, staff)
        ticket.counter = desk.id  # the counter that parked it lists it
        return effects

    def resume(self, counter: str, number: str, *, now: dt.datetime, staff: str | None = None) -> Effects:
        """A parked ticket waits again, in its original place by issue time."""
        desk = self._desk(counter)
        ticket = self._ticket(number)
        self._require(ticket, TicketState.parked)
        parked_by = ticket.counter
        effects = Effects(ticket=ticket, counters={desk.id} | ({parked_by} if parked_by else set()))
        self._record(effects, ticket, TicketState.parked, TicketState.waiting, now, desk, staff)
        self._to_waiting(ticket)
        self._touch_service(effects, ticket.service)
        return effects

    # ---------------------------------------------------------------------------------------- the day

    def end_of_day(self, *, now: dt.datetime, spare: dt.date | None = None) -> Effects:
        """Close the business day. With `end_of_day = "cancel"` waiting and parked tickets are cancelled
        and called ones become no-shows; with `"keep"` they stay for the next day. Tickets being served
        are left to their counter either way; idle counters close. Tickets of the day `spare` (the one
        beginning, numbered before the clock was set back to this one) are not this day's to close."""
        effects = Effects()
        if self.rules.end_of_day == "cancel":
            for ticket in sorted(self.tickets.values(), key=lambda t: t.order_key):
                if ticket.business_date == spare:
                    continue
                if ticket.state is TicketState.parked:
                    parked_by = ticket.counter
                    self._record(
                        effects, ticket, TicketState.parked, TicketState.waiting, now, reason="end_of_day"
                    )
                    self._to_waiting(ticket)
                    if parked_by:
                        effects.counters.add(parked_by)
                if ticket.state is TicketState.waiting:
                    self._lines[ticket.service].remove(ticket)
                    ticket.ended_at = now
                    self._record(
                        effects, ticket, TicketState.waiting, TicketState.cancelled, now, reason="end_of_day"
                    )
                    self._touch_service(effects, ticket.service)
                elif ticket.state is TicketState.called and ticket.counter is not None:
                    desk = self.desks[ticket.counter]
                    desk.current = None
                    ticket.ended_at = now
                    no_show = TicketState.no_show
                    self._record(effects, ticket, TicketState.called, no_show, now, desk, reason="end_of_day")
                    effects.counters.add(desk.id)
        for desk in self.desks.values():
            if desk.open and desk.current is None:
                desk.open = False
                desk.staff = None
                desk.priority_streak = 0
                effects.counters.add(desk.id)
        return effects

    def roll_over(self, business_date: dt.date, *, now: dt.datetime) -> Effects:
        """End this business day and begin `business_date`: numbers start again at 1; unfinished
        tickets (kept, or still being served) are carried over with their own date and number."""
        effects = self.end_of_day(
            now=now, spare=business_date if business_date != self.business_date else None
        )
        if business_date == self.business_date:
            return effects
        carried: dict[str, str] = {}
        for ticket_id, ticket in list(self.tickets.items()):
            if ticket.state in TERMINAL_STATES:
                del self.tickets[ticket_id]
            else:
                carried[ticket.number] = ticket_id
        self._carried = carried
        self._by_number = {}
        self._last_seq.clear()
        self._issued.clear()
        self.business_date = business_date
        effects.counters |= set(self.desks)
        effects.services |= set(self.services)
        return effects

    # ---------------------------------------------------------------------------------------- restore

    def load_ticket(self, ticket: Ticket) -> None:
        """Put back a stored ticket (rebuilding after a restart). Load today's tickets and the unfinished
        ones of earlier days; then `load_counter` for each counter."""
        if ticket.id in self.tickets:
            raise ValueError(f"ticket {ticket.id} loaded twice")
        self.tickets[ticket.id] = ticket
        if ticket.business_date == self.business_date:
            if ticket.number in self._by_number:
                raise ValueError(f"number {ticket.number} appears twice on {self.business_date}")
            self._by_number[ticket.number] = ticket.id
            self._issued[ticket.number[0]] += 1
            if ticket.seq is not None:
                self._last_seq[ticket.number[0]] = max(self._last_seq[ticket.number[0]], ticket.seq)
        elif ticket.state not in TERMINAL_STATES:
            self._carried[ticket.number] = ticket.id
        if ticket.state is TicketState.waiting:
            if ticket.service not in self._lines:
                raise ValueError(f"ticket {ticket.number} waits for unknown service {ticket.service!r}")
            self._lines[ticket.service].add(ticket)
        elif ticket.state in (TicketState.called, TicketState.serving):
            desk = self.desks.get(ticket.counter or "")
            if desk is None:
                raise ValueError(f"ticket {ticket.number} is at unknown counter {ticket.counter!r}")
            desk.current = ticket.id
        elif ticket.state is TicketState.parked:
            self._parked.setdefault(ticket.counter or "", {})[ticket.id] = ticket

    def load_counter(self, counter: str, *, open: bool, staff: str | None, priority_streak: int) -> None:
        desk = self.desks.get(counter)
        if desk is None:
            return  # a counter removed from the config since
        desk.open, desk.staff, desk.priority_streak = open, staff, priority_streak

    def load_sequence(self, prefix: str, last_seq: int) -> None:
        """The stored last number of a prefix (numbers are never reused, even of deleted tickets)."""
        self._last_seq[prefix] = max(self._last_seq[prefix], last_seq)

    def load_duration(self, service: str, seconds: float) -> None:
        """A past service time, oldest first (the estimate keeps the last N)."""
        durations = self._durations.get(service)
        if durations is not None:
            durations.append(seconds)

    def check(self) -> None:
        """Raise AssertionError when the state is inconsistent (tests, and after a rebuild)."""
        waiting_ids = {key[2] for line in self._lines.values() for key in (*line.priority, *line.normal)}
        for ticket in self.tickets.values():
            in_line = ticket.id in waiting_ids
            assert in_line == (ticket.state is TicketState.waiting), f"{ticket.number} line/state mismatch"
            if in_line:
                assert ticket.order_key in self._lines[ticket.service].side(ticket), ticket.number
            at_desk = [d.id for d in self.desks.values() if d.current == ticket.id]
            if ticket.state in (TicketState.called, TicketState.serving):
                assert at_desk == [ticket.counter], f"{ticket.number} not at its counter"
            else:
                assert not at_desk, f"{ticket.number} is {ticket.state} but at counter {at_desk}"
        for desk in self.desks.values():
            if desk.current is not None:
                assert desk.open, f"counter {desk.id} is closed but has a ticket"
        parked = {(t.counter or "", t.id) for t in self.tickets.values() if t.state is TicketState.parked}
        assert parked == {(c, i) for c, tickets in self._parked.items() for i in tickets}, "parked index"
        assert len(self._by_number) == len(set(self._by_number.values()))

    def digest(self) -> tuple[object, ...]:
        """The whole state as comparable data (a rebuilt queue must equal the one that was running)."""
        tickets = tuple(sorted((t.id, repr(t)) for t in self.tickets.values()))
        desks = tuple(sorted(repr(d) for d in self.desks.values()))
        lines = tuple(
            (code, tuple(line.priority), tuple(line.normal)) for code, line in sorted(self._lines.items())
        )
        return (
            self.business_date,
            tickets,
            desks,
            lines,
            tuple(sorted(self.sequences().items())),
            tuple(sorted((k, v) for k, v in self._issued.items() if v)),
        )

    # ---------------------------------------------------------------------------------------- helpers

    def _service(self, code: str) -> ServiceRule:
        rule = self.services.get(code)
        if rule is None:
            raise QueueError("unknown_service", f"no service {code!r}")
        return rule

    def _desk(self, counter: str) -> Desk:
        desk = self.desks.get(counter)
        if desk is None:
            raise QueueError("unknown_counter", f"no counter {counter!r}")
        return desk

    def _ticket(self, number: str) -> Ticket:
        ticket = self.find(number)
        if ticket is None:
            raise QueueError("unknown_ticket", f"no ticket {number!r}")
        return ticket

    def _at_desk(self, counter: str, number: str | None) -> tuple[Desk, Ticket]:
        """The counter and its current ticket; `number`, when given, must be that ticket (a stale
        console must not act on the wrong citizen)."""
        desk = self._desk(counter)
        if desk.current is None:
            raise QueueError("no_current_ticket", f"counter {counter} has no ticket")
        ticket = self.tickets[desk.current]
        if number is not None and number != ticket.number:
            raise QueueError("invalid_transition", f"counter {counter} has {ticket.number}, not {number}")
        return desk, ticket

    @staticmethod
    def _require(ticket: Ticket, state: TicketState) -> None:
        if ticket.state is not state:
            raise QueueError("invalid_transition", f"{ticket.number} is {ticket.state}, not {state}")

    def _to_waiting(self, ticket: Ticket) -> None:
        ticket.counter = None
        ticket.calls = 0
        ticket.called_at = None
        ticket.started_at = None
        self._lines[ticket.service].add(ticket)

    def _add_duration(self, ticket: Ticket, now: dt.datetime) -> None:
        if ticket.started_at is not None:
            self._durations[ticket.service].append(max((now - ticket.started_at).total_seconds(), 0.0))

    def _touch_service(self, effects: Effects, service: str) -> None:
        effects.services.add(service)
        effects.counters.update(self._counters_of.get(service, ()))

    def _record(
        self,
        effects: Effects,
        ticket: Ticket,
        from_state: TicketState | None,
        to_state: TicketState,
        at: dt.datetime,
        desk: Desk | None = None,
        staff: str | None = None,
        *,
        outcome: Outcome | None = None,
        to_service: str | None = None,
        reason: str | None = None,
    ) -> None:
        if (from_state, to_state) not in LEGAL_TRANSITIONS:
            raise AssertionError(f"illegal transition {from_state} -> {to_state}")
        staff = staff if staff is not None else (desk.staff if desk is not None else None)
        if from_state is TicketState.parked:
            self._parked.get(ticket.counter or "", {}).pop(ticket.id, None)
        if to_state is TicketState.parked:
            self._parked.setdefault(ticket.counter or "", {})[ticket.id] = ticket
        ticket.state = to_state
        ticket.updated_at = at
        effects.touched[ticket.id] = ticket
        if to_state in TERMINAL_STATES and ticket.business_date != self.business_date:
            # A ticket carried over from an earlier day is finished: the queue no longer needs it (a
            # rebuild loads only today's tickets and the unfinished ones of earlier days).
            self.tickets.pop(ticket.id, None)
            self._carried.pop(ticket.number, None)
        if desk is not None:
            ticket.staff = staff
        effects.transitions.append(
            Transition(
                ticket_id=ticket.id,
                number=ticket.number,
                service=ticket.service,
                from_state=from_state,
                to_state=to_state,
                at=at,
                counter=desk.id if desk is not None else None,
                staff=staff,
                outcome=outcome,
                to_service=to_service,
                reason=reason,
            )
        )

    def __iter__(self) -> Iterator[Ticket]:
        return iter(self.tickets.values())
