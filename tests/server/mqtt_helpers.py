"""Plain paho clients that play kiosks, counters and displays against the real test broker."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from common.contract import Message, decode


class Device:
    """One device's MQTT connection: publishes what a test says, keeps everything it receives."""

    def __init__(self, broker: Any, device_id: str, subscriptions: list[str]) -> None:
        self.device_id = device_id
        self.received: list[tuple[str, bytes, bool]] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self._pending = len(subscriptions)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"test-{device_id}-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.username_pw_set(*broker.credentials(device_id))
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        for topic in subscriptions:
            self.client.subscribe(topic, qos=1)
        if subscriptions and not self._subscribed.wait(10):
            raise AssertionError(f"{device_id} could not subscribe")

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        self._pending -= 1
        if self._pending <= 0:
            self._subscribed.set()

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.received.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._changed.notify_all()

    def send(self, topic: str, payload: bytes | Message) -> None:
        data = payload.encode() if isinstance(payload, Message) else payload
        info = self.client.publish(topic, data, qos=1)
        info.wait_for_publish(10)

    def on(self, topic: str) -> list[bytes]:
        with self._changed:
            return [p for t, p, _ in self.received if t == topic]

    def messages(self, topic: str) -> list[Any]:
        return [decode(p) for p in self.on(topic)]

    def wait(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until `predicate` holds (re-checked on every message); fail after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.device_id}: condition not met within {timeout} s")
                self._changed.wait(min(left, 0.5))

    def clear(self) -> None:
        with self._changed:
            self.received.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
