"""Devices as benchmarks drive them: a requester that sends durable requests through a real `MqttLink`
and times each reply from just before the request is written to the outbox to the moment paho hands
over the reply; and a fleet of such devices whose links one thread runs (`Fleet`)."""

from __future__ import annotations

import functools
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.harness import BenchOffice, InlineHandoff
from common.contract import DecodeFailure, Message, Reply
from common.link import Inbound, LinkLoop, MqttLink
from common.vocabulary import DeviceRole


@dataclass(slots=True)
class Answer:
    reply: Reply
    latency_ms: float


@dataclass
class Requester:
    """One device sending requests, with at most `window` awaiting their replies."""

    office: BenchOffice
    device: str
    role: DeviceRole
    reply_topic: str
    window: int = 1
    answers: list[Answer] = field(default_factory=list)
    repeated: int = 0
    unmatched: int = 0
    _sent: dict[str, float] = field(default_factory=dict)
    _waiters: dict[str, threading.Event] = field(default_factory=dict)
    _results: dict[str, Answer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _handoff: InlineHandoff = field(default_factory=InlineHandoff)
    _slots: threading.Semaphore = field(init=False)
    link: MqttLink = field(init=False)

    def __post_init__(self) -> None:
        self._slots = threading.Semaphore(self.window)
        self.link = self.office.link(self.device, self.role, handoff=self._handoff, start=False)
        self.link.subscribe(self.reply_topic, self._on_reply)
        self.link.start()
        if not self.link.wait_connected(15):
            raise RuntimeError(f"{self.device} did not connect")

    def _on_reply(self, inbound: Inbound) -> None:
        arrived = self._handoff.arrived_at
        reply = inbound.decode()
        if isinstance(reply, DecodeFailure) or not isinstance(reply, Reply) or reply.request_id is None:
            self.unmatched += 1
            return
        key = str(reply.request_id)
        with self._lock:
            sent = self._sent.pop(key, None)
            if sent is None:
                if key in self._results:
                    self.repeated += 1
                else:
                    self.unmatched += 1
                return
            answer = Answer(reply, (arrived - sent) * 1000.0)
            self._results[key] = answer
            self.answers.append(answer)
            waiter = self._waiters.pop(key, None)
        self._slots.release()
        if waiter is not None:
            waiter.set()

    def send(
        self, topic: str, message: Message, *, wait: bool = False, timeout: float = 30.0
    ) -> Answer | None:
        """Send once a window slot is free; with `wait`, return its answer (None after `timeout`)."""
        if not self._slots.acquire(timeout=timeout):
            raise TimeoutError(f"{self.device}: {self.window} request(s) unanswered for {timeout:.0f} s")
        key = str(message.id)
        event = threading.Event() if wait else None
        with self._lock:
            self._sent[key] = time.perf_counter()
            if event is not None:
                self._waiters[key] = event
        self.link.request(topic, message)
        if event is None:
            return None
        if not event.wait(timeout):
            return None
        with self._lock:
            return self._results.get(key)

    @property
    def outstanding(self) -> int:
        with self._lock:
            return len(self._sent)

    def drain(self, timeout: float = 30.0) -> int:
        """Wait for the replies still due; the number still missing after `timeout`."""
        deadline = time.monotonic() + timeout
        while self.outstanding and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.outstanding


class _TurnLoop(LinkLoop):
    """A `LinkLoop` that runs `after` at the end of every turn."""

    def __init__(self, links: list[MqttLink], after: Callable[[], None]) -> None:
        super().__init__(links)
        self._after = after

    def run_once(self, timeout: float) -> None:
        super().run_once(timeout)
        self._after()


NextRequest = Callable[[int, int], tuple[str, Message]]
"""(device index, its n-th request of the run) -> (topic, request)."""


class _TurnHandoff:
    """A device's hand-off in a fleet: notes when paho handed the message over and queues the handler
    for the end of the loop's turn (`Fleet._run_handed`)."""

    def __init__(self, queue: list[tuple[_TurnHandoff, float, Callable[[], None]]]) -> None:
        self.arrived_at = 0.0
        self._queue = queue

    def __call__(self, task: Callable[[], None]) -> None:
        self._queue.append((self, time.perf_counter(), task))


@dataclass(slots=True)
class _Member:
    link: MqttLink
    handoff: _TurnHandoff
    sent: dict[str, float] = field(default_factory=dict)
    """Event id -> when the request was made (perf_counter), until its reply comes."""
    made: int = 0
    due: float = 0.0
    received: int = 0
    """Messages on the reply topic (first replies and repeats alike)."""
    settled: int = 0
    """Replies that settled a request of the outbox (the first reply to each)."""
    answers: list[Answer] = field(default_factory=list)


class Fleet:
    """Devices of one kind (the office's kiosks, say) as a load generator: each a real `MqttLink` with its
    outbox (on tmpfs, see `BenchOffice.link`), all run by one `LinkLoop` on the thread that calls `run`.

    In an office every kiosk runs its own link on its own CPU. Ten links with their paho threads in one
    Python process instead share one GIL, and each reply waits for the others' threads: what that
    measures is the load generator (a probe of bare paho clients: 1.8 ms median round trip from one
    thread, 6.6 ms from ten threads, same broker and responder). From one thread, a reply is taken and
    the device's next request made in the same turn, with nothing to wait for but the CPU.

    Within a turn, every reply that came is read and timed first, and only then are the devices' next
    requests made (`_TurnHandoff`). Made at once, each request (its outbox commit, its encoding and its
    publish) was counted in the round trip of every reply read after it in that turn, although in an
    office each kiosk makes its own on its own CPU."""

    def __init__(
        self, office: BenchOffice, names: list[str], role: DeviceRole, reply_topic: Callable[[str], str]
    ):
        self.members: list[_Member] = []
        self._next: NextRequest | None = None
        self._running = False
        self._interval_s = 0.0
        self._handed: list[tuple[_TurnHandoff, float, Callable[[], None]]] = []
        for name in names:
            handoff = _TurnHandoff(self._handed)
            link = office.link(name, role, handoff=handoff, start=False)
            member = _Member(link, handoff)
            link.subscribe(reply_topic(name), functools.partial(self._count, member))
            link.on_reply(functools.partial(self._on_reply, len(self.members)))
            self.members.append(member)
        self.loop = _TurnLoop([m.link for m in self.members], self._run_handed)
        for member in self.members:
            member.link.start_driven()
        if not self.loop.run_until(lambda: all(m.link.subscribed for m in self.members), 15):
            raise RuntimeError("the fleet's links did not all connect and subscribe")

    def _run_handed(self) -> None:
        """Run what the turn's reads handed over, in order of arrival."""
        while self._handed:
            handed, self._handed[:] = list(self._handed), []
            for handoff, arrived_at, task in handed:
                handoff.arrived_at = arrived_at
                task()

    @staticmethod
    def _count(member: _Member, _inbound: Inbound) -> None:
        member.received += 1

    def _on_reply(self, index: int, reply: Reply) -> None:
        member = self.members[index]
        member.settled += 1
        sent = member.sent.pop(str(reply.request_id), None)
        if sent is None:  # a request of an earlier run, answered late
            return
        member.answers.append(Answer(reply, (member.handoff.arrived_at - sent) * 1000.0))
        if self._running and not self._interval_s:
            self._make(index)

    def _make(self, index: int) -> None:
        assert self._next is not None
        member = self.members[index]
        topic, message = self._next(index, member.made)
        member.made += 1
        member.sent[str(message.id)] = time.perf_counter()
        member.link.request(topic, message)

    def run(
        self,
        next_request: NextRequest,
        *,
        devices: int,
        seconds: float,
        window: int = 1,
        interval_s: float = 0.0,
    ) -> tuple[list[Answer], float]:
        """The first `devices` devices each keep `window` requests awaiting replies for `seconds` (a
        closed loop: the next request as soon as a reply comes), or with `interval_s` make one every
        `interval_s` (staggered); then wait for the replies still due. (answers, seconds taken)."""
        active = self.members[:devices]
        for member in active:
            member.answers.clear()
            member.made = 0
        self._next, self._interval_s = next_request, interval_s
        # The load generator keeps every answer, so its heap grows all run long, and its collector's
        # full passes over it (up to 96 ms each, several a run, and one as the last replies came in)
        # were counted as round-trip time: no kiosk keeps such a heap. It collects before the timed
        # part and after the last reply instead.
        gc.collect()
        started = time.perf_counter()
        for i, member in enumerate(active):
            member.due = started + interval_s * i / devices
        self._running = True
        deadline = started + seconds
        gc.disable()
        try:
            if not interval_s:
                for i in range(devices):
                    for _ in range(window):
                        self._make(i)
            while (now := time.perf_counter()) < deadline:
                if interval_s:
                    for i, member in enumerate(active):
                        if member.due <= now and not member.sent:
                            self._make(i)
                            member.due += interval_s
                    # A device waiting for its reply is woken by it, not by the clock.
                    wake = min([m.due for m in active if not m.sent] + [deadline])
                    self.loop.run_once(max(0.0, wake - time.perf_counter()))
                else:
                    self.loop.run_once(deadline - now)
            self._running = False
            elapsed = time.perf_counter() - started
            self.drain(10)
        finally:
            self._running = False
            gc.enable()
        return [a for m in active for a in m.answers], elapsed

    def drain(self, timeout: float) -> int:
        """Turn until every request made has its reply, or `timeout`; the number still missing."""
        self.loop.run_until(lambda: not any(m.sent for m in self.members), timeout)
        return sum(len(m.sent) for m in self.members)

    @property
    def repeated(self) -> int:
        """Replies that came again for a request already answered (a resend answered twice)."""
        return sum(m.received - m.settled for m in self.members)

    def close(self) -> None:
        """Close the loop (the links are the office's: `BenchOffice.stop_links`)."""
        self.loop.close()
