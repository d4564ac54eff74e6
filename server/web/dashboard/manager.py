"""The manager's pages: today live, a day or a range of dates, the quarterly OSS report, and its
exports (XLSX, PDF, CSV) made in the background with a progress page. Managers and administrators."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form, HTTPException, Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from common.config import OfficeConfig
from common.thaidate import BE_OFFSET, fiscal_quarter, to_local
from common.vocabulary import DeviceRole, Lang, PrinterState
from server.reports.export_csv import report_csv_zip
from server.reports.export_pdf import report_pdf
from server.reports.export_xlsx import report_xlsx
from server.reports.model import Period, Report
from server.reports.progress import Progress
from server.reports.queries import DeviceNow, OfficeRecords
from server.web.context import WebContext, datetime_text
from server.web.dashboard import views
from server.web.dashboard.jobs import ExportFile, ExportJob, JobState, TooManyExports
from server.web.dashboard.live import LiveQueue
from server.web.dashboard.state import STATIC_DIR, Dashboard, dashboard_of
from server.web.dashboard.texts import text
from server.web.port import BUDDHIST_ERA_FROM, ClockStep, wrong_year
from server.web.security import Access, guarded_router, visitor

logger = logging.getLogger(__name__)

manager = guarded_router(Access.manager)

POLL_FACTOR = 2
"""The today page refreshes at twice the console's interval: a manager glances at it, staff work by it."""
PRINTER_PROBLEMS = frozenset(
    {PrinterState.no_paper, PrinterState.paper_low, PrinterState.cover_open, PrinterState.offline}
)
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}

FORMATS: dict[str, tuple[str, str]] = {
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": ("pdf", "application/pdf"),
    "csv": ("zip", "application/zip"),
}

FormText = Annotated[str, Form(max_length=40)]


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


# ------------------------------------------------------------------------------------------------ today


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """A device as the today page lists it: from the office file, the presence table, or both."""

    id: str
    role: str
    name: str
    now: DeviceNow | None

    @property
    def online(self) -> bool | None:
        return None if self.now is None else self.now.online

    @property
    def printer_problem(self) -> bool:
        return (
            self.now is not None
            and self.role == DeviceRole.kiosk.value
            and self.now.printer in {p.value for p in PRINTER_PROBLEMS}
        )


def device_lines(config: OfficeConfig, records: OfficeRecords, lang: Lang) -> list[DeviceLine]:
    """Every device of the office file, then any other device that reported its status."""
    seen = {d.device: d for d in records.devices}
    lines = [
        DeviceLine(d.id, d.role.value, d.name_th if lang is Lang.th else d.name_en, seen.pop(d.id, None))
        for d in config.devices
    ]
    lines += [
        DeviceLine(d.device, d.role, d.device, d) for d in seen.values() if d.role != DeviceRole.server.value
    ]
    return lines


def _device_label(device: str, lines: list[DeviceLine]) -> str:
    """`ตู้กดบัตรคิว 1 (kiosk-1)`: the name the office gave it, and the id its settings carry."""
    name = next((line.name for line in lines if line.id == device), device)
    return device if name == device else f"{name} ({device})"


def _today_context(request: Request, dashboard: Dashboard) -> dict[str, Any]:
    web = _web(request)
    config = web.office.config
    now = web.now()
    today = web.today()
    lang = visitor(request).lang
    queue = dashboard.live_queue(web)
    report = dashboard.report(config, Period.day(today), today=today, now=now)
    records = dashboard.office_records(today=today)
    devices = device_lines(config, records, lang)
    names = {s.code: (s.name_th if lang is Lang.th else s.name_en) for s in config.services}
    longest = max((w.longest_wait_s or 0 for w in queue.waiting), default=0)
    return {
        "today": today,
        "now": now,
        "report": report,
        "queue": queue,
        "records": records,
        "service_names": names,
        "counter_names": {c.id: (c.name_th if lang is Lang.th else c.name_en) for c in config.counters},
        "longest_any": longest,
        "devices": devices,
        "disks_low": dashboard.disks_low(web),
        "broker_lost_at": web.office.broker_lost_at,
        "backup": dashboard.backup_alert(now=now),
        "clock_step": _clock_steps_text(dashboard.clock_steps_today(web), lang),
        "clock_wrong": _wrong_year_text(now, lang),
        "devices_shared": [_device_label(s.device, devices) for s in dashboard.shared_devices(web)],
        "other_servers": dashboard.other_servers(web),
        "devices_offline": sum(1 for d in devices if d.online is False),
        "printer_problems": sum(1 for d in devices if d.printer_problem),
        "counters_open": sum(1 for c in queue.counters if c.open),
        "hour_chart": views.hour_chart(report.by_hour, text("hour_chart_today", lang)),
        "poll_seconds": web.settings.poll_seconds * POLL_FACTOR,
    }


