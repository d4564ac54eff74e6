"""Retention: old survey comments are erased while their ratings stay for the reports, old audit entries
and stored replies go, recent ones stay; `khiu admin purge` does it from the office's `[retention]`
settings and says what it removed; counter commands carry the staff member into the transitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from common.cli import main
from common.config import ConfigError, RetentionPolicy, config_from_dict
from common.contract import CounterCommand, TicketRequest
from common.vocabulary import CounterAction, Outcome
from server.retention import purge
from server.store import Store
from server.store.models import ProcessedEventRow, SurveyAnswerRow, SurveyResponseRow, TransitionRow
from server.web.models import AuditEntry
from tests.ops.office_data import busy_days, table_counts, write_office_files
from tests.server.office_helpers import barrier, office_dict, start_office

NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)
OLD = NOW - dt.timedelta(days=800)
LAST_YEAR = NOW - dt.timedelta(days=400)
RECENT = NOW - dt.timedelta(days=10)


@pytest.fixture
def store(db_url: str) -> Store:
    store = Store(db_url)
    store.migrate()
    return store


def comments(store: Store) -> list[tuple[dt.date, str | None]]:
    with store.read_engine.connect() as connection:
        rows = connection.execute(
            select(SurveyResponseRow.business_date, SurveyResponseRow.comment).order_by(SurveyResponseRow.at)
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_old_comments_go_but_their_ratings_stay(store: Store) -> None:
    busy_days(store, [OLD, LAST_YEAR, RECENT])
    answers_before = table_counts(store.engine)["survey_answers"]

    result = purge(store.engine, RetentionPolicy(comments_days=365, audit_days=730), now=NOW)

    assert result.comments_erased == 6  # the old day's and last year's three each
    kept = comments(store)
    assert [c for _day, c in kept[:6]] == [None] * 6
    assert [c for _day, c in kept[6:]] == ["บริการดีมาก"] * 3
    assert len(kept) == 9  # every response is still counted in the reports
    with store.read_engine.connect() as connection:
        answers = connection.execute(select(func.count()).select_from(SurveyAnswerRow)).scalar_one()
    assert answers == answers_before == 18


def test_old_audit_entries_and_stored_replies_go(store: Store) -> None:
    busy_days(store, [OLD, LAST_YEAR, RECENT])
    with store.read_engine.connect() as connection:
        events_before = connection.execute(select(func.count()).select_from(ProcessedEventRow)).scalar_one()

    result = purge(store.engine, RetentionPolicy(audit_days=730, events_days=90), now=NOW)

    assert result.audit_deleted == 1  # the entry of 800 days ago
    with store.read_engine.connect() as connection:
        audit_days = sorted(r[0].date() for r in connection.execute(select(AuditEntry.at)))
        events_left = connection.execute(select(func.count()).select_from(ProcessedEventRow)).scalar_one()
    assert audit_days == [LAST_YEAR.date(), RECENT.date()]
    # Each day: open, 3 x (ticket, call, start, complete, rating), close = 17 requests.
    assert events_before == 3 * 17
    assert result.events_deleted == 2 * 17 and events_left == 17


def test_a_dry_run_changes_nothing(store: Store) -> None:
    busy_days(store, [OLD, RECENT])
    before = comments(store)
    result = purge(store.engine, RetentionPolicy(), now=NOW, dry_run=True)
    assert result.comments_erased == 3 and result.audit_deleted == 1
    assert comments(store) == before


def test_retention_settings_come_from_the_office_file_with_safe_defaults() -> None:
    default = config_from_dict(office_dict()).retention
    assert (default.comments_days, default.audit_days, default.events_days) == (365, 730, 90)
    raw = office_dict()
    raw["retention"] = {"comments_days": 30, "audit_days": 365}
    assert config_from_dict(raw).retention.comments_days == 30
    raw["retention"] = {"audit_days": 7}
    with pytest.raises(ConfigError, match="audit_days"):
        config_from_dict(raw)
    raw["retention"] = {"comment_days": 30}
    with pytest.raises(ConfigError, match=r"unknown key 'comment_days'"):
        config_from_dict(raw)


def test_khiu_admin_purge_reports_and_audits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'khiu.db'}"
    files = write_office_files(tmp_path, url)
    store = Store(url)
    store.migrate()
    busy_days(store, [LAST_YEAR, dt.datetime.now(dt.UTC)])
    store.close()
    monkeypatch.setenv("KHIU_DATA_DIR", str(files.data_dir))
    argv = ["admin", "purge", "--config", str(files.config), "--data-dir", str(files.data_dir)]

    assert main([*argv, "--dry-run"]) == 0
    assert "survey comments: 3" in capsys.readouterr().out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ลบแล้ว / removed" in out and "survey comments: 3" in out

    store = Store(url)
    with store.read_engine.connect() as connection:
        action, detail = connection.execute(
            select(AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id.desc()).limit(1)
        ).one()
    store.close()
    assert action == "retention.purge" and "comments erased 3" in detail
    assert "(command line)" in detail


def test_purge_refuses_a_database_that_is_not_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KHIU_DATA_DIR", str(tmp_path / "nowhere"))
    files = write_office_files(tmp_path, "")
    assert main(["admin", "purge", "--config", str(files.config)]) == 1
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "nowhere" / "khiu.db").exists()


def test_counter_commands_carry_the_staff_member_into_every_transition(store: Store) -> None:
    """Terminal commands (MQTT) and console commands name who acted: the audit of the queue itself."""
    office, _recorder, _clock = start_office(store, config=config_from_dict(office_dict()))
    try:
        office.submit(TicketRequest(service="reg"), sender="kiosk-1").result(30)
        for action, staff, extra in (
            (CounterAction.open, "malee", {}),
            (CounterAction.call_next, "malee", {}),
            (CounterAction.recall, "somchai", {}),
            (CounterAction.start, "somchai", {}),
            (CounterAction.complete, "malee", {"outcome": Outcome.completed}),
        ):
            command = CounterCommand(action=action, staff=staff, **extra)
            office.receive(f"khiu/{office.topics.site}/counter/c1/command", command.encode())
        barrier(office)
    finally:
        office.stop()
    with store.read_engine.connect() as connection:
        rows = connection.execute(
            select(TransitionRow.to_state, TransitionRow.staff, TransitionRow.counter)
            .where(TransitionRow.from_state.is_not(None))
            .order_by(TransitionRow.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("called", "malee", "c1"),
        ("called", "somchai", "c1"),
        ("serving", "somchai", "c1"),
        ("done", "malee", "c1"),
    ]
