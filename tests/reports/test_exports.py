"""The exports read back the way a user's program reads them: the XLSX with openpyxl, the CSV with
the csv module (as Excel would, BOM and all), the PDF's text with pypdf and its pages as PNG images
in build/screenshots/ to look at."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from server.reports.export_csv import report_csv_files, report_csv_zip
from server.reports.export_pdf import FONT_PREFERENCE, pick_font, report_html, report_pdf
from server.reports.export_xlsx import report_xlsx
from server.reports.labels import REPORT_TITLE_TH
from server.reports.model import Report

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def rows_of(ws: Worksheet) -> list[tuple[object, ...]]:
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def row_starting(ws: Worksheet, *first: object) -> tuple[object, ...]:
    """The first row whose leading cells are `first`."""
    for row in rows_of(ws):
        if row[: len(first)] == first:
            return row
    raise AssertionError(f"no row starts with {first!r} in sheet {ws.title!r}")


def header_index(ws: Worksheet, header_start: str) -> int:
    """Column index of the first header cell that starts with `header_start`."""
    for row in rows_of(ws):
        for i, value in enumerate(row):
            if isinstance(value, str) and value.startswith(header_start):
                return i
    raise AssertionError(f"no header {header_start!r} in sheet {ws.title!r}")


# -------------------------------------------------------------------------------------------------- XLSX


@pytest.fixture(scope="module")
def workbook(report: Report) -> openpyxl.Workbook:
    fractions: list[float] = []
    data = report_xlsx(report, progress=fractions.append)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_sheets_and_thai_header(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == [
        "สรุป Summary",
        "งานบริการ Services",
        "กลุ่ม-ประเภท Groups",
        "ช่อง-เวลา Counters-hours",
        "ความพึงพอใจ Satisfaction",
        "เรื่องส่งต่อ Cases",
    ]
    summary = workbook["สรุป Summary"]
    header = [summary.cell(row=i, column=1).value for i in range(1, 6)]
    assert header[0] == "เทศบาลตำบลบ้านสวนงาม อำเภอเมืองขอนแก่น จังหวัดขอนแก่น"
    assert header[1] is not None and str(header[1]).startswith(REPORT_TITLE_TH)
    assert header[2] == (
        "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2569 (ต.ค. - ธ.ค. 68) / Q1 of fiscal year 2569 B.E. (Oct - Dec 2025)"
    )
    assert "30 ธันวาคม 2568" in str(header[3]) and "15 มกราคม 2569" in str(header[3])


def test_xlsx_summary_figures(workbook: openpyxl.Workbook) -> None:
    ws = workbook["สรุป Summary"]
    assert row_starting(ws, "บัตรคิวที่ออก")[2] == 10
    assert row_starting(ws, "ให้บริการแล้ว")[2] == 7
    assert row_starting(ws, "ไม่มาตามเรียก")[2] == 2
    assert row_starting(ws, "ยกเลิก")[2] == 1
    assert row_starting(ws, "เวลารอ มัธยฐาน")[2:4] == (8.0, "นาที")
    assert row_starting(ws, "เวลารอ เปอร์เซ็นไทล์ที่ 90")[2] == pytest.approx(22.0)
    assert row_starting(ws, "ให้บริการภายในเวลามาตรฐาน")[2] == pytest.approx(80.0)
    assert row_starting(ws, "ร้อยละความพึงพอใจ")[2] == pytest.approx(96 / 22 / 5 * 100)
    assert row_starting(ws, "เรื่องที่ล่าช้ากว่ากำหนด")[2] == 3


def test_xlsx_services_keep_unrounded_numbers_with_a_display_format(workbook: openpyxl.Workbook) -> None:
    ws = workbook["งานบริการ Services"]
    birth = row_starting(ws, "birth")
    assert birth[1:4] == ("แจ้งเกิด", "Birth registration", 15)
    within = header_index(ws, "ร้อยละภายในเวลามาตรฐาน")
    assert birth[within] == pytest.approx(200 / 3)  # 66.666..., shown as 66.67
    for row in ws.iter_rows():
        if row[0].value == "birth":
            assert row[within].number_format == "0.00"
            assert row[header_index(ws, "รอเฉลี่ย")].number_format == "#,##0.0"
    total = row_starting(ws, None, "รวมทั้งหมด")
    assert total[4:8] == (10, 7, 2, 1)


def test_xlsx_satisfaction_counts_and_percent(workbook: openpyxl.Workbook) -> None:
    ws = workbook["ความพึงพอใจ Satisfaction"]
    staff = row_starting(ws, "staff")
    assert staff[1] == "ด้านเจ้าหน้าที่ผู้ให้บริการ"
    assert staff[3:6] == (5, 9, pytest.approx(40 / 9))
    assert staff[6] == pytest.approx(40 / 9 / 5 * 100)
    steps = row_starting(ws, "process", "process.steps")
    assert steps[2] == "ขั้นตอนไม่ยุ่งยากซับซ้อน"
    assert steps[4:9] == (2, 1, 1, 0, 0)
    assert steps[10] == pytest.approx(4.25)


def test_xlsx_late_cases_have_real_dates(workbook: openpyxl.Workbook) -> None:
    ws = workbook["เรื่องส่งต่อ Cases"]
    k5 = row_starting(ws, "K5")
    assert k5[4:7] == (dt.datetime(2025, 12, 1), dt.datetime(2025, 12, 8), "8 ธ.ค. 68")
    assert k5[8] == 23
    assert row_starting(ws, "K2")[1] == "สธ 0001/123"


# --------------------------------------------------------------------------------------------------- CSV


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel on Thai Windows needs the UTF-8 BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_files_parse_back(report: Report) -> None:
    fractions: list[float] = []
    files = report_csv_files(report, progress=fractions.append)
    assert fractions[-1] == 1.0
    assert list(files)[:2] == ["summary.csv", "services.csv"]
    services = read_csv(files["services.csv"])
    header = services[0]
    assert header[0] == "รหัสงาน / Service code"
    birth = dict(zip(header, services[1], strict=True))
    assert birth["ชื่อ / Name (Thai)"] == "แจ้งเกิด"
    assert birth["ออกบัตรคิว / Issued"] == "4"
    assert birth["รอเฉลี่ย (นาที) / Mean wait (min)"] == "9.0"
    assert birth["ร้อยละภายในเวลามาตรฐาน / Within standard time (%)"] == "66.67"
    assert services[-1][1] == "รวมทั้งหมด"

    sections = read_csv(files["satisfaction_sections.csv"])
    staff = dict(zip(sections[0], sections[2], strict=True))
    assert staff["ด้าน / Section (Thai)"] == "ด้านเจ้าหน้าที่ผู้ให้บริการ"
    assert staff["ค่าเฉลี่ย / Mean (of 5)"] == "4.44"
    assert staff["ร้อยละความพึงพอใจ / Percent satisfaction"] == "88.89"
    assert staff["ระดับ / Level (Thai)"] == "มากที่สุด"

    late = read_csv(files["late_cases.csv"])
    assert [row[0] for row in late[1:]] == ["K5", "K2", "K3"]
    assert late[1][5] == "2025-12-08"


def test_csv_zip_holds_every_table(report: Report) -> None:
    with zipfile.ZipFile(io.BytesIO(report_csv_zip(report))) as archive:
        names = archive.namelist()
        summary = read_csv(archive.read("summary.csv"))
    assert "satisfaction_items.csv" in names and "cases.csv" in names
    assert ["บัตรคิวที่ออก", "Tickets issued", "10", "ราย", "tickets"] in summary


# --------------------------------------------------------------------------------------------------- PDF


@pytest.fixture(scope="module")
def pdf_bytes(report: Report) -> bytes:
    fractions: list[float] = []
    data = report_pdf(report, reporter_position="หัวหน้าสำนักปลัด", progress=fractions.append)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    return data


def normalized(text: str) -> str:
    """PDF text without spaces or line breaks, compared loosely where text extraction from the PDF
    differs from what was drawn: WeasyPrint maps each glyph to one character and the TLWG fonts draw
    sara am (ำ) with the glyph of sara aa (า), so one comes back as the other; and marks come back in
    glyph order (ยุ่ for ยุ่), which NFC puts back in canonical order."""
    return unicodedata.normalize("NFC", "".join(text.split())).replace("ำ", "า")


def test_pdf_is_a4_with_thai_title_figures_and_due_dates(pdf_bytes: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    pages = [normalized(page.extract_text()) for page in reader.pages]
    text = "".join(pages)
    for expected in (
        REPORT_TITLE_TH,
        "เทศบาลตำบลบ้านสวนงาม",
        "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2569",
        "30 ธันวาคม 2568",  # due to the province
        "15 มกราคม 2569",  # the province certifies
        "87.27",  # overall percent satisfaction
        "88.89",  # staff section
        "80.00",  # within the standard time
        "ขั้นตอนไม่ยุ่งยากซับซ้อน",
        "ผู้รายงาน",
        "หัวหน้าสำนักปลัด",
    ):
        assert normalized(expected) in text, expected
    assert normalized(f"หน้า 1 / {len(reader.pages)}") in pages[0]


def test_pdf_uses_one_thai_font_for_everything(pdf_bytes: bytes) -> None:
    """Every glyph comes from the chosen Thai font: no fallback font, so no tofu boxes."""
    font = pick_font()
    assert font.family in {f.family for f in FONT_PREFERENCE}
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    used: set[str] = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        fonts: Any = resources.get_object()["/Font"]
        for ref in fonts.values():
            used.add(str(ref.get_object()["/BaseFont"]).split("+", 1)[-1])
    assert used and all(name.replace("-", " ").startswith(font.family) for name in used), used


def test_pdf_pages_rendered_for_a_look(pdf_bytes: bytes, tmp_path: Path) -> None:
    """Renders build/screenshots/report-p-N.png (60 dpi) to look at: Thai shaped, tables inside the
    page. The assertion only checks the pages exist; the look is a person's job."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("report-p-*.png"):
        old.unlink()
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_bytes)
    subprocess.run([pdftoppm, "-r", "60", "-png", str(pdf), str(SCREENSHOTS / "report-p")], check=True)
    pages = sorted(SCREENSHOTS.glob("report-p-*.png"))
    assert len(pages) == len(pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages)


def test_html_escapes_office_text_and_has_the_sign_off(report: Report) -> None:
    html = report_html(report, reporter_name="<script>")
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "ตำแหน่ง" in html and "ลงชื่อ" in html
