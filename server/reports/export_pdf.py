"""The report as a printable PDF: a Jinja2 HTML template laid out by WeasyPrint, whose Pango shapes Thai
and breaks Thai lines at word boundaries (REFERENCE.md). A4 portrait, B.E. dates, page numbers, bar
charts drawn in CSS and inline SVG (no JavaScript, nothing fetched from the network), and a sign-off
block ready to print and sign.

Font: official documents use TH Sarabun (DOMAIN.md). The first installed of "TH Sarabun New",
"TH SarabunPSK", "Sarabun", Laksaman (the TLWG copy of TH Sarabun PSK in Debian's fonts-thai-tlwg),
Garuda and Loma is used, found through fontconfig; the Sarabun PSK family draws small glyphs, so its
point size is larger."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from common.thaidate import format_en_date, format_en_datetime, format_thai_date, format_thai_datetime
from server.reports import stats
from server.reports.labels import OUTCOME_LABELS, REPORT_TITLE_EN, REPORT_TITLE_TH
from server.reports.model import Report, TicketRow
from server.reports.progress import Progress, ProgressSteps
from server.reports.stats import LEVEL_LABELS_TH, Satisfaction

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
LATE_CASES_SHOWN = 40
"""The PDF lists at most this many late cases (the XLSX and CSV have them all)."""


@dataclass(frozen=True, slots=True)
class PdfFont:
    """The font family the PDF uses and the body size that suits its glyphs."""

    family: str
    size_pt: float


FONT_PREFERENCE: tuple[PdfFont, ...] = (
    PdfFont("TH Sarabun New", 13),
    PdfFont("TH SarabunPSK", 13),
    PdfFont("Sarabun", 9.5),
    PdfFont("Laksaman", 13),
    PdfFont("Garuda", 9),
    PdfFont("Loma", 9.5),
)


@functools.cache
def _installed_families() -> frozenset[str]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        logger.warning("fc-list not found: cannot see the installed fonts; the PDF asks for Garuda")
        return frozenset()
    try:
        listing = subprocess.run(
            [fc_list, ":lang=th", "family"], capture_output=True, text=True, check=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("fc-list failed (%s): the PDF asks for Garuda", exc)
        return frozenset()
    return frozenset(name.strip() for line in listing.splitlines() for name in line.split(","))


def pick_font() -> PdfFont:
    """The preferred installed Thai font (see the module docstring)."""
    installed = _installed_families()
    for font in FONT_PREFERENCE:
        if font.family in installed:
            return font
    wanted = [f.family for f in FONT_PREFERENCE]
    logger.warning("no Thai font of %s installed: install fonts-thai-tlwg", wanted)
    return PdfFont("Garuda", 9)


# ----------------------------------------------------------------------------------------------- filters


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _minutes(seconds: float | None) -> str:
    return stats.format_minutes(seconds)


def _percent_of(fraction: float | None) -> str:
    return stats.format_percent(None if fraction is None else fraction * 100)


def _level(score: Satisfaction) -> str:
    level = stats.satisfaction_level(score.mean)
    return "-" if level is None else LEVEL_LABELS_TH[level]


# ------------------------------------------------------------------------------------------------ charts


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a CSS bar chart: width is a percentage of the chart's width."""

    label_th: str
    label_en: str
    value: float
    text: str
    width_pct: float
    second_width_pct: float = 0.0


def service_bars(rows: Sequence[TicketRow]) -> list[Bar]:
    """Issued (light) and served (dark) tickets per service, services with tickets only."""
    shown = [r for r in rows if r.counts.issued]
    top = max((r.counts.issued for r in shown), default=0) or 1
    return [
        Bar(
            r.label_th,
            r.label_en,
            r.counts.issued,
            f"{r.counts.served:,} / {r.counts.issued:,}",
            100 * r.counts.issued / top,
            100 * r.counts.served / top,
        )
        for r in shown
    ]


def section_bars(report: Report) -> list[Bar]:
    """Percent satisfaction per section, on a 0-100 scale."""
    bars = []
    for s in report.satisfaction.sections:
        pct = s.score.percent
        bars.append(Bar(s.title_th, s.title_en, pct or 0.0, stats.format_percent(pct), pct or 0.0))
    return bars


def hour_chart_svg(rows: Sequence[TicketRow], family: str) -> str:
    """Tickets issued per hour as an SVG column chart (digits only, so any font draws it)."""
    if not rows:
        return ""
    width, height, left, bottom, top_pad = 640.0, 170.0, 30.0, 24.0, 18.0
    plot_h = height - bottom - top_pad
    top = max(r.counts.issued for r in rows) or 1
    slot = (width - left) / len(rows)
    bar_w = slot * 0.6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'class="chart" font-family="{family}" font-size="12">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#555"/>',
    ]
    for i, r in enumerate(rows):
        h = plot_h * r.counts.issued / top
        x = left + i * slot + (slot - bar_w) / 2
        y = height - bottom - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#4a78a8"/>')
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{r.counts.issued}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 6:.1f}" text-anchor="middle">{r.key}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------- template


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        count=_count,
        minutes=_minutes,
        share=_percent_of,
        percent=stats.format_percent,
        score=stats.format_number,
        level=_level,
        thai_date=format_thai_date,
        thai_date_short=lambda d: format_thai_date(d, short=True),
        en_date=format_en_date,
    )
    return env


def report_html(
    report: Report,
    *,
    reporter_name: str = "",
    reporter_position: str = "",
    font: PdfFont | None = None,
) -> str:
    """The report as HTML for WeasyPrint (also handy to look at in a browser)."""
    font = font or pick_font()
    template = _environment().get_template("quarterly_report.html")
    context: dict[str, Any] = {
        "r": report,
        "title_th": REPORT_TITLE_TH,
        "title_en": REPORT_TITLE_EN,
        "font": font,
        "generated_th": format_thai_datetime(report.generated_at),
        "generated_en": format_en_datetime(report.generated_at),
        "outcomes": [(th, en, report.outcomes.get(outcome)) for outcome, (th, en) in OUTCOME_LABELS.items()],
        "service_bars": service_bars(report.by_service),
        "section_bars": section_bars(report),
        "hour_svg": hour_chart_svg(report.by_hour, font.family),
        "late_cases": report.cases.late_cases[:LATE_CASES_SHOWN],
        "late_more": max(0, len(report.cases.late_cases) - LATE_CASES_SHOWN),
        "reporter_name": reporter_name,
        "reporter_position": reporter_position,
    }
    return template.render(context)


def report_pdf(
    report: Report,
    *,
    reporter_name: str = "",
    reporter_position: str = "",
    progress: Progress | None = None,
) -> bytes:
    """The report as PDF bytes. `reporter_name` and `reporter_position` prefill the sign-off block;
    left empty, it prints dotted lines to fill in by hand."""
    import weasyprint  # deferred: loading Pango takes a moment the rest of the server does not need

    steps = ProgressSteps(progress, 3)
    steps.start()
    html = report_html(report, reporter_name=reporter_name, reporter_position=reporter_position)
    steps.step()
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render()
    steps.step()
    data: bytes = document.write_pdf()
    steps.finish()
    logger.info(
        "report %s: PDF of %d pages, %d bytes", report.period.label_en, len(document.pages), len(data)
    )
    return data
