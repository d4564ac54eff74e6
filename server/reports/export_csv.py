"""The report as CSV: one file per table, UTF-8 with a BOM (without it Excel on Thai Windows reads the
file as windows-874 and the Thai turns to garbage), CRLF line ends, one header row "ไทย / English".
Numbers are written with a dot and no thousands separator so any program reads them back; figures are
rounded for display (minutes to 1 decimal, percent and scores to 2) and counts are whole numbers. Dates
are ISO (C.E.) so they sort; a B.E. column sits beside where people read them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import zipfile

from server.reports.model import Report
from server.reports.progress import Progress, ProgressSteps
from server.reports.stats import round_half_up
from server.reports.tables import Column, ColumnKind, Table, Value, report_tables

logger = logging.getLogger(__name__)

BOM = "\ufeff"
_DIGITS: dict[ColumnKind, int] = {ColumnKind.minutes: 1, ColumnKind.percent: 2, ColumnKind.score: 2}


def _text(column: Column, value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        digits = _DIGITS.get(column.kind, 2)
        return f"{round_half_up(value, digits):.{digits}f}"
    return str(value)


def table_csv(table: Table) -> bytes:
    """One table as CSV bytes (UTF-8 with BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in table.columns])
    for row in table.rows:
        writer.writerow([_text(column, value) for column, value in zip(table.columns, row, strict=True)])
    return (BOM + buffer.getvalue()).encode("utf-8")


def report_csv_files(report: Report, *, progress: Progress | None = None) -> dict[str, bytes]:
    """File name → CSV bytes, one per table, in sheet order (summary.csv, services.csv, ...)."""
    tables = report_tables(report)
    steps = ProgressSteps(progress, len(tables))
    steps.start()
    files: dict[str, bytes] = {}
    for table in tables:
        files[f"{table.name}.csv"] = table_csv(table)
        steps.step()
    steps.finish()
    return files


def report_csv_zip(report: Report, *, progress: Progress | None = None) -> bytes:
    """Every table's CSV in one zip (names are ASCII, so every unzip tool shows them right)."""
    files = report_csv_files(report, progress=progress)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    data = out.getvalue()
    logger.info("report %s: CSV zip of %d files, %d bytes", report.period.label_en, len(files), len(data))
    return data
