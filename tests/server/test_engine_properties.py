"""Property-based tests of the queue engine over random sequences of what kiosks and staff do.

Whatever happens: no number is issued twice in a day, every ticket is in exactly one state and only
legal transitions happen, call next respects priority then issue time and the starvation guard, a
refused request changes nothing, and a queue rebuilt from its records equals the one that ran."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.contract import REJECTIONS
from common.vocabulary import Outcome, Priority, TicketState
from server.engine import LEGAL_TRANSITIONS, TERMINAL_STATES, OfficeQueue, QueueError, Ticket
from tests.server.engine_helpers import COUNTERS, DAY, SERVICES, T0, make_queue, rules

SERVICE_CODES = [s.code for s in SERVICES]
COUNTER_IDS = [c.id for c in COUNTERS]
ENGINE_ONLY_CODES = {"offline_expired"}

AT_COUNTER = ("recall", "start", "complete", "no_show", "transfer", "park")
"""Actions on a counter's current ticket: aimed mostly at counters that have one, so runs go deep."""

commands = st.tuples(
    st.sampled_from(
        ["issue"] * 5
        + ["call_next"] * 4
        + ["start", "complete"] * 3
        + ["recall", "recall", "no_show", "transfer", "park", "resume", "offline", "cancel"]
        + ["open", "close", "roll_over"]
    ),
    st.integers(0, 11),
    st.integers(0, 600),
    st.sampled_from([Priority.none, Priority.elderly, Priority.monk]),
    st.sampled_from(list(Outcome)),
    st.booleans(),
)
"""(action, a, b, priority, outcome, aim): `a` picks a counter, service or ticket, `b` a number or an
age in seconds; `aim` False sends the action to any counter (exercising refusals)."""
steps = st.lists(st.tuples(commands, st.integers(0, 90)), min_size=10, max_size=250)
"""Each step: a command and the seconds that pass before it (0 makes ties in issue time)."""


class Observer:
    """Checks every operation's effects against the properties, independently of the engine's code."""

    def __init__(self, q: OfficeQueue) -> None:
        self.q = q
        self.state_of: dict[str, TicketState] = {}
        self.numbers: set[tuple[dt.date, str]] = set()
        self.jumps: dict[str, int] = dict.fromkeys(COUNTER_IDS, 0)
        """Priority calls in a row at a counter that passed over an older waiting normal ticket."""

    def expect_next(self, counter: str) -> Ticket | None:
        desk = self.q.desks[counter]
        waiting = [t for t in self.q if t.state is TicketState.waiting and t.service in desk.services]
        priority = min((t for t in waiting if t.is_priority), key=lambda t: t.order_key, default=None)
        normal = min((t for t in waiting if not t.is_priority), key=lambda t: t.order_key, default=None)
        if priority is None or normal is None:
            return priority or normal
        guard = desk.priority_streak >= self.q.rules.priority_streak_limit
        return normal if guard and normal.order_key < priority.order_key else priority

    def older_normal_waiting(self, counter: str, called: Ticket) -> bool:
        services = self.q.desks[counter].services
        return any(
            t.state is TicketState.waiting
            and not t.is_priority
            and t.service in services
            and t.order_key < called.order_key
            for t in self.q
        )

    def record(self, transitions: list[Any]) -> None:
        for tr in transitions:
            assert (tr.from_state, tr.to_state) in LEGAL_TRANSITIONS
            assert self.state_of.get(tr.ticket_id) == tr.from_state, tr
            if tr.from_state is None:
                key = (self.q.business_date, tr.number)
                assert key not in self.numbers, f"{tr.number} issued twice"
                self.numbers.add(key)
            self.state_of[tr.ticket_id] = tr.to_state


def pick_counter(q: OfficeQueue, name: str, a: int, aim: bool) -> str:
    if aim and name in AT_COUNTER:
        busy = [d.id for d in q.desks.values() if d.current is not None]
        if busy:
            return busy[a % len(busy)]
    if aim and name == "call_next":
        idle = [d.id for d in q.desks.values() if d.open and d.current is None]
        if idle:
            return idle[a % len(idle)]
    if aim and name in ("start", "complete"):
        # the natural next step of a counter: start what it called, complete what it serves
        wanted = TicketState.called if name == "start" else TicketState.serving
        ready = [d.id for d in q.desks.values() if d.current and q.tickets[d.current].state is wanted]
        if ready:
            return ready[a % len(ready)]
    return COUNTER_IDS[a % len(COUNTER_IDS)]


