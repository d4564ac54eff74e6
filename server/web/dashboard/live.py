"""The queue as it is now, from the sequencer that owns it: every counter's panel (the same snapshot the
staff console reads), folded into what the manager's today page shows. No database query: the queue
lives in the sequencer's memory, and a ticket that waits is one the sequencer holds."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from common.config import OfficeConfig
from common.vocabulary import TicketState
from server.reports import stats
from server.web.port import CounterPanel


@dataclass(frozen=True, slots=True)
class WaitingNow:
    """The tickets waiting for one service now."""

    service: str
    waiting: int
    longest_wait_s: float | None
    mean_wait_s: float | None


@dataclass(frozen=True, slots=True)
class CounterNow:
    """A counter now: open or not, who staffs it, the ticket called or served there."""

    counter: str
    open: bool
    staff: str | None
    ticket: str | None
    ticket_state: TicketState | None


@dataclass(frozen=True, slots=True)
class LiveQueue:
    waiting: tuple[WaitingNow, ...]
    """Per service with anyone waiting, in the office file's order."""
    waiting_total: int
    longest_wait_s: float | None
    mean_wait_s: float | None
    counters: tuple[CounterNow, ...]


def live_queue(panels: Sequence[CounterPanel], config: OfficeConfig, now: dt.datetime) -> LiveQueue:
    """Fold the counters' panels: a ticket waits for one service, but every counter calling that
    service lists it, so tickets are counted once by id."""
    waits: dict[str, dict[str, float]] = defaultdict(dict)
    for each in panels:
        for ticket in each.waiting:
            issued = ticket.issued_at or now
            waits[ticket.service][ticket.ticket_id] = max((now - issued).total_seconds(), 0.0)
    order = {s.code: i for i, s in enumerate(config.services)}
    waiting = tuple(
        WaitingNow(
            service=code,
            waiting=len(by_id),
            longest_wait_s=max(by_id.values()),
            mean_wait_s=stats.mean(list(by_id.values())),
        )
        for code, by_id in sorted(waits.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    )
    every = [seconds for by_id in waits.values() for seconds in by_id.values()]
    by_counter = {each.counter: each for each in panels}
    counters = []
    for counter in config.counters:
        panel = by_counter.get(counter.id)
        current = panel.current if panel is not None else None
        counters.append(
            CounterNow(
                counter=counter.id,
                open=panel.open if panel is not None else False,
                staff=panel.staff if panel is not None else None,
                ticket=current.number if current is not None else None,
                ticket_state=current.state if current is not None else None,
            )
        )
    return LiveQueue(
        waiting=waiting,
        waiting_total=len(every),
        longest_wait_s=max(every) if every else None,
        mean_wait_s=stats.mean(every),
        counters=tuple(counters),
    )
