"""Plays a simulated office day through the real MQTT contract: kiosks, counter terminals and survey
tablets, each an `MqttLink` with its own durable outbox, talking to the real server through the real
broker.

One thread runs the whole simulation. Every link hands its messages to that thread (the links'
`handoff`), and timers of the simulated clock run there too, so the actors need no locks. With a
`speed` the simulated clock follows the wall clock (speed 60: one simulated hour per real minute);
without one, events run in order as fast as the server answers: the clock jumps to the next event
only once every request sent so far has its reply."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import queue
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common.contract import (
    Catalog,
    CounterCommand,
    CounterRejected,
    CounterResult,
    CounterState,
    DecodeFailure,
    Message,
    Reply,
    SurveyAccepted,
    SurveyRejected,
    SurveyResponse,
    TicketIssued,
    TicketRejected,
    TicketRequest,
    TicketView,
)
from common.link import Inbound, MqttLink
from common.topics import Topics
from common.vocabulary import CounterAction, DeviceRole, Outcome, ServiceKind, TicketState
from server.simulation import day
from server.simulation.settings import SimulatorSettings
from server.simulation.summary import SimulationSummary

log = logging.getLogger(__name__)

Task = Callable[[], None]
ReplyCallback = Callable[[Reply], None]

DAY_END = dt.time(20, 0)
"""Nothing happens after this simulated time: a counter still busy then is left as it is."""

LUNCH = (dt.time(12, 0), dt.time(13, 0))

CONNECT_TIMEOUT_S = 15.0


class SimulationError(RuntimeError):
    """The simulation cannot start (no broker, no server, bad credentials); the message says which."""


# ------------------------------------------------------------------------------------------------ clock


class SimClock:
    """The simulated clock and the one queue of work for the simulation thread."""

    def __init__(self, start: dt.datetime, speed: float | None) -> None:
        self.start = start
        self.speed = speed
        self.inbox: queue.Queue[tuple[float, Task]] = queue.Queue()
        self._timers: list[tuple[dt.datetime, int, Task]] = []
        self._order = itertools.count()
        self._virtual = start
        self._wall0 = time.monotonic()
        self.arrived_at = 0.0
        """`perf_counter()` when the task now running was handed over by a link (a reply's arrival)."""

    def handoff(self, task: Task) -> None:
        """The links' hand-off: called on paho's thread, runs `task` on the simulation thread."""
        self.inbox.put((time.perf_counter(), task))

    def begin(self) -> None:
        """Start the simulated clock now (after the setup, which is not part of the day)."""
        self._wall0 = time.monotonic()
        self._virtual = self.start

    def now(self) -> dt.datetime:
        if self.speed is None:
            return self._virtual
        return self.start + dt.timedelta(seconds=(time.monotonic() - self._wall0) * self.speed)

    def at(self, when: dt.datetime, task: Task) -> None:
        heapq.heappush(self._timers, (when, next(self._order), task))

    def after(self, seconds: float, task: Task) -> None:
        self.at(self.now() + dt.timedelta(seconds=seconds), task)

    @property
    def next_timer(self) -> dt.datetime | None:
        return self._timers[0][0] if self._timers else None

    def drop_timers(self) -> None:
        self._timers.clear()

    def _wall_of(self, when: dt.datetime) -> float:
        assert self.speed is not None
        return self._wall0 + (when - self.start).total_seconds() / self.speed

    def run_once(self, *, may_advance: bool, wait_s: float) -> bool:
        """Run one handed-over task, or the next timer that is due. Paced: a timer is due at its wall
        time. As fast as possible: the next timer is due when `may_advance` (nothing in flight).
        Waits up to `wait_s` for work; False when none came."""
        try:
            arrived, task = self.inbox.get_nowait()
        except queue.Empty:
            pass
        else:
            self.arrived_at = arrived
            task()
            return True
        if self.speed is None:
            if may_advance and self._timers:
                when, _, task = heapq.heappop(self._timers)
                self._virtual = max(self._virtual, when)
                task()
                return True
            timeout = wait_s
        else:
            now = time.monotonic()
            if self._timers and self._wall_of(self._timers[0][0]) <= now:
                _, _, task = heapq.heappop(self._timers)
                task()
                return True
            timeout = wait_s
            if self._timers:
                timeout = max(0.0, min(wait_s, self._wall_of(self._timers[0][0]) - now))
        try:
            arrived, task = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return False
        self.arrived_at = arrived
        task()
        return True


# ------------------------------------------------------------------------------------------------ state


@dataclass(slots=True)
class _Pending:
    kind: str
    device: str
    sent_at: float
    on_reply: ReplyCallback


@dataclass(frozen=True, slots=True)
class _CatalogView:
    """What the simulation reads from the server's retained catalog."""

    services: dict[str, day.ServiceProfile]
    counters: dict[str, tuple[str, ...]]
    """Counter id -> the service codes it calls."""
    survey_items: tuple[str, ...]
    overall_item: str
    demographics: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, catalog: Catalog) -> _CatalogView:
        counters = {c.id: tuple(c.services) for c in catalog.counters}
        services = {
            s.code: day.ServiceProfile(s.code, s.group, s.kind, s.standard_minutes) for s in catalog.services
        }
        return cls(
            services=services,
            counters=counters,
            survey_items=tuple(i.id for sec in catalog.survey.sections for i in sec.items),
            overall_item=catalog.survey.overall_item,
            demographics={d.id: tuple(o.id for o in d.options) for d in catalog.survey.demographics},
        )


