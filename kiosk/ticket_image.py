"""The queue ticket as a 1-bit image for an 80 mm thermal printer.

Thai is printed as an image, never as ESC/POS text: the Thai code page differs by vendor and most
printers do not stack tone marks (REFERENCE.md, "Printing"). Pillow's RAQM layout shapes Thai; the basic
layout leaves marks floating, so RAQM is required. Thai is wrapped at word boundaries
(`common.ui.thai`, the segmenter the screens use) because Thai has no spaces between words.

The image is drawn in mode "1" (no anti-aliasing): what you see in the PNG is dot for dot what the
printer burns, and nothing is lost to dithering.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, features

from common.thaidate import MONTHS_TH_SHORT, format_en_datetime, to_be_year, to_local
from common.ui import thai
from common.vocabulary import Lang, Priority
from kiosk.fonts import thai_font_path

log = logging.getLogger(__name__)

PAPER_80MM_DOTS = 576
"""Printable width of 80 mm paper at 203 dpi (72 mm x 8 dots/mm)."""

_MARGIN = 8
_BLACK = 0
_WHITE = 1

PRIORITY_LABELS: dict[Priority, tuple[str, str]] = {
    Priority.elderly: ("ผู้สูงอายุ", "Elderly"),
    Priority.disabled: ("คนพิการ", "Person with disability"),
    Priority.pregnant: ("หญิงตั้งครรภ์", "Pregnant woman"),
    Priority.monk: ("พระภิกษุสงฆ์", "Monk"),
}
"""Shown on the ticket so the counter sees at once why it is served first (Older Persons Act 2546 s.11)."""

_MAX_DOCUMENTS = 6
"""A ticket is not a manual: more than this many documents are summarised as "and more"."""

# Type sizes in dots (203 dpi: 8 dots = 1 mm). Thai glyphs in TLWG fonts are small for their em, so the
# smallest Thai type stays at 22 dots (about 2.8 mm em); anything smaller blurs on thermal paper.
_SIZE_OFFICE = 32
_SIZE_SERVICE = 36
_SIZE_BODY = 28
_SIZE_SMALL = 22
_SIZE_NUMBER_MAX = 260
_NUMBER_WIDTH_SHARE = 0.9


class ThaiShapingUnavailableError(RuntimeError):
    """Pillow cannot shape Thai here (libraqm/libfribidi missing); a ticket would print floating marks."""


@dataclass(frozen=True, slots=True)
class TicketPrint:
    """Everything printed on one queue ticket; built by the kiosk from `ticket.issued` (or offline)."""

    office_name_th: str
    office_name_en: str
    service_name_th: str
    service_name_en: str
    number: str
    """As the hall board shows it: "A012", or an offline one like "AX05"."""
    priority: Priority
    issued_at: datetime
    """Aware; printed in Asia/Bangkok local time with a B.E. year."""
    waiting_ahead: int | None = None
    """None when unknown (offline ticket)."""
    estimated_wait_min: int | None = None
    documents_th: Sequence[str] = ()
    documents_en: Sequence[str] = ()
    qr_url: str | None = None
    lang: Lang = Lang.th
    offline: bool = False

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware (store UTC, print Bangkok time)")


def require_raqm() -> None:
    """Fail with an instruction when Pillow cannot shape Thai (call at kiosk start)."""
    if not features.check("raqm"):
        raise ThaiShapingUnavailableError(
            "Pillow cannot shape Thai text: libraqm is not available (it needs libfribidi at run time). "
            "Install the Debian package libfribidi0: sudo apt-get install libfribidi0"
        )


def warm_up() -> None:
    """Load fonts, the Thai word list and the QR encoder now (a fraction of a second, once), so the
    first citizen's ticket prints as fast as the others. Call it at kiosk start, off the UI thread."""
    sample = TicketPrint(
        office_name_th="ศูนย์บริการร่วม",
        office_name_en="One Stop Service",
        service_name_th="สอบถามข้อมูล",
        service_name_en="Information",
        number="A001",
        priority=Priority.elderly,
        issued_at=datetime.now(UTC),
        waiting_ahead=1,
        estimated_wait_min=5,
        documents_th=("บัตรประจำตัวประชาชน",),
        documents_en=("ID card",),
        qr_url="https://example.invalid/t/A001",
    )
    for lang in Lang:
        render_ticket(replace(sample, lang=lang))


