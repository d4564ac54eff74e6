"""The report as plain data, and the builder that aggregates plain facts into it.

The store's query code turns database rows into three kinds of facts (`TicketFacts`, `SurveyFacts`,
`CaseFacts`), one per ticket, survey response and forwarded case of the period; `build_report`
aggregates them with the office config into a `Report` that every export (XLSX, CSV, PDF) and the
dashboard print. Nothing here touches the database, so it is tested on hand-made facts.

Definitions (DESIGN.md "Reports"):

- *issued*: every ticket of the period; *served*: final state `done`; *no-show* and *cancelled* by
  final state; *in queue*: still waiting, called, serving or parked (a live day).
- *wait time*: issue → first call; *service time*: start → completion (supplied by the store from the
  transitions). Mean, median and 90th percentile as `stats` defines them.
- *within the standard time*: a served ticket whose time in the office (issue → completion) is at most
  the service's standard time. Only outcomes `completed` and `via_app` count: a `forwarded` request is
  finished by the agency (its lateness is the case's), `advice` is no service to time.
- *satisfaction*: per item from raw counts; a section pools every answer to its items (see `stats`);
  the overall figure pools every answer to every item of the form.
- *late case*: a case closed after its due date, or still open (as of the report's `as_of` date) past
  its due date.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from common.config import OfficeConfig
from common.thaidate import fiscal_quarter as _fiscal_quarter
from common.thaidate import (
    format_en_date,
    format_fiscal_quarter_en,
    format_fiscal_quarter_th,
    format_thai_date,
    quarter_range,
    report_due_dates,
)
from common.vocabulary import Outcome, Priority, ServiceGroup, ServiceKind, TicketState
from server.reports import stats
from server.reports.labels import GROUP_LABELS, KIND_LABELS, PRIORITY_LABELS, UNKNOWN_LABEL
from server.reports.stats import DurationSummary, LevelCounts, Satisfaction

logger = logging.getLogger(__name__)

IN_QUEUE_STATES = frozenset(
    {TicketState.waiting, TicketState.called, TicketState.serving, TicketState.parked}
)
TIMED_OUTCOMES = frozenset({Outcome.completed, Outcome.via_app})
"""Outcomes whose time in the office is compared with the service's standard time."""


# ------------------------------------------------------------------------------------------------ period


class PeriodKind(StrEnum):
    """What a report covers."""

    day = "day"
    range = "range"
    quarter = "quarter"


@dataclass(frozen=True, slots=True)
class Period:
    """The dates a report covers (business dates, inclusive). A fiscal quarter also carries its B.E.
    fiscal year, number and the two due dates of the quarterly OSS report."""

    kind: PeriodKind
    first: dt.date
    last: dt.date
    fiscal_year_be: int | None = None
    quarter: int | None = None
    lao_due: dt.date | None = None
    """The LAO sends the report to the provincial DLA office by this date."""
    province_due: dt.date | None = None
    """The province certifies to DLA by this date."""

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise ValueError(f"a period cannot end ({self.last}) before it starts ({self.first})")

    @classmethod
    def day(cls, day: dt.date) -> Period:
        """One business day (today live, or any past day)."""
        return cls(PeriodKind.day, day, day)

    @classmethod
    def date_range(cls, first: dt.date, last: dt.date) -> Period:
        """Any range of business days, both ends included."""
        return cls(PeriodKind.range, first, last)

    @classmethod
    def fiscal_quarter(cls, fiscal_year_be: int, quarter: int) -> Period:
        """Quarter 1..4 of a fiscal year named by its B.E. year (Q1 of FY 2569 is Oct–Dec 2568)."""
        if quarter not in (1, 2, 3, 4):
            raise ValueError(f"a fiscal quarter is 1..4 (got {quarter})")
        first, last = quarter_range(fiscal_year_be, quarter)
        lao_due, province_due = report_due_dates(fiscal_year_be, quarter)
        return cls(
            PeriodKind.quarter,
            first,
            last,
            fiscal_year_be=fiscal_year_be,
            quarter=quarter,
            lao_due=lao_due,
            province_due=province_due,
        )

    @classmethod
    def quarter_of(cls, day: dt.date) -> Period:
        """The fiscal quarter a date falls in."""
        fy_be, quarter = _fiscal_quarter(day)
        return cls.fiscal_quarter(fy_be, quarter)

    def contains(self, day: dt.date) -> bool:
        return self.first <= day <= self.last

    def dates(self) -> list[dt.date]:
        """Every date of the period, in order."""
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def label_th(self) -> str:
        """E.g. "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2569 (ต.ค. - ธ.ค. 68)", "วันที่ 3 ตุลาคม 2568"."""
        if self.fiscal_year_be is not None and self.quarter is not None:
            return format_fiscal_quarter_th(self.fiscal_year_be, self.quarter)
        if self.kind is PeriodKind.day:
            return f"วันที่ {format_thai_date(self.first)}"
        return f"ระหว่างวันที่ {format_thai_date(self.first)} ถึงวันที่ {format_thai_date(self.last)}"

    @property
    def label_en(self) -> str:
        """E.g. "Q1 of fiscal year 2569 B.E. (Oct - Dec 2025)"; C.E. dates in English."""
        if self.fiscal_year_be is not None and self.quarter is not None:
            return format_fiscal_quarter_en(self.fiscal_year_be, self.quarter)
        if self.kind is PeriodKind.day:
            return format_en_date(self.first)
        return f"{format_en_date(self.first)} – {format_en_date(self.last)}"


