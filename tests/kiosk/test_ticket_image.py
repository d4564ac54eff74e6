"""The printed ticket: correct Thai (shaped marks, words kept whole), a number you can read from afar,
the language the citizen chose first, and a calm offline ticket. PNGs go to build/screenshots/ to look at."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont, features
from pythainlp.tokenize import word_tokenize

from common.vocabulary import Lang, Priority
from kiosk.fonts import thai_font_path
from kiosk.ticket_image import PAPER_80MM_DOTS, TicketPrint, render_ticket, wrap

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

TICKET = TicketPrint(
    office_name_th="องค์การบริหารส่วนตำบลหนองน้ำใส",
    office_name_en="Nong Nam Sai Subdistrict Administrative Organization",
    service_name_th="ขอรับเบี้ยยังชีพผู้สูงอายุ",
    service_name_en="Old-age allowance",
    number="A012",
    priority=Priority.elderly,
    issued_at=datetime(2026, 11, 26, 3, 42, tzinfo=UTC),  # 10:42 in Bangkok
    waiting_ahead=5,
    estimated_wait_min=15,
    documents_th=["บัตรประจำตัวประชาชน", "สำเนาทะเบียนบ้าน", "สมุดบัญชีเงินฝากธนาคารหน้าแรกพร้อมสำเนาที่รับรองถูกต้องแล้ว"],
    documents_en=[
        "Thai national ID card",
        "Copy of house registration",
        "First page of your bank passbook, certified copy",
    ],
    qr_url="https://oss.example.go.th/t/2026-11-26/A012?k=Zq8x1",
    lang=Lang.th,
    offline=False,
)
OFFLINE = replace(
    TICKET, number="AX05", priority=Priority.none, waiting_ahead=None, estimated_wait_min=None, offline=True
)


def _text(image: Image.Image) -> list[str]:
    return str(image.info["text"]).splitlines()


def _ink_bands(image: Image.Image) -> list[tuple[int, int]]:
    """(first row, height) of each run of rows that carry ink."""
    grey = image.convert("L")
    bands: list[tuple[int, int]] = []
    start = None
    for y in range(grey.height):
        inked = grey.crop((0, y, grey.width, y + 1)).getextrema()[0] == 0
        if inked and start is None:
            start = y
        elif not inked and start is not None:
            bands.append((start, y - start))
            start = None
    if start is not None:
        bands.append((start, grey.height - start))
    return bands


def test_pillow_shapes_thai_here() -> None:
    """RAQM must be present, and it must place the tone mark of น้ำ differently from the basic layout."""
    assert features.check("raqm"), "install libfribidi0: without RAQM Thai marks float"
    path = str(thai_font_path())
    images = []
    for engine in (ImageFont.Layout.RAQM, ImageFont.Layout.BASIC):
        font = ImageFont.truetype(path, 64, layout_engine=engine)
        image = Image.new("1", (200, 120), 1)
        ImageDraw.Draw(image).text((20, 100), "น้ำ", font=font, fill=0, anchor="ls")
        images.append(image.tobytes())
    assert images[0] != images[1]


def test_thai_ticket_reads_in_order_with_be_date_and_priority() -> None:
    image = render_ticket(TICKET)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / "ticket-th.png")
    lines = _text(image)
    assert image.mode == "1" and image.width == PAPER_80MM_DOTS
    assert lines[0] == "องค์การบริหารส่วนตำบลหนองน้ำใส"  # Thai first
    assert lines.index("หมายเลขคิว / Your number") + 1 == lines.index("A012")
    assert "ผู้สูงอายุ / Elderly" in lines
    assert "26 พ.ย. 2569 10:42 น." in lines  # Bangkok time, B.E. year
    assert "มีคิวรอก่อนหน้าท่าน 5 คิว" in lines and "เวลารอโดยประมาณ 15 นาที" in lines
    assert "สแกนเพื่อดูสถานะคิวและประเมินความพึงพอใจ" in lines
    assert lines[-2:] == ["ขอบคุณที่ใช้บริการ", "Thank you"]


def test_english_ticket_puts_english_first() -> None:
    image = render_ticket(replace(TICKET, lang=Lang.en, priority=Priority.none))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / "ticket-en.png")
    lines = _text(image)
    assert lines[:2] == ["Nong Nam Sai Subdistrict Administrative Organization", "องค์การบริหารส่วนตำบลหนองน้ำใส"]
    assert "Your number / หมายเลขคิว" in lines
    assert lines.index("26 Nov 2026 10:42") < lines.index("26 พ.ย. 2569 10:42 น.")
    assert not any("Elderly" in line for line in lines)  # no priority, no label


def test_offline_ticket_is_calm_and_promises_no_numbers() -> None:
    image = render_ticket(OFFLINE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / "ticket-offline-th.png")
    lines = _text(image)
    assert "AX05" in lines
    assert "เจ้าหน้าที่จะเรียกตามลำดับ" in lines and "Staff will call you in turn" in lines
    assert not any("คิวรอ" in line or "ประมาณ" in line for line in lines)


def test_number_is_the_largest_thing_on_the_ticket() -> None:
    """Without a QR code the tallest inked band is the number: at least 15 mm (120 dots) tall."""
    image = render_ticket(replace(TICKET, qr_url=None))
    tallest_top, tallest = max(_ink_bands(image), key=lambda band: band[1])
    assert tallest >= 120
    others = sorted(height for _, height in _ink_bands(image))[:-1]
    assert tallest > 2 * others[-1]
    number_band = image.crop((0, tallest_top, image.width, tallest_top + tallest)).convert("L")
    left, _, right, _ = number_band.point(lambda v: 255 - v).getbbox() or (0, 0, 0, 0)
    assert right - left > image.width // 2  # wide as well as tall


def test_nothing_touches_the_paper_edges() -> None:
    """Text clipped at the edge is text lost: keep a white margin on every side."""
    for ticket in (TICKET, replace(TICKET, lang=Lang.en), OFFLINE):
        image = render_ticket(ticket).convert("L")
        inverted = image.point(lambda v: 255 - v)
        left, top, right, bottom = inverted.getbbox() or (0, 0, 0, 0)
        assert left >= 4 and top >= 4 and right <= image.width - 4 and bottom <= image.height - 4


def test_thai_wraps_between_words_never_inside_one() -> None:
    text = "สมุดบัญชีเงินฝากธนาคารหน้าแรกพร้อมสำเนาที่รับรองถูกต้องแล้ว"
    font = ImageFont.truetype(str(thai_font_path()), 26, layout_engine=ImageFont.Layout.RAQM)
    lines = wrap(text, font, 260)
    assert len(lines) >= 3
    assert "".join(lines) == text
    words = word_tokenize(text, engine="newmm")
    boundaries = {sum(len(w) for w in words[:i]) for i in range(len(words) + 1)}
    position = 0
    for line in lines:
        assert font.getlength(line) <= 260
        position += len(line)
        assert position in boundaries, f"line broke inside a word: {line!r}"


def test_long_document_lists_are_cut_short() -> None:
    many = [f"เอกสารฉบับที่ {i}" for i in range(1, 11)]
    image = render_ticket(replace(TICKET, documents_th=many, documents_en=[]))
    lines = _text(image)
    assert "เอกสารฉบับที่ 6" in lines and "เอกสารฉบับที่ 7" not in lines
    assert "และเอกสารอื่น ๆ / and more" in lines


def test_issue_time_must_say_its_timezone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        replace(TICKET, issued_at=datetime(2026, 11, 26, 10, 42))


@pytest.mark.parametrize("bold", [False, True])
def test_the_font_has_thai_and_latin_glyphs_not_boxes(bold: bool) -> None:
    """Kivy and the ticket use one font with no fallback: "A012" next to Thai must not print as boxes."""
    font = ImageFont.truetype(str(thai_font_path(bold)), 40, layout_engine=ImageFont.Layout.RAQM)

    def glyph(text: str) -> bytes:
        image = Image.new("L", (80, 80), 0)
        ImageDraw.Draw(image).text((10, 60), text, font=font, fill=255, anchor="ls")
        return image.tobytes()

    missing = glyph("\u0e7f")  # unassigned in the Thai block: the font's missing-glyph box
    for text in ("ก", "ญ", "A", "0", "z"):
        assert glyph(text) != missing, f"{text!r} has no glyph"


def test_no_thai_font_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk import fonts

    monkeypatch.setattr("shutil.which", lambda _name: None)
    monkeypatch.setattr(fonts, "_FONT_DIRS", ())
    fonts._find.cache_clear()
    try:
        with pytest.raises(fonts.ThaiFontNotFoundError, match="fonts-thai-tlwg"):
            fonts.thai_font_path()
    finally:
        fonts._find.cache_clear()
