"""An office database with a few days of real work in it, made through the real sequencer: tickets issued,
served and rated (with comments), audit entries, broker files and an office file on disk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from sqlalchemy import Engine, func, select, update

from broker_config.devices import add_devices
from broker_config.files import BrokerFiles
from broker_config.registry import Device
from common.contract import CounterCommand, SurveyAccepted, SurveyResponse, TicketIssued, TicketRequest
from common.vocabulary import CounterAction, Outcome
from server.office import Office
from server.retention import audit_cli
from server.store import Store
from tests.server.office_helpers import SITE, FakeClock, barrier, office_dict, start_office

TIMEOUT_S = 30


@dataclass
class OfficeFiles:
    """A data directory and an office file as an installed office has them."""

    data_dir: Path
    config: Path
    url: str


def write_office_files(base: Path, url: str) -> OfficeFiles:
    data_dir = base / "data"
    files = BrokerFiles.for_data_dir(data_dir)
    add_devices(
        files,
        [Device.create("server", "server"), Device.create("kiosk-1", "kiosk")],
        site=SITE,
    )
    (data_dir / "web").mkdir(parents=True, exist_ok=True)
    (data_dir / "web" / "secret.key").write_text("k" * 48 + "\n")
    config = base / "office.toml"
    config.write_text(tomli_w.dumps(office_dict()), "utf-8")
    return OfficeFiles(data_dir, config, url)


def serve_and_rate(office: Office, count: int, *, comment: str | None = "บริการดีมาก") -> list[str]:
    """`count` citizens take a ticket, are served at c1 and rate the service with a comment."""
    numbers = []
    command = office.counter_command
    assert command("c1", CounterCommand(action=CounterAction.open, staff="somchai")).result(TIMEOUT_S)
    for _ in range(count):
        issued = office.submit(TicketRequest(service="reg"), sender="kiosk-1").result(TIMEOUT_S)
        assert isinstance(issued, TicketIssued), issued
        for action, extra in (
            (CounterAction.call_next, {}),
            (CounterAction.start, {}),
            (CounterAction.complete, {"outcome": Outcome.completed}),
        ):
            command("c1", CounterCommand(action=action, staff="somchai", **extra)).result(TIMEOUT_S)
        rated = office.submit(
            SurveyResponse(
                ticket=issued.number,
                ticket_id=issued.ticket_id,
                answers={"staff.polite": 5, "result.overall": 4},
                comment=comment,
                channel="phone",
            ),
            sender="survey-1",
        ).result(TIMEOUT_S)
        assert isinstance(rated, SurveyAccepted), rated
        numbers.append(issued.number)
    command("c1", CounterCommand(action=CounterAction.close, staff="somchai")).result(TIMEOUT_S)
    barrier(office)
    return numbers


def busy_days(store: Store, days: list[dt.datetime], per_day: int = 3) -> FakeClock:
    """Run the office on each of `days` (UTC instants, oldest first), serving and rating `per_day`
    citizens each day and auditing a web action; returns the clock, left at the last day."""
    clock = FakeClock(days[0])
    office, _recorder, clock = start_office(store, clock=clock)
    try:
        for day in days:
            clock.set(day)
            serve_and_rate(office, per_day)
            audit_at(store.engine, day, "counter.call_next", "c1 A001")
    finally:
        office.stop()
    return clock


def audit_at(engine: Engine, at: dt.datetime, action: str, detail: str) -> None:
    """An audit entry as the web app writes it, at a given time."""
    from server.web.models import AuditEntry

    audit_cli(engine, action, detail)
    with engine.begin() as connection:
        newest = connection.execute(select(func.max(AuditEntry.id))).scalar_one()
        connection.execute(
            update(AuditEntry).where(AuditEntry.id == newest).values(at=at, username="somchai")
        )


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the store's and the web app's metadata."""
    from server.store.models import Base

    counts = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = connection.execute(select(func.count()).select_from(table)).scalar_one()
    return counts
