"""What the citizen's phone page says about one ticket: where it is in the queue now, and whether it can
still be rated. Read on the sequencer's thread (`Office.call`), which owns the queue: the position and
the estimated wait are the same figures the kiosk printed, not a second guess."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from common.vocabulary import TicketState
from server.office import Office
from server.store import records


@dataclass(frozen=True, slots=True)
class TicketStatus:
    """One ticket as its holder sees it."""

    ticket_id: str
    number: str
    service: str
    state: TicketState
    business_date: dt.date
    counter: str | None
    """The counter that called or served it."""
    ahead: int
    """Tickets called before it (waiting only)."""
    wait_min: int
    """Estimated wait in minutes (waiting only)."""
    rated: bool
    rating_open: bool
    """Served, not rated yet, and within `survey.days_valid`: the form is shown."""
    days_valid: int


def is_ticket_id(value: str) -> bool:
    """Ticket ids are random UUIDs (server/engine/queue.py `new_ticket_id`): anything else is refused
    before the sequencer is asked."""
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False


def ticket_status(office: Office, ticket_id: str) -> Future[TicketStatus | None]:
    """The ticket's status, or None when there is no such ticket."""
    days_valid = office.config.survey.days_valid

    def read(connection: Connection) -> TicketStatus | None:
        queue = office.queue
        ticket = queue.tickets.get(ticket_id) or records.find_ticket(connection, ticket_id=ticket_id)
        if ticket is None:
            return None
        ahead, minutes = (0, 0)
        if ticket.state is TicketState.waiting and ticket.id in queue.tickets:
            ahead, minutes = queue.estimate(ticket)
        rated = ticket.state is TicketState.done and records.has_response(connection, ticket.id)
        in_time = ticket.business_date >= queue.business_date - dt.timedelta(days=days_valid)
        return TicketStatus(
            ticket_id=ticket.id,
            number=ticket.number,
            service=ticket.service,
            state=ticket.state,
            business_date=ticket.business_date,
            counter=ticket.counter,
            ahead=ahead,
            wait_min=minutes,
            rated=rated,
            rating_open=ticket.state is TicketState.done and not rated and in_time,
            days_valid=days_valid,
        )

    return office.call(read)
