"""From the office database to the reports: the facts of a period, and the live state of the office.

SQLAlchemy Core on the store's tables, the same statements on SQLite and PostgreSQL (the two places they
differ, seconds between two times and the local hour, are spelt per dialect below). Read-only: callers
pass a connection of the store's *read* engine, so a report never holds the sequencer's write lock.

Where the work is done:

- per ticket, the database computes the durations (wait = issue → first call, service = start →
  completion of the last service, time in the office = issue → completion) and the local hour, so rows
  come back as plain numbers and `build_report` groups them;
- the first call is the earliest transition into `called` (a transfer or a resume calls a ticket
  again, and the tickets row keeps only the latest call);
- satisfaction is counted in the database: answers per item and level, responses, and respondents per
  section, never a row per answer (a busy quarter has a quarter of a million answers).

The live side (`office_records`) reads device presence and overdue cases; the queue itself is the
sequencer's and the dashboard asks it (server.web.dashboard.live)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import Float, Integer, String, and_, case, cast, func, literal, or_, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from common.config import OfficeConfig
from common.thaidate import BANGKOK, to_local
from common.vocabulary import Outcome, TicketState
from server.reports import stats
from server.reports.model import (
    CaseFacts,
    ItemScore,
    Period,
    Report,
    SatisfactionReport,
    SectionScore,
    SurveyFacts,
    TicketColumns,
    TicketFacts,
    build_report,
)
from server.reports.stats import LevelCounts
from server.store.records import (
    answers_t,
    cases_t,
    presence_t,
    responses_t,
    tickets_t,
    transitions_t,
)

logger = logging.getLogger(__name__)

V = TypeVar("V")

OPEN_CASE_STATES = ("open", "in_progress")


# ------------------------------------------------------------------------------------------ dialects


def _seconds(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Seconds from `earlier` to `later`, as a float, in the database."""
    if dialect == "sqlite":
        # Stored as ISO text in UTC; julianday's resolution is far below a second.
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(func.extract("epoch", later - earlier), Float)  # numeric otherwise


