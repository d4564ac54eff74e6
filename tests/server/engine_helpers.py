"""A small office for engine tests: three services, three counters, a fixed clock."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from server.engine import CounterRule, OfficeQueue, QueueRules, ServiceRule, WeeklyCalendar

DAY = dt.date(2026, 11, 26)
T0 = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # 09:00 in Bangkok, a Thursday

SERVICES = (
    ServiceRule("reg", "A"),
    ServiceRule("tax", "B"),
    ServiceRule("app", "C"),
)
COUNTERS = (
    CounterRule("c1", ("reg", "tax")),
    CounterRule("c2", ("reg",)),
    CounterRule("c3", ("tax", "app")),
)


class Clock:
    """Times that move forward a second per reading, so every event has its own instant."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self, seconds: float = 1.0) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


def rules(**policy: Any) -> QueueRules:
    """Queue rules with the given policy values, open around the clock."""
    return QueueRules(calendar=WeeklyCalendar.always_open(), **policy)


def make_queue(rules: QueueRules | None = None, services: tuple[ServiceRule, ...] = SERVICES) -> OfficeQueue:
    ids = (f"t{i:05d}" for i in itertools.count(1))
    return OfficeQueue(
        business_date=DAY,
        services=services,
        counters=COUNTERS,
        rules=rules or QueueRules(calendar=WeeklyCalendar.always_open()),
        new_id=lambda: next(ids),
    )
