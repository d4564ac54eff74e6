"""After a chaos run: what every device sent (its durable outbox) against what the database holds, and
what the boards show against the database.

- Every request in every outbox was answered, and the answer the device kept is byte for byte the reply
  the server stored for that event id (so a resend could only ever have got the same answer).
- Every ticket a device was given (`ticket.issued`, online or offline) is in the database exactly once,
  with its number; every rating that was accepted is stored exactly once. Nothing acknowledged is lost,
  nothing is applied twice.
- Every ticket and rating in the database comes from a request some device sent.
- A request a kiosk gave up on (and replaced by an offline ticket) holds no place in the queue: one
  citizen, one place.
- Server numbers are unique and gapless per prefix per business day and end at the day's counter;
  each kiosk's offline numbers are unique and gapless per prefix, and every one is in the database.
- The retained board and counter states equal what the database says."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from common.contract import (
    BoardState,
    CounterState,
    Reply,
    SurveyAccepted,
    TicketIssued,
    decode,
)
from common.vocabulary import TicketState
from server.store.models import (
    CounterStateRow,
    NumberCounterRow,
    ProcessedEventRow,
    SurveyResponseRow,
    TicketRow,
    TransitionRow,
)

KINDS = {
    "ticket/request": "ticket.request",
    "ticket/offline": "ticket.offline",
    "response": "survey.response",
    "command": "counter.command",
}
IN_PLAY = (TicketState.called.value, TicketState.serving.value)
LISTED = 5
"""How many examples each problem line names."""


@dataclass(frozen=True, slots=True)
class SentRequest:
    """One request as a device's outbox kept it."""

    device: str
    kind: str
    event_id: str
    payload: bytes
    attempts: int
    reply: bytes | None
    """None: never answered; b"": withdrawn by the device (a kiosk that gave up waiting)."""


@dataclass
class Reconciliation:
    """The figures and the problems of one run."""

    sent: Counter[str] = field(default_factory=Counter)
    """Requests per kind."""
    publishes: int = 0
    """Times requests were put on the wire (first sends and resends)."""
    withdrawn: int = 0
    unanswered: int = 0
    tickets_acknowledged: int = 0
    offline_acknowledged: int = 0
    ratings_acknowledged: int = 0
    tickets_stored: int = 0
    ratings_stored: int = 0
    transitions_stored: int = 0
    lost: int = 0
    """Acknowledged to a device, missing from the database."""
    applied_twice: int = 0
    """A request that made two tickets or two ratings."""
    unexplained: int = 0
    """A ticket or rating in the database that no device's request accounts for."""
    two_places: int = 0
    """A ticket made for a request its kiosk had given up on (it printed an offline ticket instead),
    still in the queue: one citizen holding two places."""
    reply_mismatch: int = 0
    """A device kept a reply that differs from the one stored for its event id."""
    numbering: list[str] = field(default_factory=list)
    board: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def duplicated(self) -> int:
        return self.applied_twice + self.two_places

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, what: str, examples: Iterable[str]) -> None:
        shown = list(examples)
        if shown:
            more = f" (+{len(shown) - LISTED} more)" if len(shown) > LISTED else ""
            self.problems.append(f"{what}: {', '.join(shown[:LISTED])}{more}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "requests_sent": dict(self.sent),
            "publishes": self.publishes,
            "withdrawn": self.withdrawn,
            "unanswered": self.unanswered,
            "tickets_acknowledged": self.tickets_acknowledged,
            "offline_acknowledged": self.offline_acknowledged,
            "ratings_acknowledged": self.ratings_acknowledged,
            "tickets_stored": self.tickets_stored,
            "ratings_stored": self.ratings_stored,
            "transitions_stored": self.transitions_stored,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "applied_twice": self.applied_twice,
            "two_places": self.two_places,
            "unexplained": self.unexplained,
            "reply_mismatch": self.reply_mismatch,
            "numbering": self.numbering,
            "board": self.board,
            "problems": self.problems,
        }


