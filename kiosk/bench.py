"""Measuring the kiosk (benchmarks, not tests): cold start to first frame, tap to number on screen,
memory after many tickets.

`khiu kiosk --benchmark out.json` writes the seconds from process start to the first frame drawn;
with `--benchmark-tickets 1000` the running app then takes that many tickets itself, through the same
model calls a tap makes, and adds the tap-to-number times and the resident memory at the end. Each
ticket's time is split where it crosses a thread or a process: the request handed to MQTT (after the
outbox's commit, on the UI thread), the reply handed over by the network thread, the number in the
model (on the UI thread), the first frame showing it. Scripts can also drive a `KioskModel` with
`kiosk.headless.HeadlessLoop` directly.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.contract import TicketRequest
from common.vocabulary import Priority
from kiosk.viewmodels import KioskModel, PrintPhase, Ticket, TicketPhase

log = logging.getLogger(__name__)

READY_WAIT_S = 30.0
"""How long a ticket run waits for the broker and the server before its first tap."""

RSS_EVERY = 100
"""A ticket run notes the resident memory after every this many tickets (is it still growing?)."""

Task = Callable[[], None]


def process_age_s() -> float:
    """Seconds since this process was started (Linux /proc), so a cold start includes the interpreter."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat, counted after the command name
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def rss_mb() -> float:
    """Resident memory of this process in MB (VmRSS)."""
    return memory_mb().get("rss", float("nan"))


def memory_mb() -> dict[str, float]:
    """Resident memory in MB: all of it, anonymous (the heap: Python objects, textures, buffers) and
    file-backed (code of the interpreter and libraries), and of that the software OpenGL renderer's
    libraries (LLVM and Mesa's swrast, which a kiosk with a GPU driver does not load the same way)."""
    out: dict[str, float] = {}
    keys = {"VmRSS:": "rss", "RssAnon:": "anon", "RssFile:": "file"}
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                key = keys.get(line.split(" ", 1)[0].split("\t", 1)[0])
                if key is not None:
                    out[key] = int(line.split()[1]) / 1024
        software_gl = 0
        mapping = ""
        with open("/proc/self/smaps", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split()
                if parts and "-" in parts[0] and len(parts) >= 5:
                    mapping = parts[5] if len(parts) > 5 else ""
                elif parts and parts[0] == "Rss:" and ("libLLVM" in mapping or "swrast" in mapping):
                    software_gl += int(parts[1])
        out["software_gl"] = software_gl / 1024
    except (OSError, ValueError, IndexError):
        pass
    return out


def textures() -> dict[str, float]:
    """The Kivy textures alive (labels, canvases) and the pixels they hold: in process memory under a
    software GL driver, in the GPU's under a real one."""
    import gc

    from kivy.graphics.texture import Texture, TextureRegion

    alive = [o for o in gc.get_objects() if isinstance(o, Texture) and not isinstance(o, TextureRegion)]
    pixels = sum(t.width * t.height for t in alive)
    return {"count": len(alive), "mb": round(pixels * 4 / 2**20, 1)}


HEAP_ROWS = 30


def python_heap(at_start: tracemalloc.Snapshot | None) -> dict[str, Any]:
    """What Python objects hold (diagnostic: run with PYTHONTRACEMALLOC=1): by file at the end, and the
    lines whose allocations grew most since the first frame. Memory that C libraries take with their own
    allocator (Mesa, SDL, FreeType, pydantic-core) is not traced."""
    now = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    by_file = now.statistics("filename")
    out: dict[str, Any] = {
        "traced_mb": round(sum(s.size for s in by_file) / 2**20, 1),
        "by_file_mb": [[str(s.traceback[0].filename), round(s.size / 2**20, 2)] for s in by_file[:HEAP_ROWS]],
    }
    if at_start is not None:
        grown = now.compare_to(at_start, "lineno")
        out["grown_since_first_frame_mb"] = [
            [str(s.traceback[0]), round(s.size_diff / 2**20, 2), s.count_diff] for s in grown[:HEAP_ROWS]
        ]
    return out


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class Benchmark:
    """Collects the figures and writes them as JSON."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.results: dict[str, Any] = {}
        self.handoffs: collections.deque[float] = collections.deque(maxlen=64)
        """When the network thread handed something to the UI thread (perf_counter), latest last."""
        self._heap_at_start: tracemalloc.Snapshot | None = None

    def timed_handoff(self, handoff: Callable[[Task], None]) -> Callable[[Task], None]:
        """`handoff` noting when each task was handed over (the app's one thread crossing)."""

        def timed(task: Task) -> None:
            self.handoffs.append(time.perf_counter())
            handoff(task)

        return timed

    def first_frame(self, _perf_counter: float) -> None:
        memory = memory_mb()
        self.results["first_frame_s"] = round(process_age_s(), 3)
        self.results["rss_mb_at_start"] = round(memory.get("rss", float("nan")), 1)
        self.results["memory_mb_at_start"] = {k: round(v, 1) for k, v in memory.items()}
        self.results["textures_at_start"] = textures()
        if tracemalloc.is_tracing():
            self._heap_at_start = tracemalloc.take_snapshot()
        log.info("first frame %.2f s after process start", self.results["first_frame_s"])
        self.write()

    def tickets_done(self, run: TicketRun) -> None:
        memory = memory_mb()
        self.results.update(
            tickets=len(run.to_frame),
            offline=run.offline,
            failed=run.failed,
            rss_mb_curve=run.rss_curve,
            memory_mb_after_tickets={k: round(v, 1) for k, v in memory.items()},
            rss_mb_after_tickets=round(memory.get("rss", float("nan")), 1),
        )
        self.results["textures_after_tickets"] = textures()
        if tracemalloc.is_tracing():
            self.results["python_heap"] = python_heap(self._heap_at_start)
        series = {
            "sent": run.to_sent,
            "arrived": run.to_arrived,
            "number_model": run.to_model,
            "number_frame": run.to_frame,
        }
        for name, values in series.items():
            ms = [v * 1000 for v in values]
            self.results[f"tap_to_{name}_p50_ms"] = round(statistics.median(ms), 2) if ms else None
            self.results[f"tap_to_{name}_p99_ms"] = round(percentile(ms, 0.99), 2) if ms else None
        self.write()

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.results, indent=2) + "\n", encoding="utf-8")


