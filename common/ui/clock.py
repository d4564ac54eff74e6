"""The one thread crossing of a Kivy app, and coalesced redraws.

Kivy widgets may only be touched on the main thread. Network and printer threads hand their work over
with `kivy_handoff` (give it to `MqttLink(handoff=...)`); `Clock.schedule_once` is thread-safe
(REFERENCE.md, "Kivy"). A burst of messages then redraws once per frame (or less often) through
`redraw_trigger`, as Electrum's Kivy GUI does."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Task = Callable[[], None]


def kivy_handoff(task: Task) -> None:
    """Run `task` on the Kivy main thread before the next frame. Safe to call from any thread.

    An exception in a Clock callback would stop the app; here it is logged and the app goes on."""
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: _run(task), -1)


def _run(task: Task) -> None:
    try:
        task()
    except Exception:
        log.exception("task handed to the UI thread failed")


class Trigger(Protocol):
    def __call__(self, *args: Any) -> None: ...

    def cancel(self) -> None: ...


def redraw_trigger(redraw: Callable[[], None], min_interval_s: float = 0.0) -> Trigger:
    """A callable that schedules `redraw` once however often it is called before `redraw` runs.

    `min_interval_s` 0 redraws before the next frame (what a tap needs); a hall board fed by bursts of
    state messages can use 0.2 to redraw at most five times a second. Main thread only."""
    from kivy.clock import Clock

    def run(_dt: float) -> None:
        _run(redraw)

    trigger: Trigger = Clock.create_trigger(run, min_interval_s if min_interval_s > 0 else -1)
    return trigger