def _clock_step_text(step: ClockStep, lang: Lang) -> str:
    """`The server's clock was set forward by 15 h 30 min at 08:32 (it read 26 Nov 2026 17:02) ...`."""
    minutes = round(abs(step.step).total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    unit_d, unit_h, unit_m = ("วัน", "ชั่วโมง", "นาที") if lang is Lang.th else ("d", "h", "min")
    by = " ".join(
        [
            *([f"{days:,} {unit_d}"] if days else []),
            *([f"{hours} {unit_h}"] if hours else []),
            *([f"{minutes} {unit_m}"] if minutes or not (hours or days) else []),
        ]
    )
    direction = "forward" if step.step > dt.timedelta(0) else "back"
    full_year = to_local(step.at).year != to_local(step.was).year
    said = text(
        "clock_set",
        lang,
        direction=text(f"clock_{direction}", lang),
        by=by,
        when=datetime_text(step.at, lang, full_year=full_year),
        was=datetime_text(step.was, lang, full_year=full_year),
    )
    return f"{said} {text('clock_buddhist_era', lang)}" if step.buddhist_era else said


def _wrong_year_text(now: dt.datetime, lang: Lang) -> str | None:
    """What the page says while the server's clock reads a year no office can be in."""
    year = wrong_year(now)
    if year is None:
        return None
    if year >= BUDDHIST_ERA_FROM:
        return text("clock_year_buddhist", lang, year=year, right=year - BE_OFFSET)
    return text("clock_year_early", lang, year=year)


def _clock_steps_text(steps: list[ClockStep], lang: Lang) -> str | None:
    """The latest of today's clock steps, and how many there were when more than one."""
    if not steps:
        return None
    latest = _clock_step_text(steps[-1], lang)
    return latest if len(steps) == 1 else f"{latest} {text('clock_steps_today', lang, n=len(steps))}"


@manager.get("/dashboard")
def today_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    return views.render(dashboard, request, "dashboard_today.html", **_today_context(request, dashboard))


@manager.get("/dashboard/today.json")
def today_json(request: Request) -> Response:
    """The live part of the today page, rendered, with its main figures as numbers."""
    dashboard = dashboard_of(request)
    context = _today_context(request, dashboard)
    html = views.render_fragment(dashboard, request, "dashboard_today_live.html", **context)
    report: Report = context["report"]
    queue: LiveQueue = context["queue"]
    total = report.total.counts
    return JSONResponse(
        {
            "updated": to_local(context["now"]).strftime("%H:%M"),
            "html": html,
            "figures": {
                "issued": total.issued,
                "served": total.served,
                "no_show": total.no_show,
                "waiting": queue.waiting_total,
                "longest_wait_s": queue.longest_wait_s,
                "mean_wait_s": queue.mean_wait_s,
                "counters_open": context["counters_open"],
                "devices_offline": context["devices_offline"],
                "responses": report.satisfaction.responses,
                "percent_satisfaction": report.satisfaction.overall.percent,
            },
        }
    )


# ----------------------------------------------------------------------------------------------- periods


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@manager.get("/dashboard/period")
def period_page(request: Request, first: str = "", last: str = "") -> Response:
    """A day (first only, or first = last) or a range of dates."""
    dashboard = dashboard_of(request)
    web = _web(request)
    today = web.today()
    lang = visitor(request).lang
    start = _date(first) or today
    end = _date(last) or start
    error = None
    if end < start or (end - start).days + 1 > dashboard.settings.max_range_days:
        error = text("bad_dates", lang, days=dashboard.settings.max_range_days)
        start = end = today
    period = Period.day(start) if start == end else Period.date_range(start, end)
    report = dashboard.report(web.office.config, period, today=today, now=web.now())
    quick = {
        "quick_today": (today, today),
        "quick_yesterday": (today - dt.timedelta(days=1), today - dt.timedelta(days=1)),
        "quick_7_days": (today - dt.timedelta(days=6), today),
        "quick_month": (today.replace(day=1), today),
    }
    return views.render(
        dashboard,
        request,
        "dashboard_period.html",
        status_code=400 if error else 200,
        period=period,
        first=start,
        last=end,
        today=today,
        error=error,
        quick=quick,
        late_shown=dashboard.settings.late_cases_shown,
        **views.report_context(report, lang),
    )


@manager.get("/dashboard/quarter")
def quarter_page(request: Request, fy: int | None = None, q: int | None = None) -> Response:
    """The quarterly OSS report: pick the fiscal year (B.E.) and quarter; the current one by default."""
    dashboard = dashboard_of(request)
    web = _web(request)
    today = web.today()
    lang = visitor(request).lang
    current_fy, current_q = fiscal_quarter(today)
    fy = fy if fy is not None and 2500 <= fy <= 2700 else current_fy
    q = q if q in (1, 2, 3, 4) else current_q
    period = Period.fiscal_quarter(fy, q)
    report = dashboard.report(web.office.config, period, today=today, now=web.now())
    return views.render(
        dashboard,
        request,
        "dashboard_quarter.html",
        period=period,
        fy=fy,
        q=q,
        years=list(range(current_fy + 1, current_fy - 6, -1)),
        today=today,
        dues=views.dues(period, today),
        running=period.first <= today <= period.last,
        future=today < period.first,
        late_shown=dashboard.settings.late_cases_shown,
        **views.report_context(report, lang),
    )


# ----------------------------------------------------------------------------------------------- exports


def _export_period(scope: str, fy: str, q: str, first: str, last: str, today: dt.date) -> Period | None:
    if scope == "quarter":
        try:
            year, quarter = int(fy), int(q)
        except ValueError:
            return None
        if not 2500 <= year <= 2700 or quarter not in (1, 2, 3, 4):
            return None
        return Period.fiscal_quarter(year, quarter)
    start, end = _date(first), _date(last)
    if start is None or end is None or end < start or (end - start).days > 400:
        return None
    return Period.day(start) if start == end else Period.date_range(start, end)


def _filename(config: OfficeConfig, period: Period, fmt: str) -> str:
    extension = FORMATS[fmt][0]
    if period.fiscal_year_be is not None:
        stem = f"oss-report-{config.office.id}-{period.fiscal_year_be}-q{period.quarter}"
    elif period.first == period.last:
        stem = f"khiu-report-{config.office.id}-{period.first.isoformat()}"
    else:
        stem = f"khiu-report-{config.office.id}-{period.first.isoformat()}-{period.last.isoformat()}"
    return f"{stem}.{extension}"


@manager.post("/dashboard/export")
def start_export(
    request: Request,
    scope: FormText,
    format: FormText,
    fy: FormText = "",
    q: FormText = "",
    first: FormText = "",
    last: FormText = "",
) -> Response:
    """Start making a file of a report; the browser goes to its progress page."""
    dashboard = dashboard_of(request)
    web = _web(request)
    session = visitor(request).session
    assert session is not None
    today = web.today()
    period = _export_period(scope, fy, q, first, last, today)
    if period is None or format not in FORMATS:
        raise HTTPException(status_code=400, detail="bad export request")
    config = web.office.config
    now = web.now()
    filename = _filename(config, period, format)
    media_type = FORMATS[format][1]
    back = (
        f"/dashboard/quarter?fy={period.fiscal_year_be}&q={period.quarter}"
        if period.fiscal_year_be is not None
        else f"/dashboard/period?first={period.first.isoformat()}&last={period.last.isoformat()}"
    )

    def work(progress: Progress) -> ExportFile:
        report = dashboard.report(config, period, today=today, now=now)
        progress(0.3)

        def step(fraction: float) -> None:
            progress(0.3 + 0.7 * fraction)

        if format == "xlsx":
            data = report_xlsx(report, progress=step)
        elif format == "pdf":
            data = report_pdf(report, progress=step)
        else:
            data = report_csv_zip(report, progress=step)
        return ExportFile(data=data, filename=filename, media_type=media_type)

    try:
        job = dashboard.exports.start(session.user.username, filename, work, back=back)
    except TooManyExports:
        web.flash(request, "error", "server_busy")
        return RedirectResponse(back, status_code=303)
    logger.info("export %s of %s started by %s", filename, period.label_en, session.user.username)
    return RedirectResponse(f"/dashboard/export/{job.id}", status_code=303)


def _job(request: Request, job_id: str) -> ExportJob | None:
    session = visitor(request).session
    assert session is not None
    return dashboard_of(request).exports.get(job_id, session.user.username)


@manager.get("/dashboard/export/{job_id}")
def export_page(request: Request, job_id: str) -> Response:
    dashboard = dashboard_of(request)
    job = _job(request, job_id)
    return views.render(
        dashboard, request, "dashboard_export.html", status_code=200 if job else 404, job=job, states=JobState
    )


@manager.get("/dashboard/export/{job_id}/progress.json")
def export_progress(request: Request, job_id: str) -> Response:
    job = _job(request, job_id)
    if job is None:
        return JSONResponse({"error": "unknown_export"}, status_code=404)
    return JSONResponse(
        {
            "state": job.state.value,
            "percent": round(job.progress * 100),
            "download": f"/dashboard/export/{job.id}/file" if job.state is JobState.done else None,
            "filename": job.file.filename if job.file else None,
            "label": text("export_running", visitor(request).lang, percent=round(job.progress * 100)),
        }
    )


@manager.get("/dashboard/export/{job_id}/file")
def export_file(request: Request, job_id: str) -> Response:
    job = _job(request, job_id)
    if job is None or job.file is None:
        raise HTTPException(status_code=404)
    return Response(
        job.file.data,
        media_type=job.file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{job.file.filename}"'},
    )


# ------------------------------------------------------------------------------------------------ assets


@manager.get("/dashboard/assets/{name}")
def asset(name: str) -> Response:
    """The dashboard's own stylesheet and script (the app's /static mount serves only its folder)."""
    path = STATIC_DIR / name
    if "/" in name or path.suffix not in STATIC_TYPES or not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(
        path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "private, max-age=86400"}
    )
