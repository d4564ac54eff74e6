"""A small stand-in for the office server, speaking the contract through the real broker: it answers
counter commands, and publishes retained counter and board state and the board's calls, as
docs/mqtt.md says the server does. Only what the display tests need: call next and recall."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import deque

from common.contract import (
    BoardCall,
    BoardRecentCall,
    BoardServing,
    BoardState,
    BoardWaiting,
    CounterCommand,
    CounterRejected,
    CounterResult,
    CounterState,
    TicketView,
    rejection_text,
)
from common.link import Inbound, MqttLink
from common.vocabulary import CounterAction, DeviceRole, TicketState

SERVICE = ("elderly-allowance", "A", "ลงทะเบียนรับเงินเบี้ยยังชีพผู้สูงอายุ", "Elderly allowance registration")


class FakeServer:
    """Counters `c1..cN` serve one service; `waiting` holds its tickets in order."""

    def __init__(self, host: str, port: int, password: str, site: str, *, counters: int = 2) -> None:
        self.link = MqttLink(
            host=host,
            port=port,
            username="server",
            password=password,
            site=site,
            device_id="server",
            role=DeviceRole.server,
            client_id=f"fake-server-{uuid.uuid4().hex[:8]}",
        )
        self.topics = self.link.topics
        self.counters = [f"c{i}" for i in range(1, counters + 1)]
        self.waiting: deque[str] = deque()
        self.current: dict[str, TicketView] = {}
        self.recent: list[BoardRecentCall] = []
        self.commands: list[CounterCommand] = []
        self.lock = threading.Lock()
        self.link.subscribe(f"{self.topics.base}/counter/+/command", self._on_command)

    def start(self) -> None:
        self.link.start()
        if not self.link.wait_connected(10):
            raise RuntimeError("the fake server could not connect to the test broker")
        self.publish_state()

    def stop(self) -> None:
        self.link.stop()

    # ------------------------------------------------------------------------------------ publishing

    def counter_state(self, counter: str) -> CounterState:
        n = int(counter[1:])
        return CounterState(
            counter=counter,
            number=n,
            name_th=f"ช่องบริการ {n}",
            name_en=f"Counter {n}",
            open=True,
            current=self.current.get(counter),
            waiting=len(self.waiting),
        )

    def board_state(self) -> BoardState:
        code, prefix, th, en = SERVICE
        serving = []
        for counter in self.counters:
            n = int(counter[1:])
            ticket = self.current.get(counter)
            serving.append(
                BoardServing(
                    counter=counter,
                    counter_number=n,
                    counter_name_th=f"ช่องบริการ {n}",
                    counter_name_en=f"Counter {n}",
                    number=ticket.number if ticket else None,
                    service=ticket.service if ticket else None,
                    state=ticket.state if ticket else None,
                )
            )
        return BoardState(
            business_date=dt.date.today(),
            serving=serving,
            recent_calls=list(reversed(self.recent))[:50],
            waiting=[
                BoardWaiting(service=code, prefix=prefix, name_th=th, name_en=en, waiting=len(self.waiting))
            ],
        )

    def publish_state(self) -> None:
        with self.lock:
            for counter in self.counters:
                self.link.publish(
                    self.topics.counter_state(counter), self.counter_state(counter), retain=True
                )
            self.link.publish(self.topics.board_state(), self.board_state(), retain=True)

    # ------------------------------------------------------------------------------------ commands

    def _on_command(self, inbound: Inbound) -> None:
        counter = inbound.topic.split("/")[3]
        command = inbound.decode(expect=(CounterCommand,))
        if not isinstance(command, CounterCommand):
            return
        with self.lock:
            self.commands.append(command)
            reply, call = self._apply(counter, command)
        self.link.publish(self.topics.counter_reply(counter), reply)
        if isinstance(reply, CounterResult):
            self.publish_state()
        if call is not None:
            self.link.publish(self.topics.board_call(), call)

    def _apply(
        self, counter: str, command: CounterCommand
    ) -> tuple[CounterResult | CounterRejected, BoardCall | None]:
        n = int(counter[1:])
        code = SERVICE[0]
        if command.action is CounterAction.call_next:
            if not self.waiting:
                th, en = rejection_text("queue_empty")
                return CounterRejected(
                    request_id=command.id, code="queue_empty", message_th=th, message_en=en
                ), None
            number = self.waiting.popleft()
            ticket = TicketView(
                ticket_id=number, number=number, service=code, state=TicketState.called, calls=1
            )
        elif command.action is CounterAction.recall and counter in self.current:
            old = self.current[counter]
            ticket = old.model_copy(update={"calls": old.calls + 1})
        else:
            th, en = rejection_text("invalid_transition")
            return CounterRejected(
                request_id=command.id, code="invalid_transition", message_th=th, message_en=en
            ), None
        self.current[counter] = ticket
        now = dt.datetime.now(dt.UTC)
        self.recent.append(
            BoardRecentCall(number=ticket.number, counter=counter, counter_number=n, service=code, at=now)
        )
        call = BoardCall(
            number=ticket.number,
            counter=counter,
            counter_number=n,
            counter_name_th=f"ช่องบริการ {n}",
            counter_name_en=f"Counter {n}",
            service=code,
            repeat=ticket.calls - 1,
        )
        result = CounterResult(
            request_id=command.id,
            action=command.action,
            ticket=ticket,
            message_th=f"เรียก {ticket.number}",
            message_en=f"Called {ticket.number}",
        )
        return result, call
