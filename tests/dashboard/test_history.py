"""`khiu admin generate-history` fills a database with a history the reports can read: open days only,
gapless numbers per day and prefix, transitions that start with the issue, about 30 % of those served
rating the service, forwarded cases with some late; on SQLite and PostgreSQL; refused on days that
already have tickets."""

from __future__ import annotations

import argparse
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from common.config import OfficeConfig, load_config
from common.paths import EXAMPLE_CONFIG
from server import history
from server.history import FIXED_HOLIDAYS, HistoryError, HistorySettings, ProgressBar, generate_history
from server.reports import queries
from server.reports.model import Period
from server.store import Store
from server.store.records import cases_t, responses_t, tickets_t, transitions_t

SETTINGS = HistorySettings(years=0.25, tickets_per_year=20_000, seed=11, end=dt.date(2026, 11, 25))


@pytest.fixture(scope="module")
def config() -> OfficeConfig:
    return load_config(EXAMPLE_CONFIG)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    store.migrate()
    yield store
    store.close()


def test_a_history_the_reports_can_read(store: Store, config: OfficeConfig) -> None:
    progress = io.StringIO()
    summary = generate_history(store.engine, config, SETTINGS, progress=ProgressBar(progress))
    assert 4_000 < summary.tickets < 6_000, "a quarter of 20,000 a year"
    assert "100%" in progress.getvalue()
    with store.read_engine.connect() as connection:
        rows = connection.execute(
            select(tickets_t.c.business_date, tickets_t.c.number, tickets_t.c.state)
        ).all()
        days = {row.business_date for row in rows}
        assert all(day.weekday() < 5 for day in days), "weekends are closed"
        assert not any((day.month, day.day) in FIXED_HOLIDAYS for day in days), "holidays are closed"
        assert not any(config.queue.holiday_on(day) for day in days)
        numbers: dict[tuple[dt.date, str], list[int]] = defaultdict(list)
        for row in rows:
            numbers[(row.business_date, row.number[0])].append(int(row.number[1:]))
        for key, seqs in numbers.items():
            assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"gapless per day and prefix: {key}"
        first_steps = connection.execute(
            select(func.count()).where(transitions_t.c.from_state.is_(None))
        ).scalar_one()
        assert first_steps == len(rows), "every ticket's history starts with its issue"
        served = sum(1 for row in rows if row.state == "done")
        responses = connection.execute(select(func.count()).select_from(responses_t)).scalar_one()
        assert 0.25 < responses / served < 0.35
        late = connection.execute(select(func.count()).where(cases_t.c.closed_at.is_not(None))).scalar_one()
        assert late > 0
        report = queries.period_report(connection, Period.date_range(summary.first, summary.last), config)
    assert report.total.counts.issued == summary.tickets
    assert report.total.counts.no_show > 0 and report.total.counts.cancelled > 0
    assert 75 < (report.satisfaction.overall.percent or 0) < 95, "skewed positive, as real surveys are"
    assert report.cases.closed_late > 0 and report.cases.closed_on_time > report.cases.closed_late
    wait = report.total.wait
    assert wait.p90_s is not None and wait.median_s is not None and wait.p90_s > wait.median_s
    busiest = max(report.by_hour, key=lambda row: row.counts.issued)
    assert busiest.key in ("09", "10"), "mornings are busiest"


def test_the_same_seed_makes_the_same_history(tmp_path: Path, config: OfficeConfig) -> None:
    base = tmp_path
    small = HistorySettings(years=0.05, tickets_per_year=5_000, seed=3, end=dt.date(2026, 11, 25))
    found = []
    for name in ("a", "b"):
        store = Store(f"sqlite:///{base / name}.db")
        store.migrate()
        generate_history(store.engine, config, small)
        with store.read_engine.connect() as connection:
            found.append(
                connection.execute(
                    select(tickets_t.c.id, tickets_t.c.issued_at).order_by(tickets_t.c.id)
                ).all()
            )
        store.close()
    assert found[0] == found[1] and found[0]


def test_days_that_have_tickets_are_refused(store: Store, config: OfficeConfig) -> None:
    small = HistorySettings(years=0.02, tickets_per_year=5_000, seed=1, end=dt.date(2026, 11, 25))
    generate_history(store.engine, config, small)
    with pytest.raises(HistoryError, match="already has tickets"):
        generate_history(store.engine, config, small)


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:

    parser = argparse.ArgumentParser()
    admin = parser.add_subparsers().add_parser("admin").add_subparsers()
    history.register(None, admin)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = parser.parse_args(
        ["admin", "generate-history", "--years", "0.02", "--tickets-per-year", "3000", "--database-url", url,
         "--config", str(EXAMPLE_CONFIG), "--end", "2026-11-25"]
    )  # fmt: skip
    assert args.handler(args) == 0
    out = capsys.readouterr()
    assert "tickets" in out.out and "บัตรคิว" in out.err
