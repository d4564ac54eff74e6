"""Satisfaction per service, counter, day and fiscal quarter from ratings stored by the real sequencer,
checked against a small example worked out by hand: 50 overall ratings, 30 x 5, 19 x 4 and 1 x 3, a
mean of 229 / 50 = 4.58, reported as 91.6 % (DOMAIN.md: from the unrounded mean)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.contract import SurveyAccepted
from common.vocabulary import Lang
from server.office import Office
from server.reports.stats import LevelCounts, format_percent, satisfaction
from server.survey.stats import Grouping, GroupSatisfaction, group_label, satisfaction_by
from tests.survey.helpers import Clock, rate, serve, start_office, stop_office

NOV_26 = dt.date(2026, 11, 26)  # FY 2570 Q1
JAN_5 = dt.date(2027, 1, 5)  # FY 2570 Q2


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """25 ratings of service A (counter c1) on 26 Nov; 5 more of A and 20 of service T (counter c2) on
    5 Jan. Ten of the first day's citizens also rated staff politeness (5)."""
    clock = Clock()
    office = start_office(tmp_path_factory.mktemp("stats"), clock=clock)
    plan = [
        *[("elderly-allowance", "c1", 5)] * 20,
        *[("elderly-allowance", "c1", 4)] * 5,
    ]
    for n, (service, counter, score) in enumerate(plan):
        ticket = serve(office, service, counter)
        answers = {"result.overall": score}
        if n < 10:
            answers["staff.polite"] = 5
        assert isinstance(rate(office, ticket.number, answers), SurveyAccepted)
    clock.advance(days=40)
    plan = [
        *[("elderly-allowance", "c1", 5)] * 5,
        *[("land-building-tax", "c2", 5)] * 5,
        *[("land-building-tax", "c2", 4)] * 14,
        ("land-building-tax", "c2", 3),
    ]
    for service, counter, score in plan:
        ticket = serve(office, service, counter)
        assert isinstance(rate(office, ticket.number, {"result.overall": score}), SurveyAccepted)
    yield office
    stop_office(office)


def groups(
    office: Office, by: Grouping, first: dt.date = NOV_26, last: dt.date = JAN_5
) -> dict[str, GroupSatisfaction]:
    with office.store.read_engine.connect() as connection:
        found = satisfaction_by(connection, first=first, last=last, by=by, config=office.config)
    return {g.key: g for g in found}


def test_the_hand_worked_example_by_quarter_and_in_all(office: Office) -> None:
    by_quarter = groups(office, Grouping.quarter)
    assert list(by_quarter) == ["2570-Q1", "2570-Q2"]
    q1, q2 = by_quarter["2570-Q1"], by_quarter["2570-Q2"]
    assert q1.responses == 25 and q2.responses == 25
    assert q1.counts["result.overall"] == LevelCounts(n5=20, n4=5)
    assert q1.overall_item.mean == pytest.approx(4.8)
    assert q2.overall_item.mean == pytest.approx(109 / 25)
    assert q2.overall_item.percent == pytest.approx(87.2)
    # all fifty together: 30 x 5, 19 x 4, 1 x 3
    total = q1.counts["result.overall"] + q2.counts["result.overall"]
    assert total == LevelCounts(n5=30, n4=19, n3=1)
    overall = satisfaction(total)
    assert overall.mean == pytest.approx(4.58)
    assert overall.percent == pytest.approx(91.6)
    assert format_percent(overall.percent, 1) == "91.6"


def test_by_service_and_by_counter(office: Office) -> None:
    by_service = groups(office, Grouping.service)
    assert list(by_service) == ["elderly-allowance", "land-building-tax"], "in the office file's order"
    a, t = by_service["elderly-allowance"], by_service["land-building-tax"]
    assert a.responses == 30 and t.responses == 20
    assert a.overall_item.mean == pytest.approx(145 / 30)
    assert t.overall_item.percent == pytest.approx(84.0)
    # pooled over the form: A's 30 overall answers and 10 politeness answers of 5
    assert a.overall.answers == 40
    assert a.overall.mean == pytest.approx((145 + 50) / 40)
    assert a.items["staff.polite"].percent == pytest.approx(100.0)
    assert t.items["staff.polite"].mean is None, "nobody answered: no figure, never 0"
    by_counter = groups(office, Grouping.counter)
    assert {k: g.responses for k, g in by_counter.items()} == {"c1": 30, "c2": 20}
    assert group_label(office.config, Grouping.counter, "c2", Lang.th) == "ช่องบริการ 2"


def test_by_day_and_a_shorter_period(office: Office) -> None:
    by_day = groups(office, Grouping.day)
    assert list(by_day) == ["2026-11-26", "2027-01-05"]
    assert group_label(office.config, Grouping.day, "2026-11-26", Lang.th) == "26 พฤศจิกายน 2569"
    only_january = groups(office, Grouping.service, first=JAN_5, last=JAN_5)
    assert only_january["elderly-allowance"].responses == 5
    assert group_label(office.config, Grouping.quarter, "2570-Q2", Lang.en) == "Q2 FY 2570 B.E."
    with pytest.raises(ValueError):
        groups(office, Grouping.day, first=JAN_5, last=NOV_26)


def test_an_empty_period_has_no_groups(office: Office, tmp_path: Path) -> None:
    assert groups(office, Grouping.service, first=dt.date(2026, 12, 1), last=dt.date(2026, 12, 31)) == {}