def _local_hour(dialect: str, column: Any) -> ColumnElement[Any]:
    """The Asia/Bangkok hour (0..23) of a UTC time column."""
    if dialect == "sqlite":
        offset = BANGKOK.utcoffset(dt.datetime(2000, 1, 1)) or dt.timedelta(hours=7)
        hours = int(offset.total_seconds() // 3600)  # Thailand: +7 all year, no daylight saving
        return cast(func.strftime("%H", column, f"{hours:+d} hours"), Integer)
    return cast(func.extract("hour", func.timezone("Asia/Bangkok", column)), Integer)


class _Dates:
    """Business dates as the driver returns them (text on SQLite, `date` on PostgreSQL), parsed once
    per distinct day rather than once per row."""

    def __init__(self) -> None:
        self._seen: dict[Any, dt.date] = {}

    def __call__(self, value: Any) -> dt.date:
        day = self._seen.get(value)
        if day is None:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            self._seen[value] = day
        return day


def _positive(seconds: float | None) -> float | None:
    """A duration from the database; a clock step backwards on the server must not sink a report."""
    if seconds is None:
        return None
    return seconds if seconds > 0 else 0.0


# --------------------------------------------------------------------------------------------- facts


def ticket_facts(connection: Connection, period: Period) -> list[TicketFacts]:
    """Every ticket whose business date is in the period, with its durations."""
    return ticket_columns(connection, period).facts()


def ticket_columns(
    connection: Connection, period: Period, first_calls: Callable[[], FirstCalls] | None = None
) -> TicketColumns:
    """Every ticket whose business date is in the period, with its durations, column by column (what
    `build_report` reads: no object per ticket). `first_calls` gives `first_calls_after_requeue`
    when it is being read elsewhere meanwhile; by default it is read here."""
    dialect = connection.dialect.name
    t = tickets_t
    done = t.c.state == TicketState.done.value
    query = select(
        t.c.id,
        t.c.number,
        t.c.service,
        type_coerce(t.c.business_date, String).label("day"),
        _local_hour(dialect, t.c.issued_at).label("hour"),
        t.c.priority,
        t.c.state,
        t.c.counter,
        _seconds(dialect, t.c.called_at, t.c.issued_at).label("wait_s"),
        case((done, _seconds(dialect, t.c.ended_at, t.c.started_at))).label("service_s"),
        case((done, _seconds(dialect, t.c.ended_at, t.c.issued_at))).label("total_s"),
        t.c.outcome,
        t.c.offline,
    ).where(t.c.business_date.between(period.first, period.last))
    result = connection.execute(query)
    try:
        # The driver's own tuples: SQLAlchemy's per-value processing of 50,000 rows costs more than
        # the query, and every column here is already a plain str, int or float.
        rows: Sequence[Any] = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    requeued = first_calls() if first_calls is not None else first_calls_after_requeue(connection, period)
    if not rows:
        return TicketColumns([], [], [], [], [], [], [], [], [], [], [], [], [])
    # Column by column, each turned into what the report reads in one comprehension (a loop per row
    # costs more than the query).
    (
        ids,
        numbers,
        services,
        days,
        hours,
        priorities,
        states,
        counters,
        waits,
        service_s,
        total_s,
        outcomes,
        offline,
    ) = zip(*rows, strict=True)
    # Each distinct day parsed once; durations below zero (a clock stepped back) read as zero, as in
    # `_positive`, inline: a function call per value costs more here than the rest of the column.
    day_of = {day: _Dates()(day) for day in set(days)}
    known_outcomes = {o.value for o in Outcome}
    if requeued:
        waits = tuple(requeued.get(ticket_id, wait) for ticket_id, wait in zip(ids, waits, strict=True))
    return TicketColumns(
        ids=ids,
        numbers=numbers,
        services=_shared(services),
        dates=[day_of[day] for day in days],
        hours=hours,
        priorities=_shared(priorities),
        states=_shared(states),
        counters=_shared(counters),
        waits=[w if w is None or w > 0 else 0.0 for w in waits],
        service_times=[v if v is None or v > 0 else 0.0 for v in service_s],
        totals=[v if v is None or v > 0 else 0.0 for v in total_s],
        # An outcome this version does not know is shown as not recorded.
        outcomes=_shared([o if o in known_outcomes else None for o in outcomes]),
        offline=list(map(bool, offline)),
    )


def _shared(values: Sequence[V]) -> list[V]:
    """The values with one object per distinct value: the driver makes a new string for every row,
    and grouping fifty thousand tickets by a few hundred shared strings is much faster than by fifty
    thousand (they stay in the processor's cache and compare by identity)."""
    one = {value: value for value in set(values)}
    return [one[value] for value in values]


FirstCalls = dict[str, float | None]
"""Ticket id → seconds from issue to first call."""


def first_calls_after_requeue(connection: Connection, period: Period) -> FirstCalls:
    """Wait (issue → first call) of the period's tickets that went back into a queue (transferred,
    or parked then resumed): the tickets row keeps only their latest call. Few tickets do; finding
    them through the transitions' date index costs far less than joining every ticket's calls."""
    dialect = connection.dialect.name
    tr = transitions_t
    requeued = select(tr.c.ticket_id).where(
        and_(
            tr.c.business_date.between(period.first, period.last),
            or_(
                tr.c.to_state == TicketState.parked.value,
                and_(tr.c.to_state == TicketState.waiting.value, tr.c.from_state.is_not(None)),
            ),
        )
    )
    ids = sorted({row.ticket_id for row in connection.execute(requeued)})
    waits: FirstCalls = {}
    t = tickets_t
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        first_call = (
            select(tr.c.ticket_id, func.min(tr.c.at).label("at"))
            .where(and_(tr.c.ticket_id.in_(chunk), tr.c.to_state == TicketState.called.value))
            .group_by(tr.c.ticket_id)
            .subquery("first_call")
        )
        query = select(t.c.id, _seconds(dialect, first_call.c.at, t.c.issued_at)).select_from(
            t.join(first_call, first_call.c.ticket_id == t.c.id)
        )
        found: Sequence[Any] = connection.execute(query).all()
        waits.update({ticket_id: seconds for ticket_id, seconds in found})
    return waits


def survey_facts(connection: Connection, period: Period) -> list[SurveyFacts]:
    """Every survey response of the period (dated by the ticket it rates) with its answers. One row per
    answer: fine for a day or a week; `satisfaction_report` counts a quarter in the database."""
    r = responses_t
    a = answers_t
    query = (
        select(
            r.c.id,
            type_coerce(r.c.business_date, String).label("day"),
            r.c.service,
            r.c.counter,
            a.c.item,
            a.c.score,
        )
        .select_from(r.outerjoin(a, a.c.response_id == r.c.id))
        .where(r.c.business_date.between(period.first, period.last))
    )
    dates = _Dates()
    heads: dict[str, tuple[dt.date, str | None, str | None]] = {}
    answers: dict[str, dict[str, int]] = defaultdict(dict)
    for row in connection.execute(query):
        if row.id not in heads:
            heads[row.id] = (dates(row.day), row.service, row.counter)
        if row.item is not None:
            answers[row.id][row.item] = int(row.score)
    return [
        SurveyFacts(
            response_id=rid, business_date=day, answers=answers.get(rid, {}), service=svc, counter=ctr
        )
        for rid, (day, svc, ctr) in heads.items()
    ]


SHORT_PERIOD_DAYS = 45
"""Below this, cases are found through their tickets' date index; above, by reading the cases table."""


def _cases_in(period: Period, *columns: Any) -> Select[Any]:
    """`columns` of the cases opened in the period. The cases table has no index on its date: a day
    or a week finds them through the tickets' date index and the cases' unique ticket id (a
    millisecond on years of history, where reading every case takes tens); a quarter or more reads
    the table, which then costs less than a probe per ticket."""
    c, t = cases_t, tickets_t
    if (period.last - period.first).days < SHORT_PERIOD_DAYS:
        return (
            select(*columns)
            .select_from(t.join(c, c.c.ticket_id == t.c.id))
            .where(t.c.business_date.between(period.first, period.last))
        )
    return select(*columns).where(c.c.business_date.between(period.first, period.last))


def case_facts(connection: Connection, period: Period) -> list[CaseFacts]:
    """Cases forwarded (opened) in the period, however they stand now."""
    c = cases_t
    query = _cases_in(
        period, c.c.id, c.c.service, c.c.business_date, c.c.due_date, c.c.closed_at, c.c.reference, c.c.status
    )
    result = connection.execute(query)
    try:
        # The driver's own tuples, as for the tickets: dates and times parsed here, once per value.
        rows: Sequence[Any] = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    dates = _Dates()
    return [
        CaseFacts(
            case_id=case_id,
            service=service,
            opened_on=dates(opened),
            due_on=dates(due),
            closed_on=None if closed is None else _local_date(closed),
            reference=reference,
            status=status,
        )
        for case_id, service, opened, due, closed, reference, status in rows
    ]


def _local_date(moment: Any) -> dt.date:
    """The Asia/Bangkok date of a stored UTC time as the driver returns it: an aware datetime on
    PostgreSQL, ISO text without an offset on SQLite (the store writes UTC there)."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment).replace(tzinfo=dt.UTC)
    return to_local(moment).date()


# -------------------------------------------------------------------------------------- satisfaction


@dataclass(frozen=True, slots=True)
class SurveyCounts:
    """The survey of a period counted in the database: everything satisfaction figures come from."""

    responses: int
    levels: Mapping[str, LevelCounts]
    """Item id → answers at each level (items of the current form and any others)."""
    respondents: Mapping[str, int]
    """Section id → responses that answered at least one of its items."""


def survey_counts(connection: Connection, period: Period, config: OfficeConfig) -> SurveyCounts:
    """Answers per item and level, responses, and respondents per section of the current form."""
    r = responses_t
    a = answers_t
    in_period = r.c.business_date.between(period.first, period.last)
    responses: int = connection.execute(select(func.count()).select_from(r).where(in_period)).scalar_one()
    tally: dict[str, dict[int, int]] = defaultdict(dict)
    answered = (
        select(a.c.item, a.c.score, func.count().label("n"))
        .select_from(a.join(r, a.c.response_id == r.c.id))
        .where(in_period)
        .group_by(a.c.item, a.c.score)
    )
    for row in connection.execute(answered):
        tally[row.item][int(row.score)] = int(row.n)
    levels = {
        item: LevelCounts(n5=n.get(5, 0), n4=n.get(4, 0), n3=n.get(3, 0), n2=n.get(2, 0), n1=n.get(1, 0))
        for item, n in tally.items()
    }
    # Respondents per section: responses with at least one answer among its items. EXISTS probes the
    # answers' primary key (response_id, item) per response: four times faster than COUNT(DISTINCT)
    # over the joined answers on SQLite, and the same on PostgreSQL.
    sections = config.survey.sections
    columns = [
        func.coalesce(
            func.sum(
                case(
                    (
                        select(literal(1))
                        .where(and_(a.c.response_id == r.c.id, a.c.item.in_([i.id for i in s.items])))
                        .exists(),
                        1,
                    ),
                    else_=0,
                )
            ),
            0,
        )
        for s in sections
    ]
    sums: Sequence[Any] = connection.execute(select(*columns).select_from(r).where(in_period)).one()
    respondents = {s.id: int(sums[n]) for n, s in enumerate(sections)}
    return SurveyCounts(responses=responses, levels=levels, respondents=respondents)


def satisfaction_report(counts: SurveyCounts, config: OfficeConfig) -> tuple[SatisfactionReport, list[str]]:
    """The survey part of a report from database counts: the same figures `build_report` computes from
    one fact per response (a test holds the two equal), plus its note when answers were ignored."""
    survey = config.survey
    known = {item.id for item in survey.items()}
    ignored = sum(levels.answers for item, levels in counts.levels.items() if item not in known)
    notes = []
    if ignored:
        notes.append(
            f"คำตอบ {ignored} รายการเป็นข้อคำถามที่ไม่อยู่ในแบบสอบถามปัจจุบัน จึงไม่นำมาคำนวณ / "
            f"{ignored} answers to items no longer in the form were not scored"
        )
    items = {
        item.id: ItemScore(
            item_id=item.id,
            text_th=item.text_th,
            text_en=item.text_en,
            score=stats.satisfaction(counts.levels.get(item.id, LevelCounts())),
        )
        for item in survey.items()
    }
    sections = tuple(
        SectionScore(
            section_id=section.id,
            title_th=section.title_th,
            title_en=section.title_en,
            respondents=counts.respondents.get(section.id, 0),
            score=stats.pooled_satisfaction(items[i.id].score.counts for i in section.items),
            items=tuple(items[i.id] for i in section.items),
        )
        for section in survey.sections
    )
    report = SatisfactionReport(
        responses=counts.responses,
        sections=sections,
        overall=stats.pooled_satisfaction(i.score.counts for i in items.values()),
        overall_item=items.get(survey.overall_item),
        ignored_answers=ignored,
    )
    return report, notes


# -------------------------------------------------------------------------------------------- report

T = TypeVar("T")


class Aside(Protocol):
    """Starts a read on another read connection; returns what waits for its result."""

    def __call__(self, read: Callable[[Connection], T], /) -> Callable[[], T]: ...


def period_report(
    connection: Connection,
    period: Period,
    config: OfficeConfig,
    *,
    as_of: dt.date | None = None,
    generated_at: dt.datetime | None = None,
    aside: Aside | None = None,
) -> Report:
    """The report of a period from the database: tickets and cases as facts through `build_report`,
    the survey counted in the database. Run it inside one read transaction for a consistent picture.

    With `aside`, the reads that only the database works on (the survey's counts, the requeued
    tickets' first calls) are made on other connections while this one reads the tickets and Python
    groups them (the dashboard does so for long periods). The cases stay here: making their facts is
    Python's work, which a second thread would only slow down."""
    survey: Callable[[], SurveyCounts]
    first_calls: Callable[[], FirstCalls] | None
    cases: Callable[[], list[CaseFacts]]
    if aside is None:
        survey = partial(survey_counts, connection, period, config)
        first_calls = None
        cases = partial(case_facts, connection, period)
    else:
        survey = aside(lambda other: survey_counts(other, period, config))
        first_calls = aside(lambda other: first_calls_after_requeue(other, period))
        cases = partial(case_facts, connection, period)
    tickets = ticket_columns(connection, period, first_calls)
    report = build_report(period, tickets, [], cases(), config, as_of=as_of, generated_at=generated_at)
    satisfaction, notes = satisfaction_report(survey(), config)
    return replace(report, satisfaction=satisfaction, notes=report.notes + tuple(notes))


def data_version(connection: Connection, period: Period) -> tuple[Any, ...]:
    """Changes whenever anything the period's report shows may have changed, and costs a few index
    probes, so it is asked before every page and a cached report is never stale:

    - the newest transition: every change of any ticket writes one (its id only grows);
    - the ratings of the period (they are never edited, only added);
    - the cases: for a short period those opened in it (count and last update); for a long one the
      number of cases in each status, read from the status index alone (what a report shows of a
      case changes only with its status)."""
    tr, r, c = transitions_t, responses_t, cases_t
    last_change = connection.execute(select(func.max(tr.c.id))).scalar()
    ratings = connection.execute(
        select(func.count()).select_from(r).where(r.c.business_date.between(period.first, period.last))
    ).scalar_one()
    if (period.last - period.first).days < SHORT_PERIOD_DAYS:
        cases = tuple(connection.execute(_cases_in(period, func.count(), func.max(c.c.updated_at))).one())
    else:
        by_status = select(c.c.status, func.count()).group_by(c.c.status).order_by(c.c.status)
        cases = tuple(tuple(row) for row in connection.execute(by_status))
    return (last_change, ratings, cases)


# ------------------------------------------------------------------------------------------ the office now


@dataclass(frozen=True, slots=True)
class DeviceNow:
    """A device's last `device.status`."""

    device: str
    role: str
    online: bool
    printer: str | None
    server_reachable: bool | None
    outbox_pending: int
    version: str
    last_seen: dt.datetime


@dataclass(frozen=True, slots=True)
class OverdueCase:
    """A forwarded case still open past its due date."""

    case_id: str
    number: str
    service: str
    reference: str | None
    opened_on: dt.date
    due_on: dt.date
    status: str
    days_overdue: int


@dataclass(frozen=True, slots=True)
class OfficeRecords:
    """What the database says of the office now: its devices, and the cases overdue (any day's).
    The queue itself (who waits, which counter serves whom) is the sequencer's, read from it."""

    devices: tuple[DeviceNow, ...]
    overdue_cases: int
    most_overdue: tuple[OverdueCase, ...]
    """The most overdue of them, oldest due first."""


def office_records(connection: Connection, *, today: dt.date, overdue_listed: int = 10) -> OfficeRecords:
    """Device presence and overdue cases, as stored (both by index: cheap on years of history)."""
    devices = tuple(
        DeviceNow(
            device=row.device,
            role=row.role,
            online=bool(row.online),
            printer=row.printer,
            server_reachable=row.server_reachable,
            outbox_pending=int(row.outbox_pending),
            version=row.version,
            last_seen=row.last_seen,
        )
        for row in connection.execute(select(presence_t).order_by(presence_t.c.device))
    )
    c = cases_t
    overdue: int = connection.execute(
        select(func.count()).where(and_(c.c.status.in_(OPEN_CASE_STATES), c.c.due_date < today))
    ).scalar_one()
    return OfficeRecords(
        devices=devices,
        overdue_cases=overdue,
        most_overdue=tuple(
            OverdueCase(
                case_id=row.id,
                number=row.number,
                service=row.service,
                reference=row.reference,
                opened_on=row.business_date,
                due_on=row.due_date,
                status=row.status,
                days_overdue=(today - row.due_date).days,
            )
            for row in late_cases_now(connection, today=today, limit=overdue_listed)
        ),
    )


def late_cases_now(connection: Connection, *, today: dt.date, limit: int = 50) -> Sequence[Any]:
    """Open cases past their due date, the most overdue first (the dashboard's follow-up list)."""
    c = cases_t
    return list(
        connection.execute(
            select(
                c.c.id, c.c.number, c.c.service, c.c.reference, c.c.business_date, c.c.due_date, c.c.status
            )
            .where(and_(c.c.status.in_(OPEN_CASE_STATES), c.c.due_date < today))
            .order_by(c.c.due_date, c.c.opened_at)
            .limit(limit)
        )
    )
