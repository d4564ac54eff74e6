"""The office database: typed SQLAlchemy 2 models, the same on SQLite and PostgreSQL.

Every table is created by the Alembic chain in `server/store/migrations/` (a test keeps models and
migrations in step). The hot path of the sequencer writes with Core statements on these tables
(`TicketRow.__table__`); reports may use the ORM classes or Core, read-only.

Every index costs a page written (and fsynced) per commit on the hot path, so the hot tables carry only
the indexes the rebuild and reports need; tables keyed by text are `WITHOUT ROWID` on SQLite (the
row lives in its primary key's tree: one page less per insert).

Times are aware UTC datetimes everywhere (`UtcDateTime`); `business_date` is the office's local date
(Asia/Bangkok) the server's clock gave when the row was made."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so Alembic can alter them later on SQLite (batch mode) and PostgreSQL alike."""

ID = String(36)
"""UUIDs as text: the same on both databases and readable in a shell."""
Json = JSON().with_variant(JSONB(), "postgresql")
AutoId = BigInteger().with_variant(Integer(), "sqlite")
"""SQLite only autoincrements an INTEGER PRIMARY KEY."""


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every database: SQLite keeps no offset, so values go in as UTC and come
    back marked UTC; PostgreSQL stores `timestamptz`."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC time")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Base of every table of the office database (the web app's tables too: one Alembic chain)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# ------------------------------------------------------------------------------------------------ queue


REPORT_FACTS = (
    "business_date",
    "service",
    "state",
    "priority",
    "counter",
    "outcome",
    "offline",
    "issued_at",
    "called_at",
    "started_at",
    "ended_at",
    "number",
    "id",
)
"""The tickets' columns a report reads, by date: their index answers a quarter's report without
visiting the table (on SQLite, fifty thousand lookups by random id otherwise cost more than the rest
of the query). A ticket's update rewrites its entry: one page more per commit, on a page the day's
tickets share."""


class TicketRow(Base):
    """A ticket and its latest state; its history is in `transitions`."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("business_date", "number"),  # also the index of a day's tickets
        Index("ix_tickets_business_date_facts", *REPORT_FACTS),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(8))
    seq: Mapped[int | None] = mapped_column(Integer)
    """Sequence within its prefix and day; null for a ticket a kiosk issued offline."""
    service: Mapped[str] = mapped_column(String(40))
    """The service it waits for or was served in last (a transfer changes it)."""
    issued_service: Mapped[str] = mapped_column(String(40))
    """The service the citizen chose at the kiosk."""
    priority: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(4))
    offline: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str | None] = mapped_column(String(64))
    """The kiosk (device id) or `web` that issued it."""
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    calls: Mapped[int] = mapped_column(Integer)
    counter: Mapped[str | None] = mapped_column(String(32))
    staff: Mapped[str | None] = mapped_column(String(200))
    called_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class TransitionRow(Base):
    """One state change of a ticket (DESIGN.md): wait, service and hold times are computed from these."""

    __tablename__ = "transitions"
    __table_args__ = (Index("ix_transitions_business_date_to_state", "business_date", "to_state"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    """The business day on which it happened (a ticket kept overnight moves on another day)."""
    number: Mapped[str] = mapped_column(String(8))
    service: Mapped[str] = mapped_column(String(40))
    """The ticket's service when it happened (for a transfer, the service it left)."""
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    counter: Mapped[str | None] = mapped_column(String(32))
    staff: Mapped[str | None] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(ID)
    """The request that caused it; null for the server's own (end of day)."""
    outcome: Mapped[str | None] = mapped_column(String(16))
    to_service: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(32))
    """`max_calls` (no-show after the last recall), `end_of_day`; null for a staff or kiosk action."""


