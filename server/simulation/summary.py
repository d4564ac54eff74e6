"""What a simulated day did, counted from the replies the devices got (not from the server's
database): the figures a person checks after a demo or a chaos run."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

_NUMBER_RE = re.compile(r"^([A-Z])([0-9]{3,4})$")


def percentile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0..1) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]


def numbering_problems(numbers: Iterable[str]) -> list[str]:
    """Duplicates and gaps among server-issued ticket numbers (`A012`), per prefix. Offline numbers
    (`AX05`) are ignored. A gap is not always a fault: another kiosk may have taken the number."""
    problems: list[str] = []
    seen: Counter[str] = Counter(numbers)
    for number, count in sorted(seen.items()):
        if count > 1:
            problems.append(f"{number} issued {count} times")
    by_prefix: dict[str, list[int]] = {}
    for number in seen:
        m = _NUMBER_RE.match(number)
        if m:
            by_prefix.setdefault(m[1], []).append(int(m[2]))
    for prefix, seqs in sorted(by_prefix.items()):
        missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
        if missing:
            shown = ", ".join(f"{prefix}{s:03d}" for s in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            problems.append(f"prefix {prefix}: missing {shown}{more}")
    return problems


@dataclass(slots=True)
class SimulationSummary:
    """Counts of one run. `ok` says whether the contract held: every request answered exactly once
    (a resend may bring the same reply again, never a different one) and numbers unique and gapless."""

    tickets_requested: int = 0
    tickets_issued: int = 0
    tickets_rejected: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    recalls: int = 0
    served: Counter[str] = field(default_factory=Counter)
    """Completed services by outcome."""
    no_show: int = 0
    transferred: int = 0
    parked: int = 0
    resumed: int = 0
    counter_rejected: Counter[str] = field(default_factory=Counter)
    """Counter commands refused, by code: `queue_empty` is an idle counter asking, not a fault."""
    surveys_sent: int = 0
    surveys_accepted: int = 0
    surveys_rejected: Counter[str] = field(default_factory=Counter)
    requests_sent: int = 0
    replies_missing: int = 0
    replies_repeated: int = 0
    """The same reply again (after a resend): allowed."""
    replies_conflicting: int = 0
    """A second, different reply to one request: the contract is broken."""
    replies_unmatched: int = 0
    """Replies to requests this run did not send (a previous run's session)."""
    left_waiting: int = 0
    """Tickets issued that no counter finished with by the end of the run."""
    numbers: list[str] = field(default_factory=list)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    """Request to reply, per request kind (ticket, counter, survey)."""
    simulated_from: str = ""
    simulated_to: str = ""
    wall_seconds: float = 0.0
    stopped_early: str | None = None
    """Why the run ended before the day did (asked to stop, wall-clock limit, no reply for too long). A
    stall also leaves replies missing, which is what makes the run not `ok`."""

    @property
    def served_total(self) -> int:
        return sum(self.served.values())

    @property
    def numbering(self) -> list[str]:
        return numbering_problems(self.numbers)

    @property
    def ok(self) -> bool:
        return self.replies_missing == 0 and self.replies_conflicting == 0 and not self.numbering

    def latency(self, kind: str) -> tuple[int, float, float]:
        """(count, p50 ms, p99 ms) of one kind of request."""
        values = self.latency_ms.get(kind, [])
        return len(values), percentile(values, 0.5), percentile(values, 0.99)

    def as_dict(self) -> dict[str, object]:
        """Plain data (for JSON reports of the demo and chaos runs)."""
        return {
            "ok": self.ok,
            "tickets_requested": self.tickets_requested,
            "tickets_issued": self.tickets_issued,
            "tickets_rejected": dict(self.tickets_rejected),
            "calls": self.calls,
            "recalls": self.recalls,
            "served": dict(self.served),
            "served_total": self.served_total,
            "no_show": self.no_show,
            "transferred": self.transferred,
            "parked": self.parked,
            "resumed": self.resumed,
            "counter_rejected": dict(self.counter_rejected),
            "surveys_sent": self.surveys_sent,
            "surveys_accepted": self.surveys_accepted,
            "surveys_rejected": dict(self.surveys_rejected),
            "requests_sent": self.requests_sent,
            "replies_missing": self.replies_missing,
            "replies_repeated": self.replies_repeated,
            "replies_conflicting": self.replies_conflicting,
            "replies_unmatched": self.replies_unmatched,
            "left_waiting": self.left_waiting,
            "numbering_problems": self.numbering,
            "latency_ms": {
                kind: {"count": n, "p50": round(p50, 3), "p99": round(p99, 3)}
                for kind in sorted(self.latency_ms)
                for n, p50, p99 in [self.latency(kind)]
            },
            "simulated_from": self.simulated_from,
            "simulated_to": self.simulated_to,
            "wall_seconds": round(self.wall_seconds, 3),
            "stopped_early": self.stopped_early,
        }

    def render(self) -> str:
        """A short Thai-and-English report for the terminal."""

        def codes(counter: Mapping[str, int]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "-"

        lines = [
            f"วันจำลอง / simulated day: {self.simulated_from} -> {self.simulated_to} "
            f"({self.wall_seconds:.1f} s real time)",
            f"ขอบัตรคิว / tickets requested: {self.tickets_requested}",
            f"  ออกบัตรแล้ว / issued: {self.tickets_issued}",
            f"  ปฏิเสธ / rejected: {sum(self.tickets_rejected.values())} ({codes(self.tickets_rejected)})",
            f"เรียกคิว / calls: {self.calls}, เรียกซ้ำ / recalls: {self.recalls}",
            f"ให้บริการแล้ว / served: {self.served_total} ({codes(self.served)})",
            f"ไม่มาตามเรียก / no-show: {self.no_show}",
            f"โอนงาน / transferred: {self.transferred}, พักคิว / parked: {self.parked}, "
            f"คืนคิว / resumed: {self.resumed}",
            f"ยังรออยู่เมื่อจบ / left waiting: {self.left_waiting}",
            f"คำสั่งช่องบริการที่ถูกปฏิเสธ / counter commands refused: {codes(self.counter_rejected)}",
            f"แบบประเมิน / surveys: sent {self.surveys_sent}, accepted {self.surveys_accepted}, "
            f"rejected {sum(self.surveys_rejected.values())} ({codes(self.surveys_rejected)})",
            f"คำขอทั้งหมด / requests sent: {self.requests_sent}",
            f"ไม่ได้รับคำตอบ / replies missing: {self.replies_missing}",
            f"คำตอบซ้ำ / replies repeated (after a resend): {self.replies_repeated}, "
            f"conflicting: {self.replies_conflicting}, unmatched: {self.replies_unmatched}",
        ]
        for kind in sorted(self.latency_ms):
            n, p50, p99 = self.latency(kind)
            lines.append(f"เวลาตอบ / round trip {kind}: n={n} p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        numbering = self.numbering
        shown = "; ".join(numbering) if numbering else "ไม่ซ้ำ ไม่ขาด / unique and gapless"
        lines.append(f"หมายเลขคิว / numbers: {shown}")
        if self.stopped_early:
            lines.append(f"หยุดก่อนจบวัน / stopped early: {self.stopped_early}")
        lines.append("ผล / result: " + ("ผ่าน / OK" if self.ok else "ไม่ผ่าน / NOT OK"))
        return "\n".join(lines)