# ------------------------------------------------------------------------------------------------- facts


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """One ticket of the period, as the store reads it from the tickets and transitions tables."""

    ticket_id: str
    number: str
    service: str
    """Service code (group, kind and standard time come from the office config)."""
    business_date: dt.date
    hour_issued: int
    """Local (Asia/Bangkok) hour the ticket was issued, 0..23."""
    priority: Priority
    state: TicketState
    """Final (or, on a live day, current) state."""
    counter: str | None = None
    """The counter that last handled it; None when never called."""
    wait_s: float | None = None
    """Seconds from issue to first call; None when never called."""
    service_s: float | None = None
    """Seconds from start to completion; None unless served."""
    total_s: float | None = None
    """Seconds from issue to completion (time in the office, holds included); None unless served."""
    outcome: Outcome | None = None
    offline: bool = False
    """Issued by a kiosk while the server was unreachable."""

    def __post_init__(self) -> None:
        if not 0 <= self.hour_issued <= 23:
            raise ValueError(f"ticket {self.number}: hour_issued must be 0..23 (got {self.hour_issued})")


@dataclass(frozen=True, slots=True)
class SurveyFacts:
    """One survey response: the score (1..5) of each item answered."""

    response_id: str
    business_date: dt.date
    answers: Mapping[str, int]
    """Item id → score 1..5; items left unanswered are absent."""
    service: str | None = None
    counter: str | None = None


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """A forwarded case (a `forwarded` outcome opens one with the owning agency)."""

    case_id: str
    service: str
    opened_on: dt.date
    """Local date the request was forwarded."""
    due_on: dt.date
    """Due date from the service's standard time."""
    closed_on: dt.date | None = None
    """Local date the agency finished it; None while open."""
    reference: str | None = None
    """The agency's reference number, when known."""
    status: str = ""
    """The status as staff last recorded it (free text, shown as is)."""

    def is_closed(self, as_of: dt.date) -> bool:
        """Closed on or before `as_of` (a case closed later was still open on that date)."""
        return self.closed_on is not None and self.closed_on <= as_of

    def days_late(self, as_of: dt.date) -> int:
        """Days past due: by the closing date when closed by `as_of`, else by `as_of`; 0 if on time."""
        end = self.closed_on if self.is_closed(as_of) and self.closed_on is not None else as_of
        return max(0, (end - self.due_on).days)


# ------------------------------------------------------------------------------------------------ report