class NumberCounterRow(Base):
    """The last number given per prefix and business day; advanced in the ticket's own transaction."""

    __tablename__ = "number_counters"
    __table_args__ = {"sqlite_with_rowid": False}

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(2), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class ProcessedEventRow(Base):
    """Every request applied, with the reply sent: a resend of the same event id gets these bytes."""

    __tablename__ = "processed_events"
    __table_args__ = {"sqlite_with_rowid": False}

    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str] = mapped_column(String(64))
    reply_topic: Mapped[str | None] = mapped_column(String(255))
    reply_payload: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CounterStateRow(Base):
    """A counter's open/closed state, its staff and its priority streak (so a restart resumes exactly)."""

    __tablename__ = "counters_state"
    __table_args__ = {"sqlite_with_rowid": False}

    counter: Mapped[str] = mapped_column(String(32), primary_key=True)
    open: Mapped[bool] = mapped_column(Boolean)
    staff: Mapped[str | None] = mapped_column(String(200))
    priority_streak: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


# ------------------------------------------------------------------------------------------------ cases


class CaseRow(Base):
    """A matter forwarded to the owning agency (outcome `forwarded`), followed up until it is done."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_due_date", "status", "due_date"),
        Index("ix_cases_business_date", "business_date"),  # a report's cases (a case is written rarely)
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), unique=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(8))
    service: Mapped[str] = mapped_column(String(40))
    agency_th: Mapped[str] = mapped_column(String(300))
    agency_en: Mapped[str] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    due_date: Mapped[dt.date] = mapped_column(Date)
    """Opening time plus the service's statutory standard time, as a local date."""
    status: Mapped[str] = mapped_column(String(16))
    """`open`, `in_progress` or `done`."""
    note: Mapped[str] = mapped_column(Text, default="")
    staff: Mapped[str | None] = mapped_column(String(200))
    """Who updated it last."""
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    history: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    """Every update: {at, status, note, staff}."""


# ------------------------------------------------------------------------------------------------ survey


class SurveyResponseRow(Base):
    """One citizen's rating of one ticket's service; no personal data (DOMAIN.md, PDPA)."""

    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_business_date", "business_date"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), unique=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    """The ticket's business day (reports count a rating with the service it rates)."""
    number: Mapped[str] = mapped_column(String(8))
    service: Mapped[str] = mapped_column(String(40))
    counter: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    """`terminal`, `counter`, `phone` or `staff`."""
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    demographics: Mapped[dict[str, Any]] = mapped_column(Json)
    comment: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[str | None] = mapped_column(ID)


class SurveyAnswerRow(Base):
    """A raw score (1..5) of one item: reports derive every figure from these counts."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        # The primary key's columns and the score: a report counts a quarter's answers (200,000) by
        # response from the index alone, never visiting the table.
        Index("ix_survey_answers_response_id_item_score", "response_id", "item", "score"),
    )

    response_id: Mapped[str] = mapped_column(ForeignKey("survey_responses.id"), primary_key=True)
    item: Mapped[str] = mapped_column(String(40), primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)


class FormMirrorRow(Base):
    """A survey response to copy to the office's Google Form: the durable queue of the mirror
    (server/survey/mirror.py). A row is added for each new response while the mirror is on, and kept
    after sending, so a response is never queued twice."""

    __tablename__ = "form_mirror"
    __table_args__ = (Index("ix_form_mirror_status_next_attempt_at", "status", "next_attempt_at"),)

    response_id: Mapped[str] = mapped_column(ForeignKey("survey_responses.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    """`pending` (to send), `sent`, or `failed` (gave up after the last attempt; can be queued again)."""
    attempts: Mapped[int] = mapped_column(Integer)
    queued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


# ------------------------------------------------------------------------------------------------ health


class RejectionCountRow(Base):
    """How many requests were refused, per code (bad payloads included): a device misbehaving shows here."""

    __tablename__ = "rejection_counts"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    last_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class DevicePresenceRow(Base):
    """The last `device.status` of each device."""

    __tablename__ = "device_presence"

    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    online: Mapped[bool] = mapped_column(Boolean)
    printer: Mapped[str | None] = mapped_column(String(16))
    server_reachable: Mapped[bool | None] = mapped_column(Boolean)
    outbox_pending: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(40))
    last_seen: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
