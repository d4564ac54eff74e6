"""The report laid out as plain tables, once, so the XLSX and CSV exports (and anyone else) show the
same columns with the same Thai and English headers. Values stay unrounded numbers here; each export
decides how to show them (a number format in XLSX, two decimals in CSV)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from common.thaidate import format_thai_date
from server.reports import stats
from server.reports.labels import OUTCOME_LABELS
from server.reports.model import Report, TicketRow
from server.reports.stats import LEVEL_LABELS_EN, LEVEL_LABELS_TH, LEVELS, Satisfaction

Value = str | int | float | dt.date | None


class ColumnKind(StrEnum):
    """How a column's values are shown."""

    text = "text"
    integer = "integer"
    """A whole number: #,##0."""
    minutes = "minutes"
    """A duration in minutes, one decimal."""
    percent = "percent"
    """A percentage 0..100, two decimals."""
    score = "score"
    """A mean score 1..5, two decimals."""
    date = "date"
    """A calendar date (C.E. date value; a B.E. text column sits beside it)."""
    auto = "auto"
    """Whole numbers as counts, other numbers with two decimals (the summary's value column)."""


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    """Stable machine name (CSV readers may rely on the order, not on the Thai text)."""
    th: str
    en: str
    kind: ColumnKind = ColumnKind.text

    @property
    def header(self) -> str:
        """Thai first, English beside: "ออกบัตรคิว / Issued"."""
        return f"{self.th} / {self.en}"


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    """File-safe name, also the CSV file name."""
    title_th: str
    title_en: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.name}: a row has {len(row)} values for {len(self.columns)}")


@dataclass(frozen=True, slots=True)
class Sheet:
    """One XLSX sheet: one or more tables stacked."""

    name: str
    tables: tuple[Table, ...]


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _percent(fraction: float | None) -> float | None:
    return None if fraction is None else fraction * 100


def _level_th(score: Satisfaction) -> str:
    level = stats.satisfaction_level(score.mean)
    return "" if level is None else LEVEL_LABELS_TH[level]


def _level_en(score: Satisfaction) -> str:
    level = stats.satisfaction_level(score.mean)
    return "" if level is None else LEVEL_LABELS_EN[level]


# ------------------------------------------------------------------------------------------ ticket rows

_COUNT_COLUMNS: tuple[Column, ...] = (
    Column("issued", "ออกบัตรคิว", "Issued", ColumnKind.integer),
    Column("served", "ให้บริการแล้ว", "Served", ColumnKind.integer),
    Column("no_show", "ไม่มาตามเรียก", "No-show", ColumnKind.integer),
    Column("cancelled", "ยกเลิก", "Cancelled", ColumnKind.integer),
    Column("in_queue", "ยังอยู่ในคิว", "Still in queue", ColumnKind.integer),
)
_TIME_COLUMNS: tuple[Column, ...] = (
    Column("wait_mean_min", "รอเฉลี่ย (นาที)", "Mean wait (min)", ColumnKind.minutes),
    Column("wait_median_min", "รอ มัธยฐาน (นาที)", "Median wait (min)", ColumnKind.minutes),
    Column("wait_p90_min", "รอ P90 (นาที)", "90th pct wait (min)", ColumnKind.minutes),
    Column("service_mean_min", "ให้บริการเฉลี่ย (นาที)", "Mean service (min)", ColumnKind.minutes),
    Column("service_median_min", "ให้บริการ มัธยฐาน (นาที)", "Median service (min)", ColumnKind.minutes),
    Column("service_p90_min", "ให้บริการ P90 (นาที)", "90th pct service (min)", ColumnKind.minutes),
    Column("within_standard_pct", "ร้อยละภายในเวลามาตรฐาน", "Within standard time (%)", ColumnKind.percent),
    Column("timed", "จำนวนที่เทียบเวลามาตรฐาน", "Compared with the standard", ColumnKind.integer),
)


_STANDARD_COLUMN = Column("standard_min", "เวลามาตรฐาน (นาที)", "Standard time (min)", ColumnKind.integer)


