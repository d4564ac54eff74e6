"""The report built from the hand-made quarter in conftest.py, checked against figures worked out by
hand (the arithmetic is in the comments)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from common.config import OfficeConfig
from common.thaidate import format_thai_date
from common.vocabulary import Priority, TicketState
from server.reports.model import Period as P
from server.reports.model import PeriodKind, Report, TicketFacts, TicketRow, build_report
from tests.reports.quarter_facts import CASES, D1, GENERATED, MIN, QUARTER, RESPONSES, TICKETS


def issued(rows: Sequence[TicketRow]) -> list[tuple[str, int]]:
    return [(r.key, r.counts.issued) for r in rows]


def test_counts_of_the_quarter(report: Report) -> None:
    c = report.total.counts
    assert (c.issued, c.served, c.no_show, c.cancelled, c.in_queue) == (10, 7, 2, 1, 0)
    assert (c.priority, c.offline) == (2, 1)
    assert c.no_show_rate == pytest.approx(2 / 9)  # 2 no-shows among 9 called tickets that ended
    o = report.outcomes
    assert (o.completed, o.via_app, o.forwarded, o.advice, o.not_recorded) == (4, 1, 1, 1, 0)


def test_wait_and_service_times(report: Report) -> None:
    wait = report.total.wait
    # waits of the 9 called tickets, sorted: 1 2 4 5 8 10 15 20 30 minutes
    assert wait.count == 9
    assert wait.mean_s == pytest.approx(95 / 9 * MIN)
    assert wait.median_s == pytest.approx(8 * MIN)
    assert wait.p90_s == pytest.approx(22 * MIN)  # rank 7.2: 20 + 0.2 x 10
    service = report.total.service
    # service times of the 7 served, sorted: 5 6 8 10 12 20 25 minutes
    assert service.count == 7
    assert service.mean_s == pytest.approx(86 / 7 * MIN)
    assert service.median_s == pytest.approx(10 * MIN)
    assert service.p90_s == pytest.approx(22 * MIN)  # rank 5.4: 20 + 0.4 x 5


def test_share_within_standard_time(report: Report) -> None:
    # timed: A001 15<=15, A002 18>15, B001 7<=20, B002 12<=20, A004 13<=15; C001 forwarded, C002 advice
    assert report.total.timed == 5
    assert report.total.within_standard == pytest.approx(4 / 5)
    birth, tax, permit = report.by_service
    assert (birth.key, birth.timed) == ("birth", 3)
    assert birth.within_standard == pytest.approx(2 / 3)
    assert (tax.within_standard, tax.timed) == (1.0, 2)
    assert (permit.within_standard, permit.timed) == (None, 0)


def test_breakdowns(report: Report) -> None:
    birth, tax, permit = report.by_service
    assert (birth.counts.issued, birth.counts.served, birth.counts.no_show) == (4, 3, 1)
    assert birth.wait.median_s == pytest.approx(7.5 * MIN)  # 1 5 10 20
    assert (tax.counts.issued, tax.counts.served, tax.counts.no_show, tax.counts.cancelled) == (4, 2, 1, 1)
    assert (permit.counts.issued, permit.counts.served) == (2, 2)
    assert [r.standard_minutes for r in report.by_service] == [15, 20, 7200]
    assert birth.label_th == "แจ้งเกิด"

    assert [(r.key, r.counts.issued) for r in report.by_group] == [
        ("citizen", 4),
        ("business", 2),
        ("local", 4),
    ]
    assert report.by_group[0].label_th == "งานบริการเพื่อประชาชน"
    assert [(r.key, r.counts.issued) for r in report.by_kind] == [
        ("forward", 2),
        ("complete", 8),
        ("via_app", 0),
    ]
    assert issued(report.by_counter) == [("c1", 5), ("c2", 4), ("", 1)]
    assert issued(report.by_hour) == [("08", 3), ("09", 3), ("10", 2), ("11", 2)]
    assert issued(report.by_day) == [
        ("2025-10-01", 4),
        ("2025-11-14", 4),
        ("2025-12-31", 2),
    ]
    assert [(r.key, r.counts.issued) for r in report.by_priority] == [
        ("none", 8),
        ("elderly", 1),
        ("monk", 1),
    ]


def test_satisfaction_per_item_and_section(report: Report) -> None:
    s = report.satisfaction
    assert s.responses == 5
    process, staff, result = s.sections
    steps, time = process.items
    assert steps.score.counts.by_level() == (2, 1, 1, 0, 0)  # 5 4 5 3
    assert steps.score.mean == pytest.approx(4.25)
    assert steps.score.percent == pytest.approx(85.0)
    assert time.score.percent == pytest.approx(80.0)  # 4 3 5 4 = 16 / 4
    # process: 8 answers, 33 points; r5 answered nothing in it
    assert (process.respondents, process.score.answers) == (4, 8)
    assert process.score.percent == pytest.approx(4.125 / 5 * 100)
    # staff: polite 5 5 4 5 3 (22), advice 5 4 5 4 (18): 40 / 9, not the mean of 4.4 and 4.5
    assert (staff.respondents, staff.score.answers) == (5, 9)
    assert staff.score.mean == pytest.approx(40 / 9)
    assert staff.score.percent == pytest.approx(40 / 9 / 5 * 100)
    assert result.score.percent == pytest.approx(92.0)  # 23 / 5 = 4.6
    # whole form: 33 + 40 + 23 = 96 points over 22 answers
    assert s.overall.answers == 22
    assert s.overall.mean == pytest.approx(96 / 22)
    assert s.overall_item is not None and s.overall_item.item_id == "result.overall"


def test_cases_late_as_of_the_end_of_the_quarter(report: Report) -> None:
    k = report.cases
    assert (k.forwarded, k.closed_on_time, k.closed_late, k.open_not_due, k.open_overdue) == (5, 1, 1, 1, 2)
    assert k.late == 3 and k.late_share == pytest.approx(0.6)
    # K5 closed only on 2 Jan: open and 23 days past its 8 Dec due date on 31 Dec
    assert [(c.case_id, c.days_late) for c in k.late_cases] == [("K5", 23), ("K2", 4), ("K3", 4)]
    assert k.late_cases[0].closed_on is None


def test_cases_late_as_of_a_later_day(office: OfficeConfig) -> None:
    later = build_report(QUARTER, TICKETS, RESPONSES, CASES, office, as_of=dt.date(2026, 1, 10))
    k = later.cases
    # K5 closed 25 days late, K4 5 days overdue, K3 14 days overdue
    assert (k.closed_on_time, k.closed_late, k.open_not_due, k.open_overdue) == (1, 2, 0, 2)
    assert [(c.case_id, c.days_late) for c in k.late_cases] == [("K5", 25), ("K3", 14), ("K4", 5), ("K2", 4)]


def test_fiscal_quarter_boundaries_in_buddhist_era() -> None:
    q4 = P.quarter_of(dt.date(2026, 9, 30))  # 30 Sep 2569
    assert (q4.fiscal_year_be, q4.quarter) == (2569, 4)
    assert (q4.first, q4.last) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert (q4.lao_due, q4.province_due) == (dt.date(2026, 9, 30), dt.date(2026, 10, 15))

    q1 = P.quarter_of(dt.date(2026, 10, 1))  # 1 Oct 2569 starts FY 2570
    assert (q1.kind, q1.fiscal_year_be, q1.quarter) == (PeriodKind.quarter, 2570, 1)
    assert (q1.first, q1.last) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert q1.lao_due is not None and q1.province_due is not None
    assert format_thai_date(q1.lao_due) == "30 ธันวาคม 2569"
    assert format_thai_date(q1.province_due) == "15 มกราคม 2570"

    assert QUARTER.label_th == "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2569 (ต.ค. - ธ.ค. 68)"
    assert "2569" in QUARTER.label_en and "Oct" in QUARTER.label_en
    with pytest.raises(ValueError):
        P.fiscal_quarter(2569, 5)


def test_day_and_range_periods() -> None:
    day = P.day(dt.date(2025, 10, 3))
    assert day.label_th == "วันที่ 3 ตุลาคม 2568"
    assert day.lao_due is None
    span = P.date_range(dt.date(2025, 10, 1), dt.date(2025, 10, 15))
    assert span.label_th == "ระหว่างวันที่ 1 ตุลาคม 2568 ถึงวันที่ 15 ตุลาคม 2568"
    assert len(span.dates()) == 15
    with pytest.raises(ValueError):
        P.date_range(dt.date(2025, 10, 2), dt.date(2025, 10, 1))


def test_live_day_counts_tickets_still_in_the_queue(office: OfficeConfig) -> None:
    waiting = TicketFacts("t-x", "A005", "birth", D1, 14, Priority.pregnant, TicketState.waiting)
    serving = TicketFacts("t-y", "B005", "tax", D1, 14, Priority.none, TicketState.serving, "c1", 120.0)
    live = build_report(P.day(D1), [waiting, serving], [], [], office, generated_at=GENERATED)
    assert (live.total.counts.issued, live.total.counts.in_queue, live.total.counts.served) == (2, 2, 0)
    assert live.by_day == ()
    # a day report lists only services that had tickets; a quarter lists every service
    assert [r.key for r in live.by_service] == ["birth", "tax"]
    assert live.satisfaction.overall.percent is None


def test_facts_outside_the_period_are_refused(office: OfficeConfig) -> None:
    stray = TicketFacts("t-z", "A099", "birth", dt.date(2026, 1, 1), 9, Priority.none, TicketState.done)
    with pytest.raises(ValueError, match="A099 is dated 2026-01-01, outside the period"):
        build_report(QUARTER, [stray], [], [], office)


def test_unknown_service_and_item_are_reported_not_lost(office: OfficeConfig) -> None:
    old = TicketFacts("t-o", "Z001", "old-service", D1, 9, Priority.none, TicketState.cancelled)
    response = RESPONSES[0].__class__("r9", D1, {"result.overall": 5, "removed.item": 1})
    report = build_report(QUARTER, [*TICKETS, old], [response], [], office)
    assert report.by_service[-1].key == "old-service"
    assert report.total.counts.issued == 11
    assert report.satisfaction.ignored_answers == 1
    assert report.satisfaction.overall.percent == pytest.approx(100.0)
    assert len(report.notes) == 2
