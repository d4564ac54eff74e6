"""`khiu admin generate-history`: fill a database with years of a plausible office's history, for the
demo, the dashboard's screenshots and the benchmarks.

What it makes, day by day over the chosen years (Asia/Bangkok business days, weekends and holidays
closed: the office file's holidays plus the fixed-date Thai public holidays):

- tickets with the weekday, month and hour patterns of a real counter (Monday mornings busy, lunch
  quiet, the land tax season from February to April), the service mix of the office file, priority
  citizens (mostly the elderly);
- every transition the sequencer would have written: issue, call, recalls, start, completion, no-shows
  after the last recall, cancellations at the end of the day, transfers to another service;
- waits that grow with the day's load and peak late in the morning; service times by kind of service;
- outcomes by kind (forwarded, done here, in the Tang Rat app, advice), a case for each forwarded
  request with the agency, most closed on time, some late, recent ones still open;
- survey responses from about 30 % of those served, skewed positive as real ones are, with the
  optional demographics sometimes answered.

Rows go in as the driver takes them, without SQLAlchemy's per-value processing: `executemany` in
batches of a few thousand on SQLite, COPY on PostgreSQL, one transaction per batch of days, so a
million tickets take minutes rather than an afternoon. Deterministic for a given `--seed`.
Nothing here is a person's data: ticket numbers and scores only (DOMAIN.md, PDPA)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from common.config import OfficeConfig, Service
from common.thaidate import BANGKOK, business_date
from common.vocabulary import Outcome, Priority, ServiceKind

logger = logging.getLogger(__name__)

DATABASE_ENV = "KHIU_DATABASE_URL"

FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = (
    (1, 1),  # วันขึ้นปีใหม่
    (4, 6),  # วันจักรี
    (4, 13),  # วันสงกรานต์
    (4, 14),
    (4, 15),
    (5, 1),  # วันแรงงานแห่งชาติ
    (5, 4),  # วันฉัตรมงคล
    (6, 3),  # วันเฉลิมพระชนมพรรษาสมเด็จพระราชินี
    (7, 28),  # วันเฉลิมพระชนมพรรษาพระบาทสมเด็จพระเจ้าอยู่หัว
    (8, 12),  # วันแม่แห่งชาติ
    (10, 13),  # วันนวมินทรมหาราช
    (10, 23),  # วันปิยมหาราช
    (12, 5),  # วันพ่อแห่งชาติ
    (12, 10),  # วันรัฐธรรมนูญ
    (12, 31),  # วันสิ้นปี
)
"""Thai public holidays on a fixed date. Lunar ones (Makha Bucha, Visakha Bucha, Asarnha Bucha) and
substitution days move each year: an office lists them in its file, and they are closed here too."""

WEEKDAY_LOAD = (1.18, 1.05, 1.0, 0.96, 0.82)
"""Monday brings the weekend's errands; Friday afternoon is quiet."""

MONTH_LOAD = {
    1: 1.05,
    2: 1.1,
    3: 1.15,
    4: 0.9,
    5: 1.0,
    6: 0.95,
    7: 0.95,
    8: 1.0,
    9: 1.05,
    10: 1.0,
    11: 1.0,
    12: 0.85,
}
"""March is the fiscal half-year's rush; Songkran empties April; December has the New Year leave."""

HOUR_LOAD: tuple[tuple[float, float, float], ...] = (
    # (from hour, to hour, relative arrivals per hour) in local time; issuing closes at 16:00
    (8.5, 9.0, 1.6),
    (9.0, 10.0, 1.45),
    (10.0, 11.0, 1.35),
    (11.0, 12.0, 1.0),
    (12.0, 13.0, 0.45),
    (13.0, 14.0, 1.05),
    (14.0, 15.0, 0.85),
    (15.0, 16.0, 0.6),
)

SERVICE_WEIGHT_HINTS: dict[str, float] = {
    "elderly-allowance": 6.0,
    "disability-allowance": 2.0,
    "newborn-child-grant": 1.5,
    "disability-card": 1.0,
    "land-building-tax": 4.0,
    "building-permit": 0.8,
    "commercial-registration": 1.2,
    "health-hazard-licence": 0.8,
    "job-seeker-registration": 1.2,
    "skill-training": 0.7,
    "social-security-s40": 1.5,
    "tangrat-health-rights": 2.5,
}
"""How often each service of the example office is asked for; a service not named here weighs 1."""

