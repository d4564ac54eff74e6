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
from collections import Counter, defaultdict
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


_PRIORITIES = {p.value: p for p in Priority}
_STATES = {s.value: s for s in TicketState}
_OUTCOMES = {o.value: o for o in Outcome}


@dataclass(frozen=True, slots=True)
class TicketColumns:
    """The tickets of a period column by column: the fields of `TicketFacts`, one sequence each, all of
    the same length, with priority, state and outcome as their plain values ("done", not
    `TicketState.done`). The store fills them straight from its rows: a quarter is fifty thousand
    tickets, and an object per ticket costs more than the query. `of` makes them from facts."""

    ids: Sequence[str]
    numbers: Sequence[str]
    services: Sequence[str]
    dates: Sequence[dt.date]
    hours: Sequence[int]
    priorities: Sequence[str]
    states: Sequence[str]
    counters: Sequence[str | None]
    waits: Sequence[float | None]
    service_times: Sequence[float | None]
    totals: Sequence[float | None]
    outcomes: Sequence[str | None]
    offline: Sequence[bool]

    def __post_init__(self) -> None:
        n = len(self.ids)
        for name in self.__slots__:
            if len(getattr(self, name)) != n:
                found = len(getattr(self, name))
                raise ValueError(f"ticket columns: {name} has {found} values for {n} tickets")
        if not n:
            return
        if min(self.hours) < 0 or max(self.hours) > 23:
            bad = next(i for i, hour in enumerate(self.hours) if not 0 <= hour <= 23)
            raise ValueError(f"ticket {self.numbers[bad]}: hour_issued must be 0..23 (got {self.hours[bad]})")
        for name, values, known in (
            ("priority", set(self.priorities), _PRIORITIES),
            ("state", set(self.states), _STATES),
            ("outcome", set(self.outcomes).difference({None}), _OUTCOMES),
        ):
            unknown = values.difference(known)
            if unknown:
                raise ValueError(f"ticket columns: unknown {name} {sorted(map(str, unknown))}")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, tickets: Iterable[TicketFacts]) -> TicketColumns:
        listed = list(tickets)
        return cls(
            ids=[t.ticket_id for t in listed],
            numbers=[t.number for t in listed],
            services=[t.service for t in listed],
            dates=[t.business_date for t in listed],
            hours=[t.hour_issued for t in listed],
            priorities=[t.priority.value for t in listed],
            states=[t.state.value for t in listed],
            counters=[t.counter for t in listed],
            waits=[t.wait_s for t in listed],
            service_times=[t.service_s for t in listed],
            totals=[t.total_s for t in listed],
            outcomes=[None if t.outcome is None else t.outcome.value for t in listed],
            offline=[t.offline for t in listed],
        )

    def facts(self) -> list[TicketFacts]:
        """One `TicketFacts` per ticket."""
        return [
            TicketFacts(
                ticket_id=ticket_id,
                number=number,
                service=service,
                business_date=day,
                hour_issued=hour,
                priority=_PRIORITIES[priority],
                state=_STATES[state],
                counter=counter,
                wait_s=wait,
                service_s=service_time,
                total_s=total,
                outcome=None if outcome is None else _OUTCOMES[outcome],
                offline=offline,
            )
            for (
                ticket_id,
                number,
                service,
                day,
                hour,
                priority,
                state,
                counter,
                wait,
                service_time,
                total,
                outcome,
                offline,
            ) in zip(
                self.ids,
                self.numbers,
                self.services,
                self.dates,
                self.hours,
                self.priorities,
                self.states,
                self.counters,
                self.waits,
                self.service_times,
                self.totals,
                self.outcomes,
                self.offline,
                strict=True,
            )
        ]


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


