"""What the web app needs from the office (the sequencer and its store), as a Protocol.

The web app never touches the queue engine: every staff action is a `CounterCommand` submitted to the
sequencer, the same path MQTT counter commands take, so boards update and the transition row records the
staff user. Reads also go through the sequencer (the engine is owned by its thread) and come back as
frozen snapshots (server/views.py: the office owns those types; they are re-exported here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Protocol

from sqlalchemy import Engine

from common.config import OfficeConfig
from common.contract import CounterCommand, CounterRejected, CounterResult
from server.views import (
    BUDDHIST_ERA_FROM,
    SHARED_DEVICE_WINDOW,
    CaseStatus,
    CaseView,
    ClockStep,
    CounterPanel,
    OtherServer,
    SharedDevice,
    wrong_year,
)

__all__ = [
    "BUDDHIST_ERA_FROM",
    "SHARED_DEVICE_WINDOW",
    "CaseStatus",
    "CaseView",
    "ClockStep",
    "ConsoleOffice",
    "CounterPanel",
    "CounterReply",
    "OtherServer",
    "SharedDevice",
    "wrong_year",
]

CounterReply = CounterResult | CounterRejected


class ConsoleOffice(Protocol):
    """The office as the web app sees it. Futures resolve on the sequencer's thread."""

    @property
    def config(self) -> OfficeConfig:
        """The validated office configuration."""
        ...

    @property
    def engine(self) -> Engine:
        """The store's writer engine: the web app keeps its users, sessions and audit log there (it writes,
        so on SQLite it needs the engine whose transactions begin IMMEDIATE)."""
        ...

    @property
    def running(self) -> bool:
        """The sequencer takes requests."""
        ...

    @property
    def broker_lost_at(self) -> dt.datetime | None:
        """Since when the server has not been connected to its broker; None while it is."""
        ...

    @property
    def clock_steps(self) -> Sequence[ClockStep]:
        """The latest times the server's clock was set, oldest first (copy it with `list()`)."""
        ...

    @property
    def shared_devices(self) -> Mapping[str, SharedDevice]:
        """Device ids that more than one machine connects as, lately or still."""
        ...

    @property
    def other_servers(self) -> Mapping[str, OtherServer]:
        """Other servers seen online on the office's broker, by instance."""
        ...

    def counter_command(self, counter: str, command: CounterCommand) -> Future[CounterReply]:
        """Apply a staff action exactly as if it had come on `khiu/{site}/counter/{counter}/command`:
        same event-id idempotency, same reply, same published state."""
        ...

    def counter_panel(self, counter: str) -> Future[CounterPanel]:
        """The counter's state, its parked tickets and the tickets waiting for its services."""
        ...

    def cases(
        self, *, services: Sequence[str] | None = None, include_done: bool = False
    ) -> Future[list[CaseView]]:
        """Forwarded cases (of these services, or all), oldest due first."""
        ...

    def update_case(
        self, case_id: str, *, status: CaseStatus, note: str, staff: str
    ) -> Future[CaseView | None]:
        """Record follow-up of a case; None when there is no such case."""
        ...
