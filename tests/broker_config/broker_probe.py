"""A paho-mqtt 2.x MQTT 5 client for broker tests that waits for each acknowledgement and records every
message it receives, so a test can ask "did the broker accept this?" and "did that arrive?"."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

WAIT_S = 10.0
"""How long to wait for an acknowledgement or a message before calling it missing; generous because a
loaded CI machine is slow, and no test waits for it unless something is wrong."""

NOT_AUTHORIZED = 135


def unique(label: str = "m") -> bytes:
    """A payload no other test sends."""
    return f"{label}-{uuid.uuid4().hex}".encode()


class Probe:
    """One MQTT 5 connection; every call waits for the broker's answer."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        *,
        client_id: str | None = None,
        clean_start: bool = True,
        session_expiry_s: int | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.clean_start = clean_start
        self.session_expiry_s = session_expiry_s
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"probe-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if ca_file is not None:
            self.client.tls_set(ca_certs=str(ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self._cond = threading.Condition()
        self._connack: ReasonCode | None = None
        self._acks: dict[int, list[int]] = {}
        self.received: list[tuple[str, bytes]] = []
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_ack_list
        self.client.on_unsubscribe = self._on_ack_list
        self.client.on_message = self._on_message
        self.client.suppress_exceptions = True

    # ------------------------------------------------------------------------------------- callbacks

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        with self._cond:
            self._connack = reason
            self._cond.notify_all()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        with self._cond:
            self._acks[mid] = [reason.value]
            self._cond.notify_all()

    def _on_ack_list(self, _c: Any, _u: Any, mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        with self._cond:
            self._acks[mid] = [r.value for r in reasons]
            self._cond.notify_all()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.received.append((msg.topic, bytes(msg.payload)))
            self._cond.notify_all()

    # ----------------------------------------------------------------------------------------- calls

    def connect(self) -> int:
        """Connect and wait for CONNACK; returns its reason code (0 accepted). A refused probe stops
        its network loop so paho does not keep retrying."""
        properties = None
        if self.session_expiry_s is not None:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = self.session_expiry_s
        self.client.connect(
            self.host, self.port, keepalive=30, clean_start=self.clean_start, properties=properties
        )
        sock = self.client.socket()
        if isinstance(sock, socket.socket):
            # paho leaves Nagle on: a packet sent right after an ack would wait ~40 ms for the peer's
            # delayed ACK, which only makes the matrix slow.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Run the network loop here until CONNACK: a refused client then has no thread to stop (paho's
        # thread would sit in its reconnect back-off for a second).
        deadline = time.monotonic() + WAIT_S
        while self._connack is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"no CONNACK from {self.host}:{self.port}")
            self.client.loop(timeout=0.05)
        code = self._connack.value
        if code == 0:
            self.client.loop_start()
        return code

    def _wait_ack(self, mid: int) -> list[int]:
        with self._cond:
            if not self._cond.wait_for(lambda: mid in self._acks, WAIT_S):
                raise AssertionError(f"no acknowledgement for message id {mid}")
            return self._acks.pop(mid)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int:
        """Publish at QoS 1 and return the PUBACK reason code (135: not authorised)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        return self._wait_ack(info.mid)[0]

    def subscribe(self, topic_filter: str) -> list[int]:
        """Subscribe at QoS 1 and return the SUBACK reason codes (1: granted QoS 1)."""
        _rc, mid = self.client.subscribe(topic_filter, qos=1)
        assert mid is not None
        return self._wait_ack(mid)

    def unsubscribe(self, topic_filter: str) -> list[int]:
        _rc, mid = self.client.unsubscribe(topic_filter)
        assert mid is not None
        return self._wait_ack(mid)

    def wait_for(self, payload: bytes, timeout: float = WAIT_S) -> bool:
        """True once a message with this payload has arrived."""
        with self._cond:
            return self._cond.wait_for(lambda: self.has(payload), timeout)

    def has(self, payload: bytes) -> bool:
        return any(p == payload for _t, p in self.received)

    def close(self) -> None:
        self.client.disconnect()
        if self._connack is not None and self._connack.value == 0:
            self.client.loop_stop()