def _ticket_values(row: TicketRow) -> tuple[Value, ...]:
    c = row.counts
    return (
        c.issued,
        c.served,
        c.no_show,
        c.cancelled,
        c.in_queue,
        _minutes(row.wait.mean_s),
        _minutes(row.wait.median_s),
        _minutes(row.wait.p90_s),
        _minutes(row.service.mean_s),
        _minutes(row.service.median_s),
        _minutes(row.service.p90_s),
        _percent(row.within_standard),
        row.timed,
    )


def ticket_table(
    name: str,
    title: tuple[str, str],
    key: Column,
    rows: Sequence[TicketRow],
    total: TicketRow | None,
    *,
    key_value: Callable[[TicketRow], Value] = lambda r: r.key,
    with_standard: bool = False,
) -> Table:
    """A breakdown table: key, Thai and English name, counts, times, within-standard share; the
    total last when given."""
    columns = (
        key,
        Column("name_th", "ชื่อ", "Name (Thai)"),
        Column("name_en", "ชื่อภาษาอังกฤษ", "Name (English)"),
        *((_STANDARD_COLUMN,) if with_standard else ()),
        *_COUNT_COLUMNS,
        *_TIME_COLUMNS,
    )
    out: list[tuple[Value, ...]] = []
    for row in [*rows, *([total] if total is not None else [])]:
        standard: tuple[Value, ...] = (row.standard_minutes,) if with_standard else ()
        head: Value = "" if row is total else key_value(row)
        out.append((head, row.label_th, row.label_en, *standard, *_ticket_values(row)))
    return Table(name, title[0], title[1], columns, tuple(out))


# ------------------------------------------------------------------------------------------------ tables


def summary_table(report: Report) -> Table:
    """The headline figures, one per row."""
    t = report.total
    c = t.counts
    s = report.satisfaction
    k = report.cases
    minute = ("นาที", "min")
    pct = ("ร้อยละ", "%")
    count = ("ราย", "tickets")
    rows: list[tuple[str, str, Value, tuple[str, str]]] = [
        ("บัตรคิวที่ออก", "Tickets issued", c.issued, count),
        ("ให้บริการแล้ว", "Served", c.served, count),
        ("ไม่มาตามเรียก", "No-show", c.no_show, count),
        ("ยกเลิก", "Cancelled", c.cancelled, count),
        ("ยังอยู่ในคิว", "Still in queue", c.in_queue, count),
        ("คิวพิเศษ (ผู้สูงอายุ คนพิการ ฯลฯ)", "Priority tickets", c.priority, count),
        ("ออกบัตรขณะเครื่องแม่ข่ายขัดข้อง", "Issued offline", c.offline, count),
        ("อัตราไม่มาตามเรียก", "No-show rate", _percent(c.no_show_rate), pct),
        ("เวลารอเฉลี่ย", "Mean wait", _minutes(t.wait.mean_s), minute),
        ("เวลารอ มัธยฐาน", "Median wait", _minutes(t.wait.median_s), minute),
        ("เวลารอ เปอร์เซ็นไทล์ที่ 90", "90th percentile wait", _minutes(t.wait.p90_s), minute),
        ("เวลาให้บริการเฉลี่ย", "Mean service time", _minutes(t.service.mean_s), minute),
        ("เวลาให้บริการ มัธยฐาน", "Median service time", _minutes(t.service.median_s), minute),
        ("เวลาให้บริการ เปอร์เซ็นไทล์ที่ 90", "90th percentile service time", _minutes(t.service.p90_s), minute),
        ("ให้บริการภายในเวลามาตรฐาน", "Served within the standard time", _percent(t.within_standard), pct),
    ]
    for outcome, (th, en) in OUTCOME_LABELS.items():
        rows.append((f"ผลการให้บริการ: {th}", f"Outcome: {en}", report.outcomes.get(outcome), count))
    rows += [
        ("ผู้ตอบแบบประเมิน", "Survey respondents", s.responses, ("ราย", "responses")),
        ("คะแนนความพึงพอใจเฉลี่ย (เต็ม 5)", "Mean satisfaction (of 5)", s.overall.mean, ("คะแนน", "points")),
        ("ร้อยละความพึงพอใจ", "Percent satisfaction", s.overall.percent, pct),
        ("เรื่องที่ส่งต่อหน่วยงาน", "Cases forwarded", k.forwarded, ("เรื่อง", "cases")),
        ("เรื่องที่ล่าช้ากว่ากำหนด", "Cases late", k.late, ("เรื่อง", "cases")),
    ]
    columns = (
        Column("item_th", "รายการ", "Item (Thai)"),
        Column("item_en", "Item", "Item (English)"),
        Column("value", "จำนวน", "Value", ColumnKind.auto),
        Column("unit_th", "หน่วย", "Unit (Thai)"),
        Column("unit_en", "Unit", "Unit (English)"),
    )
    return Table(
        "summary",
        "สรุปผลการให้บริการ",
        "Summary",
        columns,
        tuple((th, en, value, unit[0], unit[1]) for th, en, value, unit in rows),
    )


