"""What happens at the office around the console in these tests: citizens take tickets at the kiosk, the
counter terminal acts, and the transitions the sequencer stored are read back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from common.contract import CounterCommand, CounterRejected, TicketIssued, TicketRequest
from common.vocabulary import CounterAction, Outcome, Priority
from server.office import Office
from server.store.models import TransitionRow
from tests.web.conftest import Clock

TIMEOUT_S = 30


def issue(office: Office, service: str, priority: Priority = Priority.none) -> str:
    """A citizen takes a ticket; its number."""
    reply = office.issue_ticket(TicketRequest(service=service, priority=priority), check_hours=False)
    issued = reply.result(TIMEOUT_S)
    assert isinstance(issued, TicketIssued), issued
    return issued.number


def terminal(office: Office, counter: str, action: CounterAction, **fields: object) -> None:
    """The counter terminal (MQTT) acts, not the console."""
    command = CounterCommand(action=action, staff="terminal", **fields)
    reply = office.counter_command(counter, command).result(TIMEOUT_S)
    assert not isinstance(reply, CounterRejected), reply


def staff_transitions(office: Office) -> list[tuple[str | None, str | None, str | None, str]]:
    """(counter, staff, from, to) of every stored state change after issue, oldest first."""
    office.call(lambda _connection: None).result(TIMEOUT_S)  # everything before is committed
    t = TransitionRow.__table__
    with office.store.read_engine.connect() as connection:
        rows = connection.execute(
            select(t.c.counter, t.c.staff, t.c.from_state, t.c.to_state)
            .where(t.c.from_state.is_not(None))
            .order_by(t.c.id)
        ).all()
    return [(r.counter, r.staff, r.from_state, r.to_state) for r in rows]


def old_forwarded_case(
    office: Office, clock: Clock, *, service: str, counter: str, reference: str, days: int
) -> str:
    """A matter forwarded `days` ago at `counter`; the clock then moves on to today. Its ticket number."""
    number = issue(office, service)
    terminal(office, counter, CounterAction.open)
    terminal(office, counter, CounterAction.call_next)
    terminal(office, counter, CounterAction.start)
    terminal(office, counter, CounterAction.complete, outcome=Outcome.forwarded, reference=reference)
    terminal(office, counter, CounterAction.close)
    clock.advance(days=days)
    office.call(lambda _connection: None).result(TIMEOUT_S)  # the office rolls over to today
    return number


def today(clock: Clock) -> dt.date:
    from common.thaidate import business_date

    return business_date(clock.now)