class _Group:
    """What a row of a breakdown is made of: one group of tickets' counts and durations."""

    __slots__ = ("offline", "priority", "services", "states", "timed", "waits", "within")

    def __init__(self) -> None:
        self.states: dict[str, int] = {}
        """State value → tickets."""
        self.priority = 0
        self.offline = 0
        self.timed = 0
        self.within = 0
        self.waits: list[float] = []
        """Wait times, sorted."""
        self.services: list[float] = []
        """Service times of the served, sorted."""

    def counts(self) -> TicketCounts:
        by_state = self.states
        return TicketCounts(
            issued=sum(by_state.values()),
            served=by_state.get(_DONE, 0),
            no_show=by_state.get(TicketState.no_show.value, 0),
            cancelled=by_state.get(TicketState.cancelled.value, 0),
            in_queue=sum(by_state.get(s.value, 0) for s in IN_QUEUE_STATES),
            priority=self.priority,
            offline=self.offline,
        )

    @classmethod
    def merged(cls, groups: Iterable[_Group]) -> _Group:
        """Several groups as one (a service group is its services), times sorted again (cheap: the
        sort finds the sorted runs)."""
        merged = cls()
        states: Counter[str] = Counter()
        for group in groups:
            states.update(group.states)
            merged.priority += group.priority
            merged.offline += group.offline
            merged.timed += group.timed
            merged.within += group.within
            merged.waits += group.waits
            merged.services += group.services
        merged.states = dict(states)
        merged.waits.sort()
        merged.services.sort()
        return merged


_NO_TICKETS = _Group()
_DONE = TicketState.done.value
_TIMED_VALUES = frozenset(o.value for o in TIMED_OUTCOMES)


class _Tickets:
    """The period's tickets prepared once for every breakdown: per ticket whether it counts as a
    priority, offline or timed ticket (and if so within the standard time), and the indexes of the
    known wait and service times in ascending order of the time, so that each group's times come out
    sorted without sorting them again."""

    def __init__(self, columns: TicketColumns, standards: Mapping[str, int | None]) -> None:
        self.columns = columns
        none = Priority.none.value
        self.priority = [p != none for p in columns.priorities]
        done = _DONE
        timed_outcomes = _TIMED_VALUES
        # Within the standard: a served ticket of a timed outcome with a known time in the office
        # and a known standard; None when not compared.
        self.within: list[bool | None] = [
            None
            if state != done or outcome not in timed_outcomes or total is None or standard is None
            else total <= standard * 60
            for state, outcome, total, standard in zip(
                columns.states,
                columns.outcomes,
                columns.totals,
                map(standards.get, columns.services),
                strict=True,
            )
        ]
        self.timed = [flag is not None for flag in self.within]
        self.in_time = [flag is True for flag in self.within]
        # Each ticket's state and flags as one small number, so a breakdown counts (key, profile)
        # pairs once rather than states and each flag apart.
        states = list(_STATES)
        index = {state: n for n, state in enumerate(states)}
        self.profiles = [
            index[state] << 4 | priority << 3 | offline << 2 | timed << 1 | in_time
            for state, priority, offline, timed, in_time in zip(
                columns.states, self.priority, columns.offline, self.timed, self.in_time, strict=True
            )
        ]
        self.profile_of = [
            (states[code >> 4], code >> 3 & 1, code >> 2 & 1, code >> 1 & 1, code & 1)
            for code in range(len(states) << 4)
        ]
        waits = [0.0 if w is None else float(w) for w in columns.waits]
        self.wait_order = [i for i, w in enumerate(columns.waits) if w is not None]
        self.wait_order.sort(key=waits.__getitem__)
        self.wait_sorted = [waits[i] for i in self.wait_order]
        service_times = [0.0 if v is None else float(v) for v in columns.service_times]
        self.service_order = [
            i
            for i, (v, state) in enumerate(zip(columns.service_times, columns.states, strict=True))
            if v is not None and state == done
        ]
        self.service_order.sort(key=service_times.__getitem__)
        self.service_sorted = [service_times[i] for i in self.service_order]

    def groups(self, keys: Sequence[K]) -> dict[K, _Group]:
        """The tickets grouped by `keys` (one key per ticket), every figure of a row accumulated."""
        groups: dict[K, _Group] = {}
        profile_of = self.profile_of
        for (key, profile), n in Counter(zip(keys, self.profiles, strict=True)).items():
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group()
            state, priority, offline, timed, within = profile_of[profile]
            group.states[state] = group.states.get(state, 0) + n
            group.priority += priority * n
            group.offline += offline * n
            group.timed += timed * n
            group.within += within * n
        # The keys in ascending order of the times first: reading them in the tickets' order, not
        # at random, more than halves the cost of the loops.
        add = {key: group.waits.append for key, group in groups.items()}
        for key, value in zip([keys[i] for i in self.wait_order], self.wait_sorted, strict=True):
            add[key](value)
        add = {key: group.services.append for key, group in groups.items()}
        for key, value in zip([keys[i] for i in self.service_order], self.service_sorted, strict=True):
            add[key](value)
        return groups

    def total(self) -> _Group:
        group = _Group()
        group.states = dict(Counter(self.columns.states))
        group.priority = sum(self.priority)
        group.offline = sum(1 for flag in self.columns.offline if flag)
        group.timed = sum(self.timed)
        group.within = sum(self.in_time)
        group.waits = self.wait_sorted
        group.services = self.service_sorted
        return group


