"""The queue engine: pure Python, one office, one business day at a time (DESIGN.md, "The queue").

Imports nothing but the standard library and `common.vocabulary`; adapters translate at the edge."""

from server.engine.errors import QueueError
from server.engine.model import (
    LEGAL_TRANSITIONS,
    TERMINAL_STATES,
    Call,
    Desk,
    Effects,
    Ticket,
    Transition,
)
from server.engine.queue import OfficeQueue, new_ticket_id
from server.engine.rules import (
    Availability,
    CounterRule,
    IssuingCalendar,
    QueueRules,
    ServiceRule,
    WeeklyCalendar,
)

__all__ = [
    "LEGAL_TRANSITIONS",
    "TERMINAL_STATES",
    "Availability",
    "Call",
    "CounterRule",
    "Desk",
    "Effects",
    "IssuingCalendar",
    "OfficeQueue",
    "QueueError",
    "QueueRules",
    "ServiceRule",
    "Ticket",
    "Transition",
    "WeeklyCalendar",
    "new_ticket_id",
]
