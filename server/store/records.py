"""Reads and writes of the office database with Core statements: the sequencer's hot path (a batch of
requests in one transaction), the rebuild after a restart, and the follow-up of cases.

Every function takes an open `Connection` inside the caller's transaction and keyword-only arguments;
none commits. Written for SQLite and PostgreSQL alike (REFERENCE.md, "SQLAlchemy 2.x"): number
allocation by an upsert with RETURNING, idempotency by `INSERT … ON CONFLICT DO NOTHING` (the rows it
inserted counted by the driver's executemany, which sums them on both databases).

Every statement of a batch (its event lookup, number allocation, tickets, transitions, events and the
upserts of counters, presence and rejections) is compiled once per dialect and run on the driver's own
cursor, in the connection's transaction (`_DriverStatement`, `_driver_cursor`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import UpdateBase

from common.vocabulary import Lang, Outcome, Priority, TicketState
from server.engine import TERMINAL_STATES, Ticket, Transition
from server.store.models import (
    CaseRow,
    CounterStateRow,
    DevicePresenceRow,
    NumberCounterRow,
    ProcessedEventRow,
    RejectionCountRow,
    SurveyAnswerRow,
    SurveyResponseRow,
    TicketRow,
    TransitionRow,
)

tickets_t: Table = TicketRow.__table__  # type: ignore[assignment]
transitions_t: Table = TransitionRow.__table__  # type: ignore[assignment]
numbers_t: Table = NumberCounterRow.__table__  # type: ignore[assignment]
events_t: Table = ProcessedEventRow.__table__  # type: ignore[assignment]
counters_t: Table = CounterStateRow.__table__  # type: ignore[assignment]
cases_t: Table = CaseRow.__table__  # type: ignore[assignment]
responses_t: Table = SurveyResponseRow.__table__  # type: ignore[assignment]
answers_t: Table = SurveyAnswerRow.__table__  # type: ignore[assignment]
rejections_t: Table = RejectionCountRow.__table__  # type: ignore[assignment]
presence_t: Table = DevicePresenceRow.__table__  # type: ignore[assignment]

_TERMINAL = [s.value for s in TERMINAL_STATES]
RECENT_CALLS = 10
"""How many calls the hall board lists."""


def _insert(connection: Connection, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"database {connection.dialect.name!r} is not supported (SQLite or PostgreSQL)")


def _driver_cursor(connection: Connection, sql: str, params: Any, *, many: bool = False) -> Any:
    """Run `sql` on a cursor of the driver's connection, inside the connection's transaction, and return
    the cursor. SQLAlchemy's own per-statement work (its execution context, result and events) cost
    several times what the driver took for a short statement: 25 µs against 4 for the number
    allocation, 6 µs more per executemany. An error that means the database dropped the connection
    invalidates it, as SQLAlchemy does for its own statements, so the next batch gets a new one."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except connection.dialect.loaded_dbapi.Error as error:
        if connection.dialect.is_disconnect(error, raw, cursor):
            connection.invalidate(error)
        cursor.close()
        raise
    return cursor


