"""The Thai calendar: B.E. years, the Bangkok business day, fiscal years and quarters, report due dates
(guideline section 5) and dates written the Thai way."""

from __future__ import annotations

import datetime as dt

import pytest

from common.thaidate import (
    business_date,
    fiscal_quarter,
    fiscal_year,
    fiscal_year_range,
    format_en_date,
    format_en_datetime,
    format_fiscal_quarter_en,
    format_fiscal_quarter_th,
    format_thai_date,
    format_thai_datetime,
    quarter_range,
    report_due_dates,
    to_be_year,
    to_thai_digits,
)

UTC = dt.UTC
D = dt.date


@pytest.mark.parametrize(("ce", "be"), [(2023, 2566), (2024, 2567), (2026, 2569), (2027, 2570)])
def test_be_year(ce: int, be: int) -> None:
    assert to_be_year(ce) == be


@pytest.mark.parametrize(
    ("utc", "local_day"),
    [
        (dt.datetime(2026, 11, 26, 16, 59, 59, tzinfo=UTC), D(2026, 11, 26)),
        (dt.datetime(2026, 11, 26, 17, 0, tzinfo=UTC), D(2026, 11, 27)),  # 00:00 in Bangkok
        (dt.datetime(2026, 12, 31, 17, 0, tzinfo=UTC), D(2027, 1, 1)),  # new year in Bangkok first
        (dt.datetime(2026, 9, 30, 17, 0, tzinfo=UTC), D(2026, 10, 1)),  # and a new fiscal year
        (dt.datetime(2024, 2, 28, 18, 0, tzinfo=UTC), D(2024, 2, 29)),
        (dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))), D(2026, 11, 26)),
    ],
)
def test_business_date_is_the_bangkok_local_date(utc: dt.datetime, local_day: dt.date) -> None:
    assert business_date(utc) == local_day


def test_business_date_refuses_a_naive_clock() -> None:
    with pytest.raises(ValueError, match="naive"):
        business_date(dt.datetime(2026, 11, 26, 17, 0))


@pytest.mark.parametrize(
    ("day", "fy", "quarter"),
    [
        (D(2025, 9, 30), 2568, 4),
        (D(2025, 10, 1), 2569, 1),
        (D(2025, 12, 31), 2569, 1),
        (D(2026, 1, 1), 2569, 2),
        (D(2026, 3, 31), 2569, 2),
        (D(2026, 4, 1), 2569, 3),
        (D(2026, 6, 30), 2569, 3),
        (D(2026, 7, 1), 2569, 4),
        (D(2026, 9, 30), 2569, 4),
        (D(2026, 10, 1), 2570, 1),
        (D(2024, 2, 29), 2567, 2),
        (D(2023, 10, 1), 2567, 1),
    ],
)
def test_fiscal_year_and_quarter(day: dt.date, fy: int, quarter: int) -> None:
    assert fiscal_year(day) == fy
    assert fiscal_quarter(day) == (fy, quarter)
    first, last = quarter_range(fy, quarter)
    assert first <= day <= last


def test_fiscal_quarter_of_an_aware_datetime_uses_the_bangkok_date() -> None:
    assert fiscal_quarter(dt.datetime(2026, 9, 30, 17, 30, tzinfo=UTC)) == (2570, 1)


@pytest.mark.parametrize(
    ("quarter", "first", "last"),
    [
        (1, D(2025, 10, 1), D(2025, 12, 31)),
        (2, D(2026, 1, 1), D(2026, 3, 31)),
        (3, D(2026, 4, 1), D(2026, 6, 30)),
        (4, D(2026, 7, 1), D(2026, 9, 30)),
    ],
)
def test_quarter_range_of_fy_2569(quarter: int, first: dt.date, last: dt.date) -> None:
    assert quarter_range(2569, quarter) == (first, last)


def test_fiscal_year_range_and_leap_quarter() -> None:
    assert fiscal_year_range(2569) == (D(2025, 10, 1), D(2026, 9, 30))
    assert quarter_range(2567, 2) == (D(2024, 1, 1), D(2024, 3, 31))