TAX_SEASON = {2: 2.2, 3: 2.6, 4: 2.0}
"""Land and building tax is paid by the end of April: queues for it swell from February."""

SERVICE_MINUTES: dict[ServiceKind, float] = {
    ServiceKind.complete: 6.5,
    ServiceKind.forward: 11.0,
    ServiceKind.via_app: 8.0,
}
"""Median minutes at the counter, by kind of service."""

OUTCOME_SHARES: dict[ServiceKind, tuple[tuple[Outcome, float], ...]] = {
    ServiceKind.forward: ((Outcome.forwarded, 0.86), (Outcome.advice, 0.14)),
    ServiceKind.complete: ((Outcome.completed, 0.9), (Outcome.advice, 0.1)),
    ServiceKind.via_app: ((Outcome.via_app, 0.88), (Outcome.advice, 0.12)),
}

MOOD = ((5, 0.52), (4, 0.34), (3, 0.1), (2, 0.03), (1, 0.01))
"""How satisfied a respondent is overall; items scatter around it. Real OSS surveys sit at 85-95 %."""

ITEM_BIAS: dict[str, float] = {
    "process.speed": -0.22,
    "process.simple": -0.08,
    "facilities.waiting": -0.3,
    "facilities.channels": -0.15,
    "facilities.signs": -0.05,
    "staff.polite": 0.12,
    "staff.honest": 0.2,
    "staff.willing": 0.08,
    "result.needs_met": 0.05,
}
"""Offices hear most about the wait and the seats, least about honest staff: items lean accordingly."""

NO_SHOW_SHARE = 0.045
CANCEL_SHARE = 0.015
TRANSFER_SHARE = 0.03
RESPONSE_SHARE = 0.30
BATCH_ROWS = 5_000
"""Rows per executemany: big enough that the statement's overhead vanishes, small enough for memory."""
SQLITE_CACHE_KIB = 256 * 1024
"""Page cache while loading, so the indexes of tickets and transitions stay in memory."""


# ------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """What history to make."""

    years: float = 1.0
    tickets_per_year: int = 50_000
    seed: int = 2569
    end: dt.date | None = None
    """The last business date to fill; default yesterday (today belongs to the live server)."""
    response_share: float = RESPONSE_SHARE

    def last_day(self, today: dt.date) -> dt.date:
        return self.end if self.end is not None else today - dt.timedelta(days=1)

    def first_day(self, today: dt.date) -> dt.date:
        return self.last_day(today) - dt.timedelta(days=max(1, round(self.years * 365.25)) - 1)


@dataclass(slots=True)
class HistorySummary:
    """What was written."""

    first: dt.date
    last: dt.date
    days_open: int = 0
    tickets: int = 0
    transitions: int = 0
    responses: int = 0
    answers: int = 0
    cases: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        return (
            f"{self.first.isoformat()}..{self.last.isoformat()}: {self.days_open:,} business days, "
            f"{self.tickets:,} tickets, {self.transitions:,} transitions, {self.responses:,} survey "
            f"responses ({self.answers:,} answers), {self.cases:,} forwarded cases in {self.seconds:.1f} s"
        )


class HistoryError(Exception):
    """The history cannot be written here; the message says why and what to do."""


Progress = Callable[[int, int], None]
"""Called with (tickets written, tickets planned)."""


# ------------------------------------------------------------------------------------------- calendar


def open_days(config: OfficeConfig, first: dt.date, last: dt.date) -> list[dt.date]:
    """Business days on which the office issued tickets: its weekly hours, its holidays, and the fixed
    Thai public holidays."""
    days = []
    day = first
    while day <= last:
        if (day.month, day.day) not in FIXED_HOLIDAYS and config.queue.issuing_window(day) is not None:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


# ------------------------------------------------------------------------------------------- generator