@dataclass(frozen=True, slots=True)
class _DriverStatement:
    """A statement of the sequencer compiled once per dialect to the driver's own SQL, with the bind
    processors of its parameters (the same conversions SQLAlchemy applies: aware times to UTC, dates to
    text on SQLite). `run` hands every row to the driver's executemany at once: SQLAlchemy's own path
    handles each row of each execution in Python and, for an INSERT, builds a multi-row statement per
    call, and that was most of the CPU of a batch's writes."""

    sql: str
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool
    keeps_none: tuple[bool, ...]
    """Per parameter: its processor turns None into None (SQLAlchemy's own all do), so a None is passed
    as it is: most of a new ticket's times are None, and each processor call cost a few µs."""

    @classmethod
    def compile(
        cls, connection: Connection, stmt: UpdateBase | Select[Any], keys: Sequence[str]
    ) -> _DriverStatement:
        dialect = connection.dialect
        table = getattr(stmt, "table", None)
        if isinstance(table, Table):
            defaulted = [
                c.name for c in table.columns if c.name not in keys and (c.default is not None or c.onupdate)
            ]
            if defaulted:  # SQLAlchemy computes those in Python per row; the driver would not
                raise ValueError(f"{table.name}: columns with Python defaults not given: {defaulted}")
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
        order = tuple(compiled.positiontup) if compiled.positiontup else tuple(keys)
        processors = tuple(
            compiled.binds[k].type.dialect_impl(dialect).bind_processor(dialect) for k in order
        )
        keeps_none = tuple(process is None or process(None) is None for process in processors)
        return cls(compiled.string, order, processors, compiled.positiontup is not None, keeps_none)

    def params(self, row: Mapping[str, Any]) -> Any:
        """The driver's parameters for `row` (its values converted as SQLAlchemy would)."""
        values = []
        for key, process, keeps_none in zip(self.keys, self.processors, self.keeps_none, strict=True):
            value = row[key]
            if process is not None and (value is not None or not keeps_none):
                value = process(value)
            values.append(value)
        return tuple(values) if self.positional else dict(zip(self.keys, values, strict=True))

    def run(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Every row through the driver's executemany; the rows it changed, as the driver counts them."""
        cursor = _driver_cursor(connection, self.sql, [self.params(row) for row in rows], many=True)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def one(self, connection: Connection, row: Mapping[str, Any]) -> Any:
        """One row; the first row the statement returns (None when it returns none)."""
        cursor = _driver_cursor(connection, self.sql, self.params(row))
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def all(self, connection: Connection, row: Mapping[str, Any]) -> list[Any]:
        """One row of parameters; every row the statement returns."""
        cursor = _driver_cursor(connection, self.sql, self.params(row))
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()


_DRIVER: dict[tuple[str, str], _DriverStatement] = {}


def _run_many(
    connection: Connection,
    name: str,
    build: Callable[[Connection], UpdateBase],
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """Run the statement `name` for `rows` (all with the same keys) through the driver's executemany;
    the rows it changed."""
    return _driver_statement(connection, name, build, tuple(rows[0])).run(connection, rows)


def _driver_statement(
    connection: Connection,
    name: str,
    build: Callable[[Connection], UpdateBase | Select[Any]],
    keys: Sequence[str],
) -> _DriverStatement:
    """The statement `name`, compiled for the connection's dialect the first time it is asked for."""
    key = (connection.dialect.name, name)
    statement = _DRIVER.get(key)
    if statement is None:
        statement = _DRIVER[key] = _DriverStatement.compile(connection, build(connection), keys)
    return statement


# ------------------------------------------------------------------------------------------------ numbers


def allocate_numbers(connection: Connection, *, business_date: dt.date, prefix: str, count: int = 1) -> int:
    """Advance the prefix's counter for the day by `count`; returns the new last sequence. One statement
    (an upsert with RETURNING), so concurrent transactions get gapless, distinct ranges."""
    params = {"business_date": business_date, "prefix": prefix, "last_seq": count}
    statement = _driver_statement(connection, "allocate_numbers", _allocate_numbers, tuple(params))
    last: int = statement.one(connection, params)[0]
    return last


def _allocate_numbers(connection: Connection) -> Any:
    stmt = _insert(connection, numbers_t)
    return stmt.on_conflict_do_update(
        index_elements=[numbers_t.c.business_date, numbers_t.c.prefix],
        set_={"last_seq": numbers_t.c.last_seq + stmt.excluded.last_seq},
    ).returning(numbers_t.c.last_seq)


# ------------------------------------------------------------------------------------------------ events


@dataclass(frozen=True, slots=True)
class StoredReply:
    """The reply once sent for an event id."""

    event_id: str
    type: str
    sender: str
    reply_topic: str | None
    reply_payload: bytes


def _stored_replies(count: int) -> Callable[[Connection], Select[Any]]:
    """The builder of the lookup of `count` event ids."""

    def build(_connection: Connection) -> Select[Any]:
        return select(
            events_t.c.event_id,
            events_t.c.type,
            events_t.c.sender,
            events_t.c.reply_topic,
            events_t.c.reply_payload,
        ).where(events_t.c.event_id.in_([bindparam(f"id{i}") for i in range(count)]))

    return build


STORED_REPLIES_CHUNK = 100
"""Event ids looked up per statement: a batch's lookup is one statement per count of ids up to this,
each compiled once, so a large batch (up to `MAX_BATCH`, or more if configured) takes a few."""


def stored_replies(connection: Connection, event_ids: Collection[str]) -> dict[str, StoredReply]:
    """The stored replies of those event ids that were already applied."""
    ids = list(event_ids)
    found: dict[str, StoredReply] = {}
    for start in range(0, len(ids), STORED_REPLIES_CHUNK):
        params = {f"id{i}": event_id for i, event_id in enumerate(ids[start : start + STORED_REPLIES_CHUNK])}
        count = len(params)
        statement = _driver_statement(
            connection, f"stored_replies_{count}", _stored_replies(count), tuple(params)
        )
        for event_id, kind, sender, topic, payload in statement.all(connection, params):
            found[event_id] = StoredReply(event_id, kind, sender, topic, bytes(payload))
    return found


def record_events(connection: Connection, replies: Sequence[StoredReply], *, at: dt.datetime) -> int:
    """Store applied events with their replies; returns how many were new. An id already there (another
    writer applied it) is left as it was, and not counted: the caller must roll back."""
    if not replies:
        return 0
    rows = [
        {
            "event_id": r.event_id,
            "type": r.type,
            "sender": r.sender,
            "reply_topic": r.reply_topic,
            "reply_payload": r.reply_payload,
            "at": at,
        }
        for r in replies
    ]
    return _run_many(connection, "record_events", _record_events, rows)


def _record_events(connection: Connection) -> Any:
    return _insert(connection, events_t).on_conflict_do_nothing(index_elements=[events_t.c.event_id])


# ------------------------------------------------------------------------------------------------ tickets


def _ticket_values(ticket: Ticket) -> dict[str, Any]:
    return {
        "business_date": ticket.business_date,
        "number": ticket.number,
        "seq": ticket.seq,
        "service": ticket.service,
        "priority": ticket.priority.value,
        "state": ticket.state.value,
        "lang": ticket.lang.value,
        "offline": ticket.offline,
        "source": ticket.source,
        "issued_at": ticket.issued_at,
        "calls": ticket.calls,
        "counter": ticket.counter,
        "staff": ticket.staff,
        "called_at": ticket.called_at,
        "started_at": ticket.started_at,
        "ended_at": ticket.ended_at,
        "outcome": ticket.outcome.value if ticket.outcome else None,
        "updated_at": ticket.updated_at or ticket.issued_at,
    }


def insert_tickets(connection: Connection, tickets: Sequence[tuple[Ticket, str]]) -> None:
    """New tickets as they are now, each with the service it was issued for."""
    if tickets:
        rows = [{"id": t.id, "issued_service": issued, **_ticket_values(t)} for t, issued in tickets]
        _run_many(connection, "insert_tickets", lambda _c: tickets_t.insert(), rows)


_UPDATE_TICKET = update(tickets_t).where(tickets_t.c.id == bindparam("b_id"))


def update_tickets(connection: Connection, tickets: Sequence[Ticket]) -> None:
    """Write the current state of tickets already stored."""
    if tickets:
        rows = [{"b_id": t.id, **_ticket_values(t)} for t in tickets]
        _run_many(connection, "update_tickets", lambda _c: _UPDATE_TICKET, rows)


def insert_transitions(
    connection: Connection, transitions: Sequence[tuple[Transition, dt.date, str | None]]
) -> None:
    """Transitions with the business day they happened on and the event id that caused them."""
    if transitions:
        rows = [
            {
                "ticket_id": tr.ticket_id,
                "business_date": day,
                "number": tr.number,
                "service": tr.service,
                "from_state": tr.from_state.value if tr.from_state else None,
                "to_state": tr.to_state.value,
                "at": tr.at,
                "counter": tr.counter,
                "staff": tr.staff,
                "event_id": event_id,
                "outcome": tr.outcome.value if tr.outcome else None,
                "to_service": tr.to_service,
                "reason": tr.reason,
            }
            for tr, day, event_id in transitions
        ]
        _run_many(connection, "insert_transitions", lambda _c: transitions_t.insert(), rows)


def ticket_from_row(row: Any) -> Ticket:
    return Ticket(
        id=row.id,
        business_date=row.business_date,
        number=row.number,
        service=row.service,
        priority=Priority(row.priority),
        issued_at=row.issued_at,
        state=TicketState(row.state),
        seq=row.seq,
        lang=Lang(row.lang),
        offline=row.offline,
        source=row.source,
        calls=row.calls,
        counter=row.counter,
        called_at=row.called_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        outcome=Outcome(row.outcome) if row.outcome else None,
        staff=row.staff,
        updated_at=row.updated_at,
    )


def find_ticket(
    connection: Connection,
    *,
    ticket_id: str | None = None,
    number: str | None = None,
    since: dt.date | None = None,
) -> Ticket | None:
    """A stored ticket by id, or the latest with `number` on or after `since`."""
    query = select(tickets_t)
    if ticket_id is not None:
        query = query.where(tickets_t.c.id == ticket_id)
    elif number is not None:
        query = query.where(tickets_t.c.number == number)
        if since is not None:
            query = query.where(tickets_t.c.business_date >= since)
        query = query.order_by(tickets_t.c.business_date.desc()).limit(1)
    else:
        raise ValueError("find_ticket needs ticket_id or number")
    row = connection.execute(query).first()
    return ticket_from_row(row) if row is not None else None


# ------------------------------------------------------------------------------------------------ counters


def save_counters(
    connection: Connection, counters: Iterable[tuple[str, bool, str | None, int]], *, at: dt.datetime
) -> None:
    """Upsert (counter, open, staff, priority streak)."""
    rows = [
        {"counter": c, "open": o, "staff": s, "priority_streak": p, "updated_at": at}
        for c, o, s, p in counters
    ]
    if not rows:
        return
    _run_many(connection, "save_counters", _save_counters, rows)


def _save_counters(connection: Connection) -> Any:
    stmt = _insert(connection, counters_t)
    return stmt.on_conflict_do_update(
        index_elements=[counters_t.c.counter],
        set_={k: stmt.excluded[k] for k in ("open", "staff", "priority_streak", "updated_at")},
    )


# ------------------------------------------------------------------------------------------------ health


def count_rejections(connection: Connection, counts: Mapping[str, int], *, at: dt.datetime) -> None:
    """Add to the per-code rejection counters."""
    rows = [{"code": code, "count": n, "last_at": at} for code, n in counts.items() if n]
    if not rows:
        return
    _run_many(connection, "count_rejections", _count_rejections, rows)


def _count_rejections(connection: Connection) -> Any:
    stmt = _insert(connection, rejections_t)
    return stmt.on_conflict_do_update(
        index_elements=[rejections_t.c.code],
        set_={"count": rejections_t.c.count + stmt.excluded["count"], "last_at": stmt.excluded.last_at},
    )


def rejection_counts(connection: Connection) -> dict[str, int]:
    rows: list[Any] = list(connection.execute(select(rejections_t.c.code, rejections_t.c.count)))
    return {row.code: row.count for row in rows}


def save_presence(connection: Connection, statuses: Iterable[Mapping[str, Any]]) -> None:
    """Upsert device presence rows (columns of `device_presence`)."""
    rows = list(statuses)
    if not rows:
        return
    _run_many(connection, "save_presence", _save_presence, rows)


def _save_presence(connection: Connection) -> Any:
    stmt = _insert(connection, presence_t)
    columns = (
        "role",
        "online",
        "printer",
        "server_reachable",
        "outbox_pending",
        "version",
        "last_seen",
        "payload",
    )
    return stmt.on_conflict_do_update(
        index_elements=[presence_t.c.device], set_={k: stmt.excluded[k] for k in columns}
    )


def device_presence(connection: Connection) -> list[Any]:
    return list(connection.execute(select(presence_t).order_by(presence_t.c.device)))


# ------------------------------------------------------------------------------------------------ cases


def insert_case(connection: Connection, values: Mapping[str, Any]) -> None:
    connection.execute(cases_t.insert().values(**values))


def get_case(connection: Connection, case_id: str) -> Any | None:
    return connection.execute(select(cases_t).where(cases_t.c.id == case_id)).first()


def update_case(
    connection: Connection, *, case_id: str, status: str, note: str, staff: str, at: dt.datetime
) -> Any | None:
    """Record a follow-up: status, note and who; the history keeps every step. None for no such case."""
    row = get_case(connection, case_id)
    if row is None:
        return None
    history = [*row.history, {"at": at.isoformat(), "status": status, "note": note, "staff": staff}]
    closed_at = (row.closed_at or at) if status == "done" else None
    connection.execute(
        update(cases_t)
        .where(cases_t.c.id == case_id)
        .values(status=status, note=note, staff=staff, updated_at=at, closed_at=closed_at, history=history)
    )
    return get_case(connection, case_id)


def list_cases(
    connection: Connection,
    *,
    services: Sequence[str] | None = None,
    include_done: bool = False,
    overdue_on: dt.date | None = None,
) -> list[Any]:
    """Cases, oldest due first; `overdue_on` keeps those not done and due before that date."""
    query = select(cases_t)
    if services is not None:
        query = query.where(cases_t.c.service.in_(list(services)))
    if not include_done or overdue_on is not None:
        query = query.where(cases_t.c.status != "done")
    if overdue_on is not None:
        query = query.where(cases_t.c.due_date < overdue_on)
    return list(connection.execute(query.order_by(cases_t.c.due_date, cases_t.c.opened_at)))


# ------------------------------------------------------------------------------------------------ survey


def has_response(connection: Connection, ticket_id: str) -> bool:
    return (
        connection.execute(select(responses_t.c.id).where(responses_t.c.ticket_id == ticket_id)).first()
        is not None
    )


def insert_response(connection: Connection, response: Mapping[str, Any], answers: Mapping[str, int]) -> None:
    connection.execute(responses_t.insert().values(**response))
    connection.execute(
        answers_t.insert(),
        [{"response_id": response["id"], "item": k, "score": v} for k, v in answers.items()],
    )


# ------------------------------------------------------------------------------------------------ rebuild


@dataclass(slots=True)
class StoredDay:
    """What the queue needs to resume: the latest business day's tickets plus every unfinished ticket of
    earlier days, the counters, the day's number counters, recent service times and calls."""

    business_date: dt.date | None
    ahead: dt.date | None
    """The latest business day stored, when it is after the day resumed: numbered while the server's
    clock was set ahead (see `load_stored_day`)."""
    tickets: list[Ticket]
    counters: list[Any]
    sequences: dict[str, int]
    durations: dict[str, list[float]]
    """Seconds, oldest first, per service."""
    recent_calls: list[Any]
    """Newest first: transitions into `called` of the day."""


def day_numbered(connection: Connection, day: dt.date) -> bool:
    """Whether tickets were already numbered on `day` (by a clock that was there before being set back)."""
    found = connection.execute(select(numbers_t.c.prefix).where(numbers_t.c.business_date == day).limit(1))
    return found.first() is not None


def load_stored_day(connection: Connection, *, window: int, today: dt.date | None = None) -> StoredDay:
    """Read everything a restart needs (see StoredDay); `window` service times per service.

    The day resumed is the latest one stored, but never one after `today` (the server's business date
    now): a day stored ahead of it was numbered while the clock was set ahead (a year typed in the
    Buddhist Era, a wrong date), and resuming it would keep the office on that day until the calendar
    caught up. Then `today` is resumed instead, its numbers going on where they stopped, and the
    unfinished tickets of the day ahead are kept like those of any other day."""
    day: dt.date | None = connection.execute(select(func.max(tickets_t.c.business_date))).scalar()
    if day is None:
        day = connection.execute(select(func.max(numbers_t.c.business_date))).scalar()
    ahead = None
    if day is not None and today is not None and day > today:
        ahead, day = day, today
    tickets: list[Ticket] = []
    sequences: dict[str, int] = {}
    recent: list[Any] = []
    if day is not None:
        rows = connection.execute(
            select(tickets_t)
            .where(or_(tickets_t.c.business_date == day, tickets_t.c.state.not_in(_TERMINAL)))
            .order_by(tickets_t.c.issued_at, tickets_t.c.number)
        )
        tickets = [ticket_from_row(row) for row in rows]
        sequences = {
            row.prefix: row.last_seq
            for row in connection.execute(select(numbers_t).where(numbers_t.c.business_date == day))
        }
        recent = list(
            connection.execute(
                select(transitions_t)
                .where(and_(transitions_t.c.business_date == day, transitions_t.c.to_state == "called"))
                .order_by(transitions_t.c.id.desc())
                .limit(RECENT_CALLS)
            )
        )
    counters = list(connection.execute(select(counters_t)))
    durations: dict[str, list[float]] = {}
    ranked = (
        select(
            tickets_t.c.service,
            tickets_t.c.started_at,
            tickets_t.c.ended_at,
            func.row_number()
            .over(partition_by=tickets_t.c.service, order_by=tickets_t.c.ended_at.desc())
            .label("rank"),
        )
        .where(and_(tickets_t.c.state == "done", tickets_t.c.started_at.is_not(None)))
        .subquery()
    )
    latest = select(ranked).where(ranked.c.rank <= window).order_by(ranked.c.service, ranked.c.ended_at)
    for row in connection.execute(latest):
        seconds = (row.ended_at - row.started_at).total_seconds()
        durations.setdefault(row.service, []).append(max(seconds, 0.0))
    return StoredDay(
        business_date=day,
        ahead=ahead,
        tickets=tickets,
        counters=counters,
        sequences=sequences,
        durations=durations,
        recent_calls=recent,
    )