def satisfaction_tables(report: Report) -> tuple[Table, Table]:
    """Per section (pooled) and per item, with the raw counts at each level."""
    s = report.satisfaction
    score_columns = (
        Column("answers", "จำนวนคำตอบ", "Answers", ColumnKind.integer),
        Column("mean", "ค่าเฉลี่ย", "Mean (of 5)", ColumnKind.score),
        Column("percent", "ร้อยละความพึงพอใจ", "Percent satisfaction", ColumnKind.percent),
        Column("level_th", "ระดับ", "Level (Thai)"),
        Column("level_en", "Level", "Level (English)"),
    )

    def scored(score: Satisfaction) -> tuple[Value, ...]:
        return (score.answers, score.mean, score.percent, _level_th(score), _level_en(score))

    sections = Table(
        "satisfaction_sections",
        "ความพึงพอใจรายด้าน",
        "Satisfaction by section",
        (
            Column("section", "รหัสด้าน", "Section id"),
            Column("title_th", "ด้าน", "Section (Thai)"),
            Column("title_en", "Section", "Section (English)"),
            Column("respondents", "ผู้ตอบ", "Respondents", ColumnKind.integer),
            *score_columns,
        ),
        (
            *(
                (sec.section_id, sec.title_th, sec.title_en, sec.respondents, *scored(sec.score))
                for sec in s.sections
            ),
            ("", "ภาพรวมทุกด้าน", "All sections", s.responses, *scored(s.overall)),
        ),
    )
    level_columns = tuple(
        Column(f"n{level}", f"{LEVEL_LABELS_TH[level]} ({level})", LEVEL_LABELS_EN[level], ColumnKind.integer)
        for level in LEVELS
    )
    items = Table(
        "satisfaction_items",
        "ความพึงพอใจรายข้อ",
        "Satisfaction by item",
        (
            Column("section", "รหัสด้าน", "Section id"),
            Column("item", "รหัสข้อ", "Item id"),
            Column("text_th", "ข้อคำถาม", "Statement (Thai)"),
            Column("text_en", "Statement", "Statement (English)"),
            *level_columns,
            *score_columns,
        ),
        tuple(
            (sec.section_id, i.item_id, i.text_th, i.text_en, *i.score.counts.by_level(), *scored(i.score))
            for sec in s.sections
            for i in sec.items
        ),
    )
    return sections, items