def render_ticket(t: TicketPrint, width_dots: int = PAPER_80MM_DOTS) -> Image.Image:
    """Draw the ticket, Thai first (English first when `t.lang` is en), as a mode "1" image.

    `image.info["text"]` holds what the ticket says, one paragraph per line, top to bottom (for logs,
    tests and anyone who cannot see the image)."""
    require_raqm()
    c = _Canvas(width_dots)
    primary_th = t.lang != Lang.en

    c.pair(t.office_name_th, t.office_name_en, primary_th, _SIZE_OFFICE, _SIZE_SMALL, bold=True)
    c.rule()
    c.pair(t.service_name_th, t.service_name_en, primary_th, _SIZE_SERVICE, _SIZE_SMALL + 2, bold=True)
    c.gap(10)
    c.line(_both("หมายเลขคิว", "Your number", primary_th), _SIZE_BODY)
    c.number(t.number)
    label = PRIORITY_LABELS.get(t.priority)
    if label is not None:
        c.inverted(_both(label[0], label[1], primary_th), _SIZE_BODY + 2)
    c.gap(6)
    c.pair(
        _thai_datetime(t.issued_at),
        format_en_datetime(t.issued_at),
        primary_th,
        _SIZE_BODY,
        _SIZE_SMALL,
        keep=False,
    )
    c.rule()
    _waiting(c, t, primary_th)
    _documents(c, t, primary_th)
    if t.qr_url:
        c.rule()
        c.qr(
            t.qr_url,
            _pair_text("สแกนเพื่อดูสถานะคิวและประเมินความพึงพอใจ", "Scan for status and survey", primary_th),
        )
    c.rule()
    c.pair("ขอบคุณที่ใช้บริการ", "Thank you", primary_th, _SIZE_BODY, _SIZE_SMALL)
    return c.finish()


def _waiting(c: _Canvas, t: TicketPrint, primary_th: bool) -> None:
    """How long: the queue ahead and the estimate, or a calm promise when the kiosk is offline."""
    if t.offline or t.waiting_ahead is None:
        c.pair("เจ้าหน้าที่จะเรียกตามลำดับ", "Staff will call you in turn", primary_th, _SIZE_BODY, _SIZE_SMALL)
        return
    if t.waiting_ahead == 0:
        th, en = "ไม่มีคิวรอก่อนหน้าท่าน", "No one is ahead of you"
    else:
        people = "person" if t.waiting_ahead == 1 else "people"
        th, en = f"มีคิวรอก่อนหน้าท่าน {t.waiting_ahead} คิว", f"{t.waiting_ahead} {people} ahead of you"
    c.pair(th, en, primary_th, _SIZE_BODY, _SIZE_SMALL)
    if t.estimated_wait_min is not None and t.estimated_wait_min > 0 and t.waiting_ahead > 0:
        m = t.estimated_wait_min
        c.pair(
            f"เวลารอโดยประมาณ {m} นาที",
            f"Estimated wait: about {m} min",
            primary_th,
            _SIZE_BODY,
            _SIZE_SMALL,
        )


def _documents(c: _Canvas, t: TicketPrint, primary_th: bool) -> None:
    """The documents to have ready, each in the first language with the other below it when both match."""
    first, second = (t.documents_th, t.documents_en) if primary_th else (t.documents_en, t.documents_th)
    if not first and not second:
        return
    c.rule()
    c.pair("เอกสารที่ต้องเตรียม", "Documents to bring", primary_th, _SIZE_BODY, _SIZE_SMALL, bold=True)
    paired = len(first) == len(second)
    items = list(first or second)
    shown = items[:_MAX_DOCUMENTS]
    for i, item in enumerate(shown):
        c.bullet(item, _SIZE_BODY - 2)
        if paired:
            c.bullet(second[i], _secondary_size(second[i], _SIZE_SMALL), mark="")
    if len(items) > len(shown):
        c.bullet(_both("และเอกสารอื่น ๆ", "and more", primary_th), _SIZE_SMALL)


def _both(th: str, en: str, primary_th: bool) -> str:
    return f"{th} / {en}" if primary_th else f"{en} / {th}"


def _pair_text(th: str, en: str, primary_th: bool) -> tuple[str, str]:
    return (th, en) if primary_th else (en, th)


# --- dates -------------------------------------------------------------------------------------------


def _thai_datetime(at: datetime) -> str:
    """'26 พ.ย. 2569 10:42 น.': short month but the full B.E. year (a two-digit year reads as a number)."""
    local = to_local(at)
    return f"{local.day} {MONTHS_TH_SHORT[local.month - 1]} {to_be_year(local.year)} {local:%H:%M} น."


# --- text --------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(thai_font_path(bold)), size, layout_engine=ImageFont.Layout.RAQM)


