"""Sustained issue rate: many kiosks keep the server busy (each with up to 20 requests awaiting their
replies, paho's default in-flight window) for a while; then the database is checked: every ticket
number unique, and gapless per prefix. On SQLite with synchronous FULL (the office default), and on
PostgreSQL when it is reachable."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from bench.clients import Fleet
from bench.harness import (
    BenchOffice,
    BrokerEdit,
    postgres_available,
    save_after_every_change,
    start_office,
    stop_server,
)
from bench.registry import BenchContext, Benchmark
from bench.report import BenchResult, Figure
from common.contract import TicketIssued, TicketRejected, TicketRequest
from common.topics import Topics
from common.vocabulary import DeviceRole
from server.simulation.summary import numbering_problems, percentile

NAME = "sustained-issue"
TARGET_RATE = 1000.0
"""Tickets per second on SQLite with synchronous FULL: far above any office (a busy one issues a few
hundred a day), so a burst from every kiosk at once, or a province's offices replaying their outboxes
after an outage, never queues behind the database."""
KIOSKS = 20
WINDOW = 20


def numbers_in_database(url: str) -> list[str]:
    """Every server-issued ticket number in the database, as `{business_date} {number}`: a number is
    unique within its business day (two days may both have A001)."""
    from server.store.models import TicketRow

    table = TicketRow.__table__
    query = sa.select(table.c.business_date, table.c.number).where(table.c.offline.is_(False))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [f"{day} {number}" for day, number in conn.execute(query)]
    finally:
        engine.dispose()


def database_problems(stored: list[str]) -> list[str]:
    """Duplicates and gaps per business day and prefix."""
    problems: list[str] = []
    by_day: dict[str, list[str]] = {}
    for item in stored:
        day, number = item.split(" ", 1)
        by_day.setdefault(day, []).append(number)
    for day, numbers in sorted(by_day.items()):
        problems += [f"{day}: {p}" for p in numbering_problems(numbers)]
    return problems


@dataclass(slots=True)
class Load:
    """What came back from one load run."""

    elapsed_s: float
    replies: int
    issued: int
    rate: float
    p50_ms: float
    p99_ms: float
    missing: int
    repeated: int
    rejected: dict[str, int]
    numbers: list[str] = field(repr=False)
    stored_tickets: int = 0
    stored_problems: list[str] = field(default_factory=list)
    replied_not_stored: int = 0

    @property
    def database_ok(self) -> bool:
        return not self.stored_problems and self.replied_not_stored == 0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("numbers")
        return data


def load(office: BenchOffice, seconds: float) -> Load:
    """Drive the office for `seconds`; what came back."""
    assert office.catalog is not None
    services = [s.code for s in office.catalog.services if s.accepting]
    topics = Topics(office.site)
    names = [f"kiosk-{i}" for i in range(1, KIOSKS + 1)]
    kiosks = Fleet(office, names, DeviceRole.kiosk, topics.ticket_reply)

    def request(i: int, n: int) -> tuple[str, TicketRequest]:
        return topics.ticket_request(names[i]), TicketRequest(service=services[(i + n) % len(services)])

    try:
        started = time.monotonic()
        answers, _ = kiosks.run(request, devices=KIOSKS, seconds=seconds, window=WINDOW)
        missing = kiosks.drain(60)
        elapsed = time.monotonic() - started
        repeated = kiosks.repeated
    finally:
        kiosks.close()
    issued = [a.reply for a in answers if isinstance(a.reply, TicketIssued)]
    rejected = Counter(a.reply.code for a in answers if isinstance(a.reply, TicketRejected))
    latencies = [a.latency_ms for a in answers]
    return Load(
        elapsed_s=elapsed,
        replies=len(answers),
        issued=len(issued),
        rate=len(issued) / elapsed,
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        missing=missing,
        repeated=repeated,
        rejected=dict(rejected),
        numbers=[r.number for r in issued],
    )


def one_database(
    ctx: BenchContext,
    db: str,
    seconds: float,
    *,
    broker_edit: BrokerEdit | None = None,
    one_connection: bool = False,
) -> tuple[list[Figure], Load]:
    variant = broker_edit is not None or one_connection
    work = ctx.work_dir / (db if not variant else f"{db}-{'one-connection' if one_connection else 'variant'}")
    work.mkdir()
    server_args = ("--request-lanes", "0") if one_connection else ()
    with start_office(work, kiosks=KIOSKS, db=db, broker_edit=broker_edit, server_args=server_args) as office:
        outcome = load(office, seconds)
        stop_server(office)  # everything is committed; the database is ours to read
        stored = numbers_in_database(office.database_url)
    outcome.stored_tickets = len(stored)
    outcome.stored_problems = database_problems(stored)[:10]
    stored_numbers = {item.split(" ", 1)[1] for item in stored}
    outcome.replied_not_stored = len(set(outcome.numbers) - stored_numbers)
    label = "SQLite (WAL, synchronous FULL)" if db == "sqlite" else "PostgreSQL 15"
    is_sqlite = db == "sqlite" and not variant
    if broker_edit is not None:
        label += ", broker saving after every change"
    if one_connection:
        label += ", server on one connection (no request lanes)"
    checked = "yes" if outcome.database_ok else "NO: " + "; ".join(outcome.stored_problems[:3])
    figures = [
        Figure(
            f"{label}: tickets/s",
            outcome.rate,
            "/s",
            f">= {TARGET_RATE:,.0f} /s" if is_sqlite else "",
            (outcome.rate >= TARGET_RATE) if is_sqlite else None,
        ),
        Figure(f"{label}: tickets issued", outcome.issued),
        Figure(f"{label}: reply p50 / p99 under load", f"{outcome.p50_ms:.0f} / {outcome.p99_ms:.0f} ms"),
        Figure(f"{label}: numbers in the database unique, gapless", checked, "", "yes", outcome.database_ok),
    ]
    return figures, outcome


def run(ctx: BenchContext) -> BenchResult:
    seconds = 2.0 if ctx.quick else float(ctx.options.get("seconds", 10))
    figures, sqlite_data = one_database(ctx, "sqlite", seconds)
    data: dict[str, object] = {"sqlite": sqlite_data.as_dict(), "seconds": seconds, "kiosks": KIOSKS}
    notes = [
        f"{KIOSKS} kiosks, each keeping up to {WINDOW} requests awaiting replies, for {seconds:g} s; "
        "the rate counts tickets issued from the first request to the last reply.",
        f"SQLite: rejected {sqlite_data.rejected or 'none'}; missing replies {sqlite_data.missing}; "
        f"repeated replies (resends answered again) {sqlite_data.repeated}.",
    ]
    if postgres_available():
        pg_figures, pg_data = one_database(ctx, "postgres", seconds)
        figures += pg_figures
        data["postgres"] = pg_data.as_dict()
    else:
        notes.append("PostgreSQL was not reachable: its rows are missing from this run.")
    single_figures, single_data = one_database(ctx, "sqlite", seconds, one_connection=True)
    figures += single_figures[:1]
    data["sqlite_one_connection"] = single_data.as_dict()
    variant_figures, variant_data = one_database(ctx, "sqlite", seconds, broker_edit=save_after_every_change)
    figures += variant_figures[:3]
    data["sqlite_broker_saving_after_every_change"] = variant_data.as_dict()
    notes.append(
        "The kiosks are real kiosk links, each with its outbox (on tmpfs), all run from one thread by one "
        "`LinkLoop` (bench/clients.py, `Fleet`; the ticket round trip says why)."
    )
    notes.append(
        "Diagnostic row: the server with all its traffic on one MQTT connection (`--request-lanes 0`). "
        "Mosquitto 2.0.11 reads one packet per connection in each pass of its loop; the request lanes let "
        "one pass carry a packet from each of the server's connections."
    )
    notes.append(
        "Diagnostic row (not the office setup): the same load with Mosquitto saving its persistence file "
        "after every change (`autosave_on_changes true`, the office setup until its snapshot went to once "
        "a second). Traced with strace, Mosquitto 2.0.11 then opens, writes, fsyncs and renames its whole "
        "persistence file once for every QoS 1 message it delivers and every retained message it takes "
        "(201 fsyncs for 200 messages), in its single thread, forwarding nothing meanwhile."
    )
    bound = (
        "CPU: the server (paho and the sequencer: Python, one thread), the load generator's twenty kiosk "
        "links and Mosquitto share two cores; the server commits a whole batch per fsync "
        f"({ctx.machine.get('disk', 'see the machine line')}). With Mosquitto saving after every change, "
        "its saves came first (the diagnostic row)."
    )
    return BenchResult(
        name=NAME,
        title="Sustained ticket issue rate",
        figures=figures,
        bound=bound,
        command=ctx.command(NAME),
        notes=notes,
        data=data,
    )


BENCHMARK = Benchmark(name=NAME, title="Sustained issue rate, numbers checked in the DB", run=run, order=20)
