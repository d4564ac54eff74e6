"""A morning at the office, played through the real sequencer: tickets from the kiosk, counters
calling and serving, a no-show, a rating, devices reporting their status over the MQTT contract."""

from __future__ import annotations

from dataclasses import dataclass

from common.contract import DeviceStatus, SurveyResponse
from common.topics import Topics
from common.vocabulary import CounterAction, DeviceRole, Outcome, PrinterState, Priority
from server.office import Office
from tests.web.conftest import Clock
from tests.web.office_tools import TIMEOUT_S, issue, terminal


@dataclass(frozen=True, slots=True)
class Morning:
    """What the morning left: numbers of the tickets still waiting, served and the no-show."""

    waiting: list[str]
    served: list[str]
    no_show: str


def device_status(
    office: Office, device: str, role: DeviceRole, *, online: bool, printer: PrinterState | None
) -> None:
    topic = Topics(office.config.office.id).device_status(device)
    status = DeviceStatus(device=device, role=role, online=online, printer=printer, version="test")
    office.receive(topic, status.encode())


def survey(office: Office, number: str, score: int) -> None:
    items = {item.id: score for item in office.config.survey.items()}
    response = SurveyResponse(ticket=number, answers=items, channel="terminal")
    topic = Topics(office.config.office.id).survey_response("survey-1")
    office.receive(topic, response.encode())


def play_morning(office: Office, clock: Clock) -> Morning:
    """09:00-10:10 in Bangkok: counters 1 and 2 open; six tickets; two served, one no-show, three wait.
    One rating; the kiosk reports no paper, a counter terminal goes offline."""
    terminal(office, "c1", CounterAction.open)
    terminal(office, "c2", CounterAction.open)
    first = issue(office, "elderly-allowance", Priority.elderly)
    clock.advance(minutes=2)
    second = issue(office, "land-building-tax")
    clock.advance(minutes=3)
    third = issue(office, "elderly-allowance")
    clock.advance(minutes=5)
    terminal(office, "c1", CounterAction.call_next)
    clock.advance(minutes=1)
    terminal(office, "c1", CounterAction.start)
    clock.advance(minutes=6)
    terminal(office, "c1", CounterAction.complete, outcome=Outcome.completed)
    terminal(office, "c2", CounterAction.call_next)
    clock.advance(minutes=1)
    terminal(office, "c2", CounterAction.start)
    clock.advance(minutes=8)
    terminal(office, "c2", CounterAction.complete, outcome=Outcome.completed)
    terminal(office, "c1", CounterAction.call_next)
    clock.advance(minutes=3)
    terminal(office, "c1", CounterAction.no_show)
    clock.advance(minutes=10)
    waiting = [
        issue(office, "elderly-allowance"),
        issue(office, "building-permit"),
        issue(office, "commercial-registration"),
    ]
    clock.advance(minutes=30)
    survey(office, first, 5)
    device_status(office, "kiosk-1", DeviceRole.kiosk, online=True, printer=PrinterState.no_paper)
    device_status(office, "counter-2", DeviceRole.counter, online=False, printer=None)
    office.call(lambda _connection: None).result(TIMEOUT_S)  # everything above is committed
    return Morning(waiting=waiting, served=[first, second], no_show=third)
