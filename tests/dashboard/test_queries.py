"""The report's figures read from a real database (SQLite and PostgreSQL) match the arithmetic done by
hand in store_facts.py: counts, the first call as the wait's end, p90, the share within the standard
time, percent satisfaction from unrounded means, late cases, and the B.E. fiscal quarter's edges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from server.reports import queries
from server.reports.model import Period, build_report
from server.store import Store
from tests.dashboard.store_facts import at, fill, office_config

Q1 = Period.fiscal_quarter(2569, 1)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = fill(db_url)
    yield store
    store.close()


def test_quarter_one_of_fiscal_2569_is_october_to_december_2025() -> None:
    assert (Q1.first, Q1.last) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert (Q1.lao_due, Q1.province_due) == (dt.date(2025, 12, 30), dt.date(2026, 1, 15))
    assert Period.quarter_of(dt.date(2025, 9, 30)).fiscal_year_be == 2568


def test_ticket_figures_of_the_quarter(store: Store) -> None:
    config = office_config()
    with store.read_engine.connect() as connection:
        report = queries.period_report(connection, Q1, config)
    c = report.total.counts
    assert (c.issued, c.served, c.no_show, c.cancelled) == (8, 6, 1, 1)
    assert c.no_show_rate == pytest.approx(1 / 7)
    wait = report.total.wait
    assert wait.count == 7
    assert wait.mean_s == pytest.approx(3960 / 7)
    assert wait.median_s == pytest.approx(600)
    assert wait.p90_s == pytest.approx(840), "the transferred ticket waits until its first call"
    assert wait.max_s == pytest.approx(1200)
    assert report.total.within_standard == pytest.approx(0.5)
    assert report.total.timed == 4
    service = report.total.service
    assert service.mean_s == pytest.approx((240 + 720 + 600 + 540 + 300 + 540) / 6)
    hours = {row.key: row.counts.issued for row in report.by_hour if row.counts.issued}
    assert hours == {"06": 1, "09": 2, "10": 2, "13": 1, "15": 2}, "local hours, across the UTC date line"
    by_service = {row.key: row.counts.issued for row in report.by_service}
    assert by_service == {"birth": 6, "permit": 2}, "a transferred ticket counts with its last service"
    assert report.outcomes.completed == 4 and report.outcomes.forwarded == 2


def test_satisfaction_counted_in_the_database(store: Store) -> None:
    config = office_config()
    with store.read_engine.connect() as connection:
        report = queries.period_report(connection, Q1, config)
    s = report.satisfaction
    assert s.responses == 3
    sections = {sec.section_id: sec for sec in s.sections}
    assert {k: v.respondents for k, v in sections.items()} == {"process": 3, "staff": 2, "result": 3}
    assert sections["process"].score.percent == pytest.approx(80.0)
    assert sections["staff"].score.percent == pytest.approx(90.0)
    assert sections["result"].score.percent == pytest.approx(260 / 3), "86.666…: from the unrounded mean"
    assert s.overall.mean == pytest.approx(4.25)
    assert s.overall.percent == pytest.approx(85.0)
    assert s.overall_item is not None and s.overall_item.score.counts.by_level() == (1, 2, 0, 0, 0)


def test_database_counts_give_what_build_report_gives_from_one_fact_per_response(store: Store) -> None:
    config = office_config()
    with store.read_engine.connect() as connection:
        facts = queries.survey_facts(connection, Q1)
        counted, notes = queries.satisfaction_report(queries.survey_counts(connection, Q1, config), config)
    assert len(facts) == 3
    assert build_report(Q1, [], facts, [], config).satisfaction == counted
    assert notes == []


def test_cases_late_as_of_the_quarter_end_and_as_of_a_later_day(store: Store) -> None:
    config = office_config()
    with store.read_engine.connect() as connection:
        at_end = queries.period_report(connection, Q1, config).cases
        later = queries.period_report(connection, Q1, config, as_of=dt.date(2026, 1, 20)).cases
    assert (at_end.forwarded, at_end.closed_late, at_end.open_not_due, at_end.open_overdue) == (2, 1, 1, 0)
    assert [c.days_late for c in at_end.late_cases] == [4]
    assert (later.closed_late, later.open_overdue) == (1, 1)
    assert [(c.reference, c.days_late) for c in later.late_cases] == [("REF-T8", 15), ("REF-T4", 4)]


def test_days_outside_the_quarter_belong_to_their_own_quarters(store: Store) -> None:
    config = office_config()
    with store.read_engine.connect() as connection:
        q4_2568 = queries.period_report(connection, Period.fiscal_quarter(2568, 4), config)
        q2_2569 = queries.period_report(connection, Period.fiscal_quarter(2569, 2), config)
        first_day = queries.period_report(connection, Period.day(dt.date(2025, 10, 1)), config)
    assert q4_2568.total.counts.issued == 1 and q4_2568.satisfaction.overall.percent == pytest.approx(20.0)
    assert q2_2569.total.counts.issued == 1 and q2_2569.satisfaction.responses == 0
    assert first_day.total.counts.issued == 6
    assert first_day.cases.forwarded == 1, "a day's cases are found through its tickets"
    assert first_day.cases.open_not_due == 1, "on its day, the case closed ten days later was open"


def test_the_office_records_overdue_cases(store: Store) -> None:
    """As of 20 Jan 2026, T8's case (due 5 Jan) is overdue; T4's was closed."""
    with store.read_engine.connect() as connection:
        records = queries.office_records(connection, today=dt.date(2026, 1, 20))
    assert records.overdue_cases == 1
    assert [(c.reference, c.days_overdue) for c in records.most_overdue] == [("REF-T8", 15)]
    assert records.devices == ()
    with store.read_engine.connect() as connection:
        assert queries.office_records(connection, today=dt.date(2026, 1, 5)).overdue_cases == 0, "due today"


def test_data_version_moves_with_a_rating_a_case_and_a_ticket(store: Store) -> None:
    """A cached report is used only while its version stands: each kind of change moves it."""
    versions = []

    def version() -> tuple[object, ...]:
        with store.read_engine.connect() as connection:
            return queries.data_version(connection, Q1)

    versions.append(version())
    t = queries.tickets_t
    with store.read_engine.connect() as connection:
        ticket_t8 = connection.execute(
            t.select().where(t.c.number == "C001").where(t.c.business_date == Q1.last)
        ).one()
    with store.engine.begin() as connection:
        connection.execute(
            queries.responses_t.insert().values(
                id="r-new", ticket_id=ticket_t8.id, business_date=Q1.last, number="C001", service="permit",
                counter="c2", channel="phone", at=at("2026-01-02", "09:00"), demographics={}, comment=None,
                event_id=None,
            )
        )  # fmt: skip
    versions.append(version())
    with store.engine.begin() as connection:
        connection.execute(
            queries.cases_t.update().where(queries.cases_t.c.status == "open").values(status="done")
        )
    versions.append(version())
    with store.engine.begin() as connection:
        connection.execute(
            queries.transitions_t.insert().values(
                ticket_id=ticket_t8.id, business_date=Q1.last, number="C001", service="permit",
                from_state="done", to_state="done", at=at("2026-01-02", "09:01"),
            )
        )  # fmt: skip
    versions.append(version())
    assert len(set(versions)) == 4, versions
