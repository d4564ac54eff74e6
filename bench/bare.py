"""Kiosks that cost little: each a bare MQTT 5 client on a plain socket, written for this benchmark only:
no paho, no outbox, no pydantic on the way back. All of them run from one thread and one `select`.

In an office, each kiosk runs its own link on its own CPU, and the server has its machine's cores to
itself and its broker. On the benchmark's two cores the ten kiosks' real links (`common.link.MqttLink`)
take about as much CPU per ticket as the server does, so a closed loop of real links measures the
server and its own load generator together. These kiosks take a fifth or less of that CPU, so the
ticket round trip's target is measured with them: the server's and the broker's round trip with ten
kiosks on the two cores. They send what the benchmark's kiosk links send (the contract's
`TicketRequest` for a service, encoded by the contract, published at QoS 1 with no properties), for
the services in turn as those links ask for them.

Only what a closed loop of ticket requests needs: connect with a password, subscribe to the reply
topic, publish at QoS 1, acknowledge the replies. Anything unexpected (a refused connection, a refused
subscription, a closed socket, a reply that is not a ticket, such as the server's refusal once a
service's numbers for the day run out) raises."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.harness import BenchOffice
from broker_config.control import mqtt_string, remaining_length
from common.contract import TicketRequest
from common.topics import Topics

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK, DISCONNECT = 1, 2, 3, 4, 8, 9, 14
KEEPALIVE_S = 60
CONNECT_TIMEOUT_S = 10.0


class BareProtocolError(RuntimeError):
    """The broker said or did something this closed loop does not expect."""


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + remaining_length(len(body)) + body


def _read_varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """(value, position after it), or None when `data` ends inside it."""
    value, shift = 0, 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 21:
            raise BareProtocolError("a packet length longer than MQTT allows")
    return None


@dataclass
class BareKiosk:
    """One kiosk's connection and its request awaiting a reply."""

    name: str
    sock: socket.socket
    request_topic: bytes
    services: tuple[str, ...]
    """The services this kiosk asks for in turn (a fleet's kiosks start at different ones)."""
    offset: int = 0
    made: int = 0
    buffer: bytes = b""
    packet_id: int = 0
    sent: dict[str, float] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)

    def packets(self) -> list[tuple[int, bytes]]:
        """The whole packets in the buffer: (first byte, body)."""
        out = []
        while len(self.buffer) >= 2:
            length = _read_varint(self.buffer, 1)
            if length is None or len(self.buffer) < length[1] + length[0]:
                break
            size, start = length
            out.append((self.buffer[0], self.buffer[start : start + size]))
            self.buffer = self.buffer[start + size :]
        return out

    def read(self, *, wait: bool) -> list[tuple[int, bytes]]:
        """Read once: after a `select` found the socket readable, or with `wait` up to
        CONNECT_TIMEOUT_S for something to come."""
        if wait:
            self.sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            data = self.sock.recv(65536)
        finally:
            if wait:
                self.sock.settimeout(None)
        if not data:
            raise BareProtocolError(f"{self.name}: the broker closed the connection")
        self.buffer += data
        return self.packets()

    def request(self) -> None:
        message = TicketRequest(service=self.services[(self.offset + self.made) % len(self.services)])
        self.made += 1
        event_id, body = str(message.id), message.encode()
        self.packet_id = self.packet_id % 0xFFFF + 1
        header = self.request_topic + struct.pack("!H", self.packet_id) + b"\x00"
        self.sent[event_id] = time.perf_counter()
        self.sock.sendall(_packet(PUBLISH << 4 | 0x02, header + body))

    def take(self, first_byte: int, body: bytes, arrived: float) -> bool:
        """Handle one packet from the broker; True when it answered this kiosk's request."""
        kind = first_byte >> 4
        if kind == PUBACK:
            if len(body) > 2 and body[2] >= 0x80:
                raise BareProtocolError(f"{self.name}: the broker refused a request (reason {body[2]:#x})")
            return False
        if kind == DISCONNECT:
            raise BareProtocolError(f"{self.name}: the broker disconnected it")
        if kind != PUBLISH:
            return False
        (topic_length,) = struct.unpack_from("!H", body)
        pos = 2 + topic_length
        if (first_byte >> 1) & 0x03:
            self.sock.sendall(_packet(PUBACK << 4, body[pos : pos + 2]))
            pos += 2
        properties = _read_varint(body, pos)
        if properties is None:
            raise BareProtocolError(f"{self.name}: a publish cut short")
        reply = json.loads(body[properties[1] + properties[0] :])
        if reply.get("type") == "ticket.rejected":
            raise BareProtocolError(f"{self.name}: the server refused a ticket ({reply.get('code')})")
        if reply.get("type") != "ticket.issued":
            raise BareProtocolError(f"{self.name}: the server answered {reply!r}")
        sent = self.sent.pop(str(reply.get("request_id")), None)
        if sent is None:
            return False
        self.latencies_ms.append((arrived - sent) * 1000.0)
        self.numbers.append(str(reply["number"]))
        return True


