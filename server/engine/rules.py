"""What the queue engine needs to know about an office: services, counters, issuing hours and the
queue policy, as plain frozen data. Adapters build these from the office TOML (server/rules.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from common.thaidate import BANGKOK

DEFAULT_SERVICE_MINUTES = 10.0
"""Estimated service time of a service with no completed ticket yet: a typical OSS counter visit.
(A service's statutory standard time is the processing time of the whole matter, often days, so it is
no guide to the time at the counter.)"""

MAX_SEQUENCE = 9999
"""Server numbers are `{prefix}{seq:03d}`; the contract's number pattern allows four digits at most."""


@dataclass(frozen=True, slots=True)
class ServiceRule:
    """A service as the queue sees it."""

    code: str
    prefix: str
    enabled: bool = True
    daily_cap: int | None = None


@dataclass(frozen=True, slots=True)
class CounterRule:
    """A counter and the services it calls."""

    id: str
    services: tuple[str, ...]


class IssuingCalendar(Protocol):
    """When tickets can be taken, in the office's local time."""

    def is_holiday(self, day: dt.date) -> bool:
        """True on a day without tickets (public holiday, office closure)."""
        ...

    def window(self, day: dt.date, service: str) -> tuple[dt.time, dt.time] | None:
        """(open, close) for new tickets of `service` on `day`; None when closed all day."""
        ...


@dataclass(frozen=True, slots=True)
class WeeklyCalendar:
    """A calendar from weekday windows (0 = Monday) and holiday dates; the same hours for every service
    unless `service_hours` says otherwise. Missing weekdays are closed."""

    hours: Mapping[int, tuple[dt.time, dt.time] | None] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()
    service_hours: Mapping[str, Mapping[int, tuple[dt.time, dt.time] | None]] = field(default_factory=dict)

    @classmethod
    def always_open(cls) -> WeeklyCalendar:
        all_day = (dt.time(0, 0), dt.time(23, 59, 59, 999999))
        return cls(hours=dict.fromkeys(range(7), all_day))

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.holidays

    def window(self, day: dt.date, service: str) -> tuple[dt.time, dt.time] | None:
        own = self.service_hours.get(service)
        if own is not None and day.weekday() in own:
            return own[day.weekday()]
        return self.hours.get(day.weekday())


@dataclass(frozen=True, slots=True)
class QueueRules:
    """The queue policy (config `[queue]`)."""

    max_calls_before_no_show: int = 3
    """A ticket is announced at most this many times: the recall that would exceed it marks the
    ticket no-show instead (and says so)."""
    priority_streak_limit: int = 3
    """After this many priority tickets in a row at a counter, a normal ticket that has waited longer
    than the next priority ticket is called first."""
    end_of_day: Literal["cancel", "keep"] = "cancel"
    wait_window: int = 20
    """Estimated waits use the median of the last N service times of the service."""
    default_service_minutes: float = DEFAULT_SERVICE_MINUTES
    tz: dt.tzinfo = BANGKOK
    calendar: IssuingCalendar = field(default_factory=WeeklyCalendar.always_open)


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a service takes new tickets now, and if not, the rejection code that says why."""

    accepting: bool
    code: str | None = None
    """`service_disabled`, `holiday`, `office_closed` or `daily_cap_reached`."""
