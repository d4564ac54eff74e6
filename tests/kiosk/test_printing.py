"""The ticket printer against a fake ESC/POS network printer on 127.0.0.1: the bytes are the ticket,
faults give the citizen one clear instruction, and nothing raises or hangs."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from escpos.printer import Dummy
from PIL import Image, ImageChops

from common.config import PrinterConfig
from common.vocabulary import Lang, PrinterState, Priority
from kiosk.printing import ABANDON_GRACE_S, TicketPrinter, raster_bytes
from kiosk.ticket_image import TicketPrint, render_ticket
from tests.kiosk.fake_printer import FakePrinter

TIMEOUT_S = 1.0
"""Small, so a test of a printer that never answers ends quickly; the code waits on sockets, not sleeps."""

STATUS_TIMEOUT_S = 0.2
"""How long each status query waits, for printers that give no status (so those tests end quickly)."""

ANSWERING_TIMEOUT_S = 10.0
"""The job's and each query's bound for a printer that answers: it answers within milliseconds, so no
test waits this long, and a test machine busy with other work cannot make an answer late (a status
asked before printing and not answered in time is printed over, as a printer without status is)."""

INIT = b"\x1b@"
FEED_AND_CUT = b"\x1bd\x06" + b"\x1dV\x00"


@pytest.fixture(scope="module")
def ticket() -> Image.Image:
    return render_ticket(
        TicketPrint(
            office_name_th="เทศบาลตำบลบ้านใหม่",
            office_name_en="Ban Mai Subdistrict Municipality",
            service_name_th="ชำระภาษีที่ดินและสิ่งปลูกสร้าง",
            service_name_en="Land and building tax",
            number="B007",
            priority=Priority.none,
            issued_at=datetime(2026, 11, 26, 2, 5, tzinfo=UTC),
            waiting_ahead=2,
            estimated_wait_min=8,
            documents_th=["บัตรประจำตัวประชาชน"],
            documents_en=["ID card"],
            qr_url="https://oss.example.go.th/t/2026-11-26/B007",
            lang=Lang.th,
            offline=False,
        )
    )


@pytest.fixture
def fake() -> Iterator[FakePrinter]:
    with FakePrinter() as printer:
        yield printer


def _network(port: int, *, answers: bool = True, **overrides: Any) -> TicketPrinter:
    """A network printer on `port`; `answers=False` for one that gives no status or no answer at all."""
    timeout, status_timeout = (
        (ANSWERING_TIMEOUT_S, ANSWERING_TIMEOUT_S) if answers else (TIMEOUT_S, STATUS_TIMEOUT_S)
    )
    config = PrinterConfig(kind="network", host="127.0.0.1", port=port, timeout_s=timeout, **overrides)
    return TicketPrinter(config, status_timeout_s=status_timeout)


def decode_raster(data: bytes) -> Image.Image:
    """The image carried by an ESC @, GS v 0 ..., ESC d n, GS V 0 ticket; asserts nothing else is there."""
    assert data.startswith(INIT)
    position = len(INIT)
    bands: list[Image.Image] = []
    while data.startswith(b"\x1dv0", position):
        mode = data[position + 3]
        assert mode == 0, "normal density"
        width_bytes = data[position + 4] | data[position + 5] << 8
        height = data[position + 6] | data[position + 7] << 8
        start = position + 8
        raster = data[start : start + width_bytes * height]
        assert len(raster) == width_bytes * height
        # In GS v 0 a set bit burns a dot; in a mode "1" image a set bit is white.
        bands.append(ImageChops.invert(Image.frombytes("1", (width_bytes * 8, height), raster)))
        position = start + width_bytes * height
    assert bands, "no raster image in the ticket"
    assert data[position:] == FEED_AND_CUT, "the ticket must end by feeding and cutting"
    image = Image.new("1", (bands[0].width, sum(b.height for b in bands)), 1)
    y = 0
    for band in bands:
        image.paste(band, (0, y))
        y += band.height
    return image


def test_network_bytes_are_the_dummy_bytes_and_decode_to_the_ticket(
    ticket: Image.Image, fake: FakePrinter
) -> None:
    dummy = Dummy()
    reference = TicketPrinter(PrinterConfig(kind="none"), device_factory=lambda _t: dummy)
    assert reference.print_ticket(ticket).ok

    result = _network(fake.port).print_ticket(ticket)

    assert result.ok and result.state == PrinterState.ok
    assert result.message_th == "กรุณารับบัตรคิว"
    assert fake.wait_for(len(dummy.output))
    assert fake.printed == dummy.output
    decoded = decode_raster(fake.printed)
    assert decoded.size == ticket.size
    assert decoded.tobytes() == ticket.tobytes()  # pixel for pixel
    assert fake.connections[0].queries[:3] == [1, 2, 4]  # asked before printing


@pytest.mark.parametrize(
    ("fault", "state", "words"),
    [
        ({"paper": "out"}, PrinterState.no_paper, "กระดาษหมด"),
        ({"cover_open": True}, PrinterState.cover_open, "ฝาเครื่องพิมพ์เปิด"),
    ],
)
def test_printer_fault_prints_nothing_and_asks_for_staff(
    ticket: Image.Image, fake: FakePrinter, fault: dict[str, Any], state: PrinterState, words: str
) -> None:
    for key, value in fault.items():
        setattr(fake, key, value)
    result = _network(fake.port).print_ticket(ticket)
    assert not result.ok and result.state == state
    assert words in result.message_th and "กรุณาแจ้งเจ้าหน้าที่" in result.message_th
    assert "Please tell a staff member" in result.message_en
    assert fake.printed == b""  # a ticket held in a stopped printer would come out later, to no one


def test_paper_low_still_prints_and_says_so_for_staff(ticket: Image.Image, fake: FakePrinter) -> None:
    fake.paper = "low"
    printer = _network(fake.port)
    result = printer.print_ticket(ticket)
    assert result.ok and result.state == PrinterState.paper_low
    assert result.message_th == "กรุณารับบัตรคิว"
    assert printer.last_state == PrinterState.paper_low


def test_connection_dropped_mid_ticket_is_offline(ticket: Image.Image, fake: FakePrinter) -> None:
    fake.close_after = 5000
    result = _network(fake.port).print_ticket(ticket)
    assert not result.ok and result.state == PrinterState.offline
    assert "กรุณาแจ้งเจ้าหน้าที่" in result.message_th


def test_printer_that_never_answers_gives_up_within_the_timeout(ticket: Image.Image) -> None:
    with FakePrinter(silent=True) as silent:
        started = time.monotonic()
        result = _network(silent.port, answers=False).print_ticket(ticket)
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT_S + ABANDON_GRACE_S + 1.0
    assert not result.ok and result.state == PrinterState.unknown
    assert result.message_en == "The ticket could not be printed. Please tell a staff member"


def test_printer_without_status_prints_and_says_what_to_do_if_nothing_came(
    ticket: Image.Image, fake: FakePrinter
) -> None:
    fake.answer_status = False
    result = _network(fake.port, answers=False).print_ticket(ticket)
    assert result.ok and result.state == PrinterState.unknown
    assert "หากบัตรไม่ออก" in result.message_th
    assert fake.wait_for(1) and decode_raster(fake.printed).tobytes() == ticket.tobytes()


def test_printer_switched_off_is_offline_at_once(ticket: Image.Image) -> None:
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _network(port).print_ticket(ticket)
    assert not result.ok and result.state == PrinterState.offline


def test_status_without_printing(fake: FakePrinter) -> None:
    printer = _network(fake.port)
    assert printer.status() == PrinterState.ok
    fake.paper = "out"
    assert printer.status() == PrinterState.no_paper
    fake.paper, fake.cover_open = "ok", True
    assert printer.status() == PrinterState.cover_open
    assert fake.printed == b""


def test_reprint_last_sends_the_same_bytes_again(ticket: Image.Image, fake: FakePrinter) -> None:
    printer = _network(fake.port)
    assert printer.reprint_last().ok is False  # nothing printed yet
    fake.paper = "out"
    assert printer.print_ticket(ticket).state == PrinterState.no_paper
    fake.paper = "ok"  # staff loaded paper
    assert printer.reprint_last().ok
    assert printer.reprint_last().ok
    first, second = (bytes(c.printed) for c in fake.connections if c.printed)
    assert first == second == printer.ticket_bytes(ticket)


def test_no_printer_configured_tells_the_citizen_to_note_the_number(ticket: Image.Image) -> None:
    printer = TicketPrinter(PrinterConfig(kind="none"))
    result = printer.print_ticket(ticket)
    assert not result.ok and result.state == PrinterState.none
    assert printer.status() == PrinterState.none


def test_file_printer_gets_the_ticket_bytes(ticket: Image.Image, tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    printer = TicketPrinter(PrinterConfig(kind="file", path=str(target), timeout_s=TIMEOUT_S))
    result = printer.print_ticket(ticket)
    assert result.ok and result.state == PrinterState.unknown  # a file cannot answer status queries
    assert decode_raster(target.read_bytes()).tobytes() == ticket.tobytes()


def test_driver_that_hangs_is_abandoned_and_the_kiosk_goes_on(ticket: Image.Image) -> None:
    release = threading.Event()

    class Stuck(Dummy):  # type: ignore[misc]
        def _raw(self, msg: bytes) -> None:
            release.wait(30)

    config = PrinterConfig(kind="usb", timeout_s=0.3)
    printer = TicketPrinter(config, device_factory=lambda _t: Stuck())
    try:
        started = time.monotonic()
        result = printer.print_ticket(ticket)
        assert time.monotonic() - started < 0.3 + ABANDON_GRACE_S + 1.0
        assert not result.ok and result.state == PrinterState.unknown
        again = printer.reprint_last()  # the stuck job still holds the printer: fail fast, not hang
        assert not again.ok
    finally:
        release.set()


def test_printing_from_a_worker_thread(ticket: Image.Image, fake: FakePrinter) -> None:
    done = threading.Event()
    results: list[Any] = []

    def finished(result: Any) -> None:
        results.append((result, threading.current_thread() is threading.main_thread()))
        done.set()

    _network(fake.port).print_in_background(ticket, finished).join(5)
    assert done.is_set()
    result, on_main = results[0]
    assert result.ok and not on_main


def _escpos_raster(image: Image.Image) -> bytes:
    """What python-escpos itself writes for `image` as GS v 0 (the slow path through RGBA and back)."""
    out = Dummy()
    out.profile.profile_data = {**out.profile.profile_data, "media": {"width": {"pixels": image.width}}}
    out.image(image, impl="bitImageRaster", center=False)
    return bytes(out.output)


def test_our_raster_is_byte_for_byte_what_python_escpos_writes(ticket: Image.Image) -> None:
    speckled = Image.effect_noise((576, 2100), 90).convert("1")  # three fragments, the last a short one
    for image in (ticket, speckled, Image.new("1", (576, 1), 1)):
        assert raster_bytes(image) == _escpos_raster(image)
    assert (
        TicketPrinter(PrinterConfig(kind="none")).ticket_bytes(ticket)
        == INIT + _escpos_raster(ticket) + FEED_AND_CUT
    )
    with pytest.raises(ValueError, match="whole number of bytes wide"):
        raster_bytes(Image.new("1", (575, 10), 1))


def test_a_greyscale_image_still_prints_through_python_escpos() -> None:
    grey = Image.new("L", (576, 40), 255)
    grey.paste(0, (100, 10, 200, 30))
    decoded = decode_raster(TicketPrinter(PrinterConfig(kind="none")).ticket_bytes(grey))
    assert ImageChops.invert(decoded).getbbox() == (100, 10, 200, 30)


def test_image_narrower_than_the_paper_is_centred() -> None:
    printer = TicketPrinter(PrinterConfig(kind="none"))
    decoded = decode_raster(printer.ticket_bytes(Image.new("1", (400, 50), 0)))
    assert decoded.width == 576
    assert ImageChops.invert(decoded).getbbox() == (88, 0, 488, 50)


def test_paper_narrower_than_configured_is_scaled_not_refused(ticket: Image.Image) -> None:
    printer = TicketPrinter(PrinterConfig(kind="none", profile="TM-T88V"))  # 512 dots wide
    assert printer.width_dots == 512
    assert decode_raster(printer.ticket_bytes(ticket)).width == 512


def test_bad_profile_name_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match=r"printer\.profile"):
        TicketPrinter(PrinterConfig(kind="none", profile="NO-SUCH-PRINTER"))