def apply(q: OfficeQueue, obs: Observer, command: tuple[Any, ...], now: dt.datetime) -> str:
    """Run one command, check its effects; returns "ok" or the refusal code."""
    name, a, b, priority, outcome, aim = command
    counter = pick_counter(q, name, a, aim)
    service = SERVICE_CODES[a % len(SERVICE_CODES)]
    before = q.digest()
    expected: Ticket | None = None
    try:
        if name == "issue":
            effects = q.issue(service, now=now, priority=priority)
        elif name == "offline":
            number = f"{q.services[service].prefix}X{b % 15:02d}"
            issued_at = now - dt.timedelta(seconds=b)
            effects = q.take_offline(service, number=number, issued_at=issued_at, now=now, series="X")
        elif name == "open":
            closed = [d.id for d in q.desks.values() if not d.open]
            effects = q.open_counter(closed[a % len(closed)] if aim and closed else counter, now=now)
        elif name == "close":
            if b > 300:
                return "ok"
            effects = q.close_counter(counter, now=now)
            obs.jumps[counter] = 0
        elif name == "call_next":
            expected = obs.expect_next(counter)
            if expected is not None and q.desks[counter].open and q.desks[counter].current is None:
                jumped = expected.is_priority and obs.older_normal_waiting(counter, expected)
                obs.jumps[counter] = obs.jumps[counter] + 1 if jumped else 0
            effects = q.call_next(counter, now=now)
            assert effects.ticket is expected
            assert effects.call is not None and effects.call.repeat == 0
            assert obs.jumps[counter] <= q.rules.priority_streak_limit, "a normal ticket was starved"
        elif name == "recall":
            effects = q.recall(counter, now=now)
            ticket = effects.ticket
            assert ticket is not None
            assert effects.auto_no_show == (ticket.state is TicketState.no_show)
            assert ticket.calls <= q.rules.max_calls_before_no_show
        elif name == "start":
            effects = q.start(counter, now=now)
        elif name == "complete":
            effects = q.complete(counter, outcome, now=now)
        elif name == "no_show":
            effects = q.no_show(counter, now=now)
        elif name == "transfer":
            effects = q.transfer(counter, SERVICE_CODES[b % len(SERVICE_CODES)], now=now)
        elif name == "park":
            effects = q.park(counter, now=now)
        elif name == "resume":
            parked = sorted(t.number for t in q if t.state is TicketState.parked) or ["A001"]
            effects = q.resume(counter, parked[b % len(parked)], now=now)
        elif name == "cancel":
            numbers = sorted(t.number for t in q) or ["A001"]
            effects = q.cancel(numbers[b % len(numbers)], now=now)
        elif name == "roll_over":
            if b > 60:
                return "ok"  # most draws are a quiet moment: a day has many operations
            effects = q.roll_over(q.business_date + dt.timedelta(days=1), now=now)
            obs.numbers = {k for k in obs.numbers if k[0] >= q.business_date}
            obs.jumps = {c: n if q.desks[c].open else 0 for c, n in obs.jumps.items()}
        else:
            raise AssertionError(name)
    except QueueError as exc:
        assert exc.code in REJECTIONS or exc.code in ENGINE_ONLY_CODES, exc.code
        assert q.digest() == before, f"refused {name} changed the queue"
        if name == "call_next" and exc.code == "queue_empty":
            assert expected is None
        return exc.code
    obs.record(effects.transitions)
    return "ok"


def rebuild(q: OfficeQueue) -> OfficeQueue:
    """What the store does after a restart: load today's and unfinished tickets, counters, sequences."""
    fresh = make_queue(q.rules)
    fresh.business_date = q.business_date
    for ticket in q:
        fresh.load_ticket(dataclasses.replace(ticket))
    for desk in q.desks.values():
        fresh.load_counter(desk.id, open=desk.open, staff=desk.staff, priority_streak=desk.priority_streak)
    for prefix, seq in q.sequences().items():
        fresh.load_sequence(prefix, seq)
    return fresh


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, streak=st.integers(1, 3), max_calls=st.integers(1, 3), keep=st.booleans())
def test_random_days_keep_every_queue_property(
    steps: list[tuple[tuple[Any, ...], int]], streak: int, max_calls: int, keep: bool
) -> None:
    policy = rules(
        priority_streak_limit=streak,
        max_calls_before_no_show=max_calls,
        end_of_day="keep" if keep else "cancel",
    )
    q = make_queue(policy)
    obs = Observer(q)
    now = T0
    for counter in COUNTER_IDS[:2]:
        q.open_counter(counter, now=now)
    for command, seconds in steps:
        now += dt.timedelta(seconds=seconds)
        apply(q, obs, command, now)
        q.check()
    for ticket in q:
        assert obs.state_of[ticket.id] is ticket.state
        assert ticket.business_date == q.business_date or ticket.state not in TERMINAL_STATES
    assert q.business_date >= DAY
    assert rebuild(q).digest() == q.digest()