# ------------------------------------------------------------------------------------------------ actors


@dataclass(eq=False)
class CounterActor:
    """Staff at one counter terminal: open, call next, wait for the citizen (recall, no-show), serve,
    complete with the outcome the service's kind gives (sometimes advice, a transfer or a park), go to
    lunch in turns, close when the day's queue is done."""

    sim: Simulator
    device: str
    counter: str
    services: tuple[str, ...]
    staff: str
    lunch: bool
    current: TicketView | None = None
    is_open: bool = False
    lunch_due: bool = False
    done: bool = False
    waiting: int = 0
    """Citizens waiting for this counter's services, as its retained counter.state says."""
    idle: bool = False
    """Open with nobody to call: staff watch the counter display until someone waits."""
    _idle_round: int = 0
    parked: set[str] = field(default_factory=set)
    """Numbers this counter parked and will resume."""
    parked_once: set[str] = field(default_factory=set)

    @property
    def rng(self) -> random.Random:
        return self.sim.rng

    def command(
        self,
        action: CounterAction,
        then: ReplyCallback,
        *,
        ticket: str | None = None,
        outcome: Outcome | None = None,
        to_service: str | None = None,
        reference: str | None = None,
    ) -> None:
        message = CounterCommand(
            action=action,
            staff=self.staff,
            ticket=ticket,
            outcome=outcome,
            to_service=to_service,
            reference=reference,
        )
        topic = self.sim.topics.counter_command(self.counter)
        self.sim.request(self.device, topic, message, "counter", then)

    def _refused(self, reply: Reply) -> bool:
        """Count a refusal; True when `reply` is one."""
        if isinstance(reply, CounterRejected):
            self.sim.summary.counter_rejected[reply.code] += 1
            return True
        return False

    # opening and closing

    def open(self) -> None:
        self.command(CounterAction.open, self._opened)

    def _opened(self, reply: Reply) -> None:
        if self._refused(reply):
            log.warning("%s: open refused (%s)", self.counter, getattr(reply, "code", "?"))
            self.sim.clock.after(day.uniform(day.POLL_SECONDS, self.rng), self.open)
            return
        self.is_open = True
        self.call_next()

    def _close(self, then: ReplyCallback) -> None:
        self.command(CounterAction.close, then)

    def _lunch_closed(self, reply: Reply) -> None:
        if self._refused(reply):
            self.next_ticket()
            return
        self.is_open = False
        self.lunch_due = False
        back = dt.datetime.combine(self.sim.clock.now().date(), LUNCH[1])
        self.sim.clock.at(back + dt.timedelta(seconds=self.rng.uniform(0, 180)), self.open)

    def _closed_for_day(self, reply: Reply) -> None:
        if self._refused(reply):
            self.next_ticket()
            return
        self.is_open = False
        self.done = True
        log.info("%s closed for the day", self.counter)

    # the ticket cycle

    def next_ticket(self) -> None:
        """Staff finish their notes, then press call-next."""
        self.sim.clock.after(self.rng.uniform(5, 20), self.call_next)

    def call_next(self) -> None:
        if self.done:
            return
        if self.lunch_due:
            self._close(self._lunch_closed)
            return
        self.command(CounterAction.call_next, self._called)

    def _called(self, reply: Reply) -> None:
        if isinstance(reply, CounterRejected) and reply.code == "queue_empty":
            self.sim.summary.counter_rejected[reply.code] += 1
            if self.sim.day_finished_for(self):
                self._close(self._closed_for_day)
            else:
                self._wait_for_citizens()
            return
        if self._refused(reply) or not isinstance(reply, CounterResult) or reply.ticket is None:
            log.warning("%s: call next refused: %s", self.counter, getattr(reply, "code", reply.type))
            self.sim.clock.after(day.uniform(day.POLL_SECONDS, self.rng), self.call_next)
            return
        self.sim.summary.calls += 1
        self.current = reply.ticket
        self.sim.ticket_state(reply.ticket)
        self._await_citizen(day.SHOW_ON_FIRST_CALL)

    def _wait_for_citizens(self) -> None:
        """Nobody to call: wait until the counter display shows someone waiting (or check anyway after
        a while: the day may be over, or an update was missed)."""
        self.idle = True
        self._idle_round += 1
        round_ = self._idle_round

        def check() -> None:
            if self.idle and self._idle_round == round_:
                self.idle = False
                self.call_next()

        self.sim.clock.after(day.uniform(day.IDLE_CHECK_SECONDS, self.rng), check)
        if self.sim.settings.closes <= self.sim.clock.now().time():
            # After issuing closes nobody new comes: look again soon, to close the counter.
            self.sim.clock.after(day.uniform(day.REACT_SECONDS, self.rng) * 4, check)

    def on_state(self, waiting: int) -> None:
        """The retained counter.state changed: staff at an idle counter react to a waiting citizen."""
        self.waiting = waiting
        if self.idle and waiting > 0 and not self.done:
            self.idle = False
            self.sim.clock.after(day.uniform(day.REACT_SECONDS, self.rng), self.call_next)

    def _await_citizen(self, chance: float) -> None:
        if self.rng.random() < chance:
            self.sim.clock.after(day.uniform(day.WALK_SECONDS, self.rng), self._start)
        else:
            self.sim.clock.after(day.uniform(day.RECALL_AFTER_SECONDS, self.rng), self._missing)

    def _missing(self) -> None:
        """The citizen has not come: call again, or give up after the office's number of calls."""
        assert self.current is not None
        calls = self.current.calls
        limit = self.sim.settings.max_calls
        if calls >= limit + 2 or (calls >= limit and self.rng.random() < 0.5):
            self.command(CounterAction.no_show, self._gone, ticket=self.current.number)
        else:
            self.command(CounterAction.recall, self._recalled, ticket=self.current.number)

    def _recalled(self, reply: Reply) -> None:
        if self._refused(reply) or not isinstance(reply, CounterResult) or reply.ticket is None:
            self._drop_current()
            return
        if reply.ticket.state is TicketState.no_show:
            # The recall past the office's limit: the server marked it no-show.
            self._gone(reply)
            return
        self.sim.summary.recalls += 1
        self.current = reply.ticket
        self._await_citizen(day.SHOW_ON_RECALL)

    def _gone(self, reply: Reply) -> None:
        if not self._refused(reply) and isinstance(reply, CounterResult):
            self.sim.summary.no_show += 1
            if reply.ticket is not None:
                self.sim.ticket_state(reply.ticket)
        self._drop_current()

    def _drop_current(self) -> None:
        self.current = None
        self.next_ticket()

    def _start(self) -> None:
        assert self.current is not None
        self.command(CounterAction.start, self._started, ticket=self.current.number)

    def _started(self, reply: Reply) -> None:
        if self._refused(reply) or not isinstance(reply, CounterResult) or reply.ticket is None:
            self._drop_current()
            return
        self.current = reply.ticket
        self.sim.ticket_state(reply.ticket)
        profile = self.sim.catalog.services.get(reply.ticket.service)
        minutes = day.service_minutes(profile, self.rng) if profile else 8.0
        self.sim.clock.after(minutes * 60, self._finish)

    def _finish(self) -> None:
        """Service ends: mostly completed with the kind's outcome; sometimes a transfer or a park."""
        ticket = self.current
        assert ticket is not None
        roll = self.rng.random()
        others = [code for code in self.sim.served_services if code != ticket.service]
        if roll < day.TRANSFER_SHARE and others:
            to_service = self.rng.choice(others)
            self.command(
                CounterAction.transfer, self._transferred, ticket=ticket.number, to_service=to_service
            )
        elif roll < day.TRANSFER_SHARE + day.PARK_SHARE and ticket.number not in self.parked_once:
            self.command(CounterAction.park, self._parked, ticket=ticket.number)
        else:
            profile = self.sim.catalog.services.get(ticket.service)
            kind = profile.kind if profile else ServiceKind.complete
            outcome = day.outcome_for(kind, self.rng)
            reference = f"SIM-{ticket.number}" if outcome is Outcome.forwarded else None
            self.command(
                CounterAction.complete,
                self._completed,
                ticket=ticket.number,
                outcome=outcome,
                reference=reference,
            )

    def _completed(self, reply: Reply) -> None:
        if not self._refused(reply) and isinstance(reply, CounterResult) and reply.ticket is not None:
            self.sim.summary.served[self.sim.last_outcome(reply) or "done"] += 1
            self.sim.ticket_state(reply.ticket)
            self.sim.maybe_rate(reply.ticket)
        self._drop_current()

    def _transferred(self, reply: Reply) -> None:
        if not self._refused(reply) and isinstance(reply, CounterResult):
            self.sim.summary.transferred += 1
            if reply.ticket is not None:
                self.sim.ticket_state(reply.ticket)
        self._drop_current()

    def _parked(self, reply: Reply) -> None:
        if not self._refused(reply) and isinstance(reply, CounterResult) and reply.ticket is not None:
            number = reply.ticket.number
            self.sim.summary.parked += 1
            self.sim.ticket_state(reply.ticket)
            self.parked.add(number)
            self.parked_once.add(number)
            self.sim.clock.after(day.uniform(day.PARKED_MINUTES, self.rng) * 60, lambda: self._resume(number))
        self._drop_current()

    def _resume(self, number: str) -> None:
        def resumed(reply: Reply) -> None:
            self.parked.discard(number)
            if not self._refused(reply) and isinstance(reply, CounterResult):
                self.sim.summary.resumed += 1
                if reply.ticket is not None:
                    self.sim.ticket_state(reply.ticket)

        self.command(CounterAction.resume, resumed, ticket=number)