@dataclass(frozen=True, slots=True)
class _Run:
    """One shaped line of text as an ink mask, placed relative to its pen origin on the baseline."""

    mask: Image.Image
    left: int
    top: int
    """Negative: dots above the baseline."""
    bottom: int
    advance: float


RUN_CACHE_LINES = 512
"""Shaped lines kept between tickets. A ticket has about 20 lines and all but the number, the time and
the queue repeat on every ticket of a service (office, service, labels, documents, footer): the example
office's 12 services in both languages with every priority make 207 such lines (about 2 MB), so 512
holds an office of 25 to 30 services and the queue lengths of the day ("5 people ahead"), least recently
used first out. The number and the time, new on every ticket, are drawn and never kept: a day of tickets
no longer fills memory with numbers nobody prints again (the 260-dot number alone is 130 KB)."""


@lru_cache(maxsize=RUN_CACHE_LINES)
def _kept_run(text: str, size: int, bold: bool) -> _Run:
    """A line that repeats on many tickets: shaped and rasterised once (FreeType rendering is most of a
    ticket's cost, about 1 ms per line)."""
    return _draw_run(text, size, bold)


def _run(text: str, size: int, bold: bool, *, keep: bool = True) -> _Run:
    return _kept_run(text, size, bold) if keep else _draw_run(text, size, bold)


def _draw_run(text: str, size: int, bold: bool) -> _Run:
    """Shape and rasterise one line."""
    font = _font(size, bold)
    left, top, right, bottom = (int(v) for v in font.getbbox(text, anchor="ls"))
    mask = Image.new("1", (max(1, right - left), max(1, bottom - top)), 0)
    draw = ImageDraw.Draw(mask)
    draw.fontmode = "1"
    draw.text((-left, -top), text, font=font, fill=1, anchor="ls", language=_language(text))
    return _Run(mask, left, top, bottom, font.getlength(text))


def _language(text: str) -> str:
    return "th" if any("\u0e00" <= ch <= "\u0e7f" for ch in text) else "en"


def _secondary_size(text: str, small: int) -> int:
    """Thai in TLWG fonts looks two dots smaller than Latin of the same size: even them out."""
    return small + 2 if _language(text) == "th" else small


@lru_cache(maxsize=64)
def _min_box(size: int, bold: bool) -> tuple[int, int]:
    """Least ascent and descent of a line: Latin capitals and descenders, so lines without Thai marks
    keep an even rhythm; lines with stacked Thai marks grow to fit them (never clipped)."""
    font = _font(size, bold)
    return -int(font.getbbox("H", anchor="ls")[1]), int(font.getbbox("gpy", anchor="ls")[3])


@lru_cache(maxsize=RUN_CACHE_LINES)
def _wrap_kept(text: str, size: int, bold: bool, max_width: int) -> tuple[str, ...]:
    return tuple(wrap(text, _font(size, bold), max_width))


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Lines no wider than max_width, broken at word boundaries (Thai and English alike): the screens'
    line breaking (`common.ui.thai.wrap`) measured with the ticket's font."""
    return thai.wrap(text, max_width, font.getlength)


# --- drawing -----------------------------------------------------------------------------------------