COLUMNS: dict[str, tuple[str, ...]] = {
    "tickets": (
        "id", "business_date", "number", "seq", "service", "issued_service", "priority", "state", "lang",
        "offline", "source", "issued_at", "calls", "counter", "staff", "called_at", "started_at", "ended_at",
        "outcome", "updated_at",
    ),
    "transitions": (
        "ticket_id", "business_date", "number", "service", "from_state", "to_state", "at", "counter", "staff",
        "event_id", "outcome", "to_service", "reason",
    ),
    "cases": (
        "id", "ticket_id", "business_date", "number", "service", "agency_th", "agency_en", "reference",
        "opened_at", "due_date", "status", "note", "staff", "updated_at", "closed_at", "history",
    ),
    "survey_responses": (
        "id", "ticket_id", "business_date", "number", "service", "counter", "channel", "at", "demographics",
        "comment", "event_id",
    ),
    "survey_answers": ("response_id", "item", "score"),
    "number_counters": ("business_date", "prefix", "last_seq"),
}  # fmt: skip
"""The columns each generated row fills, in its tuple's order (parents first: foreign keys are on)."""

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Formats:
    """Values as the database driver takes them without SQLAlchemy's per-value processing: SQLite gets
    the text SQLAlchemy itself would store (naive UTC `YYYY-MM-DD HH:MM:SS.ffffff`), PostgreSQL gets
    aware datetimes through COPY."""

    sqlite: bool

    def moment(self, value: dt.datetime | None) -> Any:
        """`value` is naive UTC (the generator's clock)."""
        if value is None:
            return None
        return value.isoformat(" ", "microseconds") if self.sqlite else value.replace(tzinfo=dt.UTC)

    def day(self, value: dt.date) -> Any:
        return value.isoformat() if self.sqlite else value


