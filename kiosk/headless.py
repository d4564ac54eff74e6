"""The kiosk's event loop without a window: one thread runs handed-off tasks and timers in order.

The app uses Kivy's Clock for this; tests, the end-to-end check through a real broker and benchmark
scripts (1,000 tickets, tap-to-number) use `HeadlessLoop`, so the same `KioskModel` and `KioskRuntime`
run with no display at all. Only the thread that calls `run_until`/`pump` runs tasks."""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable

Task = Callable[[], None]


class _Timer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class HeadlessLoop:
    """A `handoff` (thread-safe) and a `Scheduler` (loop thread only) sharing one queue."""

    def __init__(self) -> None:
        self._tasks: queue.Queue[Task] = queue.Queue()
        self._timers: list[tuple[float, int, _Timer, Task]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    def handoff(self, task: Task) -> None:
        self._tasks.put(task)

    def call_later(self, delay_s: float, callback: Task) -> _Timer:
        timer = _Timer()
        with self._lock:
            heapq.heappush(self._timers, (time.monotonic() + delay_s, next(self._order), timer, callback))
        return timer

    def pump(self, max_wait_s: float = 0.0) -> int:
        """Run due timers and queued tasks, waiting up to `max_wait_s` for the first; returns how many ran."""
        ran = self._due_timers()
        try:
            task = (
                self._tasks.get(timeout=max_wait_s)
                if max_wait_s > 0 and not ran
                else self._tasks.get_nowait()
            )
        except queue.Empty:
            return ran
        task()
        ran += 1
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            task()
            ran += 1
        return ran + self._due_timers()

    def run_until(self, done: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        """Run the loop until `done()` is true; False if `timeout_s` passed first."""
        deadline = time.monotonic() + timeout_s
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.pump(max_wait_s=min(0.02, left))
        return True

    def _due_timers(self) -> int:
        ran = 0
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > time.monotonic():
                    return ran
                _, _, timer, callback = heapq.heappop(self._timers)
            if not timer.cancelled:
                callback()
                ran += 1
