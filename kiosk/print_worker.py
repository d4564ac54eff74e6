"""Printing off the UI thread.

Rendering a ticket (Pillow, 11-18 ms) and sending it (up to the printer's timeout when it does not
answer) must never freeze the screen, so one worker thread takes jobs from a small bounded queue, renders
with `kiosk.ticket_image.render_ticket`, prints with `kiosk.printing.TicketPrinter`, and hands each
result back through the app's one thread crossing (`handoff`).

Pillow, python-escpos and the Thai dictionary are imported on the worker thread, after the window is up.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.config import PrinterConfig
from common.vocabulary import PrinterState
from kiosk.heap import release_free_heap
from kiosk.viewmodels import PrintJob, PrintOutcome

log = logging.getLogger(__name__)

QUEUE_SIZE = 8
"""Jobs waiting for the printer. A kiosk issues a ticket every few seconds at most; a full queue means
the printer is stuck, and the next citizen is told at once instead of waiting behind it."""

Task = Callable[[], None]
ResultHandler = Callable[[int | None, PrintOutcome], None]


@dataclass(frozen=True, slots=True)
class WorkerResult:
    """A result made by the worker itself (the printer never got the job)."""

    ok: bool
    state: PrinterState
    message_th: str
    message_en: str


_BUSY = WorkerResult(
    False,
    PrinterState.unknown,
    "เครื่องพิมพ์ไม่ตอบสนอง กรุณาแจ้งเจ้าหน้าที่",
    "The printer is not responding. Please tell a staff member",
)
_BROKEN = WorkerResult(
    False,
    PrinterState.unknown,
    "พิมพ์บัตรคิวไม่สำเร็จ กรุณาแจ้งเจ้าหน้าที่",
    "The ticket could not be printed. Please tell a staff member",
)

_REPRINT = object()
_STOP = object()


class PrintWorker:
    """Implements `viewmodels.PrintQueue`. `on_result(job_id, result)` runs via `handoff` (job_id None
    for a reprint)."""

    def __init__(
        self,
        config: PrinterConfig,
        *,
        handoff: Callable[[Task], None],
        on_result: ResultHandler,
        printer_factory: Callable[[PrinterConfig], Any] | None = None,
    ) -> None:
        self.config = config
        self._handoff = handoff
        self._on_result = on_result
        self._factory = printer_factory
        self._jobs: queue.Queue[object] = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._printer: Any = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="khiu-print", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        try:
            self._jobs.put(_STOP, timeout=timeout)
        except queue.Full:
            log.warning("print queue full at stop; leaving the worker behind")
            return
        self._thread.join(timeout)

    def submit(self, job: PrintJob) -> None:
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            log.error(
                "print queue full (%d jobs): the printer is stuck; ticket %s not printed",
                QUEUE_SIZE,
                job.number,
            )
            self._deliver(job.job_id, _BUSY)

    def reprint_last(self) -> None:
        try:
            self._jobs.put_nowait(_REPRINT)
        except queue.Full:
            self._deliver(None, _BUSY)

    def _deliver(self, job_id: int | None, result: PrintOutcome) -> None:
        self._handoff(lambda: self._on_result(job_id, result))

    def _run(self) -> None:
        try:
            self._printer = self._make_printer()
            from kiosk import ticket_image

            ticket_image.warm_up()
        except Exception:
            log.exception("the printer could not be set up; tickets will show their number only")
        while True:
            item = self._jobs.get()
            if item is _STOP:
                return
            if item is _REPRINT:
                self._deliver(None, self._reprint())
            elif isinstance(item, PrintJob):
                self._deliver(item.job_id, self._print(item))
                release_free_heap()

    def _make_printer(self) -> Any:
        if self._factory is not None:
            return self._factory(self.config)
        from kiosk.printing import TicketPrinter

        return TicketPrinter(self.config)

    def _print(self, job: PrintJob) -> PrintOutcome:
        if self._printer is None:
            return _BROKEN
        try:
            from kiosk.ticket_image import TicketPrint, render_ticket

            width = getattr(self._printer, "width_dots", self.config.paper_width_dots)
            image = render_ticket(TicketPrint(**job.ticket_fields()), width_dots=width)  # type: ignore[arg-type]
            result: PrintOutcome = self._printer.print_ticket(image)
        except Exception:
            log.exception("printing ticket %s failed", job.number)
            return _BROKEN
        log.info(
            "ticket %s: printer %s (%s)", job.number, result.state, "ok" if result.ok else result.message_en
        )
        return result

    def _reprint(self) -> PrintOutcome:
        if self._printer is None:
            return _BROKEN
        try:
            result: PrintOutcome = self._printer.reprint_last()
        except Exception:
            log.exception("reprint failed")
            return _BROKEN
        return result