@dataclass(slots=True)
class _Batch:
    rows: dict[str, list[Row]] = field(default_factory=lambda: {name: [] for name in COLUMNS})

    def size(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


class _Office:
    """The office file digested into what the generator draws from."""

    def __init__(self, config: OfficeConfig) -> None:
        self.config = config
        served = {code for c in config.counters for code in c.services}
        self.services = [s for s in config.services if s.enabled and s.code in served]
        if not self.services:
            raise HistoryError("the office file has no enabled service that a counter serves")
        self.counters = {s.code: [c.id for c in config.counters_for_service(s.code)] for s in self.services}
        self.items = [item.id for item in config.survey.items()]
        self.overall = config.survey.overall_item
        self.demographics = [
            (qid, [o.id for o in q.options]) for qid, q in config.survey.demographics.questions()
        ]
        self.by_group: dict[str, list[Service]] = {}
        for s in self.services:
            self.by_group.setdefault(s.group.value, []).append(s)

    def weights(self, month: int) -> list[float]:
        weights = []
        for s in self.services:
            w = SERVICE_WEIGHT_HINTS.get(s.code, 1.0)
            if s.code == "land-building-tax":
                w *= TAX_SEASON.get(month, 1.0)
            weights.append(w)
        return weights


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _pick(rng: random.Random, shares: Sequence[tuple[Any, float]]) -> Any:
    roll = rng.random()
    for value, share in shares:
        roll -= share
        if roll < 0:
            return value
    return shares[-1][0]


def _arrival_hour(rng: random.Random) -> float:
    total = sum((b - a) * w for a, b, w in HOUR_LOAD)
    roll = rng.random() * total
    for a, b, w in HOUR_LOAD:
        span = (b - a) * w
        if roll < span:
            return a + roll / w
        roll -= span
    return HOUR_LOAD[-1][1] - 0.01


def _priority(rng: random.Random, service: Service) -> Priority:
    roll = rng.random()
    if service.code == "elderly-allowance":
        return Priority.elderly if roll < 0.72 else Priority.none
    if service.code.startswith("disability"):
        return Priority.disabled if roll < 0.45 else (Priority.elderly if roll < 0.6 else Priority.none)
    if service.code == "newborn-child-grant" and roll < 0.18:
        return Priority.pregnant
    if roll < 0.11:
        return Priority.elderly
    if roll < 0.13:
        return Priority.disabled
    if roll < 0.135:
        return Priority.monk
    return Priority.none


Step = tuple[str | None, str, dt.datetime, str | None, str | None, str | None, str | None]
"""(from state, to state, at, counter, outcome, to service, reason) of one transition."""


class _Generator:
    """Draws one business day at a time into a batch of rows. Times are naive UTC inside."""

    def __init__(
        self, office: _Office, settings: HistorySettings, last: dt.date, per_day: float, formats: _Formats
    ) -> None:
        self.office = office
        self.settings = settings
        self.per_day = per_day
        self.f = formats
        self.rng = random.Random(settings.seed)
        self.utc_offset = BANGKOK.utcoffset(dt.datetime.combine(last, dt.time(12)))
        self.end = self._utc(last, dt.time(17, 0))
        """The moment history ends (the close of its last day): nothing is closed later than this."""

    def _utc(self, day: dt.date, at: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, at) - (self.utc_offset or dt.timedelta(hours=7))

    def tickets_on(self, day: dt.date, after_holiday: bool) -> int:
        load = WEEKDAY_LOAD[day.weekday()] if day.weekday() < 5 else 0.6
        load *= MONTH_LOAD[day.month] * (1.2 if after_holiday else 1.0)
        return max(0, round(self.per_day * load * self.rng.gauss(1.0, 0.12)))

    def day(self, day: dt.date, count: int, batch: _Batch) -> tuple[int, int, int, int]:
        """One business day's rows into `batch`; returns (tickets, transitions, responses, cases)."""
        rng = self.rng
        office = self.office
        f = self.f
        services = rng.choices(office.services, weights=office.weights(day.month), k=count)
        hours = sorted(_arrival_hour(rng) for _ in range(count))
        midnight = self._utc(day, dt.time(0, 0))
        close_at = midnight + dt.timedelta(hours=16, minutes=30)
        load = count / self.per_day if self.per_day else 1.0
        day_value = f.day(day)
        tickets, transitions_out = batch.rows["tickets"], batch.rows["transitions"]
        seqs: dict[str, int] = {}
        n_transitions = n_responses = n_cases = 0
        for service, hour in zip(services, hours, strict=True):
            seq = seqs.get(service.prefix, 0) + 1
            seqs[service.prefix] = seq
            number = f"{service.prefix}{seq:03d}"
            issued = midnight + dt.timedelta(seconds=hour * 3600 + rng.random() * 30)
            priority = _priority(rng, service)
            ticket_id = _uuid(rng)
            counters = office.counters[service.code]
            counter = counters[0] if len(counters) == 1 or rng.random() < 0.7 else rng.choice(counters)
            # Waits grow with the day's load and peak late in the morning; priority tickets go first.
            peak = (
                1.0
                + 0.6 * math.exp(-(((hour - 10.5) / 1.3) ** 2))
                + 0.3 * math.exp(-(((hour - 13.8) / 0.8) ** 2))
            )
            median_wait = (
                60 * (2.5 + 9.0 * load * load) * peak * (0.45 if priority is not Priority.none else 1)
            )
            wait = rng.lognormvariate(math.log(median_wait), 0.65)
            steps: list[Step] = [(None, "waiting", issued, None, None, None, None)]
            roll = rng.random()
            state = "done"
            outcome: Outcome | None = None
            called: dt.datetime | None = None
            started: dt.datetime | None = None
            ended: dt.datetime | None = None
            counter_used: str | None = counter
            current = service
            calls = 1
            if roll < CANCEL_SHARE:
                state = "cancelled"
                by_day_end = rng.random() < 0.6
                ended = close_at if by_day_end else issued + dt.timedelta(seconds=wait * rng.random())
                steps.append(
                    ("waiting", "cancelled", ended, None, None, None, "end_of_day" if by_day_end else None)
                )
                counter_used = None
                calls = 0
            else:
                called = issued + dt.timedelta(seconds=wait)
                steps.append(("waiting", "called", called, counter, None, None, None))
                if roll < CANCEL_SHARE + NO_SHOW_SHARE:
                    state = "no_show"
                    at = called
                    for _ in range(2):  # two recalls, then the third call's timeout
                        at += dt.timedelta(seconds=rng.uniform(40, 120))
                        steps.append(("called", "called", at, counter, None, None, None))
                        calls += 1
                    ended = at + dt.timedelta(seconds=rng.uniform(40, 120))
                    steps.append(("called", "no_show", ended, counter, None, None, "max_calls"))
                else:
                    start = called + dt.timedelta(seconds=rng.uniform(10, 60))
                    if rng.random() < 0.06:  # not at the counter at once: one recall
                        again = called + dt.timedelta(seconds=rng.uniform(30, 90))
                        steps.append(("called", "called", again, counter, None, None, None))
                        calls = 2
                        start = again + dt.timedelta(seconds=rng.uniform(10, 40))
                    steps.append(("called", "serving", start, counter, None, None, None))
                    if rng.random() < TRANSFER_SHARE:
                        group = office.by_group.get(service.group.value, office.services)
                        others = [s for s in group if s.code != service.code] or [
                            s for s in office.services if s.code != service.code
                        ]
                        if others:
                            current = rng.choice(others)
                            moved = start + dt.timedelta(seconds=rng.uniform(60, 240))
                            steps.append(("serving", "waiting", moved, counter, None, current.code, None))
                            counter = rng.choice(office.counters[current.code])
                            counter_used = counter
                            called = moved + dt.timedelta(
                                seconds=rng.lognormvariate(math.log(median_wait / 2), 0.5)
                            )
                            steps.append(("waiting", "called", called, counter, None, None, None))
                            start = called + dt.timedelta(seconds=rng.uniform(10, 50))
                            steps.append(("called", "serving", start, counter, None, None, None))
                            calls = 1
                    median = SERVICE_MINUTES[current.kind] * 60
                    ended = start + dt.timedelta(seconds=rng.lognormvariate(math.log(median), 0.5))
                    started = start
                    outcome = _pick(rng, OUTCOME_SHARES[current.kind])
                    steps.append(("serving", "done", ended, counter, outcome.value, None, None))
            tickets.append(
                (
                    ticket_id, day_value, number, seq, current.code, service.code, priority.value, state,
                    "th" if rng.random() < 0.97 else "en", False, "kiosk-1", f.moment(issued), calls,
                    counter_used, None, f.moment(called), f.moment(started), f.moment(ended),
                    outcome.value if outcome else None, f.moment(ended or issued),
                )
            )  # fmt: skip
            at_service = service.code
            for from_state, to_state, at, where, done, to_service, reason in steps:
                transitions_out.append(
                    (
                        ticket_id, day_value, number, at_service, from_state, to_state, f.moment(at), where,
                        None, None, done, to_service, reason,
                    )
                )  # fmt: skip
                if to_service is not None:
                    at_service = to_service
            n_transitions += len(steps)
            if outcome is Outcome.forwarded and ended is not None:
                self._case(batch, ticket_id, day, number, current, ended)
                n_cases += 1
            if state == "done" and ended is not None and rng.random() < self.settings.response_share:
                self._response(batch, ticket_id, day_value, number, current.code, counter_used, ended)
                n_responses += 1
        numbers = batch.rows["number_counters"]
        for prefix, last_seq in seqs.items():
            numbers.append((day_value, prefix, last_seq))
        return count, n_transitions, n_responses, n_cases

    def _case(
        self, batch: _Batch, ticket_id: str, day: dt.date, number: str, service: Service, opened: dt.datetime
    ) -> None:
        """A forwarded request's case: most closed within the standard time, some late, a few never."""
        rng = self.rng
        f = self.f
        due_at = opened + service.standard_time
        due = (due_at + (self.utc_offset or dt.timedelta(hours=7))).date()
        roll = rng.random()
        closed: dt.datetime | None
        if roll < 0.85:
            closed = opened + service.standard_time * rng.uniform(0.2, 0.98)
        elif roll < 0.992:
            closed = due_at + dt.timedelta(days=rng.uniform(1, 20))
        else:
            closed = None  # the agency never answered: still followed up
        if closed is not None and closed > self.end:
            closed = None
        history: list[dict[str, Any]] = [
            {"at": f"{opened.isoformat()}+00:00", "status": "open", "note": "", "staff": None}
        ]
        status = "open"
        if closed is not None:
            status = "done"
            history.append({"at": f"{closed.isoformat()}+00:00", "status": status, "note": "", "staff": None})
        elif opened + (due_at - opened) / 3 < self.end:
            status = "in_progress"
            moment = opened + (due_at - opened) / 3
            history.append({"at": f"{moment.isoformat()}+00:00", "status": status, "note": "", "staff": None})
        batch.rows["cases"].append(
            (
                _uuid(rng), ticket_id, f.day(day), number, service.code, service.agency_th, service.agency_en,
                f"{service.prefix}-{day:%y%m%d}-{number}", f.moment(opened), f.day(due), status, "", None,
                f.moment(closed or opened), f.moment(closed), json.dumps(history),
            )
        )  # fmt: skip

    def _response(
        self,
        batch: _Batch,
        ticket_id: str,
        day_value: Any,
        number: str,
        service: str,
        counter: str | None,
        ended: dt.datetime,
    ) -> None:
        """A rating of the service, skewed positive; an item is sometimes left unanswered."""
        rng = self.rng
        office = self.office
        response_id = _uuid(rng)
        mood = _pick(rng, MOOD)
        answers = batch.rows["survey_answers"]
        for item in office.items:
            if item != office.overall and rng.random() < 0.03:
                continue
            bias = ITEM_BIAS.get(item, 0.0)
            drift = rng.random()
            if drift < 0.15 + max(0.0, -bias):
                score = mood - 1
            elif drift > 0.9 - max(0.0, bias):
                score = mood + 1
            else:
                score = mood
            answers.append((response_id, item, min(5, max(1, score))))
        demographics: dict[str, str] = {}
        if rng.random() < 0.4:
            for qid, options in office.demographics:
                if rng.random() < 0.85:
                    demographics[qid] = rng.choice(options)
        roll = rng.random()
        channel = "terminal" if roll < 0.78 else ("phone" if roll < 0.93 else "staff")
        at = ended + dt.timedelta(seconds=rng.uniform(20, 300))
        batch.rows["survey_responses"].append(
            (
                response_id, ticket_id, day_value, number, service, counter, channel, self.f.moment(at),
                json.dumps(demographics, ensure_ascii=False), None, None,
            )
        )  # fmt: skip


# ------------------------------------------------------------------------------------------- writing


def _write(engine: Engine, batch: _Batch) -> None:
    """One transaction per batch: SQLite through the driver's executemany, PostgreSQL through COPY,
    both without SQLAlchemy's per-value processing (the values are already in the driver's form)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                for name, rows in batch.rows.items():
                    if rows:
                        with cursor.copy(f"COPY {name} ({', '.join(COLUMNS[name])}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
        return
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        # A bulk load of made-up history: no fsync per batch (a crash means generating again), and a
        # big page cache so the indexes' pages stay in memory. Set outside the transaction, as SQLite
        # requires, and put back before the connection returns to the pool.
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        try:
            with connection.begin():
                for name, rows in batch.rows.items():
                    if rows:
                        columns = COLUMNS[name]
                        sql = (
                            f"INSERT INTO {name} ({', '.join(columns)}) "
                            f"VALUES ({', '.join('?' * len(columns))})"
                        )
                        for start in range(0, len(rows), BATCH_ROWS):
                            connection.exec_driver_sql(sql, rows[start : start + BATCH_ROWS])
        finally:
            raw.execute("PRAGMA synchronous=FULL")


def existing_tickets(engine: Engine, first: dt.date, last: dt.date) -> int:
    from server.store.records import tickets_t

    with engine.connect() as connection:
        found: int = connection.execute(
            select(func.count()).select_from(tickets_t).where(tickets_t.c.business_date.between(first, last))
        ).scalar_one()
    return found


def generate_history(
    engine: Engine,
    config: OfficeConfig,
    settings: HistorySettings,
    *,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> HistorySummary:
    """Write the history into a migrated database. Refuses when tickets already exist in its days
    (ticket numbers are unique per business day)."""
    today = today or business_date(dt.datetime.now(dt.UTC))
    first, last = settings.first_day(today), settings.last_day(today)
    if existing_tickets(engine, first, last):
        raise HistoryError(
            f"มีบัตรคิวในช่วง {first.isoformat()} ถึง {last.isoformat()} อยู่แล้ว / the database already has "
            f"tickets between {first.isoformat()} and {last.isoformat()}: use an empty database"
        )
    office = _Office(config)
    days = open_days(config, first, last)
    summary = HistorySummary(first=first, last=last, days_open=len(days))
    if not days:
        return summary
    # Business days in a year, to turn tickets a year into a base a day.
    per_year_days = len(days) * 365.25 / ((last - first).days + 1)
    planned = round(settings.tickets_per_year * settings.years)
    formats = _Formats(sqlite=engine.dialect.name == "sqlite")
    generator = _Generator(office, settings, last, settings.tickets_per_year / per_year_days, formats)
    started = time.monotonic()
    batch = _Batch()
    previous: dt.date | None = None
    for day in days:
        after_holiday = previous is not None and (day - previous).days > 1 and day.weekday() != 0
        previous = day
        count = generator.tickets_on(day, after_holiday)
        tickets, transitions, responses, cases = generator.day(day, count, batch)
        summary.tickets += tickets
        summary.transitions += transitions
        summary.responses += responses
        summary.cases += cases
        if batch.size() >= 40 * BATCH_ROWS:
            summary.answers += len(batch.rows["survey_answers"])
            _write(engine, batch)
            batch = _Batch()
            if progress is not None:
                progress(summary.tickets, max(planned, summary.tickets))
    summary.answers += len(batch.rows["survey_answers"])
    _write(engine, batch)
    if engine.dialect.name == "postgresql":
        # What autovacuum would do within minutes on a live server: statistics for the planner.
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    if progress is not None:
        progress(summary.tickets, summary.tickets)
    summary.seconds = time.monotonic() - started
    logger.info("history written: %s", summary.describe())
    return summary


# ------------------------------------------------------------------------------------------- command line


class ProgressBar:
    """A one-line progress bar on stderr (a new line per tenth when stderr is not a terminal)."""

    WIDTH = 30

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        fraction = min(1.0, done / total) if total else 1.0
        filled = round(self.WIDTH * fraction)
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction:4.0%} "
            f"{done:,}/{total:,} บัตรคิว/tickets {time.monotonic() - self.started:5.1f} s"
        )
        if self.tty:
            self.stream.write("\r" + line + ("\n" if fraction >= 1.0 else ""))
        elif int(fraction * 10) != self._last_tenth:
            self._last_tenth = int(fraction * 10)
            self.stream.write(line + "\n")
        self.stream.flush()


def register(sub: Any, admin_sub: Any) -> None:
    """Add `khiu admin generate-history`."""
    p = admin_sub.add_parser(
        "generate-history",
        help="fill a database with years of made-up office history (สร้างข้อมูลย้อนหลังสำหรับสาธิต)",
        description="Fill an empty database with a plausible office history (tickets, transitions, cases, "
        "survey responses) for the demo and the benchmarks. Made-up data: never run it on an office's "
        "real database.",
    )
    p.add_argument("--years", type=float, default=1.0, help="how many years back from yesterday (default 1)")
    p.add_argument(
        "--tickets-per-year", type=int, default=50_000, metavar="N", help="tickets a year (default 50,000)"
    )
    p.add_argument("--seed", type=int, default=2569, help="random seed: the same seed makes the same history")
    p.add_argument(
        "--end",
        type=dt.date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="last day (default yesterday)",
    )
    p.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=f"SQLAlchemy URL (default: ${DATABASE_ENV}, else SQLite khiu.db in the data directory)",
    )
    p.add_argument("--config", type=Path, metavar="PATH", help="the office TOML (default: $KHIU_CONFIG)")
    p.set_defaults(handler=run_generate_history)


def run_generate_history(args: argparse.Namespace) -> int:
    from common.config import ConfigError, load_config
    from common.paths import default_config_path
    from server.store import Store, default_database_url

    if args.years <= 0 or args.tickets_per_year < 0:
        sys.stderr.write("--years must be above 0 and --tickets-per-year at least 0\n")
        return 2
    try:
        config = load_config(args.config or default_config_path())
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    url = args.database_url or os.environ.get(DATABASE_ENV) or default_database_url()
    store = Store(url)
    try:
        store.migrate()
        summary = generate_history(
            store.engine,
            config,
            HistorySettings(
                years=args.years, tickets_per_year=args.tickets_per_year, seed=args.seed, end=args.end
            ),
            progress=ProgressBar(),
        )
    except HistoryError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    finally:
        store.close()
    sys.stdout.write(f"สร้างข้อมูลย้อนหลังแล้ว / history written to {store.describe()}\n{summary.describe()}\n")
    return 0
