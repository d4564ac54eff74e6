"""A long period's report reads its survey, cases and requeued tickets on other connections while the
first reads the tickets (the dashboard does so): the report is the same as when one connection reads
everything, on SQLite and PostgreSQL. And the quarter's tickets are read from their report index
alone, without visiting the table (what makes a busy quarter cheap on SQLite)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from server.reports import queries
from server.reports.model import Period
from server.store import Store
from tests.dashboard.store_facts import fill, office_config

T = TypeVar("T")
Q1 = Period.fiscal_quarter(2569, 1)
MADE = dt.datetime(2026, 1, 20, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = fill(db_url)
    yield store
    store.close()


def test_reads_beside_the_tickets_give_the_same_report(store: Store) -> None:
    config = office_config()
    threads: set[str] = set()
    with ThreadPoolExecutor(max_workers=3) as pool:

        def aside(read: Callable[[Connection], T]) -> Callable[[], T]:
            def run() -> T:
                threads.add(threading.current_thread().name)
                with store.read_engine.connect() as other, other.begin():
                    return read(other)

            return pool.submit(run).result

        with store.read_engine.connect() as connection, connection.begin():
            beside = queries.period_report(connection, Q1, config, generated_at=MADE, aside=aside)
        with store.read_engine.connect() as connection, connection.begin():
            alone = queries.period_report(connection, Q1, config, generated_at=MADE)
    assert threads and threading.current_thread().name not in threads, "read in worker threads"
    assert beside == alone
    assert beside.total.wait.p90_s == pytest.approx(840), "the transferred ticket's first call, read aside"
    assert beside.satisfaction.responses == 3 and beside.cases.forwarded == alone.cases.forwarded > 0


def test_the_quarters_tickets_come_from_their_index_alone(sqlite_url: str) -> None:
    store = fill(sqlite_url)
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM tickets" in statement:
            statements.append((statement, parameters))

    event.listen(store.read_engine, "before_cursor_execute", seen)
    try:
        with store.read_engine.connect() as connection, connection.begin():
            columns = queries.ticket_columns(connection, Q1)
            assert len(columns) == 8
            (statement, parameters), *_ = statements
            explained = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = [row[-1] for row in explained]
    finally:
        event.remove(store.read_engine, "before_cursor_execute", seen)
        store.close()
    assert any("COVERING INDEX ix_tickets_business_date_facts" in step for step in plan), plan
