"""The Thai calendar as the office lives it (DOMAIN.md): Buddhist Era years, the Asia/Bangkok business
day, the fiscal year (1 Oct - 30 Sep, named by the B.E. year in which it ends), its quarters and the
due dates of the quarterly OSS report, and dates written the Thai way.

Pure: no clock is read here. Callers pass the server's time (never a device's), as an aware datetime.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

BE_OFFSET = 543
"""พ.ศ. = ค.ศ. + 543."""


def _bangkok() -> dt.tzinfo:
    try:
        return ZoneInfo("Asia/Bangkok")
    except ZoneInfoNotFoundError:
        # A minimal system without tzdata. Thailand has kept UTC+7 without daylight saving since 1920,
        # so a fixed offset gives the same answer for every date the product meets.
        logger.warning("time zone data missing (install tzdata); using a fixed UTC+07:00 for Asia/Bangkok")
        return dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")


BANGKOK: dt.tzinfo = _bangkok()
"""The office's time zone: every local date and time of the product is Asia/Bangkok."""

MONTHS_TH: tuple[str, ...] = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
"""Full Thai month names, January first."""

MONTHS_TH_SHORT: tuple[str, ...] = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
"""Abbreviated Thai month names, as on official forms."""

MONTHS_EN_SHORT: tuple[str, ...] = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

WEEKDAYS_TH: tuple[str, ...] = ("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์")
"""Thai weekday names, Monday first (`date.weekday()` order)."""

_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


# ---------------------------------------------------------------------------------------------- years


def to_be_year(year: int) -> int:
    """C.E. year -> B.E. year: 2026 -> 2569."""
    return year + BE_OFFSET


def to_ce_year(year_be: int) -> int:
    """B.E. year -> C.E. year: 2569 -> 2026."""
    return year_be - BE_OFFSET


# ------------------------------------------------------------------------------------------ local time


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(
            f"naive datetime {moment.isoformat()}: pass an aware time from the server clock, "
            "e.g. datetime.now(UTC)"
        )


def to_local(moment: dt.datetime) -> dt.datetime:
    """An aware datetime as Asia/Bangkok local time. Naive datetimes are refused: whose clock are they?"""
    _require_aware(moment)
    return moment.astimezone(BANGKOK)


def business_date(now_utc: dt.datetime) -> dt.date:
    """The office's business day at `now_utc` (ticket numbers restart each one): the local date in
    Asia/Bangkok, so 17:00 UTC is already the next day. Takes the server's clock, never a device's."""
    return to_local(now_utc).date()


def _local_date(day: dt.date) -> dt.date:
    """A date as is; an aware datetime as its Bangkok local date (a naive one is refused)."""
    if isinstance(day, dt.datetime):
        return to_local(day).date()
    return day


# ----------------------------------------------------------------------------------------- fiscal year


def fiscal_year(day: dt.date) -> int:
    """The B.E. fiscal year `day` falls in: 1 Oct 2025 - 30 Sep 2026 is FY 2569."""
    day = _local_date(day)
    return to_be_year(day.year + 1 if day.month >= 10 else day.year)


def fiscal_quarter(day: dt.date) -> tuple[int, int]:
    """(fiscal year B.E., quarter 1-4): Q1 is Oct-Dec, Q2 Jan-Mar, Q3 Apr-Jun, Q4 Jul-Sep."""
    day = _local_date(day)
    return fiscal_year(day), (day.month - 10) % 12 // 3 + 1


_QUARTER_FIRST_MONTH = {1: 10, 2: 1, 3: 4, 4: 7}


def _check_quarter(quarter: int) -> None:
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"a fiscal quarter is 1, 2, 3 or 4, not {quarter!r}")


def fiscal_year_range(fy_be: int) -> tuple[dt.date, dt.date]:
    """(1 Oct, 30 Sep) of a B.E. fiscal year, as C.E. dates: FY 2569 -> (2025-10-01, 2026-09-30)."""
    end_ce = to_ce_year(fy_be)
    return dt.date(end_ce - 1, 10, 1), dt.date(end_ce, 9, 30)