def read_outboxes(folder: Path) -> list[SentRequest]:
    """Every request of every `{device}.outbox.sqlite` in `folder`."""
    sent: list[SentRequest] = []
    for path in sorted(folder.glob("*.outbox.sqlite")):
        device = path.name.removesuffix(".outbox.sqlite")
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT event_id, topic, payload, attempts, answered_at, reply FROM outbox ORDER BY rowid"
            ).fetchall()
        finally:
            connection.close()
        for event_id, topic, payload, attempts, answered_at, reply in rows:
            kind = next((k for suffix, k in KINDS.items() if topic.endswith(suffix)), topic)
            answer = None if answered_at is None else bytes(reply or b"")
            sent.append(SentRequest(device, kind, event_id, bytes(payload), int(attempts), answer))
    return sent


def reconcile(
    sent: list[SentRequest],
    engine: Engine,
    *,
    board: BoardState | None,
    counters: dict[str, CounterState],
    offline_series: dict[str, str],
) -> Reconciliation:
    result = Reconciliation()
    result.sent = Counter(r.kind for r in sent)
    result.publishes = sum(r.attempts for r in sent)
    with engine.connect() as connection:
        tickets = [dict(r._mapping) for r in connection.execute(select(TicketRow.__table__))]
        created_by = {
            r.ticket_id: r.event_id
            for r in connection.execute(
                select(TransitionRow.ticket_id, TransitionRow.event_id).where(
                    TransitionRow.from_state.is_(None)
                )
            )
        }
        result.transitions_stored = len(list(connection.execute(select(TransitionRow.id))))
        stored = {r.event_id: bytes(r.reply_payload) for r in connection.execute(select(ProcessedEventRow))}
        responses = [dict(r._mapping) for r in connection.execute(select(SurveyResponseRow.__table__))]
        last_seq = {
            (r.business_date, r.prefix): r.last_seq for r in connection.execute(select(NumberCounterRow))
        }
        desks = {r.counter: r for r in connection.execute(select(CounterStateRow))}
    result.tickets_stored = len(tickets)
    result.ratings_stored = len(responses)
    by_id = {t["id"]: t for t in tickets}
    events = {r.event_id for r in sent}

    # Every request answered, and answered with what the server stored.
    unanswered = [f"{r.device} {r.kind} {r.event_id}" for r in sent if r.reply is None]
    result.unanswered = len(unanswered)
    result.add("requests never answered", unanswered)
    withdrawn = {r.event_id for r in sent if r.reply == b""}
    result.withdrawn = len(withdrawn)
    mismatch = [
        f"{r.device} {r.event_id}"
        for r in sent
        if r.reply and (r.event_id not in stored or stored[r.event_id] != r.reply)
    ]
    result.reply_mismatch = len(mismatch)
    result.add("replies a device kept that differ from the stored ones", mismatch)

    # Tickets acknowledged are stored, once, under their number.
    lost, wrong = [], []
    for request in sent:
        reply = _reply(request)
        if isinstance(reply, TicketIssued):
            result.tickets_acknowledged += 1
            result.offline_acknowledged += int(reply.offline)
            row = by_id.get(reply.ticket_id)
            if row is None:
                lost.append(f"{reply.number} ({request.device})")
            elif row["number"] != reply.number:
                wrong.append(f"{reply.number} stored as {row['number']}")
        elif isinstance(reply, SurveyAccepted):
            result.ratings_acknowledged += 1
    per_event = Counter(created_by.get(t["id"]) for t in tickets)
    twice = [f"{event} made {n} tickets" for event, n in per_event.items() if event is not None and n > 1]
    unexplained = [t["number"] for t in tickets if created_by.get(t["id"]) not in events]
    two_places = [
        f"{t['number']} ({t['state']})"
        for t in tickets
        if created_by.get(t["id"]) in withdrawn and t["state"] != TicketState.cancelled.value
    ]

    # Ratings accepted are stored once; every stored one was sent.
    accepted = {r.event_id for r in sent if isinstance(_reply(r), SurveyAccepted)}
    stored_ratings = Counter(r["event_id"] for r in responses)
    lost += [f"rating {event}" for event in sorted(accepted - set(stored_ratings))]
    twice += [f"rating {event} stored {n} times" for event, n in stored_ratings.items() if n > 1]
    unexplained += [f"rating of {r['number']}" for r in responses if r["event_id"] not in events]

    result.lost = len(lost)
    result.applied_twice = len(twice)
    result.unexplained = len(unexplained)
    result.two_places = len(two_places)
    result.add("acknowledged but not in the database (lost)", lost)
    result.add("stored under another number", wrong)
    result.add("applied twice", twice)
    result.add("in the database, sent by no device", unexplained)
    result.add("a place held for a request its kiosk gave up on (one citizen, two places)", two_places)

    result.numbering = _numbering(tickets, last_seq, sent, offline_series)
    result.add("numbering", result.numbering)
    result.board = _board(tickets, desks, board, counters)
    result.add("boards", result.board)
    return result


