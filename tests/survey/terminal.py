"""A survey terminal's view-model without a window, a broker or a server: a recording channel, timers
fired by hand, a clock moved by hand (the debounce needs time to pass between taps)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.catalog import catalog_from_config
from common.contract import Catalog, SurveyAccepted, SurveyRejected, SurveyResponse, rejection_text
from kiosk.survey.model import RatedTickets, SurveyHealth, SurveyModel, SurveyScreen, SurveySettings
from tests.survey.helpers import THURSDAY_9AM, survey_config


@dataclass
class FakeTimer:
    due: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeScheduler:
    """Timers that run when the test moves the clock past them."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.timers: list[FakeTimer] = []

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self.clock.now + delay_s, callback)
        self.timers.append(timer)
        return timer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.scheduler = FakeScheduler(self)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move on, running every timer that falls due on the way, in order."""
        target = self.now + seconds
        while True:
            due = [t for t in self.scheduler.timers if not t.cancelled and t.due <= target]
            if not due:
                break
            timer = min(due, key=lambda t: t.due)
            timer.cancelled = True
            self.now = max(self.now, timer.due)
            timer.callback()
        self.now = target


@dataclass
class RecordingChannel:
    sent: list[SurveyResponse] = field(default_factory=list)
    health: list[SurveyHealth] = field(default_factory=list)

    def send(self, response: SurveyResponse) -> None:
        self.sent.append(response)

    def publish_health(self, health: SurveyHealth) -> None:
        self.health.append(health)


@dataclass
class Terminal:
    model: SurveyModel
    channel: RecordingChannel
    clock: FakeClock
    app: Any = None
    """The Kivy app showing the model, in screen tests."""

    def tap(self, action: Callable[..., Any], *args: Any) -> None:
        """A finger, a moment after the last one."""
        self.clock.advance(0.5)
        action(*args)

    def type_number(self, number: str) -> None:
        for ch in number:
            if ch.isalpha():
                self.tap(self.model.press_letter, ch)
            else:
                self.tap(self.model.press_digit, ch)
        self.tap(self.model.submit_number)

    def accept_last(self) -> None:
        last = self.channel.sent[-1]
        self.model.on_reply(SurveyAccepted(request_id=last.id, ticket=last.ticket))

    def refuse_last(self, code: str) -> None:
        last = self.channel.sent[-1]
        th, en = rejection_text(code)
        self.model.on_reply(SurveyRejected(request_id=last.id, code=code, message_th=th, message_en=en))


def example_catalog() -> Catalog:
    return catalog_from_config(survey_config(), THURSDAY_9AM.date())


def make_terminal(tmp_path: Path | None = None, catalog: Catalog | None = None, **settings: Any) -> Terminal:
    clock = FakeClock()
    channel = RecordingChannel()
    settings.setdefault("device_id", "survey-1")
    model = SurveyModel(
        SurveySettings(**settings),
        channel=channel,
        scheduler=clock.scheduler,
        catalog=catalog if catalog is not None else example_catalog(),
        rated=RatedTickets(tmp_path / "rated.json" if tmp_path else None),
        clock=clock,
        wall_clock=lambda: THURSDAY_9AM + dt.timedelta(seconds=clock.now - 1000.0),
    )
    return Terminal(model, channel, clock)


def on(terminal: Terminal) -> SurveyScreen:
    """The screen showing now (a call, so that type checkers do not assume it stays put)."""
    return terminal.model.screen
