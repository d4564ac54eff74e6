"""An office for the survey tests: the example office file, the real sequencer on a fresh SQLite file, a
clock moved by hand, and the steps of a citizen's visit (take a ticket, be served, rate it)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from common.config import OfficeConfig, config_from_dict, load_config
from common.contract import (
    CounterCommand,
    CounterRejected,
    Reply,
    SurveyResponse,
    TicketIssued,
    TicketRequest,
)
from common.paths import EXAMPLE_CONFIG
from common.vocabulary import CounterAction, Outcome
from server.office import Office
from server.store import Store

TIMEOUT_S = 30
THURSDAY_9AM = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
"""09:00 in Bangkok on Thursday 26 November 2026 (FY 2570 Q1)."""
FORM_URL = "https://docs.google.com/forms/d/e/TEST-FORM/formResponse"
ENTRIES = {
    "result.overall": "entry.1001",
    "staff.polite": "entry.1002",
    "gender": "entry.1003",
    "age_band": "entry.1004",
    "comment": "entry.1005",
}


class Clock:
    """The server's clock in a test: moves only when told."""

    def __init__(self, start: dt.datetime = THURSDAY_9AM) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> dt.datetime:
        with self._lock:
            self.now += dt.timedelta(**delta)
            return self.now


def example_dict() -> dict[str, Any]:
    import tomllib

    return tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def survey_config(
    *,
    form: bool = False,
    site: str | None = None,
    devices: list[dict[str, Any]] | None = None,
    **office: Any,
) -> OfficeConfig:
    """The example office; `form=True` turns the Google Form mirror on with `ENTRIES`; `devices` are
    added to the file's."""
    if not form and not site and not office and not devices:
        return load_config(EXAMPLE_CONFIG)
    data = example_dict()
    if form:
        data["survey"]["google_form"] = {"enabled": True, "url": FORM_URL, "entries": dict(ENTRIES)}
    if site:
        data["office"]["id"] = site
    data["office"].update(office)
    data["devices"] = [*data.get("devices", []), *(devices or [])]
    return config_from_dict(data)


def start_office(tmp_path: Path, config: OfficeConfig | None = None, clock: Clock | None = None) -> Office:
    store = Store(f"sqlite:///{tmp_path / 'office.db'}")
    store.migrate()
    office = Office(config or survey_config(), store, clock=clock or Clock(), state_interval_s=0.0)
    office.start()
    return office


def stop_office(office: Office) -> None:
    office.stop()
    office.store.close()


def take_ticket(office: Office, service: str = "elderly-allowance") -> TicketIssued:
    reply = office.issue_ticket(TicketRequest(service=service), check_hours=False).result(TIMEOUT_S)
    assert isinstance(reply, TicketIssued), reply
    return reply


def act(office: Office, counter: str, action: CounterAction, **fields: Any) -> None:
    reply = office.counter_command(counter, CounterCommand(action=action, **fields)).result(TIMEOUT_S)
    assert not isinstance(reply, CounterRejected), reply


def serve(office: Office, service: str = "elderly-allowance", counter: str = "c1") -> TicketIssued:
    """A citizen takes a ticket and is served to the end at `counter` (opened if needed)."""
    ticket = take_ticket(office, service)
    office_open = office.call(lambda _c: office.queue.desks[counter].open).result(TIMEOUT_S)
    if not office_open:
        act(office, counter, CounterAction.open, staff="staff")
    act(office, counter, CounterAction.call_next)
    act(office, counter, CounterAction.start)
    act(office, counter, CounterAction.complete, outcome=Outcome.completed)
    return ticket


def rate(
    office: Office,
    number: str,
    answers: Mapping[str, int],
    *,
    ticket_id: str | None = None,
    demographics: Mapping[str, str] | None = None,
    comment: str | None = None,
    sender: str = "survey-1",
    channel: Literal["terminal", "counter", "phone", "staff"] = "terminal",
) -> Reply:
    response = SurveyResponse(
        ticket=number,
        ticket_id=ticket_id,
        answers=dict(answers),
        demographics=dict(demographics or {}),
        comment=comment,
        channel=channel,
    )
    reply = office.submit(response, sender=sender).result(TIMEOUT_S)
    assert isinstance(reply, Reply)
    return reply