def quarter_range(fy_be: int, quarter: int) -> tuple[dt.date, dt.date]:
    """(first day, last day) of a fiscal quarter, as C.E. dates: FY 2569 Q1 -> (2025-10-01, 2025-12-31)."""
    _check_quarter(quarter)
    year = to_ce_year(fy_be) - 1 if quarter == 1 else to_ce_year(fy_be)
    first_month = _QUARTER_FIRST_MONTH[quarter]
    last_month = first_month + 2
    return dt.date(year, first_month, 1), dt.date(year, last_month, calendar.monthrange(year, last_month)[1])


def report_due_dates(fy_be: int, quarter: int) -> tuple[dt.date, dt.date]:
    """(LAO due, province due) of the quarterly OSS report (guideline section 5): the LAO reports to the
    provincial DLA office by the 30th of the quarter's last month; the province certifies to DLA by the
    15th of the following month. FY 2567 Q1 -> (30 Dec 2566, 15 Jan 2567), in C.E. dates."""
    _check_quarter(quarter)
    last = quarter_range(fy_be, quarter)[1]
    lao_due = last.replace(day=30)
    following = last + dt.timedelta(days=1)
    return lao_due, following.replace(day=15)


# ------------------------------------------------------------------------------------------- formatting


def to_thai_digits(text: str) -> str:
    """Arabic digits -> Thai digits (๐-๙), for printed forms; other characters unchanged."""
    return text.translate(_THAI_DIGITS)


def format_thai_date(
    day: dt.date, *, short: bool = False, thai_digits: bool = False, weekday: bool = False
) -> str:
    """A date the Thai way, B.E. year: "26 พฤศจิกายน 2569"; short "26 พ.ย. 69"; with `weekday`
    "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569". An aware datetime is first taken to Bangkok local time."""
    day = _local_date(day)
    if short:
        text = f"{day.day} {MONTHS_TH_SHORT[day.month - 1]} {to_be_year(day.year) % 100:02d}"
    else:
        text = f"{day.day} {MONTHS_TH[day.month - 1]} {to_be_year(day.year)}"
    if weekday:
        text = f"วัน{WEEKDAYS_TH[day.weekday()]}ที่ {text}"
    return to_thai_digits(text) if thai_digits else text


def format_thai_datetime(
    moment: dt.datetime, *, short: bool = False, thai_digits: bool = False, seconds: bool = False
) -> str:
    """Date and time the Thai way, Bangkok local time: "26 พฤศจิกายน 2569 เวลา 14:05 น.";
    short "26 พ.ย. 69 14:05 น."."""
    local = to_local(moment)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    date_text = format_thai_date(local.date(), short=short)
    text = f"{date_text} {clock} น." if short else f"{date_text} เวลา {clock} น."
    return to_thai_digits(text) if thai_digits else text


def format_en_date(day: dt.date) -> str:
    """English date, C.E. as English text beside the Thai usually is: "26 Nov 2026"."""
    day = _local_date(day)
    return f"{day.day} {MONTHS_EN_SHORT[day.month - 1]} {day.year}"


def format_en_datetime(moment: dt.datetime, *, seconds: bool = False) -> str:
    """English date and time, Bangkok local time: "26 Nov 2026 14:05"."""
    local = to_local(moment)
    return f"{format_en_date(local.date())} {local.strftime('%H:%M:%S' if seconds else '%H:%M')}"


def format_fiscal_quarter_th(fy_be: int, quarter: int) -> str:
    """Report heading: "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2569 (ต.ค. - ธ.ค. 68)"."""
    first, last = quarter_range(fy_be, quarter)
    year = to_be_year(last.year) % 100
    span = f"{MONTHS_TH_SHORT[first.month - 1]} - {MONTHS_TH_SHORT[last.month - 1]} {year:02d}"
    return f"ไตรมาสที่ {quarter} ปีงบประมาณ พ.ศ. {fy_be} ({span})"


def format_fiscal_quarter_en(fy_be: int, quarter: int) -> str:
    """Report heading: "Q1 of fiscal year 2569 B.E. (Oct - Dec 2025)"."""
    first, last = quarter_range(fy_be, quarter)
    span = f"{MONTHS_EN_SHORT[first.month - 1]} - {MONTHS_EN_SHORT[last.month - 1]} {last.year}"
    return f"Q{quarter} of fiscal year {fy_be} B.E. ({span})"