@pytest.mark.parametrize(
    ("quarter", "lao_due", "province_due"),
    # The guideline's own table for FY 2567: 30 ธ.ค. 2566 / 15 ม.ค. 2567 ... 30 ก.ย. 2567 / 15 ต.ค. 2567.
    [
        (1, D(2023, 12, 30), D(2024, 1, 15)),
        (2, D(2024, 3, 30), D(2024, 4, 15)),
        (3, D(2024, 6, 30), D(2024, 7, 15)),
        (4, D(2024, 9, 30), D(2024, 10, 15)),
    ],
)
def test_report_due_dates_match_the_guideline(quarter: int, lao_due: dt.date, province_due: dt.date) -> None:
    assert report_due_dates(2567, quarter) == (lao_due, province_due)


@pytest.mark.parametrize("quarter", [0, 5, -1])
def test_a_quarter_outside_1_to_4_is_refused(quarter: int) -> None:
    with pytest.raises(ValueError, match="1, 2, 3 or 4"):
        quarter_range(2569, quarter)
    with pytest.raises(ValueError):
        report_due_dates(2569, quarter)


@pytest.mark.parametrize(
    ("day", "full", "short", "english"),
    [
        (D(2026, 11, 26), "26 พฤศจิกายน 2569", "26 พ.ย. 69", "26 Nov 2026"),
        (D(2024, 2, 29), "29 กุมภาพันธ์ 2567", "29 ก.พ. 67", "29 Feb 2024"),
        (D(2026, 12, 31), "31 ธันวาคม 2569", "31 ธ.ค. 69", "31 Dec 2026"),
        (D(2027, 1, 1), "1 มกราคม 2570", "1 ม.ค. 70", "1 Jan 2027"),
        (D(2026, 9, 30), "30 กันยายน 2569", "30 ก.ย. 69", "30 Sep 2026"),
        (D(2026, 10, 1), "1 ตุลาคม 2569", "1 ต.ค. 69", "1 Oct 2026"),
        (D(2043, 5, 4), "4 พฤษภาคม 2586", "4 พ.ค. 86", "4 May 2043"),
    ],
)
def test_format_dates(day: dt.date, full: str, short: str, english: str) -> None:
    assert format_thai_date(day) == full
    assert format_thai_date(day, short=True) == short
    assert format_en_date(day) == english


def test_format_thai_date_with_thai_digits_and_weekday() -> None:
    day = D(2026, 11, 26)
    assert format_thai_date(day, thai_digits=True) == "๒๖ พฤศจิกายน ๒๕๖๙"
    assert format_thai_date(day, short=True, thai_digits=True) == "๒๖ พ.ย. ๖๙"
    assert format_thai_date(day, weekday=True) == "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569"


def test_format_datetimes_in_bangkok_time() -> None:
    moment = dt.datetime(2026, 11, 26, 7, 5, 9, tzinfo=UTC)
    assert format_thai_datetime(moment) == "26 พฤศจิกายน 2569 เวลา 14:05 น."
    assert format_thai_datetime(moment, short=True) == "26 พ.ย. 69 14:05 น."
    assert format_thai_datetime(moment, seconds=True, thai_digits=True) == "๒๖ พฤศจิกายน ๒๕๖๙ เวลา ๑๔:๐๕:๐๙ น."
    assert format_en_datetime(moment) == "26 Nov 2026 14:05"
    late = dt.datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert format_thai_datetime(late) == "1 มกราคม 2570 เวลา 00:30 น."
    assert format_thai_date(late) == "1 มกราคม 2570"  # an aware datetime is dated in Bangkok
    with pytest.raises(ValueError, match="naive"):
        format_thai_datetime(dt.datetime(2026, 11, 26, 7, 5))


def test_to_thai_digits_leaves_other_characters() -> None:
    assert to_thai_digits("A012 ช่อง 2, 09:30") == "A๐๑๒ ช่อง ๒, ๐๙:๓๐"


def test_quarter_headings() -> None:
    assert format_fiscal_quarter_th(2569, 1) == "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2569 (ต.ค. - ธ.ค. 68)"
    assert format_fiscal_quarter_th(2569, 4) == "ไตรมาสที่ 4 ปีงบประมาณ พ.ศ. 2569 (ก.ค. - ก.ย. 69)"
    assert format_fiscal_quarter_en(2569, 1) == "Q1 of fiscal year 2569 B.E. (Oct - Dec 2025)"
