"""Devices as benchmarks drive them: a requester that sends durable requests through a real `MqttLink`
and times each reply from just before the request is written to the outbox to the moment paho hands
over the reply."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.harness import BenchOffice, InlineHandoff
from common.contract import DecodeFailure, Message, Reply
from common.link import Inbound, MqttLink
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


def run_threads(count: int, target: Callable[[int], None]) -> None:
    """Run `target(i)` for i in range(count) on threads and wait for all (re-raising the first error)."""
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # reported to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
