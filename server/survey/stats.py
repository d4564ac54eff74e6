"""Satisfaction per service, counter, business day or fiscal quarter, counted in the database.

The quarterly report (`server/reports/queries.py`) counts the whole office for a period; the dashboard
and the survey pages also need the same figures split by who and when. The database returns one row per
(group, item, level) with its count, never a row per answer; every figure is then derived by the pure
functions of `server/reports/stats.py` from those raw counts, unrounded (DOMAIN.md: mean 4.58 → 91.6 %).

A response is dated by the business day of the ticket it rates (as in the reports), and counted with
the service and counter that served that ticket. Read-only: pass a connection of the store's read
engine."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from common.config import OfficeConfig
from common.thaidate import fiscal_quarter, format_en_date, format_thai_date
from common.vocabulary import Lang
from server.reports.stats import LevelCounts, Satisfaction, pooled_satisfaction, satisfaction
from server.store.records import answers_t, responses_t

logger = logging.getLogger(__name__)


class Grouping(StrEnum):
    """How responses are split."""

    service = "service"
    counter = "counter"
    day = "day"
    quarter = "quarter"
    """Fiscal quarter (Oct-Dec is Q1 of the next B.E. year), the period of the quarterly OSS report."""


NO_COUNTER = ""
"""The key of responses whose ticket was served without a known counter."""


@dataclass(frozen=True, slots=True)
class GroupSatisfaction:
    """The satisfaction of one group of responses. Every figure comes from `counts`, unrounded."""

    key: str
    """Service code, counter id (`NO_COUNTER` if none), ISO date, or `2569-Q1` (B.E. fiscal year)."""
    responses: int
    counts: Mapping[str, LevelCounts]
    """Item id → answers at each level, for every item of the current form (zero counts included)."""
    items: Mapping[str, Satisfaction]
    """Item id → its mean and percent satisfaction."""
    overall: Satisfaction
    """All answers to the form's items pooled: the figure the LAO reports."""
    overall_item: Satisfaction
    """The one-tap overall question alone (every respondent answers it on the terminal)."""


def quarter_key(day: dt.date) -> str:
    """`2569-Q1` for a day of October 2025."""
    year, quarter = fiscal_quarter(day)
    return f"{year}-Q{quarter}"


def satisfaction_by(
    connection: Connection,
    *,
    first: dt.date,
    last: dt.date,
    by: Grouping,
    config: OfficeConfig,
) -> list[GroupSatisfaction]:
    """The satisfaction of the responses rating tickets of `first`..`last` (business days, inclusive),
    one entry per group that has responses: services and counters in the office file's order (others
    after, by key), days and quarters in time order."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    r, a = responses_t, answers_t
    column: Any = {
        Grouping.service: r.c.service,
        Grouping.counter: r.c.counter,
        Grouping.day: r.c.business_date,
        Grouping.quarter: r.c.business_date,
    }[by]
    in_period = r.c.business_date.between(first, last)

    responses: dict[str, int] = defaultdict(int)
    for row in connection.execute(
        select(column, func.count()).select_from(r).where(in_period).group_by(column)
    ):
        responses[_key(by, row[0])] += int(row[1])

    tally: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    answered = (
        select(column, a.c.item, a.c.score, func.count())
        .select_from(a.join(r, a.c.response_id == r.c.id))
        .where(in_period)
        .group_by(column, a.c.item, a.c.score)
    )
    for row in connection.execute(answered):
        tally[_key(by, row[0])][str(row[1])][int(row[2])] += int(row[3])

    items = [item.id for item in config.survey.items()]
    groups = []
    for key in _ordered(by, responses, config):
        counts = {item: _levels(tally[key].get(item, {})) for item in items}
        groups.append(
            GroupSatisfaction(
                key=key,
                responses=responses[key],
                counts=counts,
                items={item: satisfaction(c) for item, c in counts.items()},
                overall=pooled_satisfaction(counts.values()),
                overall_item=satisfaction(counts.get(config.survey.overall_item, LevelCounts())),
            )
        )
    return groups


def group_label(config: OfficeConfig, by: Grouping, key: str, lang: Lang) -> str:
    """What a table shows for a group: the service's or counter's name, a date, a fiscal quarter."""
    th = lang is Lang.th
    if by is Grouping.service:
        service = config.service_by_code(key)
        return (service.name_th if th else service.name_en) if service else key
    if by is Grouping.counter:
        if key == NO_COUNTER:
            return "ไม่ระบุช่องบริการ" if th else "No counter"
        counter = config.counter_by_id(key)
        return (counter.name_th if th else counter.name_en) if counter else key
    if by is Grouping.day:
        day = dt.date.fromisoformat(key)
        return format_thai_date(day) if th else format_en_date(day)
    year, quarter = key.split("-Q")
    return f"ไตรมาส {quarter}/{year}" if th else f"Q{quarter} FY {year} B.E."


def _key(by: Grouping, value: Any) -> str:
    if by in (Grouping.service, Grouping.counter):
        return str(value) if value is not None else NO_COUNTER
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return day.isoformat() if by is Grouping.day else quarter_key(day)


def _ordered(by: Grouping, responses: Mapping[str, int], config: OfficeConfig) -> list[str]:
    keys = [k for k, n in responses.items() if n > 0]
    if by is Grouping.service:
        order = {s.code: i for i, s in enumerate(config.services)}
    elif by is Grouping.counter:
        order = {c.id: i for i, c in enumerate(config.counters)}
    else:
        return sorted(keys)
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))


def _levels(n: Mapping[int, int]) -> LevelCounts:
    return LevelCounts(n5=n.get(5, 0), n4=n.get(4, 0), n3=n.get(3, 0), n2=n.get(2, 0), n1=n.get(1, 0))