class TicketRun:
    """Takes `count` tickets through the model as a citizen would, one after another, on Kivy's clock.

    Each ticket: a group, its first open service, take, no priority; wait for the number, for the
    frame that shows it and for the printer; done. Times are seconds from the tap."""

    def __init__(
        self,
        model: KioskModel,
        count: int,
        on_done: Callable[[TicketRun], None],
        *,
        handoffs: collections.deque[float] | None = None,
    ) -> None:
        self.model = model
        self.count = count
        self.on_done = on_done
        self.to_sent: list[float] = []
        """Tap → request handed to MQTT (written to the outbox first: two commits on the UI thread)."""
        self.to_arrived: list[float] = []
        """Tap → the reply handed over by the network thread."""
        self.to_model: list[float] = []
        """Tap → the number in the model (when the UI thread got to the reply)."""
        self.to_frame: list[float] = []
        """Tap → the first frame showing the number, its buffer swap returned."""
        self.rss_curve: list[tuple[int, float]] = []
        self.offline = 0
        """Tickets numbered by the kiosk itself (no reply in time): their times are not the server's."""
        self.failed = 0
        self._handoffs = handoffs
        self._ticket: Ticket | None = None
        self._tapped_at = 0.0
        self._sent_at = 0.0
        self._ready_by = 0.0
        self._wrap_channel()

    def _wrap_channel(self) -> None:
        """Note when the tap's request has been handed to MQTT."""
        channel = self.model.channel
        request_ticket = channel.request_ticket

        def timed(request: TicketRequest) -> None:
            request_ticket(request)
            self._sent_at = time.perf_counter()

        channel.request_ticket = timed  # type: ignore[method-assign]

    def start(self) -> None:
        from kivy.core.window import Window

        Window.bind(on_flip=self._on_flip)
        self._ready_by = time.monotonic() + READY_WAIT_S
        self._wait_for_server()

    def _wait_for_server(self) -> None:
        """Tap only once the server is known to be up: a tap before the link connects gets an offline
        number at once, which is not what this measures."""
        from kivy.clock import Clock

        m = self.model
        if m.broker_connected and m.server_online:
            Clock.schedule_once(lambda _dt: self._next(), 0.5)
        elif time.monotonic() > self._ready_by:
            log.error("the server did not come online within %.0f s: measuring anyway", READY_WAIT_S)
            Clock.schedule_once(lambda _dt: self._next(), 0)
        else:
            Clock.schedule_once(lambda _dt: self._wait_for_server(), 0.1)

    def _next(self) -> None:
        from kivy.clock import Clock

        done = len(self.to_frame) + self.failed
        if done and done % RSS_EVERY == 0 and (not self.rss_curve or self.rss_curve[-1][0] != done):
            self.rss_curve.append((done, round(rss_mb(), 1)))
        if done >= self.count:
            from kivy.core.window import Window

            Window.unbind(on_flip=self._on_flip)
            self.on_done(self)
            return
        m = self.model
        m.finish()
        group = m.groups()[done % len(m.groups())]
        m.open_group(group)
        service = next((s for s in m.services_view().services if s.accepting), None)
        if service is None:
            log.error("no open service in %s to benchmark with", group)
            Clock.schedule_once(lambda _dt: self._next(), 0)
            return
        m.open_service(service.code)
        m.take_ticket()
        self._tapped_at = time.perf_counter()
        self._sent_at = 0.0
        m.choose_priority(Priority.none)
        self._ticket = m.ticket
        Clock.schedule_once(lambda _dt: self._watch(), 0)

    def _on_flip(self, *_args: Any) -> None:
        """The first frame drawn after the number reached the model is the one that shows it: the
        reply is handed over and the screens refreshed before the frame is drawn (Kivy's -1 events)."""
        t = self._ticket
        if t is None or t.numbered_at is None or self.model.ticket is not t:
            return
        flipped = time.perf_counter()
        self._ticket = None
        self.to_frame.append(flipped - self._tapped_at)
        self.to_model.append(t.numbered_at - t.tapped_at)
        if self._sent_at:
            self.to_sent.append(self._sent_at - t.tapped_at)
        arrived = [h for h in self._handoffs or () if t.tapped_at <= h <= t.numbered_at]
        if arrived and t.phase is TicketPhase.issued:
            self.to_arrived.append(arrived[-1] - t.tapped_at)
        if t.phase is not TicketPhase.issued:
            self.offline += 1
        self._after_print()

    def _watch(self) -> None:
        """A ticket that ends without a number (refused, no offline series) is counted, not waited for."""
        from kivy.clock import Clock

        t = self._ticket
        if t is None:
            return
        if t.phase in (TicketPhase.rejected, TicketPhase.unavailable):
            log.error("ticket refused or unavailable: %s", t.rejection)
            self._ticket = None
            self.failed += 1
            Clock.schedule_once(lambda _dt: self._next(), 0)
            return
        Clock.schedule_once(lambda _dt: self._watch(), 0.05)

    def _after_print(self) -> None:
        """The next citizen comes after this one took the paper: do not measure a tap against the
        previous ticket still rendering and printing on the worker thread."""
        from kivy.clock import Clock

        t = self.model.ticket
        if t is not None and t.print_phase is PrintPhase.printing:
            Clock.schedule_once(lambda _dt: self._after_print(), 0.05)
        else:
            Clock.schedule_once(lambda _dt: self._next(), 0)