def case_tables(report: Report) -> tuple[Table, Table]:
    """How the forwarded cases stand, and the late ones one by one."""
    k = report.cases
    summary = Table(
        "cases",
        "เรื่องที่รับและส่งต่อหน่วยงาน",
        "Cases forwarded to agencies",
        (
            Column("item_th", "รายการ", "Item (Thai)"),
            Column("item_en", "Item", "Item (English)"),
            Column("value", "จำนวน", "Value", ColumnKind.auto),
        ),
        (
            ("ส่งต่อในช่วงรายงาน", "Forwarded in the period", k.forwarded),
            ("เสร็จภายในกำหนด", "Closed on time", k.closed_on_time),
            ("เสร็จล่าช้ากว่ากำหนด", "Closed late", k.closed_late),
            ("ยังไม่เสร็จ ยังไม่ถึงกำหนด", "Open, not yet due", k.open_not_due),
            ("ยังไม่เสร็จ เกินกำหนด", "Open, overdue", k.open_overdue),
            ("ล่าช้ารวม", "Late in all", k.late),
            ("ร้อยละที่ล่าช้า", "Late (%)", _percent(k.late_share)),
        ),
    )
    late = Table(
        "late_cases",
        "รายการเรื่องที่ล่าช้า",
        "Late cases",
        (
            Column("case", "เลขที่เรื่อง", "Case id"),
            Column("reference", "เลขอ้างอิงหน่วยงาน", "Agency reference"),
            Column("service_th", "งานบริการ", "Service (Thai)"),
            Column("service_en", "Service", "Service (English)"),
            Column("opened", "วันที่ส่งต่อ", "Forwarded on", ColumnKind.date),
            Column("due", "วันครบกำหนด", "Due on", ColumnKind.date),
            Column("due_be", "ครบกำหนด (พ.ศ.)", "Due (B.E.)"),
            Column("closed", "วันที่เสร็จ", "Closed on", ColumnKind.date),
            Column("days_late", "ล่าช้า (วัน)", "Days late", ColumnKind.integer),
            Column("status", "สถานะ", "Status"),
        ),
        tuple(
            (
                c.case_id,
                c.reference or "",
                c.service_th,
                c.service_en,
                c.opened_on,
                c.due_on,
                format_thai_date(c.due_on, short=True),
                c.closed_on,
                c.days_late,
                c.status,
            )
            for c in k.late_cases
        ),
    )
    return summary, late


def report_sheets(report: Report) -> tuple[Sheet, ...]:
    """Every table of the report, grouped into the XLSX sheets."""
    total = report.total
    services = ticket_table(
        "services",
        ("จำแนกตามงานบริการ", "By service"),
        Column("code", "รหัสงาน", "Service code"),
        report.by_service,
        total,
        with_standard=True,
    )
    groups = ticket_table(
        "groups",
        ("จำแนกตามกลุ่มงานบริการ", "By service group"),
        Column("group", "กลุ่ม", "Group"),
        report.by_group,
        total,
    )
    kinds = ticket_table(
        "kinds",
        ("จำแนกตามประเภทการให้บริการ", "By kind of service"),
        Column("kind", "ประเภท", "Kind"),
        report.by_kind,
        total,
    )
    priorities = ticket_table(
        "priorities",
        ("จำแนกตามประเภทคิว", "By priority"),
        Column("priority", "ประเภทคิว", "Priority"),
        report.by_priority,
        total,
    )
    counters = ticket_table(
        "counters",
        ("จำแนกตามช่องบริการ", "By counter"),
        Column("counter", "ช่องบริการ", "Counter"),
        report.by_counter,
        total,
    )
    hours = ticket_table(
        "hours",
        ("จำแนกตามช่วงเวลาที่รับบัตรคิว", "By hour issued"),
        Column("hour", "ชั่วโมง", "Hour"),
        report.by_hour,
        total,
    )
    days = ticket_table(
        "days",
        ("จำแนกตามวัน", "By day"),
        Column("date", "วันที่", "Date", ColumnKind.date),
        report.by_day,
        total,
        key_value=lambda r: dt.date.fromisoformat(r.key),
    )
    sections, items = satisfaction_tables(report)
    cases, late = case_tables(report)
    return (
        Sheet("สรุป Summary", (summary_table(report),)),
        Sheet("งานบริการ Services", (services,)),
        Sheet("กลุ่ม-ประเภท Groups", (groups, kinds, priorities)),
        Sheet("ช่อง-เวลา Counters-hours", (counters, hours, *((days,) if report.by_day else ()))),
        Sheet("ความพึงพอใจ Satisfaction", (sections, items)),
        Sheet("เรื่องส่งต่อ Cases", (cases, late)),
    )


def report_tables(report: Report) -> tuple[Table, ...]:
    """Every table, in sheet order (one CSV each)."""
    return tuple(table for sheet in report_sheets(report) for table in sheet.tables)
