"""The sequencer: the one place where the office's queue changes (DESIGN.md principles 1 and 2).

One worker thread owns the queue engine and the database writes. MQTT handlers and the web app hand it
work through a bounded inbox; it takes whatever is waiting (up to `max_batch`) into ONE transaction
(group commit), and only after the commit publishes the replies and the retained states. Every request
is first looked up by its event id: a resend gets the stored reply, byte for byte; a new one is applied,
its transitions recorded with the event id, and its reply stored in the same transaction.

If a batch fails (a database error, a bug), it is rolled back, the queue is rebuilt from the database,
and the batch's requests are applied one by one; one that still fails gets `internal_error` (not stored,
so its resend is tried again). Nothing a device sends can stop the worker.

Given a `network` (the server's MQTT connections, `common.link.LinkLoop`), the worker also runs them: it
waits on their sockets rather than on the inbox, reads what arrived into the next batch, and its replies
go onto the socket as it publishes them. A request then never changes threads, and the worker never waits
for the GIL behind a network thread."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue as queue_module
import threading
import time
import uuid
from collections import Counter as Tally
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from common.config import OfficeConfig
from common.contract import (
    BoardCall,
    BootMark,
    CounterCommand,
    CounterRejected,
    CounterResult,
    DecodeFailure,
    DeviceStatus,
    Message,
    Rejection,
    Reply,
    ServerStatus,
    SurveyAccepted,
    SurveyRejected,
    SurveyResponse,
    TicketIssued,
    TicketOffline,
    TicketRejected,
    TicketRequest,
    TicketView,
    decode,
    rejection_text,
    utcnow,
)
from common.thaidate import BE_OFFSET, business_date, to_local
from common.topics import Topics, parse_inbound
from common.vocabulary import CounterAction, DeviceRole, Outcome, TicketState
from server.diskspace import storage_full
from server.engine import Call, Effects, OfficeQueue, QueueError, Ticket, Transition
from server.rules import new_queue
from server.store import Store, records
from server.views import (
    BUDDHIST_ERA_FROM,
    SHARED_DEVICE_WINDOW,
    CaseStatus,
    CaseView,
    ClockStep,
    CounterPanel,
    OtherServer,
    RecentCall,
    SharedDevice,
    board_state_message,
    case_view,
    catalog_message,
    counter_panel,
    counter_state_message,
    ticket_view,
    wrong_year,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Publish = Callable[[str, bytes, bool], None]
"""(topic, payload, retain): QoS 1. The runtime wires it to the MQTT link."""
CounterReply = CounterResult | CounterRejected

INBOX_SIZE = 10_000
"""Requests waiting for the worker. Full means the worker is far behind: MQTT handlers then wait (which
holds back the broker's acknowledgements), web callers get `OfficeBusy`."""
MAX_BATCH = 500
"""Requests per transaction. At 1,000 requests a second a batch is a few milliseconds of work; the cap
bounds the latency of the first request of a burst."""
TICK_S = 1.0
"""The worker wakes at least this often to roll the business day over and refresh the catalog."""
INBOX_PUT_TIMEOUT_S = 5.0
STATE_MIN_INTERVAL_S = 0.25
"""A retained state topic (a counter's state, the board) is republished at most this often: the first
change after a quiet moment goes out at once, later ones within the interval go out together at its end
(the latest state, once). A burst of tickets must not become a burst of board updates: each is built
and encoded whole, kept by the broker, sent to every display and redrawn on every screen. A quarter
second is below what anyone watching a board notices."""
RECENT_CALLS = records.RECENT_CALLS
KIOSK_CLOCK_SKEW = dt.timedelta(minutes=10)
"""An offline ticket stamped further ahead than this says the kiosk's clock is wrong: logged."""
OFFLINE_HOLD = dt.timedelta(minutes=1)
"""How long an offline ticket may wait for its kiosk's live status (`Office._hold`): the kiosk sends its
status on seeing the server online, and the ticket again every few seconds."""
OFFLINE_HELD_MAX = 1000
"""More held at once is not kiosks coming back (each holds a few): the rest are judged by their stamps."""
CLOCK_STEP = dt.timedelta(minutes=2)
"""The server's clock moving this much more, or less, than the time that passed between two batches was
set, not run, and that is logged: the business date, every issue time and every wait follow this clock.
A Raspberry Pi has no clock of its own: until it finds a time server it runs from the time it saved
when it stopped (fake-hwclock), and a morning numbered under yesterday's date is closed, its waiting
tickets with it, when the clock is put right (docs/operations.md, "The server's clock")."""
_ELAPSED_CLOCK = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
CLOCK_STEPS_KEPT = 20
"""The latest clock steps kept for the manager's today page (in memory: a step is news for the day)."""
"""Time that passed, suspend included (Linux): a machine woken in the morning did not have its clock set."""

REQUEST_TYPES: dict[str, tuple[type[Message], ...]] = {
    "ticket.request": (TicketRequest,),
    "ticket.offline": (TicketOffline,),
    "survey.response": (SurveyResponse,),
    "counter.command": (CounterCommand,),
    "device.status": (DeviceStatus,),
}
"""What each inbound topic kind may carry."""


class Network(Protocol):
    """Connections the worker runs between batches (`common.link.LinkLoop`)."""

    def run_once(self, timeout: float) -> None:
        """Wait up to `timeout` for the network or `wake`, then handle what came (on the worker)."""

    def wake(self) -> None:
        """End the worker's wait (any thread)."""

    def corked(self) -> contextlib.AbstractContextManager[None]:
        """Within it, what the connections write goes out together at its end (on the worker)."""


class OfficeBusy(Exception):
    """The sequencer's inbox stayed full: try again shortly."""


class OfficeStopped(Exception):
    """The sequencer is not running."""


class StoreOutOfStep(Exception):
    """The database disagrees with the queue in memory (another writer?): the batch is rolled back and
    the queue rebuilt from the database."""


# ---------------------------------------------------------------------------------------------- work items


@dataclass(slots=True)
class _Raw:
    """An MQTT message as it arrived."""

    topic: str
    payload: bytes
    retain: bool = False
    """Delivered from the broker's store (sent earlier), not live."""


@dataclass(slots=True)
class _Request:
    """A decoded request with its sender and where its reply goes."""

    kind: str
    message: Message
    sender: str
    reply_topic: str | None
    future: Future[Any] | None = None
    check_hours: bool = True


@dataclass(slots=True)
class _Call:
    """Work for the worker thread inside the batch's transaction (staff reads and case updates)."""

    fn: Callable[[Connection], Any]
    future: Future[Any]


@dataclass(frozen=True, slots=True)
class _Value:
    value: Any


@dataclass(frozen=True, slots=True)
class _Raised:
    error: Exception


@dataclass(slots=True)
class _Republish:
    """Publish every retained state again, changed or not."""


_STOP = object()
_Item = _Raw | _Request | _Call | _Republish


@dataclass(slots=True)
class _Outgoing:
    topic: str | None
    payload: bytes
    future: Future[Any] | None = None
    reply: Reply | None = None


@dataclass(slots=True)
class _Batch:
    """Everything one transaction writes, and what to publish once it is committed."""

    now: dt.datetime
    events: list[records.StoredReply] = field(default_factory=list)
    answered: dict[str, records.StoredReply] = field(default_factory=dict)
    new: dict[str, tuple[Ticket, str]] = field(default_factory=dict)
    dirty: dict[str, Ticket] = field(default_factory=dict)
    transitions: list[tuple[Transition, dt.date, str | None]] = field(default_factory=list)
    issued: Tally[str] = field(default_factory=Tally)
    counters: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    responses: list[tuple[dict[str, Any], dict[str, int]]] = field(default_factory=list)
    rated: set[str] = field(default_factory=set)
    completed: dict[str, TicketView] = field(default_factory=dict)
    """Counters' completions in this batch, kept once it is committed."""
    rejections: Tally[str] = field(default_factory=Tally)
    presence: dict[str, dict[str, Any]] = field(default_factory=dict)
    outgoing: list[_Outgoing] = field(default_factory=list)
    results: list[tuple[Future[Any], _Value | _Raised]] = field(default_factory=list)
    changed: bool = False
    """Queue or presence changed: the board may need republishing."""
    everything: bool = False
    """Republish every retained state (start, new business day)."""
    written: bool = False


# ---------------------------------------------------------------------------------------------- the office


class Office:
    """One office's sequencer. `start()` rebuilds the queue from the database and starts the worker;
    `receive()` takes MQTT messages; `submit()`, `counter_command()` and friends take work from the web
    app and return Futures resolved after the commit."""

    def __init__(
        self,
        config: OfficeConfig,
        store: Store,
        *,
        publish: Publish | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        elapsed: Callable[[], float] | None = None,
        set_server_status: Callable[[ServerStatus], None] | None = None,
        version: str = "",
        max_batch: int = MAX_BATCH,
        inbox_size: int = INBOX_SIZE,
        tick_s: float = TICK_S,
        state_interval_s: float = STATE_MIN_INTERVAL_S,
        network: Network | None = None,
    ) -> None:
        self._config = config
        self.store = store
        self.topics = Topics(config.office.id)
        self._publish = publish or (lambda topic, payload, retain: None)
        self._clock = clock
        self._elapsed = elapsed or (lambda: time.clock_gettime(_ELAPSED_CLOCK))
        """Seconds on a clock that runs and is never set: what `clock` should have moved by between two
        batches (a test that moves its `clock` by hand says how much time that was)."""
        self._set_server_status = set_server_status
        self.version = version
        self._max_batch = max_batch
        self._tick_s = tick_s
        self._state_interval_s = state_interval_s
        self._inbox: queue_module.Queue[object] = queue_module.Queue(maxsize=inbox_size)
        self._network = network
        self._writer: Connection | None = None
        """The sequencer's database connection (opened at its first transaction)."""
        self._clock_seen: tuple[dt.datetime, float] | None = None
        """The clock and the time elapsed (`_ELAPSED_CLOCK`) at the last batch."""
        self._wrong_year_said: int | None = None
        self.broker_lost_at: dt.datetime | None = None
        """Since when the server has not been connected to its broker; None while it is (or when it runs
        without one). Set by whoever runs the connection (`broker_connection`)."""
        self.clock_steps: deque[ClockStep] = deque(maxlen=CLOCK_STEPS_KEPT)
        """The latest steps of the server's clock, oldest first (appended by the sequencer; copy it with
        `list()` to read it from another thread)."""
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._kiosk_series = {
            d.id: d.offline_series for d in config.devices if d.role is DeviceRole.kiosk and d.offline_series
        }
        self._survey_items = {item.id for item in config.survey.items()}
        self._demographics = {
            qid: {o.id for o in q.options} for qid, q in config.survey.demographics.questions()
        }
        # state owned by the worker thread
        self.queue: OfficeQueue = new_queue(config, business_date(clock()))
        self._saved_desks: dict[str, tuple[bool, str | None, int]] = {}
        self._recent_calls: deque[RecentCall] = deque(maxlen=RECENT_CALLS)
        self._last_completed: dict[str, TicketView] = {}
        """Per counter, the ticket it completed last today (in its retained state, for the survey tablet)."""
        self._presence: dict[str, DeviceStatus] = {}
        self._boot_seen: dict[str, tuple[BootMark, dt.datetime]] = {}
        """Per device, its boot clock in its latest live status and the server's time then."""
        self._live_boots: dict[str, dict[str, dt.datetime]] = {}
        """Per device, the boots its live statuses came from lately, and when each was last seen."""
        self._last_boot: dict[str, str] = {}
        self.other_servers: dict[str, OtherServer] = {}
        """Other servers seen on the broker (`notice_server_status`), by instance; replaced whole."""
        self.shared_devices: dict[str, SharedDevice] = {}
        """Device ids that more than one machine connects as (`_notice_boot`); replaced whole by the
        sequencer, so any thread may read it."""
        self._held: dict[str, dt.datetime] = {}
        """Offline tickets left unanswered for now (`_hold`), by event id: since when."""
        self._published: dict[str, str] = {}
        self._dirty_counters: set[str] = set()
        self._board_dirty = False
        self._next_state_at: dict[str, float] = {}
        """Monotonic time before which a retained topic is not published again."""
        self._availability_key: tuple[Any, ...] | None = None
        # the latest retained messages, readable from any thread
        self.catalog: Message | None = None
        self.board: Message | None = None
        self.counter_states: dict[str, Message] = {}
        self.batches = 0
        self.requests = 0
        """Counters for logs and benchmarks."""

    # ---------------------------------------------------------------------------------------- protocol

    @property
    def config(self) -> OfficeConfig:
        return self._config

    @property
    def engine(self) -> Engine:
        """The database engine (the web app keeps its users and audit log there)."""
        return self.store.engine

    # ---------------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Rebuild the queue from the database (closing any business day that ended while the server
        was down), publish every retained state, start the worker."""
        if self._thread is not None:
            raise RuntimeError("the office is already running")
        self._rebuild()
        now = self._clock()
        self._notice_wrong_year(now)
        batch = _Batch(now=now, everything=True)
        self._roll_over_if_new_day(batch)
        self._write(batch)
        self._after_commit(batch)
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="office-sequencer", daemon=True)
        self._thread.start()
        log.info(
            "office %s: business day %s, %d tickets in the queue, database %s",
            self._config.office.id,
            self.queue.business_date,
            sum(1 for _ in self.queue),
            self.store.describe(),
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is in the inbox, then stop the worker."""
        if self._thread is None:
            return
        self._running.clear()
        self._inbox.put(_STOP)
        self._wake()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("the sequencer did not stop within %.0f s", timeout)
        elif self._writer is not None:
            self._writer.close()
            self._writer = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._running.is_set()

    # ---------------------------------------------------------------------------------------- inbound

    def receive(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """An MQTT message from the link (any thread); `retain`: delivered from the broker's store. Waits
        while the inbox is full; if it stays full the message is dropped with an error in the log (the
        device resends from its outbox)."""
        if not self._offer(_Raw(topic, payload, retain)):
            log.error("sequencer inbox full: dropped a message on %s (the sender will resend)", topic)

    def submit(
        self, message: Message, *, sender: str, reply_topic: str | None = None, check_hours: bool = True
    ) -> Future[Reply]:
        """Apply a request as if it came from `sender` (a kiosk, terminal or counter id); the Future gets
        its reply after the commit. Web callers pass no `reply_topic` (nothing is published for them)."""
        kind = message.type
        if kind not in REQUEST_TYPES or kind == "device.status":
            raise ValueError(f"not a request type: {kind}")
        future: Future[Reply] = Future()
        self._put(_Request(kind, message, sender, reply_topic, future, check_hours))
        return future

    def counter_command(self, counter: str, command: CounterCommand) -> Future[CounterReply]:
        """A staff action from the web console, exactly as if it came on the counter's command topic."""
        return self.submit(command, sender=counter)  # type: ignore[return-value]

    def issue_ticket(
        self, request: TicketRequest, *, source: str = "web", check_hours: bool = True
    ) -> Future[Reply]:
        """Issue a ticket for a citizen at the console (`check_hours=False`: staff may issue after hours)."""
        return self.submit(request, sender=source, check_hours=check_hours)

    def call(self, fn: Callable[[Connection], T]) -> Future[T]:
        """Run `fn` on the worker thread, inside the next batch's transaction; `self.queue` is safe to
        read there. The Future resolves after the commit."""
        future: Future[T] = Future()
        self._put(_Call(fn, future))
        return future

    def broker_connection(self, up: bool) -> None:
        """The server's connection to the broker came up or went down (any thread)."""
        if up:
            self.broker_lost_at = None
        elif self.broker_lost_at is None:
            self.broker_lost_at = self._clock()

    def notice_server_status(self, status: ServerStatus) -> bool:
        """A live `server.status` of another instance than this server's came (the thread that runs the
        connections). True the first time that instance is seen online: it should see this one's too."""
        instance = status.instance or "?"
        now = self._clock()
        known = self.other_servers.get(instance)
        if known is None and not status.online:
            return False
        if known is None:
            log.error(
                "another Khiu server (version %s, instance %s) is online on this broker with this server's "
                "account: its request lanes answer kiosks from a database of its own. Stop it, or give it "
                "a broker of its own",
                status.version or "?",
                instance[:8],
            )
            seen = OtherServer(instance, status.version, now, now, online=True)
        else:
            last_online = now if status.online else known.last_online
            seen = OtherServer(instance, status.version, known.since, last_online, status.online)
        self.other_servers = {**self.other_servers, instance: seen}
        return known is None

    def republish(self) -> None:
        """Publish every retained state again (the broker came back without its retained messages)."""
        if not self._offer(_Republish()):
            log.error("sequencer inbox full: retained states not republished")

    def counter_panel(self, counter: str) -> Future[CounterPanel]:
        """The counter's state, its parked tickets and the tickets waiting for its services."""

        def read(_connection: Connection) -> CounterPanel:
            panel = counter_panel(self.queue, counter)
            if panel is None:
                raise KeyError(f"no counter {counter!r}")
            return panel

        return self.call(read)

    def cases(
        self, *, services: Sequence[str] | None = None, include_done: bool = False
    ) -> Future[list[CaseView]]:
        """Forwarded cases (of these services, or all), oldest due first. Read directly (no sequencer)."""
        future: Future[list[CaseView]] = Future()
        try:
            with self.store.read_engine.connect() as connection:
                rows = records.list_cases(connection, services=services, include_done=include_done)
            future.set_result([case_view(row) for row in rows])
        except Exception as exc:
            future.set_exception(exc)
        return future

    def overdue_cases(self, today: dt.date | None = None) -> list[CaseView]:
        """Cases not done whose due date has passed (the dashboard's late list)."""
        today = today or business_date(self._clock())
        with self.store.read_engine.connect() as connection:
            rows = records.list_cases(connection, overdue_on=today)
        return [case_view(row) for row in rows]

    def update_case(
        self, case_id: str, *, status: CaseStatus, note: str, staff: str
    ) -> Future[CaseView | None]:
        """Record the follow-up of a case; None when there is no such case."""

        def write(connection: Connection) -> CaseView | None:
            row = records.update_case(
                connection, case_id=case_id, status=status.value, note=note, staff=staff, at=self._clock()
            )
            return case_view(row) if row is not None else None

        return self.call(write)

    def _put(self, item: _Item) -> None:
        if not self._running.is_set():
            raise OfficeStopped("the office sequencer is not running")
        if not self._offer(item):
            raise OfficeBusy("the office is too busy: try again")

    def _offer(self, item: object) -> bool:
        """Into the inbox, waiting while it is full (False if it stays full); wakes a worker that waits on
        the network. The worker itself never waits here: it is the one that empties the inbox (with a
        network, what it reads comes here, and it reads only while less than a batch waits)."""
        try:
            if self._on_worker():
                self._inbox.put_nowait(item)
            else:
                self._inbox.put(item, timeout=INBOX_PUT_TIMEOUT_S)
                self._wake()
        except queue_module.Full:
            return False
        return True

    def _on_worker(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def _wake(self) -> None:
        if self._network is not None:
            self._network.wake()

    # ---------------------------------------------------------------------------------------- worker

    def _run(self) -> None:
        while True:
            try:
                first = self._next_item()
            except Exception:  # the network's, not a request's: the batch goes on with what the inbox has
                log.exception("running the network failed; carrying on")
                first = None
            items: list[object] = [] if first is None else [first]
            while len(items) < self._max_batch:
                try:
                    items.append(self._inbox.get_nowait())
                except queue_module.Empty:
                    break
            stop = any(item is _STOP for item in items)
            work = [item for item in items if item is not _STOP]
            try:
                self._process(work)  # type: ignore[arg-type]
            except Exception:
                log.exception("the sequencer failed a batch of %d item(s); carrying on", len(work))
            if stop:
                return

    def _next_item(self) -> object | None:
        """The first item of the next batch, or None when the wait ended with nothing (a tick)."""
        if self._network is None:
            try:
                return self._inbox.get(timeout=self._wait_s())
            except queue_module.Empty:
                return None
        # Read what the network holds even when work is waiting (it joins this batch), unless a whole
        # batch is waiting already: what is not read waits in the socket, and behind it in the broker,
        # so a backlog (a broker handing over a morning's requests) never overflows the inbox.
        if self._inbox.qsize() < self._max_batch:
            self._network.run_once(0.0 if not self._inbox.empty() else self._wait_s())
        try:
            return self._inbox.get_nowait()
        except queue_module.Empty:
            return None

    def _wait_s(self) -> float:
        """Until the next tick, or sooner when a held-back state is due."""
        due = [self._next_state_at.get(self.topics.counter_state(c), 0.0) for c in self._dirty_counters]
        if self._board_dirty:
            due.append(self._next_state_at.get(self.topics.board_state(), 0.0))
        if not due:
            return self._tick_s
        return min(self._tick_s, max(min(due) - time.monotonic(), 0.0))

    def _process(self, items: list[_Item]) -> None:
        """One batch: apply, commit, then publish. On failure: rebuild and apply one by one."""
        now = self._clock()
        self._notice_clock_step(now)
        self._notice_wrong_year(now)
        batch = _Batch(now=now)
        try:
            self._roll_over_if_new_day(batch)
            self._apply(items, batch)
            self._write(batch)
        except Exception as error:
            if storage_full(error):  # not a fault of the code: no traceback, and say what to do
                log.error(
                    "the database cannot grow, its disk is full (%s, %s): requests are answered "
                    "internal_error until space is freed; retrying %d one by one",
                    error,
                    self.store.describe(),
                    len(items),
                )
            else:
                log.exception(
                    "batch of %d request(s) failed: rebuilding the queue and retrying one by one", len(items)
                )
            self._rebuild()
            for item in items:
                single = _Batch(now=now)
                try:
                    self._roll_over_if_new_day(single)
                    self._apply([item], single)
                    self._write(single)
                except Exception as single_error:
                    if storage_full(single_error):
                        log.debug("request refused: the database's disk is full")
                    else:
                        log.exception("request failed on its own: answering internal_error")
                    self._rebuild()
                    self._fail(item, now)
                    continue
                self._after_commit(single)
            return
        self._after_commit(batch)
        self.batches += 1
        self.requests += len(items)

    def _notice_clock_step(self, now: dt.datetime) -> None:
        """Log when the clock was set (`CLOCK_STEP`) since the last batch, so a morning that ended early
        can be explained."""
        elapsed = self._elapsed()
        seen, self._clock_seen = self._clock_seen, (now, elapsed)
        if seen is None:
            return
        expected = seen[0] + dt.timedelta(seconds=elapsed - seen[1])
        step = now - expected
        if abs(step) < CLOCK_STEP:
            return
        seen_step = ClockStep(at=now, was=expected)
        self.clock_steps.append(seen_step)
        log.warning(
            "the server's clock was set %s by %s (from %s to %s)%s: the business date, issue times and "
            'waits follow this clock; keep it synchronised (docs/operations.md, "The server\'s clock")',
            "forward" if step > dt.timedelta(0) else "back",
            dt.timedelta(seconds=round(abs(step).total_seconds())),
            to_local(expected).isoformat(timespec="seconds"),
            to_local(now).isoformat(timespec="seconds"),
            ", 543 years: the year was typed in the Buddhist Era, the system clock takes it in the Common Era"
            if seen_step.buddhist_era
            else "",
        )

    def _notice_wrong_year(self, now: dt.datetime) -> None:
        """Log once when the clock reads a year no office can be in (`views.wrong_year`), and once when
        it is right again: a clock that was never set while the server ran shows no step."""
        year = wrong_year(now)
        if year == self._wrong_year_said:
            return
        if year is not None:
            log.error(
                "the server's clock reads the year %d%s: every ticket, report and survey is dated wrong "
                'until it is set right (docs/operations.md, "The server\'s clock")',
                year,
                f", a Buddhist Era year where the Common Era's belongs ({year - BE_OFFSET})"
                if year >= BUDDHIST_ERA_FROM
                else "",
            )
        elif self._wrong_year_said is not None:
            log.warning("the server's clock reads %s again", to_local(now).year)
        self._wrong_year_said = year

    def _apply(self, items: list[_Item], batch: _Batch) -> None:
        """Decode and apply every item into the batch (nothing is written yet)."""
        work: list[_Request | _Call] = []
        for item in items:
            if isinstance(item, _Raw):
                decoded = self._decode(item, batch)
                if decoded is not None:
                    work.append(decoded)
            elif isinstance(item, _Republish):
                self._published.clear()
                batch.everything = True
            else:
                work.append(item)
        if not work and not (batch.transitions or batch.presence or batch.rejections):
            return  # an idle tick: nothing to write
        with self._transaction() as connection:
            event_ids = {str(w.message.id) for w in work if isinstance(w, _Request)}
            stored = records.stored_replies(connection, event_ids)
            for step in work:
                if isinstance(step, _Call):
                    try:
                        batch.results.append((step.future, _Value(step.fn(connection))))
                    except Exception as exc:  # the caller's error, for the caller: the batch goes on
                        batch.results.append((step.future, _Raised(exc)))
                else:
                    self._answer(connection, step, stored, batch)
            self._write_rows(connection, batch)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction on the sequencer's own connection, kept for its lifetime: taking one from
        the pool for every batch, and handing it back with a reset, cost more than some batches' work. A
        connection the database dropped is replaced at its next use."""
        if self._writer is None:
            self._writer = self.store.engine.connect()
        with self._writer.begin():
            yield self._writer

    def _write(self, batch: _Batch) -> None:
        """Write a batch `_apply` did not (at the start: a business day that ended while the server was
        down)."""
        if not batch.written and (batch.transitions or batch.counters or batch.presence or batch.rejections):
            with self._transaction() as connection:
                self._write_rows(connection, batch)

    # ---------------------------------------------------------------------------------------- decoding

    def _decode(self, raw: _Raw, batch: _Batch) -> _Request | None:
        """Turn an MQTT message into a request, or answer why not (and count it)."""
        inbound = parse_inbound(raw.topic)
        if inbound is None:
            log.warning("message on an unexpected topic %s ignored", raw.topic)
            batch.rejections["invalid"] += 1
            return None
        if inbound.site != self.topics.site:
            log.warning(
                "message for office %r on %s ignored (this is %r)", inbound.site, raw.topic, self.topics.site
            )
            batch.rejections["wrong_site"] += 1
            return None
        decoded = decode(raw.payload, expect=REQUEST_TYPES[inbound.kind])
        if isinstance(decoded, DecodeFailure):
            log.warning(
                "refused %s from %s: %s (%s)", inbound.kind, inbound.sender, decoded.code, decoded.reason
            )
            batch.rejections[decoded.code] += 1
            if inbound.kind != "device.status":
                reply = self._rejection(inbound.kind, decoded.message_id, decoded.code, batch.now)
                payload = reply.encode()
                batch.outgoing.append(
                    _Outgoing(self._reply_topic(inbound.kind, inbound.sender), payload, None, reply)
                )
            return None
        if isinstance(decoded, DeviceStatus):
            self._presence_update(inbound.sender, decoded, batch)
            if (
                decoded.boot is not None
                and decoded.online
                and not raw.retain
                and decoded.device == inbound.sender
            ):
                self._boot_seen[inbound.sender] = (decoded.boot, batch.now)
                self._notice_boot(inbound.sender, decoded.boot.id, batch.now)
            return None
        return _Request(
            inbound.kind, decoded, inbound.sender, self._reply_topic(inbound.kind, inbound.sender)
        )

    def _reply_topic(self, kind: str, sender: str) -> str:
        if kind.startswith("ticket."):
            return self.topics.ticket_reply(sender)
        if kind == "survey.response":
            return self.topics.survey_reply(sender)
        return self.topics.counter_reply(sender)

    def _rejection(self, kind: str, request_id: uuid.UUID | None, code: str, now: dt.datetime) -> Rejection:
        th, en = rejection_text(code)
        if kind.startswith("ticket."):
            return TicketRejected(ts=now, request_id=request_id, code=code, message_th=th, message_en=en)
        if kind == "survey.response":
            return SurveyRejected(ts=now, request_id=request_id, code=code, message_th=th, message_en=en)
        return CounterRejected(ts=now, request_id=request_id, code=code, message_th=th, message_en=en)

    def _presence_update(self, device: str, status: DeviceStatus, batch: _Batch) -> None:
        if status.device != device:
            log.warning("device %s published a status naming %s: ignored", device, status.device)
            batch.rejections["invalid"] += 1
            return
        before = self._presence.get(device)
        self._presence[device] = status
        batch.presence[device] = {
            "device": device,
            "role": status.role.value,
            "online": status.online,
            "printer": status.printer.value if status.printer else None,
            "server_reachable": status.server_reachable,
            "outbox_pending": status.outbox_pending,
            "version": status.version[:40],
            "last_seen": batch.now,
            "payload": status.model_dump(mode="json"),
        }
        if before is None or _offline_kiosk(before) != _offline_kiosk(status):
            batch.changed = True

    def _notice_boot(self, device: str, boot: str, now: dt.datetime) -> None:
        """Note a live status from boot `boot` of `device`. One machine's boots follow each other and
        never come back; a boot seen again after another one, within `SHARED_DEVICE_WINDOW`, means two
        machines take turns as this device (each connection drops the other's)."""
        seen = self._live_boots.setdefault(device, {})
        for other, at in list(seen.items()):
            if now - at > SHARED_DEVICE_WINDOW:
                del seen[other]
        last = self._last_boot.get(device)
        turned = last is not None and last != boot and boot in seen
        seen[boot] = now
        self._last_boot[device] = boot
        shared = self.shared_devices.get(device)
        if shared is not None and now - shared.last > SHARED_DEVICE_WINDOW:
            shared = None
        if not turned:
            if shared is None and device in self.shared_devices:
                self.shared_devices = {d: s for d, s in self.shared_devices.items() if d != device}
            return
        if shared is None:
            log.warning(
                "more than one machine is connecting as %s (boots %s, taking turns): a copied SD card or "
                "settings file? The broker keeps one connection per device, so each drops the other's, and a "
                "reply may reach the wrong one. Give each machine a device id of its own (khiu admin device "
                "add)",
                device,
                ", ".join(sorted(b[:8] for b in seen)),
            )
        self.shared_devices = {
            **self.shared_devices,
            device: SharedDevice(device, shared.since if shared else now, now),
        }

    # ---------------------------------------------------------------------------------------- answering

    def _answer(
        self, connection: Connection, request: _Request, stored: dict[str, records.StoredReply], batch: _Batch
    ) -> None:
        event_id = str(request.message.id)
        earlier = stored.get(event_id) or batch.answered.get(event_id)
        if earlier is not None:
            if earlier.sender != request.sender or earlier.type != request.kind:
                log.warning(
                    "event id %s reused by %s (first used by %s): refused",
                    event_id,
                    request.sender,
                    earlier.sender,
                )
                refused = self._rejection(request.kind, request.message.id, "invalid", batch.now)
                batch.rejections["invalid"] += 1
                batch.outgoing.append(
                    _Outgoing(request.reply_topic, refused.encode(), request.future, refused)
                )
                return
            batch.outgoing.append(_Outgoing(request.reply_topic, earlier.reply_payload, request.future))
            return
        if self._hold(request, batch.now):
            return
        self._held.pop(event_id, None)
        reply: Reply
        try:
            reply = self._apply_request(connection, request, batch)
        except QueueError as refusal:
            # An empty queue is the everyday answer to an idle counter's call-next, not news.
            level = logging.DEBUG if refusal.code == "queue_empty" else logging.INFO
            log.log(
                level, "refused %s from %s: %s %s", request.kind, request.sender, refusal.code, refusal.detail
            )
            reply = self._rejection(request.kind, request.message.id, refusal.code, batch.now)
            batch.rejections[refusal.code] += 1
        payload = reply.encode()
        answer = records.StoredReply(event_id, request.kind, request.sender, request.reply_topic, payload)
        batch.events.append(answer)
        batch.answered[event_id] = answer
        batch.outgoing.append(_Outgoing(request.reply_topic, payload, request.future, reply))

    def _apply_request(self, connection: Connection, request: _Request, batch: _Batch) -> Reply:
        message = request.message
        event_id = str(message.id)
        now = batch.now
        if isinstance(message, TicketRequest):
            effects = self.queue.issue(
                message.service,
                now=now,
                priority=message.priority,
                lang=message.lang,
                source=request.sender,
                check_hours=request.check_hours,
            )
            self._absorb(effects, event_id, batch)
            return self._issued(message.id, effects, now, offline=False)
        if isinstance(message, TicketOffline):
            printed = self._printed_at(request.sender, message)
            if abs(printed - message.issued_at) > KIOSK_CLOCK_SKEW:
                log.warning(
                    "offline ticket %s from %s is stamped %s but was printed at %s by the server's clock "
                    "(from the kiosk's boot clock): taken in by that time; check the kiosk's clock",
                    message.number,
                    request.sender,
                    to_local(message.issued_at).isoformat(timespec="seconds"),
                    to_local(printed).isoformat(timespec="seconds"),
                )
            elif message.issued_at > now + KIOSK_CLOCK_SKEW:
                log.warning(
                    "offline ticket %s from %s is stamped %s, the server says %s: check the kiosk's clock",
                    message.number,
                    request.sender,
                    message.issued_at.isoformat(),
                    now.isoformat(),
                )
            effects = self.queue.take_offline(
                message.service,
                number=message.number,
                issued_at=printed,
                now=now,
                priority=message.priority,
                lang=message.lang,
                source=request.sender,
                series=self._kiosk_series.get(request.sender),
            )
            self._absorb(effects, event_id, batch)
            if message.replaces is not None:
                self._supersede(connection, request, str(message.replaces), batch)
            return self._issued(message.id, effects, now, offline=True)
        if isinstance(message, CounterCommand):
            return self._counter(request.sender, message, batch)
        if isinstance(message, SurveyResponse):
            return self._survey(connection, request.sender, message, batch)
        raise QueueError("wrong_type", f"{message.type} is not a request")

    def _printed_at(self, kiosk: str, ticket: TicketOffline) -> dt.datetime:
        """When an offline ticket was printed, by the server's clock: from the kiosk's boot clock when a
        live status of the same boot was seen (`_by_boot_clock`), else the kiosk's stamp."""
        return self._by_boot_clock(kiosk, ticket) or ticket.issued_at

    def _by_boot_clock(self, kiosk: str, ticket: TicketOffline) -> dt.datetime | None:
        """When the ticket was printed, from the kiosk's boot clock and its latest live status of that boot
        (the kiosk's wall clock may have been wrong: switched on without a time server, it reads the
        evening before); None without one. Never later than that status."""
        seen = self._boot_seen.get(kiosk)
        mark = ticket.printed
        if seen is None or mark is None or seen[0].id != mark.id or mark.uptime_s > seen[0].uptime_s:
            return None
        status_mark, status_at = seen
        return status_at - dt.timedelta(seconds=status_mark.uptime_s - mark.uptime_s)

    def _hold(self, request: _Request, now: dt.datetime) -> bool:
        """Whether to leave an offline ticket unanswered for now: stamped on an earlier business day (it
        would be refused) but marked on a boot clock of which no live status has come yet. That is the
        kiosk's status published before this server subscribed (everything started together after a
        power cut): on seeing the server come online the kiosk publishes it again, and sends the ticket
        again, which is then placed by it. Held at most `OFFLINE_HOLD`, then judged by its stamp."""
        ticket = request.message
        if request.future is not None or not isinstance(ticket, TicketOffline) or ticket.printed is None:
            return False
        if business_date(min(ticket.issued_at, now)) >= self.queue.business_date:
            return False
        if self._by_boot_clock(request.sender, ticket) is not None:
            return False  # placed by the boot clock
        seen = self._boot_seen.get(request.sender)
        if seen is not None and seen[0].id != ticket.printed.id:
            return False  # printed before the kiosk last started: no use waiting
        event_id = str(ticket.id)
        since = self._held.get(event_id)
        if since is None:
            if len(self._held) >= OFFLINE_HELD_MAX:
                return False
            self._held[event_id] = since = now
            log.info(
                "offline ticket %s from %s held until the kiosk's status comes", ticket.number, request.sender
            )
        if now - since < OFFLINE_HOLD:
            return True
        del self._held[event_id]
        return False

    def _supersede(self, connection: Connection, request: _Request, replaced: str, batch: _Batch) -> None:
        """The kiosk gave up waiting for the request `replaced` and printed an offline ticket instead: one
        citizen, one place. If that request made a ticket that still waits, the ticket is cancelled; if it
        has not arrived, it is answered now (`superseded`), so when the broker delivers it late it finds
        that answer, like any resend, and issues nothing."""
        earlier = batch.answered.get(replaced) or records.stored_replies(connection, [replaced]).get(replaced)
        if earlier is None:
            refused = self._rejection("ticket.request", uuid.UUID(replaced), "superseded", batch.now)
            answer = records.StoredReply(
                replaced, "ticket.request", request.sender, request.reply_topic, refused.encode()
            )
            batch.events.append(answer)
            batch.answered[replaced] = answer
            return
        if earlier.sender != request.sender:
            log.warning(
                "%s says its offline ticket replaces %s, a request of %s: ignored",
                request.sender,
                replaced,
                earlier.sender,
            )
            return
        issued = decode(earlier.reply_payload)
        if not isinstance(issued, TicketIssued):
            return
        try:
            effects = self.queue.cancel(issued.number, now=batch.now)
        except QueueError:
            log.info("%s was replaced by an offline ticket but is no longer waiting: kept", issued.number)
            return
        log.info(
            "%s cancelled: kiosk %s printed an offline ticket in its place", issued.number, request.sender
        )
        self._absorb(effects, str(request.message.id), batch)

    def _issued(
        self, request_id: uuid.UUID, effects: Effects, now: dt.datetime, *, offline: bool
    ) -> TicketIssued:
        ticket = effects.ticket
        assert ticket is not None
        ahead, minutes = self.queue.estimate(ticket)
        public_url = self._config.office.public_url
        return TicketIssued(
            ts=now,
            request_id=request_id,
            ticket_id=ticket.id,
            number=ticket.number,
            service=ticket.service,
            priority=ticket.priority,
            issued_at=ticket.issued_at,
            business_date=ticket.business_date,
            waiting_ahead=ahead,
            estimated_wait_min=minutes,
            offline=offline,
            # The number rides along so a survey terminal's scanner knows it without typing (the id is
            # the key to the page; the number is printed on the ticket anyway).
            status_url=f"{public_url}/t/{ticket.id}?n={ticket.number}" if public_url else None,
        )

    def _counter(self, counter: str, command: CounterCommand, batch: _Batch) -> CounterResult:
        q, now, staff, number = self.queue, batch.now, command.staff, command.ticket
        action = command.action
        if action is CounterAction.open:
            effects = q.open_counter(counter, now=now, staff=staff)
        elif action is CounterAction.close:
            effects = q.close_counter(counter, now=now)
        elif action is CounterAction.call_next:
            effects = q.call_next(counter, now=now, staff=staff)
        elif action is CounterAction.recall:
            effects = q.recall(counter, now=now, staff=staff, number=number)
        elif action is CounterAction.start:
            effects = q.start(counter, now=now, staff=staff, number=number)
        elif action is CounterAction.complete:
            assert command.outcome is not None  # the contract requires it
            effects = q.complete(counter, command.outcome, now=now, staff=staff, number=number)
        elif action is CounterAction.no_show:
            effects = q.no_show(counter, now=now, staff=staff, number=number)
        elif action is CounterAction.transfer:
            assert command.to_service is not None
            effects = q.transfer(counter, command.to_service, now=now, staff=staff, number=number)
        elif action is CounterAction.park:
            effects = q.park(counter, now=now, staff=staff, number=number)
        elif action is CounterAction.resume:
            assert number is not None
            effects = q.resume(counter, number, now=now, staff=staff)
        else:  # pragma: no cover - CounterAction is closed
            raise QueueError("invalid", f"unknown action {action}")
        self._absorb(effects, str(command.id), batch)
        ticket = effects.ticket
        if action is CounterAction.complete and ticket is not None:
            batch.completed[counter] = ticket_view(ticket)
            if command.outcome is Outcome.forwarded:
                self._open_case(ticket, command, batch)
        th, en = _result_text(action, ticket, effects, self._config, q.rules.max_calls_before_no_show)
        return CounterResult(
            ts=now,
            request_id=command.id,
            action=action,
            ticket=ticket_view(ticket) if ticket else None,
            message_th=th,
            message_en=en,
        )

    def _open_case(self, ticket: Ticket, command: CounterCommand, batch: _Batch) -> None:
        service = self._config.service_by_code(ticket.service)
        minutes = service.standard_minutes if service else 0
        staff = command.staff or ticket.staff
        at = batch.now.isoformat()
        batch.cases.append(
            {
                "id": str(uuid.uuid4()),
                "ticket_id": ticket.id,
                "business_date": ticket.business_date,
                "number": ticket.number,
                "service": ticket.service,
                "agency_th": service.agency_th if service else "",
                "agency_en": service.agency_en if service else "",
                "reference": command.reference,
                "opened_at": batch.now,
                "due_date": business_date(batch.now + dt.timedelta(minutes=minutes)),
                "status": CaseStatus.open.value,
                "note": "",
                "staff": staff,
                "updated_at": batch.now,
                "closed_at": None,
                "history": [{"at": at, "status": CaseStatus.open.value, "note": "", "staff": staff}],
            }
        )

    def _survey(
        self, connection: Connection, terminal: str, response: SurveyResponse, batch: _Batch
    ) -> Reply:
        """Take a rating: of a served ticket, once, within the days the survey allows, with known items."""
        today = self.queue.business_date
        since = today - dt.timedelta(days=self._config.survey.days_valid)
        ticket: Ticket | None = None
        if response.ticket_id:
            ticket = self.queue.tickets.get(response.ticket_id) or records.find_ticket(
                connection, ticket_id=response.ticket_id
            )
            if ticket is not None and ticket.number != response.ticket:
                ticket = None
        else:
            ticket = self.queue.find(response.ticket) or records.find_ticket(
                connection, number=response.ticket, since=since
            )
        if ticket is None:
            raise QueueError("unknown_ticket", f"no ticket {response.ticket}")
        if ticket.business_date < since:
            raise QueueError("rating_expired", f"{ticket.number} of {ticket.business_date}")
        if ticket.state is not TicketState.done:
            raise QueueError("ticket_not_served", f"{ticket.number} is {ticket.state}")
        if ticket.id in batch.rated or records.has_response(connection, ticket.id):
            raise QueueError("already_rated", ticket.number)
        unknown = [item for item in response.answers if item not in self._survey_items]
        bad_bands = [
            k
            for k, v in response.demographics.items()
            if k not in self._demographics or v not in self._demographics[k]
        ]
        if unknown or bad_bands:
            raise QueueError("invalid_answers", f"unknown items {unknown}, demographics {bad_bands}")
        batch.rated.add(ticket.id)
        batch.responses.append(
            (
                {
                    "id": str(uuid.uuid4()),
                    "ticket_id": ticket.id,
                    "business_date": ticket.business_date,
                    "number": ticket.number,
                    "service": ticket.service,
                    "counter": ticket.counter,
                    "channel": response.channel,
                    "at": batch.now,
                    "demographics": dict(response.demographics),
                    "comment": response.comment,
                    "event_id": str(response.id),
                },
                dict(response.answers),
            )
        )
        return SurveyAccepted(ts=batch.now, request_id=response.id, ticket=ticket.number)

    def _fail(self, item: _Item, now: dt.datetime) -> None:
        """Answer a request the server could not apply (not stored: a resend is tried afresh)."""
        if isinstance(item, _Republish):
            return
        if isinstance(item, _Call):
            item.future.set_exception(RuntimeError("the office could not complete this; see the server log"))
            return
        if isinstance(item, _Raw):
            inbound = parse_inbound(item.topic)
            decoded = decode(item.payload)
            if inbound is None or inbound.kind == "device.status" or isinstance(decoded, DecodeFailure):
                return
            item = _Request(
                inbound.kind, decoded, inbound.sender, self._reply_topic(inbound.kind, inbound.sender)
            )
        reply = self._rejection(item.kind, item.message.id, "internal_error", now)
        self._deliver(_Outgoing(item.reply_topic, reply.encode(), item.future, reply))

    # ---------------------------------------------------------------------------------------- effects

    def _absorb(
        self, effects: Effects, event_id: str | None, batch: _Batch, day: dt.date | None = None
    ) -> None:
        """Note what an operation changed, for the writes and the publishing after the commit."""
        day = day or self.queue.business_date
        for transition in effects.transitions:
            batch.transitions.append((transition, day, event_id))
            ticket = effects.touched[transition.ticket_id]
            if transition.from_state is None:
                batch.new[ticket.id] = (ticket, transition.service)
                if ticket.seq is not None:
                    batch.issued[ticket.number[0]] += 1
            elif ticket.id not in batch.new:
                batch.dirty[ticket.id] = ticket
        batch.counters |= effects.counters
        if effects.call is not None:
            batch.calls.append(effects.call)
        if effects.transitions or effects.counters:
            batch.changed = True

    def _write_rows(self, connection: Connection, batch: _Batch) -> None:
        """Everything the batch changed, in foreign-key order, then the events with their replies."""
        if batch.written:
            return
        for prefix, count in batch.issued.items():
            last = records.allocate_numbers(
                connection, business_date=self.queue.business_date, prefix=prefix, count=count
            )
            if last != self.queue.last_sequence(prefix):
                raise StoreOutOfStep(
                    f"prefix {prefix}: database at {last}, queue at {self.queue.last_sequence(prefix)}"
                )
        records.insert_tickets(connection, list(batch.new.values()))
        records.update_tickets(connection, list(batch.dirty.values()))
        records.insert_transitions(connection, batch.transitions)
        for case in batch.cases:
            records.insert_case(connection, case)
        for response, answers in batch.responses:
            records.insert_response(connection, response, answers)
        desks = []
        for counter in batch.counters:
            desk = self.queue.desks[counter]
            state = (desk.open, desk.staff, desk.priority_streak)
            if self._saved_desks.get(counter) != state:
                desks.append((counter, *state))
        records.save_counters(connection, desks, at=batch.now)
        records.save_presence(connection, batch.presence.values())
        records.count_rejections(connection, batch.rejections, at=batch.now)
        if records.record_events(connection, batch.events, at=batch.now) != len(batch.events):
            raise StoreOutOfStep("an event id was applied by another writer")
        for counter, is_open, staff, streak in desks:
            self._saved_desks[counter] = (is_open, staff, streak)
        batch.written = True

    # ---------------------------------------------------------------------------------------- publishing

    def _after_commit(self, batch: _Batch) -> None:
        """Replies first (a kiosk is waiting), then announcements and the retained states that changed
        (held back while their interval runs); Futures last."""
        network = self._network if any(o.topic is not None for o in batch.outgoing) else None
        with network.corked() if network is not None else contextlib.nullcontext():
            for outgoing in batch.outgoing:
                if outgoing.topic is not None:
                    self._safe_publish(outgoing.topic, outgoing.payload, False)
        now = batch.now
        for call in batch.calls:
            self._remember_call(RecentCall(call.number, call.counter, call.service, call.at))
            self._announce(call, now)
        self._last_completed.update(batch.completed)
        self._dirty_counters |= set(self.queue.desks) if batch.everything else batch.counters
        self._board_dirty = self._board_dirty or batch.changed or batch.everything or bool(batch.calls)
        self._flush_states(now, force=batch.everything)
        self._refresh_catalog(now, force=batch.everything)
        if batch.everything and self._set_server_status is not None:
            status = ServerStatus(
                ts=now, online=True, version=self.version, business_date=self.queue.business_date
            )
            self._set_server_status(status)
        for outgoing in batch.outgoing:
            self._resolve(outgoing)
        for future, result in batch.results:
            if future.cancelled():
                continue
            if isinstance(result, _Raised):
                future.set_exception(result.error)
            else:
                future.set_result(result.value)

    def _flush_states(self, now: dt.datetime, *, force: bool = False) -> None:
        """Publish the changed counter states and board whose interval has passed (all when `force`)."""
        mono = time.monotonic()
        for counter in sorted(self._dirty_counters):
            topic = self.topics.counter_state(counter)
            if not force and mono < self._next_state_at.get(topic, 0.0):
                continue
            self._dirty_counters.discard(counter)
            if self._config.counter_by_id(counter) is None:
                continue
            message = counter_state_message(
                self._config, self.queue, counter, now=now, last_completed=self._last_completed.get(counter)
            )
            if self._publish_state(topic, message):
                self.counter_states[counter] = message
                self._next_state_at[topic] = mono + self._state_interval_s
        topic = self.topics.board_state()
        if self._board_dirty and (force or mono >= self._next_state_at.get(topic, 0.0)):
            self._board_dirty = False
            board = board_state_message(
                self._config,
                self.queue,
                recent_calls=list(self._recent_calls),
                kiosks_offline=[d for d, s in self._presence.items() if _offline_kiosk(s)],
                now=now,
            )
            if self._publish_state(topic, board):
                self.board = board
                self._next_state_at[topic] = mono + self._state_interval_s

    def _remember_call(self, call: RecentCall) -> None:
        """The board lists each ticket once, at its latest call."""
        kept = [c for c in self._recent_calls if c.number != call.number]
        self._recent_calls = deque([call, *kept], maxlen=RECENT_CALLS)

    def _deliver(self, outgoing: _Outgoing) -> None:
        if outgoing.topic is not None:
            self._safe_publish(outgoing.topic, outgoing.payload, False)
        self._resolve(outgoing)

    @staticmethod
    def _resolve(outgoing: _Outgoing) -> None:
        future = outgoing.future
        if future is not None and not future.cancelled():
            reply = outgoing.reply
            if reply is None:
                decoded = decode(outgoing.payload)
                reply = decoded if isinstance(decoded, Reply) else None
            future.set_result(reply)

    def _announce(self, call: Call, now: dt.datetime) -> None:
        counter = self._config.counter_by_id(call.counter)
        service = self._config.service_by_code(call.service)
        if counter is None:
            return
        message = BoardCall(
            ts=now,
            number=call.number,
            counter=call.counter,
            counter_number=counter.number,
            counter_name_th=counter.name_th,
            counter_name_en=counter.name_en,
            service=call.service,
            service_name_th=service.name_th if service else "",
            service_name_en=service.name_en if service else "",
            repeat=call.repeat,
        )
        self._safe_publish(self.topics.board_call(), message.encode(), False)

    def _publish_state(self, topic: str, message: Message) -> bool:
        """Publish a retained state unless it says the same as the last one (id and time aside)."""
        content = message.model_dump_json(exclude={"id", "ts"})
        if self._published.get(topic) == content:
            return False
        self._published[topic] = content
        self._safe_publish(topic, message.encode(), True)
        return True

    def _refresh_catalog(self, now: dt.datetime, *, force: bool = False) -> None:
        """Republish the catalog when a service starts or stops taking tickets (hours, cap, holiday)."""
        availability = self.queue.service_availability(now)
        key = (self.queue.business_date, tuple((c, a.accepting, a.code) for c, a in availability.items()))
        if not force and key == self._availability_key:
            return
        self._availability_key = key
        catalog = catalog_message(self._config, availability, business_date=self.queue.business_date, now=now)
        if self._publish_state(self.topics.catalog(), catalog) or force:
            self.catalog = catalog

    def _safe_publish(self, topic: str, payload: bytes, retain: bool) -> None:
        try:
            self._publish(topic, payload, retain)
        except Exception:
            log.exception("publishing on %s failed", topic)

    # ---------------------------------------------------------------------------------------- the day

    def _roll_over_if_new_day(self, batch: _Batch) -> None:
        """At the first moment of a new business day (by the server's clock), close the old one."""
        today = business_date(batch.now)
        if today < self.queue.business_date:
            if wrong_year(batch.now) is not None:
                return  # a clock that lost its time (1970): the day stays; it is said in red meanwhile
            # The clock was set back across midnight: it had been ahead, and the day numbered since
            # then is not today. Resume today from the database (`load_stored_day`).
            log.warning(
                "the server's clock went back to %s from business day %s", today, self.queue.business_date
            )
            self._rebuild()
            batch.everything = True
            return
        if today == self.queue.business_date:
            return
        with self._transaction() as connection:
            numbered = records.day_numbered(connection, today)
        if numbered:
            # The clock had been on this day before it was set back (a few minutes fast at midnight):
            # close the old day on its own, then resume this one from the database.
            closing = _Batch(now=batch.now, everything=True)
            self._close_day(closing, today)
            self._write(closing)
            self._after_commit(closing)
            self._rebuild()
            log.info("business day %s was numbered before the clock was set back: its numbers go on", today)
            batch.everything = True
            return
        self._close_day(batch, today)

    def _close_day(self, batch: _Batch, today: dt.date) -> None:
        """End the queue's business day and begin `today`, numbering from 1."""
        old = self.queue.business_date
        effects = self.queue.roll_over(today, now=batch.now)
        self._absorb(effects, None, batch, day=old)
        batch.everything = True
        self._recent_calls.clear()
        self._last_completed.clear()
        log.info(
            "business day %s closed (%d tickets ended); numbers start again for %s",
            old,
            len(effects.transitions),
            today,
        )

    def _rebuild(self) -> None:
        """Make the queue exactly what the database says (start, and after a failed batch)."""
        now = self._clock()
        today = business_date(now)
        # A clock in a year no office can be in (1970: it lost its time) is not followed back to it.
        plausible = wrong_year(now) is None
        with self._transaction() as connection:
            day = records.load_stored_day(
                connection, window=self._config.queue.wait_estimate_window, today=today if plausible else None
            )
            presence = records.device_presence(connection)
        if day.ahead is not None:  # at every start until the calendar gets there: said, not warned of
            log.info(
                "the database has tickets of business day %s, after today (%s) by the server's clock: they "
                "were numbered while the clock was set ahead. Today's numbers go on where they stopped; "
                "the unfinished tickets of %s keep their place (last, by their issue times); "
                'keep the clock right (docs/operations.md, "The server\'s clock")',
                day.ahead,
                today,
                day.ahead,
            )
        q = new_queue(self._config, day.business_date or today)
        for ticket in day.tickets:
            try:
                q.load_ticket(ticket)
            except ValueError as exc:
                log.error("ticket %s left out of the queue: %s", ticket.number, exc)
        for row in day.counters:
            q.load_counter(row.counter, open=row.open, staff=row.staff, priority_streak=row.priority_streak)
        for prefix, seq in day.sequences.items():
            q.load_sequence(prefix, seq)
        for service, seconds in day.durations.items():
            for value in seconds:
                q.load_duration(service, value)
        q.check()
        self.queue = q
        self._saved_desks = {row.counter: (row.open, row.staff, row.priority_streak) for row in day.counters}
        self._last_completed = _last_completed(q)
        self._recent_calls = deque(maxlen=RECENT_CALLS)
        for r in reversed(day.recent_calls):
            self._remember_call(RecentCall(r.number, r.counter or "", r.service, r.at))
        self._presence = {}
        for row in presence:
            decoded = DeviceStatus.model_validate(row.payload) if row.payload else None
            if decoded is not None:
                self._presence[row.device] = decoded


def _last_completed(queue: OfficeQueue) -> dict[str, TicketView]:
    """Per counter, the ticket of this business day it completed last (after a restart)."""
    last: dict[str, tuple[dt.datetime, Ticket]] = {}
    for ticket in queue:
        counter, ended = ticket.counter, ticket.ended_at
        if ticket.state is not TicketState.done or counter is None or ended is None:
            continue
        if ticket.business_date == queue.business_date and (counter not in last or last[counter][0] < ended):
            last[counter] = (ended, ticket)
    return {counter: ticket_view(ticket) for counter, (_, ticket) in last.items()}


def _offline_kiosk(status: DeviceStatus) -> bool:
    """A kiosk that is on but cannot reach the server (it issues offline tickets)."""
    return status.role is DeviceRole.kiosk and status.online and status.server_reachable is False


def _result_text(
    action: CounterAction, ticket: Ticket | None, effects: Effects, config: OfficeConfig, max_calls: int
) -> tuple[str, str]:
    """The console's confirmation line, Thai and English."""
    n = ticket.number if ticket else ""
    if action is CounterAction.open:
        return ("เปิดช่องบริการแล้ว", "Counter opened.")
    if action is CounterAction.close:
        return ("ปิดช่องบริการแล้ว", "Counter closed.")
    if action is CounterAction.call_next:
        return (f"เรียกหมายเลข {n}", f"Calling {n}.")
    if action is CounterAction.recall:
        if effects.auto_no_show:
            return (
                f"เรียกหมายเลข {n} ครบ {max_calls} ครั้งแล้ว บันทึกว่าไม่มาติดต่อ",
                f"{n} was called {max_calls} times: marked as no-show.",
            )
        calls = ticket.calls if ticket else 0
        return (f"เรียกหมายเลข {n} อีกครั้ง (ครั้งที่ {calls})", f"Calling {n} again (call {calls}).")
    if action is CounterAction.start:
        return (f"เริ่มให้บริการหมายเลข {n}", f"Serving {n}.")
    if action is CounterAction.complete:
        if ticket is not None and ticket.outcome is Outcome.forwarded:
            return (
                f"ให้บริการหมายเลข {n} แล้ว ส่งเรื่องต่อหน่วยงานเจ้าของเรื่อง",
                f"{n} done: forwarded to the agency.",
            )
        return (f"ให้บริการหมายเลข {n} เสร็จแล้ว", f"{n} done.")
    if action is CounterAction.no_show:
        return (f"บันทึกว่าหมายเลข {n} ไม่มาติดต่อ", f"{n} marked as no-show.")
    if action is CounterAction.transfer:
        service = config.service_by_code(ticket.service) if ticket else None
        name_th, name_en = (service.name_th, service.name_en) if service else ("", "")
        return (f"ส่งหมายเลข {n} ไปรอรับบริการ {name_th}", f"{n} now waits for {name_en}.")
    if action is CounterAction.park:
        return (f"พักคิวหมายเลข {n} ไว้ก่อน", f"{n} set aside.")
    return (f"หมายเลข {n} กลับเข้าคิวแล้ว", f"{n} is back in the queue.")


__all__ = [
    "CounterReply",
    "Office",
    "OfficeBusy",
    "OfficeStopped",
    "Publish",
    "StoreOutOfStep",
]