def _reply(request: SentRequest) -> Reply | None:
    if not request.reply:
        return None
    reply = decode(request.reply)
    return reply if isinstance(reply, Reply) else None


def _numbering(
    tickets: list[dict[str, Any]],
    last_seq: dict[tuple[Any, str], int],
    sent: list[SentRequest],
    offline_series: dict[str, str],
) -> list[str]:
    """Server numbers 1..N per prefix and day, N the day's counter; each kiosk's offline numbers 1..M per
    prefix, all of them stored."""
    problems: list[str] = []
    seqs: dict[tuple[Any, str], list[int]] = {}
    for t in tickets:
        if t["seq"] is not None:
            seqs.setdefault((t["business_date"], t["number"][0]), []).append(t["seq"])
    for key, values in sorted(seqs.items()):
        day, prefix = key
        if sorted(values) != list(range(1, len(values) + 1)):
            missing = sorted(set(range(1, max(values) + 1)) - set(values))
            repeated = [s for s, n in Counter(values).items() if n > 1]
            problems.append(f"{day} {prefix}: missing {missing[:LISTED]}, repeated {repeated[:LISTED]}")
        if last_seq.get(key) != len(values):
            problems.append(f"{day} {prefix}: counter at {last_seq.get(key)}, {len(values)} tickets")
    stored_numbers = {(t["number"], t["business_date"]) for t in tickets if t["offline"]}
    given: dict[tuple[str, str], list[int]] = {}
    for request in sent:
        if request.kind != "ticket.offline":
            continue
        number = str(json.loads(request.payload)["number"])
        series = offline_series.get(request.device)
        if series is None or number[1] != series:
            problems.append(f"{request.device} gave {number}, not of its series {series}")
            continue
        given.setdefault((request.device, number[0]), []).append(int(number[2:]))
        reply = _reply(request)
        if isinstance(reply, TicketIssued) and (number, reply.business_date) not in stored_numbers:
            problems.append(f"offline {number} of {request.device} not stored")
        elif reply is not None and not isinstance(reply, TicketIssued):
            problems.append(f"offline {number} of {request.device} refused: {getattr(reply, 'code', '?')}")
    for (kiosk, prefix), values in sorted(given.items()):
        if sorted(values) != list(range(1, len(values) + 1)):
            problems.append(f"{kiosk} offline {prefix}: {sorted(values)[: LISTED * 2]} not 1..{len(values)}")
    return problems


def _board(
    tickets: list[dict[str, Any]],
    desks: dict[str, Any],
    board: BoardState | None,
    counters: dict[str, CounterState],
) -> list[str]:
    """The retained board and counter states against the database's today."""
    if board is None:
        return ["no retained board state"]
    problems: list[str] = []
    waiting = Counter(t["service"] for t in tickets if t["state"] == TicketState.waiting.value)
    for line in board.waiting:
        if line.waiting != waiting.get(line.service, 0):
            problems.append(
                f"board: {line.service} waiting {line.waiting}, database {waiting.get(line.service, 0)}"
            )
    at_counter = {t["counter"]: t["number"] for t in tickets if t["state"] in IN_PLAY}
    for serving in board.serving:
        if serving.number != at_counter.get(serving.counter):
            problems.append(
                f"board: {serving.counter} shows {serving.number}, database {at_counter.get(serving.counter)}"
            )
    for counter, state in sorted(counters.items()):
        desk = desks.get(counter)
        is_open = bool(desk.open) if desk is not None else False
        current = state.current.number if state.current else None
        if state.open != is_open:
            problems.append(f"{counter}: state says open={state.open}, database {is_open}")
        if current != at_counter.get(counter):
            problems.append(f"{counter}: state shows {current}, database {at_counter.get(counter)}")
    return problems
