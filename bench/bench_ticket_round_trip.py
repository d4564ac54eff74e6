"""Ticket round trip: kiosks take tickets through the real broker and server, each waiting for its
reply before the next (a citizen at each kiosk tapping as fast as the server answers). Measured from
just before the kiosk writes the request to its outbox to the reply's arrival at the kiosk."""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.clients import Requester, run_threads
from bench.harness import BenchOffice, save_after_every_change, start_office
from bench.registry import BenchContext, Benchmark
from bench.report import BenchResult, Figure
from bench.responder import replace_server
from common.contract import TicketIssued, TicketRequest
from common.outbox import Outbox
from common.topics import Topics
from common.vocabulary import DeviceRole
from server.simulation.summary import numbering_problems, percentile

NAME = "ticket-round-trip"
LEVELS = (1, 10, 50)
TARGET_P99_MS = 10.0
"""With 10 kiosks, the 99th percentile of the round trip stays under 10 ms: a citizen never notices."""
PACED_PER_KIOSK = 10.0
"""The paced row: ten kiosks at ten tickets a second each, far above any office's rate (a busy office
issues a few tickets a minute) but well below what the closed loop reaches."""
RESPONDER_TITLE = "a do-nothing responder instead of the server"


@dataclass(slots=True)
class Level:
    kiosks: int
    latencies: list[float]
    elapsed_s: float
    numbers: list[str]

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed_s

    def as_dict(self) -> dict[str, float]:
        return {
            "replies": len(self.latencies),
            "p50_ms": self.p50,
            "p90_ms": percentile(self.latencies, 0.9),
            "p99_ms": self.p99,
            "max_ms": max(self.latencies, default=0.0),
            "tickets_per_s": self.rate,
        }


class Kiosks:
    """`count` kiosks of one office, warmed up (connections made, server code paths run)."""

    def __init__(self, office: BenchOffice, count: int) -> None:
        assert office.catalog is not None
        self.services = [s.code for s in office.catalog.services if s.accepting]
        self.topics = Topics(office.site)
        self.names = [f"kiosk-{i}" for i in range(1, count + 1)]
        reply = self.topics.ticket_reply
        self.kiosks = [Requester(office, k, DeviceRole.kiosk, reply(k)) for k in self.names]
        for i in range(count):
            for j in range(3):
                self.take(i, j)
        self.numbers = self._issued()

    def take(self, i: int, n: int) -> None:
        message = TicketRequest(service=self.services[(i + n) % len(self.services)])
        if self.kiosks[i].send(self.topics.ticket_request(self.names[i]), message, wait=True) is None:
            raise RuntimeError(f"{self.names[i]}: no reply within 30 s")

    def _issued(self) -> list[str]:
        """Numbers issued since the last call, forgetting the answers."""
        numbers = [
            a.reply.number for k in self.kiosks for a in k.answers if isinstance(a.reply, TicketIssued)
        ]
        for kiosk in self.kiosks:
            kiosk.answers.clear()
        return numbers

    def closed_loop(self, level: int, seconds: float, *, interval_s: float = 0.0) -> Level:
        """The first `level` kiosks, each taking tickets one after another for `seconds`. With
        `interval_s`, each kiosk starts a request every `interval_s` (the kiosks staggered), or at once
        when its last reply came later than that."""
        self.numbers += self._issued()
        start = time.monotonic()
        deadline = start + seconds

        def loop(i: int) -> None:
            n = 0
            due = start + interval_s * i / level
            while time.monotonic() < deadline:
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                self.take(i, n)
                n += 1
                due += interval_s

        started = time.monotonic()
        run_threads(level, loop)
        elapsed = time.monotonic() - started
        answers = [a for k in self.kiosks[:level] for a in k.answers]
        numbers = [a.reply.number for a in answers if isinstance(a.reply, TicketIssued)]
        return Level(level, [a.latency_ms for a in answers], elapsed, numbers)

    def all_numbers(self) -> list[str]:
        """Every number these kiosks were given (warm-up included)."""
        return self.numbers + self._issued()

    def missing(self) -> int:
        return sum(k.drain(10) for k in self.kiosks)

    def repeated(self) -> int:
        return sum(k.repeated for k in self.kiosks)