def connect(office: BenchOffice, name: str, services: Sequence[str], offset: int = 0) -> BareKiosk:
    """A kiosk of `office`, connected with its password and subscribed to its reply topic; it asks for
    `services` in turn, starting at `offset`."""
    topics = Topics(office.site)
    sock = socket.create_connection((office.host, office.port), timeout=CONNECT_TIMEOUT_S)
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    kiosk = BareKiosk(name, sock, mqtt_string(topics.ticket_request(name)), tuple(services), offset)
    flags = 0x80 | 0x40 | 0x02  # user name, password, clean start
    sock.sendall(
        _packet(
            CONNECT << 4,
            mqtt_string("MQTT")
            + bytes([5, flags])
            + struct.pack("!H", KEEPALIVE_S)
            + b"\x00"
            + mqtt_string(f"khiu-{office.site}-{name}-bare")
            + mqtt_string(name)
            + mqtt_string(office.passwords[name]),
        )
    )
    _expect(kiosk, CONNACK, lambda body: body[1], "connection")
    subscribe = struct.pack("!H", 1) + b"\x00" + mqtt_string(topics.ticket_reply(name)) + b"\x01"
    sock.sendall(_packet(SUBSCRIBE << 4 | 0x02, subscribe))
    _expect(kiosk, SUBACK, _suback_reason, "subscription")
    return kiosk


def _suback_reason(body: bytes) -> int:
    properties = _read_varint(body, 2)
    if properties is None or len(body) <= properties[1] + properties[0]:
        raise BareProtocolError("a subscription acknowledgement cut short")
    return body[properties[1] + properties[0]]


def _expect(kiosk: BareKiosk, kind: int, reason: Callable[[bytes], int], what: str) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while time.monotonic() < deadline:
        for first_byte, body in kiosk.read(wait=True):
            if first_byte >> 4 == kind:
                code = reason(body)
                if code >= 0x80:
                    raise BareProtocolError(f"{kiosk.name}: the broker refused the {what} ({code:#x})")
                return
    raise BareProtocolError(f"{kiosk.name}: no answer to the {what}")


def _turn(by_socket: dict[socket.socket, BareKiosk], timeout: float) -> list[BareKiosk]:
    """Read what came within `timeout`, timing each reply on arrival; the kiosks that were answered."""
    readable, _, _ = select.select(list(by_socket), [], [], timeout)
    arrived = time.perf_counter()
    answered = []
    for sock in readable:
        kiosk = by_socket[sock]
        took = False
        for first_byte, body in kiosk.read(wait=False):
            took = kiosk.take(first_byte, body, arrived) or took
        if took:
            answered.append(kiosk)
    return answered


def closed_loop(kiosks: list[BareKiosk], seconds: float, drain_s: float = 10.0) -> float:
    """Each kiosk takes tickets one after another for `seconds` (the replies of a turn are read and
    timed before the next requests are made, as in `Fleet`); then the replies still due are awaited.
    The seconds the loop ran."""
    by_socket = {k.sock: k for k in kiosks}
    for kiosk in kiosks:
        kiosk.latencies_ms.clear()
        kiosk.request()
    started = time.perf_counter()
    deadline = started + seconds
    while (now := time.perf_counter()) < deadline:
        for kiosk in _turn(by_socket, deadline - now):
            kiosk.request()
    elapsed = time.perf_counter() - started
    drain_until = time.perf_counter() + drain_s
    while any(k.sent for k in kiosks) and (now := time.perf_counter()) < drain_until:
        _turn(by_socket, drain_until - now)
    missing = sum(len(k.sent) for k in kiosks)
    if missing:
        raise BareProtocolError(f"{missing} request(s) unanswered {drain_s:g} s after the run")
    return elapsed


def close(kiosks: list[BareKiosk]) -> None:
    for kiosk in kiosks:
        with contextlib.suppress(OSError):  # already gone: closing is all that is left
            kiosk.sock.sendall(_packet(DISCONNECT << 4, b""))
        kiosk.sock.close()
