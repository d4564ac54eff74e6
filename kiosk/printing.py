"""The kiosk's ticket printer: sends the ticket image over ESC/POS and says, in Thai and English, what
the citizen should do when the paper does not come out.

Why it looks like this:
- The ticket is one raster image (kiosk.ticket_image), built once into ESC/POS bytes with python-escpos's
  Dummy printer and then written to the real link, so what goes to the printer is exactly what the tests
  decode, and `reprint_last()` resends the very same bytes.
- Status comes from the real-time queries DLE EOT 1, 2 and 4 read by this module, not from
  `paper_status()`, which says "paper OK" when the printer does not answer at all (REFERENCE.md).
  No answer is `unknown`; a refused or dropped connection is `offline`.
- Nothing here may hang the kiosk: every step runs against one deadline (`PrinterConfig.timeout_s`), the
  job runs on its own thread and is abandoned (its link shut) if a driver ignores its timeout, and no
  exception leaves `print_ticket`. Call it from a worker thread (or `print_in_background`): it blocks.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from common.config import PrinterConfig
from common.vocabulary import PrinterState

log = logging.getLogger(__name__)

STATUS_TIMEOUT_S = 0.5
"""How long to wait for the answer to one status query. Printers answer DLE EOT in real time, within a
few milliseconds over USB or Ethernet; half a second spares a busy printer and keeps one that never
answers (cheap USB models, `file` devices) from adding more than a second to a ticket."""

ABANDON_GRACE_S = 0.5
"""Beyond the deadline, how long to wait for a job whose driver ignored its timeout before giving up
on it and shutting its link."""

SEND_BUFFER_BYTES = 16 * 1024
"""Socket send buffer towards a network printer. Left to itself Linux buffers megabytes, so a printer
that stopped taking data (jammed, paper out mid-ticket, hung) would look like a ticket sent. With a
small buffer the write finishes only once the printer has taken most of the ticket, and a stalled
printer shows as a write that times out. A printer reads as fast as it prints (a 170 mm ticket in one
to two seconds), well inside `timeout_s`."""

_DLE_EOT = b"\x10\x04"
_STATUS_FIXED_MASK = 0x93
_STATUS_FIXED_BITS = 0x12
"""Every DLE EOT 1..4 answer has bits 1 and 4 set and bits 0 and 7 clear (ESC/POS); anything else is
not an answer to our question (noise, or a late answer to an earlier one)."""


@dataclass(frozen=True, slots=True)
class PrintResult:
    """What happened to one ticket, with the one sentence the kiosk shows the citizen."""

    ok: bool
    """True when the ticket went to the printer and the printer did not report a fault."""
    state: PrinterState
    message_th: str
    message_en: str


_TAKE = ("กรุณารับบัตรคิว", "Please take your ticket")
_TAKE_UNCONFIRMED = (
    "กรุณารับบัตรคิว หากบัตรไม่ออก กรุณาแจ้งเจ้าหน้าที่",
    "Please take your ticket. If none came out, please tell a staff member",
)
_NO_PAPER = ("เครื่องพิมพ์กระดาษหมด กรุณาแจ้งเจ้าหน้าที่", "The printer is out of paper. Please tell a staff member")
_COVER_OPEN = ("ฝาเครื่องพิมพ์เปิดอยู่ กรุณาแจ้งเจ้าหน้าที่", "The printer cover is open. Please tell a staff member")
_FAILED = ("พิมพ์บัตรคิวไม่สำเร็จ กรุณาแจ้งเจ้าหน้าที่", "The ticket could not be printed. Please tell a staff member")
_NO_PRINTER = ("กรุณาจดหมายเลขคิวจากหน้าจอ", "Please note your number from the screen")
_NOTHING_TO_REPRINT = ("ยังไม่มีบัตรคิวให้พิมพ์ซ้ำ", "There is no ticket to reprint yet")


_INVERT = bytes(255 - b for b in range(256))
"""Pillow packs a 1-bit image with 1 for white; ESC/POS raster wants 1 for a black dot."""

RASTER_FRAGMENT_ROWS = 960
"""Rows per GS v 0 command, as python-escpos splits them (printers cap one command's height)."""


def raster_bytes(image: Image.Image) -> bytes:
    """`GS v 0` commands for a mode "1" image whose width is a multiple of 8, in 960-row fragments.

    Byte for byte what python-escpos's `image(impl="bitImageRaster")` writes for the same image.
    """
    if image.mode != "1" or image.width % 8:
        raise ValueError(f"need a 1-bit image a whole number of bytes wide, not {image.mode} {image.size}")
    width_bytes = image.width // 8
    packed = image.tobytes().translate(_INVERT)
    chunks = []
    for top in range(0, image.height, RASTER_FRAGMENT_ROWS):
        rows = min(RASTER_FRAGMENT_ROWS, image.height - top)
        header = b"\x1dv0\x00" + width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
        chunks.append(header + packed[top * width_bytes : (top + rows) * width_bytes])
    return b"".join(chunks)


def _result(ok: bool, state: PrinterState, message: tuple[str, str]) -> PrintResult:
    return PrintResult(ok=ok, state=state, message_th=message[0], message_en=message[1])


def _fault(state: PrinterState) -> PrintResult:
    """A ticket that did not print, with the message for its cause."""
    message = {PrinterState.no_paper: _NO_PAPER, PrinterState.cover_open: _COVER_OPEN}.get(state, _FAILED)
    return _result(False, state, message)


class _LinkClosed(Exception):
    """The printer end closed the connection or the device went away."""


class _Link:
    """Bounded write and read over an open python-escpos printer, whatever its class."""

    def __init__(self, printer: Any, kind: str) -> None:
        self.printer = printer
        self.kind = kind
        self.can_read = kind in ("network", "usb", "serial") or (
            kind == "custom" and type(printer)._read is not _escpos_base()._read
        )

    def write(self, data: bytes, timeout: float) -> None:
        device = self.printer.device
        if self.kind == "network":
            device.settimeout(max(timeout, 0.001))
            device.sendall(data)
        elif self.kind == "usb":
            device.write(self.printer.out_ep, data, max(1, int(timeout * 1000)))
        elif self.kind == "serial":
            device.write_timeout = max(timeout, 0.001)
            device.write(data)
        else:
            self.printer._raw(data)

    def read(self, timeout: float) -> bytes:
        """Bytes the printer sent, b"" when it sent nothing in time; _LinkClosed when it is gone."""
        device = self.printer.device
        if self.kind == "network":
            device.settimeout(max(timeout, 0.001))
            try:
                data = bytes(device.recv(16))
            except TimeoutError:
                return b""
            if not data:
                raise _LinkClosed("connection closed by the printer")
            return data
        if self.kind == "usb":
            import usb.core

            try:
                return bytes(device.read(self.printer.in_ep, 16, max(1, int(timeout * 1000))))
            except usb.core.USBTimeoutError:
                return b""
        if self.kind == "serial":
            device.timeout = max(timeout, 0.001)
            return bytes(device.read(16))  # b"" on timeout: a serial line cannot tell "gone"
        return bytes(self.printer._read())

    def drain(self) -> None:
        """Drop answers that arrived late, so the next read is the answer to the next question."""
        if not self.can_read:
            return
        for _ in range(8):
            if not self.read(0.001):
                return

    def abort(self) -> None:
        """Called from another thread when the job overran: unblock it if the link allows."""
        device = getattr(self.printer, "_device", None)
        try:
            if isinstance(device, socket.socket):
                device.shutdown(socket.SHUT_RDWR)
            elif self.kind == "serial" and device:
                device.cancel_write()
                device.cancel_read()
        except Exception as exc:  # best effort on a link that is already broken
            log.debug("abort of printer link failed: %s", exc)

    def close(self) -> None:
        try:
            self.printer.close()
        except Exception as exc:  # closing a broken link must not hide the real result
            log.debug("closing printer link failed: %s", exc)


def _escpos_base() -> Any:
    from escpos.escpos import Escpos

    return Escpos


class TicketPrinter:
    """The ticket printer of one kiosk, from its `PrinterConfig`.

    Thread-safe; `print_ticket`, `reprint_last` and `status` block for at most about `timeout_s`.
    `device_factory` replaces the python-escpos class (tests give a Dummy); it receives the time left
    for connecting, in seconds.
    """

    def __init__(
        self,
        config: PrinterConfig,
        *,
        device_factory: Callable[[float], Any] | None = None,
        status_timeout_s: float = STATUS_TIMEOUT_S,
    ) -> None:
        from escpos.capabilities import get_profile

        self.config = config
        self._factory = device_factory
        self._kind = "custom" if device_factory is not None else config.kind
        self._status_timeout = status_timeout_s
        try:
            self._profile = get_profile(config.profile)
        except Exception as exc:
            raise ValueError(
                f"printer.profile {config.profile!r} is not a python-escpos printer profile "
                "(see `python-escpos` capabilities, e.g. TM-T20II); leave it out for the default"
            ) from exc
        self._lock = threading.Lock()
        self._last_ticket: bytes | None = None
        self._last_state = PrinterState.none if self._kind == "none" else PrinterState.unknown
        self._link: _Link | None = None

    # --- what the kiosk calls ------------------------------------------------------------------------

    @property
    def width_dots(self) -> int:
        """The width to render tickets at: the configured paper width, or less if the profile says so."""
        width = self.config.paper_width_dots
        profile_width = self._profile.profile_data.get("media", {}).get("width", {}).get("pixels")
        if isinstance(profile_width, int) and profile_width < width:
            return profile_width
        return width

    @property
    def last_state(self) -> PrinterState:
        """The printer state seen by the last job (for the kiosk's `device.status`)."""
        return self._last_state

    def print_ticket(self, image: Image.Image) -> PrintResult:
        """Print one ticket image (centred, fed and cut) and keep it for `reprint_last`."""
        if self._kind == "none":
            return _result(False, PrinterState.none, _NO_PRINTER)
        try:
            payload = self.ticket_bytes(image)
        except Exception:  # a bad image is a bug upstream, but the citizen still gets an instruction
            log.exception("could not turn the ticket image into ESC/POS")
            return _fault(PrinterState.unknown)
        self._last_ticket = payload
        return self._run(payload)

    def reprint_last(self) -> PrintResult:
        """Send the last ticket again, byte for byte (staff, after loading paper)."""
        if self._kind == "none":
            return _result(False, PrinterState.none, _NO_PRINTER)
        payload = self._last_ticket
        if payload is None:
            return _result(False, self._last_state, _NOTHING_TO_REPRINT)
        return self._run(payload)

    def status(self) -> PrinterState:
        """Ask the printer how it is, without printing."""
        if self._kind == "none":
            return PrinterState.none
        return self._run(None).state

    def print_in_background(
        self, image: Image.Image, done: Callable[[PrintResult], None]
    ) -> threading.Thread:
        """Print on a new thread and hand the result to `done` there (the UI schedules its own update)."""

        def job() -> None:
            result = self.print_ticket(image)
            try:
                done(result)
            except Exception:
                log.exception("print result callback failed")

        thread = threading.Thread(target=job, name="khiu-print", daemon=True)
        thread.start()
        return thread

    def ticket_bytes(self, image: Image.Image) -> bytes:
        """The ESC/POS bytes of one ticket: initialise, raster image (GS v 0), feed, cut."""
        from escpos.printer import Dummy

        image = self._fit(image)
        out = Dummy(profile=self.config.profile)
        impl = self._image_impl()
        if impl == "bitImageRaster" and image.mode == "1" and image.width % 8 == 0:
            # The ticket's own shape (a 1-bit image a whole number of bytes wide): write GS v 0 directly.
            # python-escpos would take it through RGBA, an alpha paste, greyscale and back to 1-bit for
            # the very same bytes (a test holds the two equal): 20 ms of the kiosk's 30 ms budget.
            out.hw("INIT")
            out._raw(raster_bytes(image))
            out.cut()
            return bytes(out.output)
        # Tell this printer's profile (an instance attribute: the shared profile class stays untouched)
        # the paper width; without one python-escpos prints a warning to stdout for every image.
        media = dict(out.profile.profile_data.get("media", {}))
        media["width"] = {**media.get("width", {}), "pixels": image.width}
        out.profile.profile_data = {**out.profile.profile_data, "media": media}
        out.hw("INIT")
        # Centring is done by _fit: python-escpos loses `center` on images taller than one fragment.
        out.image(image, impl=impl, center=False)
        out.cut()
        return bytes(out.output)

    # --- inside --------------------------------------------------------------------------------------

    def _image_impl(self) -> str:
        for impl in ("bitImageRaster", "graphics", "bitImageColumn"):
            if self._profile.supports(impl):
                return impl
        return "bitImageRaster"

    def _fit(self, image: Image.Image) -> Image.Image:
        """The image at exactly the printable width: centred when narrower, scaled down when wider."""
        width = self.width_dots
        if image.width > width:
            log.warning("ticket %d dots wide for a %d-dot printer: scaled down", image.width, width)
            height = max(1, round(image.height * width / image.width))
            image = image.convert("L").resize((width, height), Image.Resampling.LANCZOS)
        if image.width < width:
            canvas = Image.new(image.mode, (width, image.height), 255 if image.mode != "1" else 1)
            canvas.paste(image, ((width - image.width) // 2, 0))
            image = canvas
        return image

    def _run(self, payload: bytes | None) -> PrintResult:
        """One job (print `payload`, or only ask the status) on its own thread, bounded in time."""
        timeout = self.config.timeout_s
        started = time.monotonic()
        if not self._lock.acquire(timeout=timeout):
            log.error("printer still busy with a job that did not finish")
            result = _fault(PrinterState.unknown)
            self._last_state = result.state
            return result
        deadline = started + timeout
        box: list[PrintResult] = []

        def job() -> None:
            try:
                box.append(self._job(payload, deadline))
            except Exception:  # a driver bug must not escape to the kiosk
                log.exception("printer job failed")
                box.append(_fault(PrinterState.unknown))
            finally:
                self._lock.release()

        worker = threading.Thread(target=job, name="khiu-printer-io", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()) + ABANDON_GRACE_S)
        if box:
            result = box[0]
        else:
            log.error("printer did not finish within %.1f s; abandoning the job", timeout)
            link = self._link
            if link is not None:
                link.abort()
            result = _fault(PrinterState.unknown)
        self._last_state = result.state
        return result

    def _open(self, deadline: float) -> _Link:
        remaining = max(0.05, deadline - time.monotonic())
        printer = self._factory(remaining) if self._factory is not None else self._make(remaining)
        if self._kind == "network":
            # Connected here rather than by Network.open(), which leaks its socket when the connection
            # is refused; create_connection closes it, and resolves names and IPv6 too.
            sock = socket.create_connection((printer.host, printer.port), timeout=remaining)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
            printer.device = sock
        elif self._kind != "custom":
            printer.open()
        return _Link(printer, self._kind)

    def _make(self, timeout: float) -> Any:
        """The python-escpos object for the configured kind (not yet opened)."""
        from escpos import printer as escpos_printer

        c = self.config
        profile = c.profile
        if c.kind == "network":
            return escpos_printer.Network(c.host or "", c.port, timeout=timeout, profile=profile)
        if c.kind == "usb":
            return escpos_printer.Usb(
                c.usb_vendor_id, c.usb_product_id, timeout=int(timeout * 1000), profile=profile
            )
        if c.kind == "serial":
            return escpos_printer.Serial(
                c.serial_device or "", baudrate=c.baudrate, timeout=timeout, profile=profile
            )
        if c.kind == "file":
            return escpos_printer.File(c.path or "", profile=profile)
        raise ValueError(f"printer kind {c.kind!r} cannot be opened")

    def _job(self, payload: bytes | None, deadline: float) -> PrintResult:
        """Connect, check, print, check again. Runs on the job thread."""
        try:
            link = self._open(deadline)
        except Exception as exc:
            log.warning("printer %s not reachable: %s", self._kind, exc)
            return _fault(PrinterState.offline)
        self._link = link
        try:
            return self._check_and_print(link, payload, deadline)
        finally:
            self._link = None
            link.close()

    def _check_and_print(self, link: _Link, payload: bytes | None, deadline: float) -> PrintResult:
        try:
            before = self._query_state(link, deadline)
        except (_LinkClosed, OSError) as exc:
            log.warning("printer link lost while asking status: %s", exc)
            return _fault(PrinterState.offline)
        if payload is None:
            return _result(before in (PrinterState.ok, PrinterState.paper_low), before, _TAKE)
        if before in (PrinterState.no_paper, PrinterState.cover_open, PrinterState.offline):
            log.warning("ticket not printed: printer reports %s", before)
            return _fault(before)

        try:
            link.write(payload, deadline - time.monotonic())
        except TimeoutError:
            log.warning("printer stopped taking data (%d bytes to send)", len(payload))
            return _fault(PrinterState.unknown)
        except Exception as exc:
            log.warning("printer link lost while printing: %s", exc)
            return _fault(PrinterState.offline)

        try:
            link.drain()
            after = self._query_state(link, deadline)
        except (_LinkClosed, OSError) as exc:
            log.warning("printer link lost after the ticket was sent: %s", exc)
            return _fault(PrinterState.offline)
        if after in (PrinterState.ok, PrinterState.paper_low):
            return _result(True, after, _TAKE)
        if after == PrinterState.unknown:
            return _result(True, after, _TAKE_UNCONFIRMED)
        log.warning("printer reports %s after the ticket was sent", after)
        return _fault(after)

    def _query(self, link: _Link, n: int, deadline: float) -> int | None:
        """The status byte for DLE EOT n, or None when the printer gives no valid answer in time."""
        wait = min(self._status_timeout, deadline - time.monotonic())
        if wait <= 0:
            return None
        link.write(_DLE_EOT + bytes((n,)), wait)
        answer = link.read(wait)
        if not answer:
            return None
        byte = answer[-1]
        if byte & _STATUS_FIXED_MASK != _STATUS_FIXED_BITS:
            log.debug("ignoring a status answer %#04x that is not one", byte)
            return None
        return byte

    def _query_state(self, link: _Link, deadline: float) -> PrinterState:
        """Map DLE EOT 1 (printer), 2 (offline cause) and 4 (paper roll) to a PrinterState."""
        if not link.can_read:
            return PrinterState.unknown
        printer = self._query(link, 1, deadline)
        if printer is None:
            return PrinterState.unknown
        cause = self._query(link, 2, deadline)
        paper = self._query(link, 4, deadline)
        if cause is not None and cause & 0x04:
            return PrinterState.cover_open
        if (paper is not None and paper & 0x60) or (cause is not None and cause & 0x20):
            return PrinterState.no_paper
        if printer & 0x08:
            return PrinterState.offline
        if paper is not None and paper & 0x0C:
            return PrinterState.paper_low
        return PrinterState.ok