def outbox_cost(directory: Path, count: int = 200) -> tuple[float, float]:
    """(p50, p99) ms of what a kiosk's outbox adds to a round trip on this disk: add before the publish
    and settle when the reply comes (each a synchronous=FULL commit)."""
    costs = []
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        box = Outbox(Path(tmp) / "outbox.sqlite")
        try:
            for _ in range(count):
                event_id = str(uuid.uuid4())
                start = time.perf_counter()
                box.add(event_id, "t", b"{}")
                box.settle(event_id, b"{}")
                costs.append((time.perf_counter() - start) * 1000.0)
        finally:
            box.close()
    return percentile(costs, 0.5), percentile(costs, 0.99)


def run(ctx: BenchContext) -> BenchResult:
    seconds = 2.0 if ctx.quick else float(ctx.options.get("seconds", 10))
    levels = tuple(int(x) for x in ctx.options.get("levels", ",".join(map(str, LEVELS))).split(","))
    figures: list[Figure] = []
    data: dict[str, object] = {"seconds_per_level": seconds}
    (ctx.work_dir / "office").mkdir()
    with start_office(ctx.work_dir / "office", kiosks=max(levels)) as office:
        kiosks = Kiosks(office, max(levels))
        for level in levels:
            result = kiosks.closed_loop(level, seconds)
            at_target = level == 10
            figures.append(Figure(f"{level} kiosk(s): p50", result.p50, "ms"))
            figures.append(
                Figure(
                    f"{level} kiosk(s): p99",
                    result.p99,
                    "ms",
                    f"p99 <= {TARGET_P99_MS:g} ms" if at_target else "",
                    (result.p99 <= TARGET_P99_MS) if at_target else None,
                )
            )
            figures.append(Figure(f"{level} kiosk(s): tickets/s", result.rate, "/s"))
            data[f"kiosks_{level}"] = result.as_dict()
        paced = kiosks.closed_loop(10, seconds, interval_s=1.0 / PACED_PER_KIOSK)
        label = f"10 kiosks paced at {PACED_PER_KIOSK:g} tickets/s each (diagnostic)"
        figures.append(Figure(f"{label}: p50 / p99", f"{paced.p50:.2f} / {paced.p99:.2f} ms"))
        figures.append(Figure(f"{label}: tickets/s", paced.rate, "/s"))
        data["kiosks_10_paced"] = paced.as_dict()
        missing, repeated = kiosks.missing(), kiosks.repeated()
        numbers = kiosks.all_numbers()

    variants: tuple[tuple[str, str, dict[str, Any]], ...] = (
        (
            "broker saving after every change",
            "broker_saving_after_every_change",
            {"broker_edit": save_after_every_change},
        ),
        ("server's database on tmpfs", "database_on_tmpfs", {"db": "sqlite-tmpfs"}),
        # One connection, so the stopped server leaves no lane session that the broker would deal to.
        (RESPONDER_TITLE, "do_nothing_responder", {"server_args": ("--request-lanes", "0")}),
    )
    floor: Level | None = None
    for title, key, edit in variants:
        (ctx.work_dir / key).mkdir()
        with start_office(ctx.work_dir / key, kiosks=10, **edit) as office:
            variant_kiosks = Kiosks(office, 10)
            if title == RESPONDER_TITLE:
                with replace_server(office, variant_kiosks.names, variant_kiosks.services[0]):
                    variant = floor = variant_kiosks.closed_loop(10, seconds)
            else:
                variant = variant_kiosks.closed_loop(10, seconds)
        label = f"10 kiosks, {title} (diagnostic)"
        figures.append(Figure(f"{label}: p50 / p99", f"{variant.p50:.2f} / {variant.p99:.2f} ms"))
        figures.append(Figure(f"{label}: tickets/s", variant.rate, "/s"))
        data[f"kiosks_10_{key}"] = variant.as_dict()

    problems = numbering_problems(numbers)
    data["missing_replies"] = missing
    data["repeated_replies"] = repeated
    data["numbering_problems"] = problems[:10]
    box_p50, box_p99 = outbox_cost(ctx.work_dir)
    data["outbox_disk_ms"] = {"p50": box_p50, "p99": box_p99}
    numbering = f"numbering: {'; '.join(problems[:3])}." if problems else "numbers unique and gapless."
    notes = [
        f"Replies: {missing} missing, {repeated} repeated after a resend; {numbering}",
        f"Each level runs {seconds:g} s, closed loop: a kiosk waits for its reply before its next request.",
        "Kiosk outboxes are on tmpfs here (the load generators stand for kiosks with disks of their own); "
        f"on this machine's disk a kiosk's outbox adds p50 {box_p50:.1f} ms, p99 {box_p99:.1f} ms per "
        "ticket (its add and settle commits).",
        "The paced row: the same ten kiosks, each starting a request every "
        f"{1000 / PACED_PER_KIOSK:g} ms instead of at once after its reply, so the server is not run at "
        "its limit; the round trip a citizen would see at a busy office's kiosks.",
        "Diagnostic rows (not the office setup): Mosquitto saving its persistence file once a second "
        "(`autosave_on_changes false`) instead of after every change; the server's SQLite file on tmpfs, "
        "where its commits' fsyncs cost nothing; and the server stopped after the kiosks' warm-up and "
        "replaced by bench/responder.py, one paho thread in a process of its own answering every request "
        "at once with the same ready-made ticket (nothing checked, stored or committed).",
    ]
    assert floor is not None
    bound = (
        "With one kiosk, the fsyncs on the way: the server's commit of each batch and Mosquitto's save of "
        "its persistence file after each change. With ten, CPU on two cores shared by the kiosks' links, "
        "Mosquitto and the server, most of it Python: each kiosk waits for its reply before its next "
        "request, so ten kiosks are at most ten requests in flight, and a p99 of 10 ms needs about 1,500 "
        "tickets/s through this closed loop with a p99 no more than twice the p50. The do-nothing "
        f"responder row is the floor under any server: with no server work at all, p50 / p99 "
        f"{floor.p50:.2f} / {floor.p99:.2f} ms at {floor.rate:,.0f} tickets/s, so ten closed-loop kiosks "
        "miss a 10 ms p99 on this machine before the server does anything; what remains is the kiosks' own "
        "links (paho, three outbox commits, the contract's models: Python CPU on the same two cores) and "
        "Mosquitto's hops. A probe with each of the ten kiosks in a process of its own in front of the "
        "same responder gave 11.6 / 23.5 ms at 788 tickets/s: no better, so it is not the load "
        "generator's GIL. Below that limit: the paced row, ten kiosks at "
        f"{10 * PACED_PER_KIOSK:g} tickets/s in all, gives p50 / p99 {paced.p50:.2f} / {paced.p99:.2f} ms. "
        "The broker-saving and tmpfs rows are not much faster: neither Mosquitto's "
        "per-change save nor the server's fsync is the bound. Probes on an earlier machine of the same "
        "kind, where this level ran at 921 tickets/s (scratch patches, not in the tree), split the real "
        "server's part: timestamps at each thread crossing put 2.6 ms of a 10.8 ms mean round trip "
        "between the kiosk and the server's network thread, 1.7 ms in the sequencer's inbox, 3.5 ms in its "
        "batch up to the commit, 0.4 ms publishing and 2.5 ms back to the kiosk; and the ten kiosks each "
        "in a process of its own instead of threads of one gave 9.7 / 17.2 ms, no better."
    )
    return BenchResult(
        name=NAME,
        title="Ticket round trip (kiosk → broker → server → kiosk)",
        figures=figures,
        bound=bound,
        command=ctx.command(NAME),
        notes=notes,
        data=data,
    )


BENCHMARK = Benchmark(name=NAME, title="Ticket round trip with 1, 10 and 50 kiosks", run=run, order=10)