@dataclass(frozen=True, slots=True)
class TicketCounts:
    """How many tickets ended in each way."""

    issued: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    in_queue: int = 0
    """Still waiting, called, serving or parked (only on a live day)."""
    priority: int = 0
    """Issued with a priority (elderly, disabled, pregnant, monk)."""
    offline: int = 0
    """Issued by a kiosk while the server was unreachable."""

    @property
    def no_show_rate(self) -> float | None:
        return stats.no_show_rate(self.no_show, self.served)


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One line of a breakdown (a service, group, kind, counter, hour or day), or the total."""

    key: str
    label_th: str
    label_en: str
    counts: TicketCounts
    wait: DurationSummary
    service: DurationSummary
    within_standard: float | None
    """Share (0..1) of timed served tickets done within the standard time; None if none was timed."""
    timed: int
    """Served tickets compared with the standard time (the share's whole)."""
    standard_minutes: int | None = None
    """The service's standard time (service rows only)."""


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """Served tickets by outcome (the guideline's three kinds of service, plus advice)."""

    completed: int = 0
    forwarded: int = 0
    via_app: int = 0
    advice: int = 0
    not_recorded: int = 0

    def get(self, outcome: Outcome) -> int:
        value: int = getattr(self, outcome.value)
        return value


@dataclass(frozen=True, slots=True)
class ItemScore:
    """Satisfaction with one statement of the form."""

    item_id: str
    text_th: str
    text_en: str
    score: Satisfaction


@dataclass(frozen=True, slots=True)
class SectionScore:
    """Satisfaction with one section: every answer to its items pooled (see `stats`)."""

    section_id: str
    title_th: str
    title_en: str
    respondents: int
    """Responses that answered at least one item of the section."""
    score: Satisfaction
    items: tuple[ItemScore, ...]


@dataclass(frozen=True, slots=True)
class SatisfactionReport:
    """The survey's results for the period."""

    responses: int
    sections: tuple[SectionScore, ...]
    overall: Satisfaction
    """Every answer to every item of the form, pooled."""
    overall_item: ItemScore | None
    """The one-tap overall question, on its own."""
    ignored_answers: int = 0
    """Answers to items no longer in the form (counted, not scored)."""


@dataclass(frozen=True, slots=True)
class LateCase:
    """A case the dashboard and the report list as late."""

    case_id: str
    reference: str | None
    service: str
    service_th: str
    service_en: str
    opened_on: dt.date
    due_on: dt.date
    closed_on: dt.date | None
    days_late: int
    status: str


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """Cases forwarded in the period and how they stand as of the report's date."""

    forwarded: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    open_not_due: int = 0
    open_overdue: int = 0
    late_cases: tuple[LateCase, ...] = ()

    @property
    def closed(self) -> int:
        return self.closed_on_time + self.closed_late

    @property
    def open(self) -> int:
        return self.open_not_due + self.open_overdue

    @property
    def late(self) -> int:
        return self.closed_late + self.open_overdue

    @property
    def late_share(self) -> float | None:
        return stats.share(self.late, self.forwarded)


@dataclass(frozen=True, slots=True)
class OfficeHeader:
    """Who the report is from, printed in its header."""

    office_id: str
    name_th: str
    name_en: str
    district_th: str
    province_th: str
    address_th: str


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a report prints, computed; exports only lay it out."""

    period: Period
    office: OfficeHeader
    as_of: dt.date
    generated_at: dt.datetime
    total: TicketRow
    outcomes: OutcomeCounts
    by_service: tuple[TicketRow, ...]
    by_group: tuple[TicketRow, ...]
    by_kind: tuple[TicketRow, ...]
    by_counter: tuple[TicketRow, ...]
    by_hour: tuple[TicketRow, ...]
    by_day: tuple[TicketRow, ...]
    by_priority: tuple[TicketRow, ...]
    satisfaction: SatisfactionReport
    cases: CaseSummary
    notes: tuple[str, ...] = field(default=())
    """Problems found in the facts (unknown services, items), in Thai and English, for the reader."""


# ----------------------------------------------------------------------------------------------- builder

K = TypeVar("K", bound=Hashable)


def _within_standard(ticket: TicketFacts, standard_minutes: int | None) -> bool | None:
    """True/False for a served ticket with a timed outcome and a known standard; None otherwise."""
    if (
        ticket.state is not TicketState.done
        or ticket.outcome not in TIMED_OUTCOMES
        or ticket.total_s is None
        or standard_minutes is None
    ):
        return None
    return ticket.total_s <= standard_minutes * 60


def _counts(tickets: Sequence[TicketFacts]) -> TicketCounts:
    by_state: dict[TicketState, int] = defaultdict(int)
    for t in tickets:
        by_state[t.state] += 1
    return TicketCounts(
        issued=len(tickets),
        served=by_state[TicketState.done],
        no_show=by_state[TicketState.no_show],
        cancelled=by_state[TicketState.cancelled],
        in_queue=sum(by_state[s] for s in IN_QUEUE_STATES),
        priority=sum(1 for t in tickets if t.priority is not Priority.none),
        offline=sum(1 for t in tickets if t.offline),
    )


def _row(
    key: str,
    label: tuple[str, str],
    tickets: Sequence[TicketFacts],
    standards: Mapping[str, int],
    standard_minutes: int | None = None,
) -> TicketRow:
    flags = [_within_standard(t, standards.get(t.service)) for t in tickets]
    timed = sum(1 for f in flags if f is not None)
    return TicketRow(
        key=key,
        label_th=label[0],
        label_en=label[1],
        counts=_counts(tickets),
        wait=stats.summarize_durations(t.wait_s for t in tickets),
        service=stats.summarize_durations(t.service_s for t in tickets if t.state is TicketState.done),
        within_standard=stats.share_true(flags),
        timed=timed,
        standard_minutes=standard_minutes,
    )


def _group_by(tickets: Iterable[TicketFacts], key: Callable[[TicketFacts], K]) -> dict[K, list[TicketFacts]]:
    groups: dict[K, list[TicketFacts]] = defaultdict(list)
    for t in tickets:
        groups[key(t)].append(t)
    return groups


def _ordered_rows(
    groups: Mapping[K, Sequence[TicketFacts]],
    order: Sequence[K],
    make: Callable[[K, Sequence[TicketFacts]], TicketRow],
    *,
    keep_empty: bool,
) -> tuple[TicketRow, ...]:
    """Rows in the config's order (with empty rows when asked, so a quarterly form lists every
    service), then keys the config does not know, sorted."""
    rows = [make(k, groups.get(k, [])) for k in order if keep_empty or k in groups]
    extra = sorted((k for k in groups if k not in order), key=lambda k: (k == "", str(k)))
    rows += [make(k, groups[k]) for k in extra]
    return tuple(rows)


def _satisfaction(
    responses: Sequence[SurveyFacts], config: OfficeConfig, notes: list[str]
) -> SatisfactionReport:
    survey = config.survey
    known = {item.id for item in survey.items()}
    scores: dict[str, list[int]] = defaultdict(list)
    ignored = 0
    for response in responses:
        for item_id, score in response.answers.items():
            if item_id in known:
                scores[item_id].append(score)
            else:
                ignored += 1
    if ignored:
        notes.append(
            f"คำตอบ {ignored} รายการเป็นข้อคำถามที่ไม่อยู่ในแบบสอบถามปัจจุบัน จึงไม่นำมาคำนวณ / "
            f"{ignored} answers to items no longer in the form were not scored"
        )
        logger.warning("%d survey answers to items not in the form were not scored", ignored)

    item_scores: dict[str, ItemScore] = {}
    for item in survey.items():
        item_scores[item.id] = ItemScore(
            item_id=item.id,
            text_th=item.text_th,
            text_en=item.text_en,
            score=stats.satisfaction(LevelCounts.of_scores(scores.get(item.id, []))),
        )
    sections = []
    for section in survey.sections:
        ids = {item.id for item in section.items}
        items = tuple(item_scores[item.id] for item in section.items)
        sections.append(
            SectionScore(
                section_id=section.id,
                title_th=section.title_th,
                title_en=section.title_en,
                respondents=sum(1 for r in responses if ids.intersection(r.answers)),
                score=stats.pooled_satisfaction(i.score.counts for i in items),
                items=items,
            )
        )
    return SatisfactionReport(
        responses=len(responses),
        sections=tuple(sections),
        overall=stats.pooled_satisfaction(i.score.counts for i in item_scores.values()),
        overall_item=item_scores.get(survey.overall_item),
        ignored_answers=ignored,
    )


def _cases(cases: Sequence[CaseFacts], as_of: dt.date, labels: Mapping[str, tuple[str, str]]) -> CaseSummary:
    closed_on_time = closed_late = open_not_due = open_overdue = 0
    late: list[LateCase] = []
    for case in cases:
        days_late = case.days_late(as_of)
        if case.is_closed(as_of):
            if days_late:
                closed_late += 1
            else:
                closed_on_time += 1
        elif days_late:
            open_overdue += 1
        else:
            open_not_due += 1
        if days_late:
            th, en = labels.get(case.service, (case.service, case.service))
            late.append(
                LateCase(
                    case_id=case.case_id,
                    reference=case.reference,
                    service=case.service,
                    service_th=th,
                    service_en=en,
                    opened_on=case.opened_on,
                    due_on=case.due_on,
                    closed_on=case.closed_on if case.is_closed(as_of) else None,
                    days_late=days_late,
                    status=case.status,
                )
            )
    late.sort(key=lambda c: (-c.days_late, c.due_on, c.case_id))
    return CaseSummary(
        forwarded=len(cases),
        closed_on_time=closed_on_time,
        closed_late=closed_late,
        open_not_due=open_not_due,
        open_overdue=open_overdue,
        late_cases=tuple(late),
    )


def _check_dates(period: Period, what: str, dates: Iterable[tuple[str, dt.date]]) -> None:
    """Facts outside the period mean the query is wrong: say so instead of printing wrong totals."""
    for ident, day in dates:
        if not period.contains(day):
            raise ValueError(
                f"{what} {ident} is dated {day.isoformat()}, outside the period "
                f"{period.first.isoformat()}..{period.last.isoformat()}"
            )


def build_report(
    period: Period,
    tickets: Iterable[TicketFacts],
    responses: Iterable[SurveyFacts],
    cases: Iterable[CaseFacts],
    config: OfficeConfig,
    *,
    as_of: dt.date | None = None,
    generated_at: dt.datetime | None = None,
) -> Report:
    """Aggregate the period's facts into a report.

    `tickets` and `responses` are those whose business date is in the period; `cases` those forwarded
    (opened) in the period. `as_of` is the date open cases are judged late on: by default the period's
    last day, so a past quarter's report prints the same figures whenever it is exported; pass today
    to see how the cases stand now. `generated_at` (aware, defaults to now) is printed on the report.
    """
    ticket_list = list(tickets)
    response_list = list(responses)
    case_list = list(cases)
    _check_dates(period, "ticket", ((t.number, t.business_date) for t in ticket_list))
    _check_dates(period, "survey response", ((r.response_id, r.business_date) for r in response_list))
    _check_dates(period, "case", ((c.case_id, c.opened_on) for c in case_list))
    as_of = period.last if as_of is None else as_of
    generated_at = generated_at or dt.datetime.now(dt.UTC)

    services = {s.code: s for s in config.services}
    standards = {s.code: s.standard_minutes for s in config.services}
    service_labels = {s.code: (s.name_th, s.name_en) for s in config.services}
    notes: list[str] = []
    unknown = sorted({t.service for t in ticket_list if t.service not in services})
    if unknown:
        notes.append(
            "บัตรคิวของงานบริการที่ไม่อยู่ในแฟ้มตั้งค่าปัจจุบัน: "
            + ", ".join(unknown)
            + " / tickets of services not in the current office file"
        )
        logger.warning("report %s: tickets of unknown services %s", period.label_en, unknown)

    def service_row(code: str, rows: Sequence[TicketFacts]) -> TicketRow:
        label = service_labels.get(code, (code, code))
        return _row(code, label, rows, standards, standards.get(code))

    def group_of(t: TicketFacts) -> str:
        service = services.get(t.service)
        return service.group.value if service else ""

    def kind_of(t: TicketFacts) -> str:
        service = services.get(t.service)
        return service.kind.value if service else ""

    def group_row(key: str, rows: Sequence[TicketFacts]) -> TicketRow:
        label = GROUP_LABELS[ServiceGroup(key)] if key else UNKNOWN_LABEL
        return _row(key, label, rows, standards)

    def kind_row(key: str, rows: Sequence[TicketFacts]) -> TicketRow:
        label = KIND_LABELS[ServiceKind(key)] if key else UNKNOWN_LABEL
        return _row(key, label, rows, standards)

    counter_labels = {c.id: (c.name_th, c.name_en) for c in config.counters}

    def counter_row(key: str, rows: Sequence[TicketFacts]) -> TicketRow:
        label = counter_labels.get(key, (key, key)) if key else ("ยังไม่ถูกเรียก", "Never called")
        return _row(key, label, rows, standards)

    def hour_row(hour: int, rows: Sequence[TicketFacts]) -> TicketRow:
        text = f"{hour:02d}:00–{hour:02d}:59"
        return _row(f"{hour:02d}", (text, text), rows, standards)

    def day_row(day: dt.date, rows: Sequence[TicketFacts]) -> TicketRow:
        label = (format_thai_date(day, short=True), format_en_date(day))
        return _row(day.isoformat(), label, rows, standards)

    def priority_row(priority: Priority, rows: Sequence[TicketFacts]) -> TicketRow:
        return _row(priority.value, PRIORITY_LABELS[priority], rows, standards)

    outcome_counts: dict[str, int] = defaultdict(int)
    for t in ticket_list:
        if t.state is TicketState.done:
            outcome_counts[t.outcome.value if t.outcome else "not_recorded"] += 1

    hours = sorted({t.hour_issued for t in ticket_list})
    return Report(
        period=period,
        office=OfficeHeader(
            office_id=config.office.id,
            name_th=config.office.name_th,
            name_en=config.office.name_en,
            district_th=config.office.district_th,
            province_th=config.office.province_th,
            address_th=config.office.address_th,
        ),
        as_of=as_of,
        generated_at=generated_at,
        total=_row("total", ("รวมทั้งหมด", "Total"), ticket_list, standards),
        outcomes=OutcomeCounts(**outcome_counts),
        by_service=_ordered_rows(
            _group_by(ticket_list, lambda t: t.service),
            [s.code for s in config.services],
            service_row,
            keep_empty=period.kind is PeriodKind.quarter,
        ),
        by_group=_ordered_rows(
            _group_by(ticket_list, group_of), [g.value for g in ServiceGroup], group_row, keep_empty=False
        ),
        by_kind=_ordered_rows(
            _group_by(ticket_list, kind_of), [k.value for k in ServiceKind], kind_row, keep_empty=True
        ),
        by_counter=_ordered_rows(
            _group_by(ticket_list, lambda t: t.counter or ""),
            [c.id for c in config.counters],
            counter_row,
            keep_empty=True,
        ),
        by_hour=_ordered_rows(
            _group_by(ticket_list, lambda t: t.hour_issued),
            list(range(hours[0], hours[-1] + 1)) if hours else [],
            hour_row,
            keep_empty=True,
        ),
        by_day=()
        if period.kind is PeriodKind.day
        else _ordered_rows(
            _group_by(ticket_list, lambda t: t.business_date), period.dates(), day_row, keep_empty=False
        ),
        by_priority=_ordered_rows(
            _group_by(ticket_list, lambda t: t.priority), list(Priority), priority_row, keep_empty=False
        ),
        satisfaction=_satisfaction(response_list, config, notes),
        cases=_cases(case_list, as_of, service_labels),
        notes=tuple(notes),
    )
