"""Rendering the dashboard's pages: the language's texts and number formats, and the few figures the
pages derive from a report (countdowns, chart bars). Plain functions, tested without a browser."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse

from common.thaidate import format_en_date, format_thai_date, to_local
from common.vocabulary import Lang
from server.reports import stats
from server.reports.model import Period, Report, TicketRow
from server.web.context import seen_text
from server.web.dashboard import charts
from server.web.dashboard.state import Dashboard
from server.web.dashboard.texts import text, translator
from server.web.security import visitor


def minutes(seconds: float | None) -> str:
    """Seconds shown as minutes with one decimal ("-" when unknown)."""
    return stats.format_minutes(seconds)


def share(fraction: float | None, digits: int = 1) -> str:
    """A fraction 0..1 shown as a percentage: 0.875 → "87.5%"."""
    if fraction is None:
        return "-"
    return stats.format_percent(fraction * 100, digits) + "%"


def percent(value: float | None, digits: int = 2) -> str:
    """A percentage 0..100 (percent satisfaction) with two decimals, as the LAO form prints it."""
    return stats.format_percent(value, digits)


def score(mean: float | None) -> str:
    return stats.format_number(mean, 2)


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def standard_time(minutes: int | None, lang: Lang) -> str:
    """A statutory standard time as people say it: "30 วัน", "2 ชม.", "15 นาที"."""
    if not minutes:
        return "-"
    if minutes == 1440:
        return text("day_one", lang)
    if minutes % 1440 == 0:
        return text("days_short", lang, n=f"{minutes // 1440:,}")
    if minutes % 60 == 0:
        return text("hours_short", lang, n=f"{minutes // 60:,}")
    return text("minutes_short", lang, n=f"{minutes:,}")


def level_key(mean: float | None) -> str | None:
    level = stats.satisfaction_level(mean)
    return None if level is None else f"level_{level}"


PAST_AFTER_DAYS = 30


@dataclass(frozen=True, slots=True)
class Due:
    """A due date of the quarterly report and how far it is."""

    day: dt.date
    days_left: int
    """Negative once past."""

    @property
    def tone(self) -> str:
        """Red while it is (just) overdue, amber in the last two weeks, grey once long past (the
        report was most likely filed: the page cannot know)."""
        if self.days_left < -PAST_AFTER_DAYS:
            return "past"
        if self.days_left < 0:
            return "overdue"
        return "soon" if self.days_left <= 14 else "later"


def dues(period: Period, today: dt.date) -> list[tuple[str, Due]]:
    """(text key, due) of the LAO's and the province's due dates of a quarterly report."""
    found = []
    if period.lao_due is not None:
        found.append(("due_lao", Due(period.lao_due, (period.lao_due - today).days)))
    if period.province_due is not None:
        found.append(("due_province", Due(period.province_due, (period.province_due - today).days)))
    return found


def hour_chart(rows: Sequence[TicketRow], title: str) -> Any:
    return charts.columns(
        [charts.Bar(r.key, r.counts.issued, f"{r.counts.issued:,}") for r in rows],
        title=title,
    )


def day_chart(rows: Sequence[TicketRow], title: str, lang: Lang) -> Any:
    """Tickets per day, for ranges short enough to read day by day."""
    bars = []
    for r in rows:
        day = dt.date.fromisoformat(r.key)
        label = f"{day.day}/{day.month}"
        bars.append(
            charts.Bar(
                label, r.counts.issued, f"{r.counts.issued:,}", "weekend" if day.weekday() >= 5 else ""
            )
        )
    return charts.columns(bars, title=title)


def _helpers(dashboard: Dashboard, lang: Lang, today: dt.date) -> dict[str, Any]:
    return {
        "seen": lambda moment: seen_text(moment, today, lang),
        "lang": lang.value,
        "t": translator(lang),
        "minutes": minutes,
        "share": share,
        "percent": percent,
        "score": score,
        "count": count,
        "level_key": level_key,
        "standard_time": lambda minutes: standard_time(minutes, lang),
        "meter": charts.meter,
        "label": lambda row: row.label_th if lang is Lang.th else row.label_en,
        "name_of": lambda obj: getattr(obj, "name_th" if lang is Lang.th else "name_en"),
        "date": lambda day: format_thai_date(day) if lang is Lang.th else format_en_date(day),
        "short_date": lambda day: (
            format_thai_date(day, short=True) if lang is Lang.th else format_en_date(day)
        ),
        "long_date": lambda day: (
            format_thai_date(day, weekday=True) if lang is Lang.th else f"{day:%A} {format_en_date(day)}"
        ),
        "clock": lambda moment: to_local(moment).strftime("%H:%M"),
        "dashboard_assets": dashboard.asset_version,
    }


def render(
    dashboard: Dashboard, request: Request, name: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A dashboard page in the visitor's language, inside the app's frame."""
    web = dashboard.web(request)
    helpers = _helpers(dashboard, visitor(request).lang, web.today())
    helpers.update(context)
    return web.render(request, name, status_code=status_code, **helpers)


def render_fragment(dashboard: Dashboard, request: Request, name: str, **context: Any) -> str:
    """A part of a page (the live part of today's), without the frame: it must not take the flash
    message the next full page is to show."""
    helpers = _helpers(dashboard, visitor(request).lang, dashboard.web(request).today())
    helpers.update(context)
    return dashboard.templates.get_template(name).render(helpers)


def say(request: Request, key: str, **values: object) -> str:
    """One of the dashboard's strings in the visitor's language."""
    return text(key, visitor(request).lang, **values)


def report_context(report: Report, lang: Lang) -> dict[str, Any]:
    """What the report partial needs beyond the report: its charts."""
    title = text("by_hour", lang)
    context: dict[str, Any] = {"report": report, "hour_chart": hour_chart(report.by_hour, title)}
    if report.by_day and len(report.by_day) <= 62:
        context["day_chart"] = day_chart(report.by_day, text("by_day", lang), lang)
    return context