def _regrouped(groups: Mapping[str, _Group], key_of: Mapping[str, str]) -> dict[str, _Group]:
    """Groups of services regrouped by something of the service (its group or kind; "" if unknown)."""
    parts: dict[str, list[_Group]] = defaultdict(list)
    for code, group in groups.items():
        parts[key_of.get(code, "")].append(group)
    return {key: _Group.merged(found) for key, found in parts.items()}


def _row(key: str, label: tuple[str, str], group: _Group, standard_minutes: int | None = None) -> TicketRow:
    return TicketRow(
        key=key,
        label_th=label[0],
        label_en=label[1],
        counts=group.counts(),
        wait=stats.summarize_sorted_durations(group.waits),
        service=stats.summarize_sorted_durations(group.services),
        within_standard=stats.share(group.within, group.timed),
        timed=group.timed,
        standard_minutes=standard_minutes,
    )


def _ordered_rows(
    groups: Mapping[K, _Group],
    order: Sequence[K],
    make: Callable[[K, _Group], TicketRow],
    *,
    keep_empty: bool,
) -> tuple[TicketRow, ...]:
    """Rows in the config's order (with empty rows when asked, so a quarterly form lists every
    service), then keys the config does not know, sorted."""
    rows = [make(k, groups.get(k, _NO_TICKETS)) for k in order if keep_empty or k in groups]
    known = set(order)
    extra = sorted((k for k in groups if k not in known), key=lambda k: (k == "", str(k)))
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
    tickets: Iterable[TicketFacts] | TicketColumns,
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

    The tickets are read in one pass per breakdown over their columns (`TicketColumns`, as the store
    gives them, or made here from facts), each group's times sorted once for its percentiles.
    """
    columns = tickets if isinstance(tickets, TicketColumns) else TicketColumns.of(tickets)
    response_list = list(responses)
    case_list = list(cases)
    if columns.dates and not (period.first <= min(columns.dates) and max(columns.dates) <= period.last):
        _check_dates(period, "ticket", zip(columns.numbers, columns.dates, strict=True))
    _check_dates(period, "survey response", ((r.response_id, r.business_date) for r in response_list))
    _check_dates(period, "case", ((c.case_id, c.opened_on) for c in case_list))
    as_of = period.last if as_of is None else as_of
    generated_at = generated_at or dt.datetime.now(dt.UTC)

    services = {s.code: s for s in config.services}
    standards: dict[str, int | None] = {s.code: s.standard_minutes for s in config.services}
    service_labels = {s.code: (s.name_th, s.name_en) for s in config.services}
    notes: list[str] = []
    unknown = sorted(set(columns.services).difference(services))
    if unknown:
        notes.append(
            "บัตรคิวของงานบริการที่ไม่อยู่ในแฟ้มตั้งค่าปัจจุบัน: "
            + ", ".join(unknown)
            + " / tickets of services not in the current office file"
        )
        logger.warning("report %s: tickets of unknown services %s", period.label_en, unknown)

    prepared = _Tickets(columns, standards)

    by_service = prepared.groups(columns.services)

    def service_row(code: str, group: _Group) -> TicketRow:
        label = service_labels.get(code, (code, code))
        return _row(code, label, group, standards.get(code))

    group_of = {s.code: s.group.value for s in config.services}
    kind_of = {s.code: s.kind.value for s in config.services}

    def group_row(key: str, group: _Group) -> TicketRow:
        label = GROUP_LABELS[ServiceGroup(key)] if key else UNKNOWN_LABEL
        return _row(key, label, group)

    def kind_row(key: str, group: _Group) -> TicketRow:
        label = KIND_LABELS[ServiceKind(key)] if key else UNKNOWN_LABEL
        return _row(key, label, group)

    counter_labels = {c.id: (c.name_th, c.name_en) for c in config.counters}

    def counter_row(key: str, group: _Group) -> TicketRow:
        label = counter_labels.get(key, (key, key)) if key else ("ยังไม่ถูกเรียก", "Never called")
        return _row(key, label, group)

    def hour_row(hour: int, group: _Group) -> TicketRow:
        text = f"{hour:02d}:00–{hour:02d}:59"
        return _row(f"{hour:02d}", (text, text), group)

    def day_row(day: dt.date, group: _Group) -> TicketRow:
        label = (format_thai_date(day, short=True), format_en_date(day))
        return _row(day.isoformat(), label, group)

    def priority_row(priority: str, group: _Group) -> TicketRow:
        return _row(priority, PRIORITY_LABELS[_PRIORITIES[priority]], group)

    done = _DONE
    outcome_counts: dict[str, int] = {
        outcome or "not_recorded": n
        for outcome, n in Counter(
            outcome for state, outcome in zip(columns.states, columns.outcomes, strict=True) if state == done
        ).items()
    }

    hours = sorted(set(columns.hours))
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
        total=_row("total", ("รวมทั้งหมด", "Total"), prepared.total()),
        outcomes=OutcomeCounts(**outcome_counts),
        by_service=_ordered_rows(
            by_service,
            [s.code for s in config.services],
            service_row,
            keep_empty=period.kind is PeriodKind.quarter,
        ),
        by_group=_ordered_rows(
            _regrouped(by_service, group_of),
            [g.value for g in ServiceGroup],
            group_row,
            keep_empty=False,
        ),
        by_kind=_ordered_rows(
            _regrouped(by_service, kind_of),
            [k.value for k in ServiceKind],
            kind_row,
            keep_empty=True,
        ),
        by_counter=_ordered_rows(
            prepared.groups([counter or "" for counter in columns.counters]),
            [c.id for c in config.counters],
            counter_row,
            keep_empty=True,
        ),
        by_hour=_ordered_rows(
            prepared.groups(columns.hours),
            list(range(hours[0], hours[-1] + 1)) if hours else [],
            hour_row,
            keep_empty=True,
        ),
        by_day=()
        if period.kind is PeriodKind.day
        else _ordered_rows(prepared.groups(columns.dates), period.dates(), day_row, keep_empty=False),
        by_priority=_ordered_rows(
            prepared.groups(columns.priorities), list(_PRIORITIES), priority_row, keep_empty=False
        ),
        satisfaction=_satisfaction(response_list, config, notes),
        cases=_cases(case_list, as_of, service_labels),
        notes=tuple(notes),
    )
