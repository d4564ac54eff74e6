"""The office TOML as the queue engine needs it: the adapter from `common.config` to `server.engine`."""

from __future__ import annotations

import datetime as dt

from common.config import OfficeConfig
from common.thaidate import BANGKOK
from server.engine import CounterRule, OfficeQueue, QueueRules, ServiceRule


class ConfigCalendar:
    """Issuing hours and holidays from the config's `[queue]` table (and a service's own hours). Answers
    are remembered: the queue asks on every ticket, and the config is immutable."""

    def __init__(self, config: OfficeConfig) -> None:
        self.config = config
        self._holidays = frozenset(h.date for h in config.queue.holidays)
        self._windows: dict[tuple[dt.date, str], tuple[dt.time, dt.time] | None] = {}

    def is_holiday(self, day: dt.date) -> bool:
        return day in self._holidays

    def window(self, day: dt.date, service: str) -> tuple[dt.time, dt.time] | None:
        key = (day, service)
        if key not in self._windows:
            if len(self._windows) > 10_000:
                self._windows.clear()
            self._windows[key] = self.config.queue.issuing_window(day, self.config.service_by_code(service))
        return self._windows[key]


def queue_rules(config: OfficeConfig) -> QueueRules:
    policy = config.queue
    return QueueRules(
        max_calls_before_no_show=policy.max_calls_before_no_show,
        priority_streak_limit=policy.priority_streak_limit,
        end_of_day=policy.end_of_day,
        wait_window=policy.wait_estimate_window,
        tz=BANGKOK,
        calendar=ConfigCalendar(config),
    )


def new_queue(config: OfficeConfig, business_date: dt.date) -> OfficeQueue:
    """An empty queue for the office on `business_date`."""
    return OfficeQueue(
        business_date=business_date,
        services=[ServiceRule(s.code, s.prefix, s.enabled, s.daily_cap) for s in config.services],
        counters=[CounterRule(c.id, tuple(c.services)) for c in config.counters],
        rules=queue_rules(config),
    )