# ------------------------------------------------------------------------------------------------ simulator


class Simulator:
    """One run. `run()` connects every device, waits for the server's catalog, plays the day and
    returns the summary; it never raises for what the server answers, only for a setup that cannot
    work (SimulationError)."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.topics = Topics(settings.site)
        self.summary = SimulationSummary()
        day_ = settings.day or dt.date.today()
        self.clock = SimClock(dt.datetime.combine(day_, settings.start), settings.speed)
        self.links: dict[str, MqttLink] = {}
        self.counters: list[CounterActor] = []
        self.catalog = _CatalogView({}, {}, (), "", {})
        self.served_services: list[str] = []
        self._pending: dict[str, _Pending] = {}
        self._answered: dict[str, str] = {}
        self._outcomes: dict[str, str] = {}
        self._tickets: dict[str, TicketState] = {}
        self._arrivals_left = 0
        self._active = True
        self._last_reply = time.monotonic()
        self._catalog_msg: Catalog | None = None
        self._workdir: Path | None = None
        self._own_workdir = False
        self._stop_requested = threading.Event()
        self._counter_waiting: dict[str, int] = {}

    def stop(self) -> None:
        """Ask a running simulation to end (from any thread): it stops acting, waits for the replies
        still due, and `run()` returns its summary."""
        self._stop_requested.set()
        self.clock.handoff(lambda: None)  # wake the simulation thread

    # -------------------------------------------------------------------------------------- plumbing

    def request(self, device: str, topic: str, message: Message, kind: str, then: ReplyCallback) -> None:
        """Send a durable request from `device`; `then` runs with its first reply."""
        if not self._active:
            return
        if isinstance(message, CounterCommand) and message.outcome is not None:
            self._outcomes[str(message.id)] = message.outcome.value
        self._pending[str(message.id)] = _Pending(kind, device, time.perf_counter(), then)
        self.summary.requests_sent += 1
        self.links[device].request(topic, message)

    def last_outcome(self, reply: Reply) -> str | None:
        return self._outcomes.get(str(reply.request_id))

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def _on_reply(self, inbound: Inbound) -> None:
        reply = inbound.decode()
        if isinstance(reply, DecodeFailure) or not isinstance(reply, Reply):
            log.warning("unreadable reply on %s: %s", inbound.topic, reply)
            self.summary.replies_unmatched += 1
            return
        request_id = str(reply.request_id) if reply.request_id is not None else ""
        pending = self._pending.pop(request_id, None)
        if pending is None:
            earlier = self._answered.get(request_id)
            if earlier is None:
                self.summary.replies_unmatched += 1
            elif earlier == str(reply.id):
                self.summary.replies_repeated += 1
            else:
                self.summary.replies_conflicting += 1
                log.error("request %s answered twice: %s then %s", request_id, earlier, reply.id)
            return
        self._answered[request_id] = str(reply.id)
        self._last_reply = time.monotonic()
        latency_ms = (self.clock.arrived_at - pending.sent_at) * 1000.0
        self.summary.latency_ms.setdefault(pending.kind, []).append(latency_ms)
        pending.on_reply(reply)

    def _on_counter_state(self, inbound: Inbound) -> None:
        state = inbound.decode(expect=(CounterState,))
        if not isinstance(state, CounterState):
            log.warning("unreadable counter state on %s: %s", inbound.topic, state)
            return
        self._counter_waiting[state.counter] = state.waiting
        for actor in self.counters:
            if actor.counter == state.counter:
                actor.on_state(state.waiting)

    def _on_catalog(self, inbound: Inbound) -> None:
        message = inbound.decode(expect=(Catalog,))
        if isinstance(message, Catalog):
            self._catalog_msg = message
        else:
            log.warning("unreadable catalog: %s", message)

    # -------------------------------------------------------------------------------------- tickets

    def ticket_state(self, ticket: TicketView) -> None:
        self._tickets[ticket.number] = ticket.state

    def _arrive(self, mix: day.ServiceMix) -> None:
        self._arrivals_left -= 1
        citizen = mix.citizen(self.rng)
        kiosk = self.rng.choice(self.settings.kiosks)
        message = TicketRequest(service=citizen.service, priority=citizen.priority, lang=citizen.lang)
        self.summary.tickets_requested += 1
        self.request(kiosk, self.topics.ticket_request(kiosk), message, "ticket", self._ticket_reply)

    def _ticket_reply(self, reply: Reply) -> None:
        if isinstance(reply, TicketIssued):
            self.summary.tickets_issued += 1
            self.summary.numbers.append(reply.number)
            self._tickets[reply.number] = TicketState.waiting
        elif isinstance(reply, TicketRejected):
            self.summary.tickets_rejected[reply.code] += 1
        else:
            log.warning("unexpected ticket reply %s", reply.type)

    # -------------------------------------------------------------------------------------- surveys

    def maybe_rate(self, ticket: TicketView) -> None:
        """Some served citizens rate the service at a tablet on their way out."""
        if self.rng.random() >= self.settings.survey_share or not self.catalog.overall_item:
            return
        self.clock.after(day.uniform(day.SURVEY_DELAY_SECONDS, self.rng), lambda: self._rate(ticket))

    def _rate(self, ticket: TicketView) -> None:
        terminals = self.settings.surveys or self.settings.kiosks
        terminal = self.rng.choice(terminals)
        rating = day.rating(
            self.catalog.survey_items, self.catalog.overall_item, self.catalog.demographics, self.rng
        )
        message = SurveyResponse(
            ticket=ticket.number,
            ticket_id=ticket.ticket_id,
            answers=rating.answers,
            demographics=rating.demographics,
            channel="terminal",
        )
        self.summary.surveys_sent += 1
        self.request(terminal, self.topics.survey_response(terminal), message, "survey", self._survey_reply)

    def _survey_reply(self, reply: Reply) -> None:
        if isinstance(reply, SurveyAccepted):
            self.summary.surveys_accepted += 1
        elif isinstance(reply, SurveyRejected):
            self.summary.surveys_rejected[reply.code] += 1

    # -------------------------------------------------------------------------------------- the day

    def day_finished_for(self, counter: CounterActor) -> bool:
        """May this counter close for the day? Issuing has closed, every citizen has come, and no ticket
        is still in play anywhere (called, served, parked or being issued) that could come its way."""
        now = self.clock.now()
        if now.time() < self.settings.closes or self._arrivals_left > 0:
            return False
        if any(p.kind == "ticket" for p in self._pending.values()):
            return False
        if counter.parked:
            return False
        return not any(c.current is not None or c.parked for c in self.counters if c is not counter)

    def _lunch_call(self, counter: CounterActor) -> None:
        if counter.is_open and not counter.done:
            counter.lunch_due = True
            if counter.idle:
                counter.idle = False
                counter.call_next()

    def _lunch_task(self, counter: CounterActor) -> Task:
        return lambda: self._lunch_call(counter)

    def _plan_day(self) -> None:
        settings = self.settings
        today = self.clock.start.date()
        mine = {cid: dev for dev, cid in settings.counters.items() if cid in self.catalog.counters}
        left_out = sorted(set(settings.counters.values()) - set(mine))
        if left_out:
            log.info("counters not in the catalog, not played: %s", ", ".join(left_out))
        if not mine:
            raise SimulationError(
                "none of the counter terminals is bound to a counter of this office's catalog "
                f"(catalog counters: {', '.join(self.catalog.counters) or 'none'})"
            )
        opens = dt.datetime.combine(today, settings.opens)
        for index, (counter_id, device) in enumerate(sorted(mine.items())):
            actor = CounterActor(
                sim=self,
                device=device,
                counter=counter_id,
                services=self.catalog.counters[counter_id],
                staff=f"{settings.staff_prefix}-{index + 1:02d}",
                lunch=settings.lunch_breaks and len(mine) > 1 and index % 2 == 1,
            )
            actor.waiting = self._counter_waiting.get(counter_id, 0)
            self.counters.append(actor)
            self.clock.at(opens + dt.timedelta(seconds=self.rng.uniform(0, 240)), actor.open)
            if actor.lunch:
                self.clock.at(dt.datetime.combine(today, LUNCH[0]), self._lunch_task(actor))
        served = {code for actor in self.counters for code in actor.services}
        self.served_services = sorted(code for code in served if code in self.catalog.services)
        offered = [self.catalog.services[code] for code in self.served_services]
        if not offered:
            raise SimulationError("the catalog has no service that the played counters call")
        played = {actor.counter: actor.services for actor in self.counters}
        mix = day.ServiceMix(offered, settings.service_weights, played)
        profile = settings.profile.clipped(settings.opens, settings.closes)
        arrivals = profile.arrivals(today, settings.tickets, self.rng)
        self._arrivals_left = len(arrivals)
        for when in arrivals:
            self.clock.at(when, lambda: self._arrive(mix))

    # -------------------------------------------------------------------------------------- run

    def _connect(self) -> None:
        settings = self.settings
        self._workdir = settings.workdir
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="khiu-sim-"))
            self._own_workdir = True
        roles = (
            [(d, DeviceRole.kiosk) for d in settings.kiosks]
            + [(d, DeviceRole.counter) for d in settings.counters]
            + [(d, DeviceRole.survey) for d in settings.surveys]
        )
        for device, role in roles:
            link = MqttLink(
                host=settings.host,
                port=settings.port,
                username=device,
                password=settings.credentials[device],
                site=settings.site,
                device_id=device,
                role=role,
                tls_ca=settings.tls_ca,
                outbox_path=self._workdir / f"{device}.outbox.sqlite",
                handoff=self.clock.handoff,
                version="simulator",
            )
            if role is DeviceRole.kiosk:
                link.subscribe(self.topics.ticket_reply(device), self._on_reply)
                link.subscribe(self.topics.survey_reply(device), self._on_reply)
            elif role is DeviceRole.counter:
                counter_id = settings.counters[device]
                link.subscribe(self.topics.counter_reply(counter_id), self._on_reply)
                link.subscribe(self.topics.counter_state(counter_id), self._on_counter_state)
            else:
                link.subscribe(self.topics.survey_reply(device), self._on_reply)
            self.links[device] = link
        first = self.links[settings.kiosks[0]]
        first.subscribe(self.topics.catalog(), self._on_catalog)
        for link in self.links.values():
            link.start()
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        for device, link in self.links.items():
            if not link.wait_connected(max(0.1, deadline - time.monotonic())):
                raise SimulationError(
                    f"{device} could not connect to {settings.host}:{settings.port} "
                    "(broker not running, or wrong password or device not registered: see the broker log)"
                )
        deadline = time.monotonic() + settings.catalog_timeout_s
        while self._catalog_msg is None:
            if time.monotonic() > deadline:
                raise SimulationError(
                    f"no catalog on {self.topics.catalog()} within {settings.catalog_timeout_s:.0f} s: "
                    "is the server running for this site?"
                )
            self.clock.run_once(may_advance=False, wait_s=0.2)
        self.catalog = _CatalogView.of(self._catalog_msg)

    def _finished(self, stop_at: dt.datetime, wall_deadline: float | None) -> bool:
        if self._stop_requested.is_set():
            self.summary.stopped_early = "stopped on request"
            return True
        if wall_deadline is not None and time.monotonic() > wall_deadline:
            self.summary.stopped_early = "wall-clock limit reached"
            return True
        if self._pending and time.monotonic() - self._last_reply > self.settings.stall_timeout_s:
            self.summary.stopped_early = f"no reply for {self.settings.stall_timeout_s:.0f} s"
            return True
        if self.settings.speed is not None and self.clock.now() >= stop_at:
            return True
        nxt = self.clock.next_timer
        if self.settings.speed is None and not self._pending and nxt is not None and nxt >= stop_at:
            return True
        return nxt is None and not self._pending and self.clock.inbox.empty()

    def run(self) -> SimulationSummary:
        settings = self.settings
        started = time.monotonic()
        try:
            self._connect()
            self.clock.begin()
            self._plan_day()
            self._last_reply = time.monotonic()
            stop_at = dt.datetime.combine(self.clock.start.date(), DAY_END)
            if settings.duration is not None:
                stop_at = min(stop_at, self.clock.start + settings.duration)
            wall_deadline = None if settings.wall_timeout_s is None else started + settings.wall_timeout_s
            while not self._finished(stop_at, wall_deadline):
                self.clock.run_once(may_advance=not self._pending, wait_s=0.2)
            self.summary.simulated_to = f"{min(self.clock.now(), stop_at):%Y-%m-%d %H:%M}"
            self._drain()
        finally:
            self._stop_links()
        self.summary.simulated_from = f"{self.clock.start:%Y-%m-%d %H:%M}"
        unfinished = {TicketState.waiting, TicketState.called, TicketState.serving, TicketState.parked}
        left = sorted(number for number, state in self._tickets.items() if state in unfinished)
        self.summary.left_waiting = len(left)
        if left:
            log.info("tickets not finished when the run ended: %s", ", ".join(left[:20]))
        self.summary.wall_seconds = time.monotonic() - started
        return self.summary

    def _drain(self) -> None:
        """Stop acting; wait for the replies still due."""
        self._active = False
        self.clock.drop_timers()
        deadline = time.monotonic() + self.settings.reply_grace_s
        while self._pending and time.monotonic() < deadline:
            self.clock.run_once(may_advance=False, wait_s=0.2)
        # Late duplicates of replies already counted arrive within a moment; count them as repeats.
        settle = time.monotonic() + 0.2
        while time.monotonic() < settle:
            self.clock.run_once(may_advance=False, wait_s=0.05)
        self.summary.replies_missing = len(self._pending)
        if self._pending:
            kinds: dict[str, int] = {}
            for p in self._pending.values():
                kinds[p.kind] = kinds.get(p.kind, 0) + 1
            log.error("%d request(s) without a reply: %s", len(self._pending), kinds)

    def _stop_links(self) -> None:
        for link in self.links.values():
            try:
                link.stop()
            except Exception:
                log.exception("stopping the link of %s failed", link.device_id)
        if self._own_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)


def run_simulation(settings: SimulatorSettings) -> SimulationSummary:
    """Play one simulated day (see `Simulator`)."""
    return Simulator(settings).run()