class _Canvas:
    """A tall white strip drawn top to bottom and cropped to what was drawn."""

    _MAX_HEIGHT = 4000

    def __init__(self, width: int) -> None:
        self.width = width
        self.content = width - 2 * _MARGIN
        self.image = Image.new("1", (width, self._MAX_HEIGHT), _WHITE)
        self.y = _MARGIN
        self.texts: list[str] = []

    def gap(self, dots: int) -> None:
        self.y += dots

    def rule(self) -> None:
        self.y += 8
        self.image.paste(_BLACK, (_MARGIN, self.y, self.width - _MARGIN, self.y + 2))
        self.y += 2 + 10

    def _paragraph(
        self, text: str, size: int, bold: bool, max_width: int, *, keep: bool = True
    ) -> tuple[list[_Run], int, int]:
        """The wrapped lines of a paragraph with one ascent and descent for all of them. `keep=False`
        for a paragraph that is new on every ticket (the time): drawn, not cached."""
        self.texts.append(text)
        parts = _wrap_kept(text, size, bold, max_width) if keep else wrap(text, _font(size, bold), max_width)
        runs = [_run(part, size, bold, keep=keep) for part in parts]
        ascent, descent = _min_box(size, bold)
        for r in runs:
            ascent, descent = max(ascent, -r.top), max(descent, r.bottom)
        return runs, ascent, descent + max(2, size // 6)

    def _put(self, r: _Run, x: float, baseline: int, fill: int = _BLACK) -> None:
        self.image.paste(fill, (int(x) + r.left, baseline + r.top), r.mask)

    def line(self, text: str, size: int, bold: bool = False, *, keep: bool = True) -> None:
        """One paragraph, wrapped and centred."""
        runs, ascent, descent = self._paragraph(text, size, bold, self.content, keep=keep)
        for r in runs:
            self._put(r, (self.width - r.advance) / 2, self.y + ascent)
            self.y += ascent + descent

    def pair(
        self,
        th: str,
        en: str,
        primary_th: bool,
        size: int,
        small: int,
        *,
        bold: bool = False,
        keep: bool = True,
    ) -> None:
        """The same words in both languages: the ticket's language large, the other small below."""
        first, second = _pair_text(th, en, primary_th)
        if first:
            self.line(first, size, bold, keep=keep)
        if second:
            self.line(second, _secondary_size(second, small), keep=keep)

    def bullet(self, text: str, size: int, mark: str = "•") -> None:
        """A list item with a hanging indent."""
        indent = _MARGIN + 28
        runs, ascent, descent = self._paragraph(text, size, False, self.width - indent - _MARGIN)
        for i, r in enumerate(runs):
            if i == 0 and mark:
                self._put(_run(mark, size, False), _MARGIN + 6, self.y + ascent)
            self._put(r, indent, self.y + ascent)
            self.y += ascent + descent

    def number(self, number: str) -> None:
        """The ticket number as large as the paper allows: it is what the citizen reads and compares."""
        size = _SIZE_NUMBER_MAX
        width = _font(size, True).getlength(number)
        limit = self.content * _NUMBER_WIDTH_SHARE
        if width > limit:
            size = max(40, int(size * limit / width))
        r = _run(number, size, True, keep=False)  # a new number on every ticket
        self.texts.append(number)
        self.y += 6
        self._put(r, (self.width - r.advance) / 2, self.y - r.top)
        self.y += r.bottom - r.top + 14

    def inverted(self, text: str, size: int) -> None:
        """White on black: the priority must be seen by staff across the counter."""
        runs, ascent, descent = self._paragraph(text, size, True, self.content - 24)
        height = (ascent + descent) * len(runs) + 8
        self.image.paste(_BLACK, (_MARGIN, self.y, self.width - _MARGIN, self.y + height))
        y = self.y + 6
        for r in runs:
            self._put(r, (self.width - r.advance) / 2, y + ascent, fill=_WHITE)
            y += ascent + descent
        self.y += height + 4

    def qr(self, url: str, caption: tuple[str, str]) -> None:
        """The QR code on the left, its caption beside it, so the ticket stays short."""
        code = _qr_image(url)
        self.image.paste(code, (_MARGIN, self.y))
        left = _MARGIN + code.width
        available = self.width - left - _MARGIN
        blocks = [
            self._paragraph(caption[0], _SIZE_SMALL + 2, True, available),
            self._paragraph(caption[1], _secondary_size(caption[1], _SIZE_SMALL), False, available),
        ]
        text_height = sum((a + d) * len(runs) for runs, a, d in blocks)
        y = self.y + max(0, (code.height - text_height) // 2)
        for runs, ascent, descent in blocks:
            for r in runs:
                self._put(r, left, y + ascent)
                y += ascent + descent
        self.y = max(self.y + code.height, y)

    def finish(self) -> Image.Image:
        bottom = min(self.y + _MARGIN, self._MAX_HEIGHT)
        if self.y >= self._MAX_HEIGHT:
            log.warning("ticket taller than %d dots was cut short", self._MAX_HEIGHT)
        image = self.image.crop((0, 0, self.width, bottom))
        image.info["text"] = "\n".join(self.texts)
        return image


def _qr_image(url: str) -> Image.Image:
    """A QR code of about 25 mm with its quiet zone: phone cameras read it from a hand-held ticket."""
    import qrcode  # deferred: only tickets with a URL need it
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=0)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    modules = len(matrix)
    box = max(3, 200 // modules)
    small = Image.frombytes(
        "L", (modules, modules), bytes(0 if dark else 255 for row in matrix for dark in row)
    )
    quiet = 4 * box  # the quiet zone the QR standard asks for; scanners miss codes crowded by text
    out = Image.new("1", (modules * box + 2 * quiet, modules * box + 2 * quiet), _WHITE)
    out.paste(
        small.resize((modules * box, modules * box), Image.Resampling.NEAREST).convert("1"), (quiet, quiet)
    )
    return out
