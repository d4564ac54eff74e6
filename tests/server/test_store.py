"""The store on real SQLite and PostgreSQL: schema from the migrations, durable SQLite settings, gapless
numbers under concurrency, idempotent event ids."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from common.vocabulary import Priority
from server.engine import Ticket
from server.store import Store
from server.store.database import WalCheckpointer, schema_is_current, schema_metadata
from server.store.records import (
    StoredReply,
    allocate_numbers,
    count_rejections,
    find_ticket,
    insert_tickets,
    record_events,
    rejection_counts,
    stored_replies,
    tickets_t,
)

DAY = dt.date(2026, 11, 26)
NOON = dt.datetime(2026, 11, 26, 5, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.migrate()
    yield s
    s.close()


def test_migrations_create_exactly_the_models(store: Store) -> None:
    store.migrate()  # a second start changes nothing
    assert schema_is_current(store.engine)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, schema_metadata()) == []


def test_sqlite_is_durable_and_checks_foreign_keys(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    with store.engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    store.close()
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 10000}


def test_the_checkpointer_not_a_commit_copies_the_wal_into_the_database(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.migrate()
    checkpointer = WalCheckpointer.for_url(sqlite_url)
    assert checkpointer is not None and WalCheckpointer.for_url("postgresql://x/y") is None
    checkpointer.run_once()
    database = checkpointer.database
    size = database.stat().st_size
    # 1,500 pages in many commits: past SQLite's default of 1,000, where a commit would copy the WAL.
    try:
        for _ in range(60):
            with store.engine.begin() as connection:
                record_events(
                    connection,
                    [StoredReply(str(uuid.uuid4()), "t", "kiosk-1", None, bytes(4000)) for _ in range(25)],
                    at=NOON,
                )
                allocate_numbers(connection, business_date=DAY, prefix="A")
        assert database.stat().st_size == size, "a commit checkpointed"
        _busy, frames, copied = checkpointer.run_once()
        assert frames >= 1500 and copied == frames
        assert database.stat().st_size > size + 1500 * 4000
    finally:
        checkpointer.stop()
        store.close()


def test_the_checkpointer_copies_the_wal_only_when_writing_pauses(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.migrate()
    checkpointer = WalCheckpointer.for_url(sqlite_url)
    assert checkpointer is not None
    database = checkpointer.database

    def write() -> None:
        with store.engine.begin() as connection:
            record_events(
                connection,
                [StoredReply(str(uuid.uuid4()), "t", "kiosk-1", None, bytes(4000)) for _ in range(25)],
                at=NOON,
            )

    try:
        assert not checkpointer.tick(), "the first look has nothing to compare with"
        assert checkpointer.tick(), "the migrations' writes, then a pause: copied"
        size = database.stat().st_size
        for _ in range(3):
            write()
            assert not checkpointer.tick(), "copied while commits were coming"
        assert database.stat().st_size == size
        assert checkpointer.tick(), "a look with no commit since the last one"
        assert database.stat().st_size > size + 75 * 4000
        assert not checkpointer.tick(), "nothing written since the last checkpoint"
        # A reader on an older snapshot keeps the newer frames from being copied: looked at again.
        reader = sqlite3.connect(database, isolation_level=None)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM processed_events").fetchone()
            write()
            assert not checkpointer.tick()
            assert checkpointer.tick() and checkpointer.tick(), "a copy held back is tried at every look"
            reader.execute("COMMIT")
        finally:
            reader.close()
        assert checkpointer.tick()
        assert not checkpointer.tick(), "everything was copied once the reader had gone"
    finally:
        checkpointer.stop()
        store.close()


def test_numbers_are_gapless_from_eight_concurrent_writers(store: Store) -> None:
    per_thread, threads = 25, 8
    errors: list[BaseException] = []

    def issue_many(prefix: str) -> None:
        try:
            for _ in range(per_thread):
                with store.engine.begin() as connection:
                    seq = allocate_numbers(connection, business_date=DAY, prefix=prefix)
                    ticket = Ticket(
                        id=str(uuid.uuid4()),
                        business_date=DAY,
                        number=f"{prefix}{seq:03d}",
                        service="reg",
                        priority=Priority.none,
                        issued_at=NOON,
                        seq=seq,
                    )
                    insert_tickets(connection, [(ticket, "reg")])
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    workers = [threading.Thread(target=issue_many, args=("AB"[i % 2],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with store.read_engine.connect() as connection:
        rows = connection.execute(select(tickets_t.c.number, tickets_t.c.seq)).all()
    for prefix in "AB":
        seqs = sorted(seq for number, seq in rows if number.startswith(prefix))
        assert seqs == list(range(1, per_thread * threads // 2 + 1))


def test_an_event_id_is_applied_once_and_its_reply_kept_byte_for_byte(store: Store) -> None:
    event = str(uuid.uuid4())
    topic = "khiu/x/kiosk/kiosk-1/ticket/reply"
    first = StoredReply(event, "ticket.request", "kiosk-1", topic, '{"a":"ก"}'.encode())
    with store.engine.begin() as connection:
        assert record_events(connection, [first], at=NOON) == 1
    again = StoredReply(event, "ticket.request", "kiosk-1", topic, b"{}")
    other = StoredReply(str(uuid.uuid4()), "ticket.request", "kiosk-1", topic, b"{}")
    with store.engine.begin() as connection:
        assert record_events(connection, [again, other], at=NOON) == 1  # only the new one counts
        assert stored_replies(connection, [event, str(uuid.uuid4())]) == {event: first}
    # A lookup longer than one statement's share of ids finds what every share holds.
    many = [StoredReply(str(uuid.uuid4()), "ticket.request", "kiosk-2", topic, b"%d" % i) for i in range(250)]
    with store.engine.begin() as connection:
        assert record_events(connection, many, at=NOON) == len(many)
        unknown = [str(uuid.uuid4()) for _ in range(60)]
        found = stored_replies(connection, [r.event_id for r in many] + unknown + [event])
    assert found == {r.event_id: r for r in many} | {event: first}


def test_times_come_back_aware_utc_and_rejections_add_up(store: Store) -> None:
    ticket = Ticket(
        id="t1",
        business_date=DAY,
        number="A001",
        service="reg",
        priority=Priority.monk,
        issued_at=NOON.astimezone(dt.timezone(dt.timedelta(hours=7))),
        seq=1,
    )
    with store.engine.begin() as connection:
        insert_tickets(connection, [(ticket, "reg")])
        count_rejections(connection, {"not_json": 2, "invalid": 1}, at=NOON)
    with store.engine.begin() as connection:
        count_rejections(connection, {"not_json": 1}, at=NOON)
    with store.read_engine.connect() as connection:
        stored = find_ticket(connection, number="A001", since=DAY)
        counts = rejection_counts(connection)
    assert stored is not None and stored.issued_at == NOON and stored.issued_at.tzinfo is dt.UTC
    assert stored.priority is Priority.monk
    assert counts == {"not_json": 3, "invalid": 1}
