"""The report as an Excel workbook (openpyxl): one sheet per subject, Thai headers with English
beside, numbers kept unrounded as numbers with a display format (so a manager can sum and chart them
in Excel), B.E. dates in the header."""

from __future__ import annotations

import datetime as dt
import io
import logging

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from common.thaidate import format_en_datetime, format_thai_date, format_thai_datetime
from server.reports.labels import REPORT_TITLE_EN, REPORT_TITLE_TH
from server.reports.model import Report
from server.reports.progress import Progress, ProgressSteps
from server.reports.tables import Column, ColumnKind, Sheet, Table, Value, report_sheets

logger = logging.getLogger(__name__)

NUMBER_FORMATS: dict[ColumnKind, str] = {
    ColumnKind.integer: "#,##0",
    ColumnKind.minutes: "#,##0.0",
    ColumnKind.percent: "0.00",
    ColumnKind.score: "0.00",
    ColumnKind.date: "yyyy-mm-dd",
}

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
_WRAP = Alignment(wrap_text=True, vertical="top")
_MAX_WIDTH = 48


def _format_for(column: Column, value: Value) -> str | None:
    if column.kind is ColumnKind.auto:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return NUMBER_FORMATS[ColumnKind.integer] if isinstance(value, int) else "0.00"
    return NUMBER_FORMATS.get(column.kind)


def _header_lines(report: Report) -> list[str]:
    period = report.period
    lines = [
        f"{report.office.name_th} อำเภอ{report.office.district_th} จังหวัด{report.office.province_th}",
        f"{REPORT_TITLE_TH} / {REPORT_TITLE_EN}",
        f"{period.label_th} / {period.label_en}",
    ]
    if period.lao_due is not None and period.province_due is not None:
        lines.append(
            f"กำหนดส่งสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด {format_thai_date(period.lao_due)}; "
            f"จังหวัดรับรองถึงกรมส่งเสริมการปกครองท้องถิ่น {format_thai_date(period.province_due)} / "
            f"due to the province {period.lao_due.isoformat()}, "
            f"province to DLA {period.province_due.isoformat()}"
        )
    lines.append(
        f"ข้อมูล ณ วันที่ {format_thai_date(report.as_of)} จัดทำเมื่อ {format_thai_datetime(report.generated_at)} / "
        f"as of {report.as_of.isoformat()}, made {format_en_datetime(report.generated_at)}"
    )
    return lines


def _write_table(ws: Worksheet, table: Table, row: int, widths: dict[int, float]) -> int:
    """Write a titled table starting at `row`; return the next free row."""
    ws.cell(row=row, column=1, value=f"{table.title_th} / {table.title_en}").font = _BOLD
    row += 1
    for col, column in enumerate(table.columns, start=1):
        cell = ws.cell(row=row, column=col, value=column.header)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP
        widths[col] = max(widths.get(col, 8), min(len(column.th) + 2, 24))
    row += 1
    for values in table.rows:
        for col, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            data_cell: Cell = ws.cell(row=row, column=col, value=value)
            number_format = _format_for(column, value)
            if number_format is not None:
                data_cell.number_format = number_format
            if isinstance(value, str):
                widths[col] = max(widths.get(col, 8), min(len(value) + 2, _MAX_WIDTH))
            elif isinstance(value, dt.date):
                widths[col] = max(widths.get(col, 8), 12)
        if values and values[0] == "" and table.name not in ("summary", "cases"):
            for col in range(1, len(values) + 1):
                ws.cell(row=row, column=col).font = _BOLD
        row += 1
    return row + 1


def _write_sheet(wb: Workbook, sheet: Sheet, header: list[str], first: bool) -> None:
    ws = wb.active if first else wb.create_sheet()
    assert ws is not None  # a new Workbook always has its active sheet
    ws.title = sheet.name
    for i, line in enumerate(header, start=1):
        ws.cell(row=i, column=1, value=line).font = _TITLE if i == 1 else _BOLD
    row = len(header) + 2
    widths: dict[int, float] = {}
    table_start = row
    for table in sheet.tables:
        row = _write_table(ws, table, row, widths)
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    if len(sheet.tables) == 1:
        ws.freeze_panes = ws.cell(row=table_start + 2, column=2)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def report_xlsx(report: Report, *, progress: Progress | None = None) -> bytes:
    """The workbook as bytes (serve it, or write it to a .xlsx file)."""
    sheets = report_sheets(report)
    steps = ProgressSteps(progress, len(sheets) + 1)
    steps.start()
    wb = Workbook()
    header = _header_lines(report)
    for i, sheet in enumerate(sheets):
        _write_sheet(wb, sheet, header, first=i == 0)
        steps.step()
    wb.properties.title = f"{REPORT_TITLE_TH} {report.period.label_th}"
    wb.properties.creator = "Khiu"
    out = io.BytesIO()
    wb.save(out)
    steps.finish()
    data = out.getvalue()
    logger.info("report %s: XLSX of %d sheets, %d bytes", report.period.label_en, len(sheets), len(data))
    return data
