"""The MQTT link every Khiu process uses (devices and the server): paho-mqtt 2.x over MQTT 5.

What it guarantees (DESIGN.md principles 2 to 4; REFERENCE.md "paho-mqtt 2.x"):
- a persistent session (clean_start False *and* a SessionExpiryInterval: either alone lost the backlog),
  reconnect with backoff, a retained status with a will that says offline;
- callbacks that never die: paho's loop thread stops for good on an exception in a callback while
  `is_connected()` still says True, so every callback catches and logs;
- one hand-off point to the application thread: handlers run via `handoff`, never on paho's thread;
- durable requests: `request()` writes to the outbox first, publishes, and resends after reconnects and
  restarts until a reply naming it arrives.

A link runs on paho's own network thread (`start`), as devices do, or on a thread of the caller's
(`start_driven` and a `LinkLoop`), as the server's sequencer does: then a request goes from the socket
into a batch, and its reply from the batch onto the socket, without changing threads.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from common.bootclock import boot_mark
from common.contract import DecodeFailure, DeviceStatus, Message, Reply, ServerStatus, decode
from common.outbox import Outbox
from common.paho_tables import share_property_tables
from common.topics import Topics
from common.vocabulary import DeviceRole

log = logging.getLogger(__name__)

share_property_tables()  # before any client exists: paho's per-packet table rebuild (common/paho_tables.py)

SESSION_EXPIRY_S = 7 * 24 * 3600
"""The broker keeps a device's subscriptions and queued QoS 1 messages this long while it is away: a
kiosk switched off over a long holiday weekend still gets its replies."""

RESEND_INTERVAL_S = 5.0
"""An unanswered request is published again after this long. The server answers a resend from its
stored reply, so resending early costs a little traffic, never a double ticket."""

MAX_QUEUED_OUTGOING = 10_000
"""paho's in-memory queue while disconnected; the outbox is the real store, this only bounds RAM."""

HANDOFF_QUEUE_SIZE = 10_000
"""Inbound messages waiting for the application thread. When full, paho's thread waits, which delays
the PUBACK and so pushes back on the broker instead of dropping."""

MATCH_CACHE_SIZE = 4096
"""Topics whose handlers are remembered (bounds memory should a peer invent topics)."""

RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 30.0
"""A driven link tries to connect again after this long, doubling up to the maximum: what paho's own
thread does (`reconnect_delay_set` below)."""

SHORT_LIVED_S = 5.0
SHORT_LIVED_SAID_AFTER = 3
"""A connection the broker closes within `SHORT_LIVED_S` of making it, this many times in a row, is said
in the log as an error: the usual cause is another machine connecting under the same client id (an SD
card or a settings file copied to a second device), which the broker answers by closing the older one."""

DRIVEN_CONNECT_TIMEOUT_S = 2.0
"""How long a driven link's connect may hold its loop's thread when the broker does not answer at all
(the server's sequencer runs its connections, and the web console's work waits meanwhile)."""

READ_BURST = 256
"""Packets a `LinkLoop` reads from one connection in one turn at most: what is left waits in the socket
(and, behind it, in the broker) until the caller has handled what was read."""

Task = Callable[[], None]
Handoff = Callable[[Task], None]


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message as it arrived: handlers decode it themselves (the server counts what it cannot read)."""

    topic: str
    payload: bytes
    retain: bool

    def decode(self, *, expect: tuple[type[Message], ...] = ()) -> Message | DecodeFailure:
        return decode(self.payload, expect=expect)


Handler = Callable[[Inbound], None]
ReplyHandler = Callable[[Reply], None]


class Dispatcher:
    """The default application thread: runs handed-off tasks one at a time, in arrival order."""

    def __init__(self, name: str) -> None:
        self._tasks: queue.Queue[Task | None] = queue.Queue(maxsize=HANDOFF_QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def __call__(self, task: Task) -> None:
        self._tasks.put(task)

    def stop(self) -> None:
        self._tasks.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            try:
                task()
            except Exception:
                log.exception("handler failed")


class MqttLink:
    """One MQTT connection of one process. Thread-safe to call from any thread."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        site: str,
        device_id: str,
        role: DeviceRole,
        tls_ca: Path | None = None,
        outbox_path: Path | None = None,
        handoff: Handoff | None = None,
        version: str = "",
        keepalive: int = 20,
        resend_interval_s: float = RESEND_INTERVAL_S,
        client_id: str | None = None,
        presence: bool = True,
    ) -> None:
        self.host, self.port = host, port
        self.presence = presence
        """False for a second connection of a process that already has one saying its status (the
        server's request lanes): no will, no retained status of its own."""
        self.topics = Topics(site)
        self.device_id = device_id
        self.role = role
        self.version = version
        self.keepalive = keepalive
        self.resend_interval_s = resend_interval_s
        self.outbox = Outbox(outbox_path) if outbox_path is not None else None
        self._own_dispatcher = Dispatcher(f"mqtt-app-{device_id}") if handoff is None else None
        self._handoff: Handoff = handoff or self._own_dispatcher  # type: ignore[assignment]
        self._handlers: list[tuple[str, str, Handler]] = []
        """(filter as subscribed, filter a topic is matched against, handler): the two differ for a
        shared subscription, `$share/{group}/{filter}`."""
        self._unsubscribe_on_connect: list[str] = []
        self._matched: dict[str, list[Handler]] = {}
        """The handlers of each topic seen: a device has a handful of topics, the server one or two per
        device, and paho's `topic_matches_sub` builds a matcher tree on every call."""
        self._reply_handlers: list[ReplyHandler] = []
        self._connection_handlers: list[Callable[[bool], None]] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._awaited_subacks: set[int] = set()
        """SUBSCRIBEs of this connection not yet acknowledged (touched on paho's thread only)."""
        self._send_lock = threading.Lock()
        self._sent_this_connection: set[str] = set()
        """Requests published since the last connect: a request made just as the connection comes up
        is sent by `request` or by the on-connect resend, whichever comes first, never by both."""
        self._stopping = threading.Event()
        self._resender: threading.Thread | None = None
        self.instance = uuid.uuid4().hex
        """This link's run, named in a server's statuses (`ServerStatus.instance`)."""
        self._status: Message = self._default_status(online=True)
        self._driven = False
        """Run by a `LinkLoop` on the caller's thread instead of paho's thread."""
        self._connect_at = 0.0
        self._connect_delay = RECONNECT_MIN_S
        self._up_since: float | None = None
        """Monotonic time of the current connection's CONNACK (paho's thread)."""
        self._short_lived = 0
        """Connections in a row the broker closed within `SHORT_LIVED_S`."""
        self._resend_at = 0.0

        self.client_id = client_id or f"khiu-{site}-{device_id}"
        """The broker keeps this session (its subscriptions and queued messages) across restarts."""
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
        )
        self.client.username_pw_set(username, password)
        if tls_ca is not None:
            self.client.tls_set(ca_certs=str(tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.max_queued_messages_set(MAX_QUEUED_OUTGOING)  # must precede connect
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        if presence:
            self.client.will_set(
                self.status_topic, self._default_status(online=False).encode(), qos=1, retain=True
            )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe

    # ------------------------------------------------------------------------------------------ public

    @property
    def status_topic(self) -> str:
        if self.role is DeviceRole.server:
            return self.topics.server_status()
        return self.topics.device_status(self.device_id)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def subscribed(self) -> bool:
        """Connected, and the subscriptions made at connect acknowledged (see `wait_subscribed`)."""
        return self._subscribed.is_set()

    def wait_subscribed(self, timeout: float) -> bool:
        """Connected, and the broker has acknowledged the subscriptions made at connect. A new session
        is connected before its subscriptions take: a message published in between finds no subscriber
        in it (a persistent session keeps its subscriptions and has no such gap)."""
        return self._subscribed.wait(timeout)

    def subscribe(self, topic_filter: str, handler: Handler, *, share_group: str | None = None) -> None:
        """Call `handler` (on the application thread) for every message matching `topic_filter`.

        With `share_group`, the subscription is MQTT 5's shared `$share/{group}/{filter}`: the broker
        hands each message to one of the group's sessions (the server's request lanes)."""
        subscribed = f"$share/{share_group}/{topic_filter}" if share_group else topic_filter
        with self._lock:
            self._handlers.append((subscribed, topic_filter, handler))
            self._matched.clear()
        if self.connected:
            self.client.subscribe(subscribed, qos=1)

    def unsubscribe_on_connect(self, topic_filters: list[str]) -> None:
        """Drop these filters from the persistent session at every connect: a session an earlier
        version subscribed keeps them otherwise, and they would deliver a second copy."""
        with self._lock:
            self._unsubscribe_on_connect = list(topic_filters)

    def on_reply(self, handler: ReplyHandler) -> None:
        """Call `handler` with each reply that settles one of our outbox requests (first reply only)."""
        self._reply_handlers.append(handler)

    def on_connection_change(self, handler: Callable[[bool], None]) -> None:
        self._connection_handlers.append(handler)

    def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        """QoS 1, not durable beyond this process (the server's replies and state: a lost reply is
        recovered by the device's resend, a lost state by the next one)."""
        self.client.publish(topic, message.encode(), qos=1, retain=retain)

    def publish_raw(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """QoS 1 of bytes as they are: a stored reply goes out byte for byte when a request is resent."""
        self.client.publish(topic, payload, qos=1, retain=retain)

    def request(self, topic: str, message: Message) -> None:
        """Durable: stored in the outbox before it is sent, resent until its reply arrives."""
        if self.outbox is None:
            raise RuntimeError("this link has no outbox: pass outbox_path to send requests")
        payload = message.encode()
        connected = self.connected
        self.outbox.add(str(message.id), topic, payload, sent=connected)
        if connected:
            self._send_pending_one(str(message.id), topic, payload, unless_sent=True, noted=True)

    def withdraw(self, event_id: str) -> bool:
        """Stop resending a request (the kiosk replaced it with an offline ticket). True if it was pending."""
        if self.outbox is None:
            return False
        return self.outbox.settle(event_id, b"")

    def set_status(self, status: Message) -> None:
        """Publish a new retained status (printer state, server reachability...)."""
        self._status = status
        if self.connected and self.presence:
            self.publish(self.status_topic, self._status_now(), retain=True)

    def republish_status(self) -> None:
        """Publish the current status again (for whoever should see it live, not only retained)."""
        self.set_status(self._status)

    def start(self) -> None:
        """Connect in the background; reconnects forever until `stop`."""
        self._connect_async()
        self.client.loop_start()
        self._resender = threading.Thread(target=self._resend_loop, name="mqtt-resend", daemon=True)
        self._resender.start()

    def start_driven(self) -> None:
        """Connect on a `LinkLoop`'s turns, with no thread of its own. Handlers then run on the loop's
        thread (pass an inline `handoff`), and only that thread may use the link until `stop`."""
        self._driven = True
        self.client.connect_timeout = DRIVEN_CONNECT_TIMEOUT_S
        self._connect_async()
        self._connect_at = 0.0  # at the loop's first turn

    def _connect_async(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client.connect_async(
            self.host, self.port, keepalive=self.keepalive, clean_start=False, properties=props
        )

    def stop(self, *, publish_offline: bool = True) -> None:
        """Say offline (retained), disconnect, stop threads. A driven link runs its own turns here, on the
        caller's thread: its loop must have stopped."""
        self._stopping.set()
        if publish_offline and self.presence and self.connected:
            info = self.client.publish(
                self.status_topic, self._default_status(online=False).encode(), qos=1, retain=True
            )
            try:
                if self._driven:
                    turns = LinkLoop([self])
                    try:
                        turns.run_until(info.is_published, timeout=2)
                    finally:
                        turns.close()
                else:
                    info.wait_for_publish(timeout=2)
                published = info.is_published()
            except (RuntimeError, ValueError):
                published = False
            if not published:
                log.warning("could not publish offline status before stopping")
        self.client.disconnect()
        if self._driven:
            self.client.loop_write()
        self.client.loop_stop()
        if self._resender is not None:
            self._resender.join(timeout=2)
        if self._own_dispatcher is not None:
            self._own_dispatcher.stop()
        if self.outbox is not None:
            self.outbox.close()

    # ------------------------------------------------------------------------------------------ driven

    def _driven_socket(self, now: float) -> Any:
        """The socket a `LinkLoop` waits on; connects first when a connect is due. None while down."""
        sock = self.client.socket()
        if sock is not None or self._stopping.is_set() or now < self._connect_at:
            return sock
        # The next attempt, should this one fail now or later (a refused login): the delay doubles until
        # a connection is accepted (`_on_connect`), as on paho's own thread.
        first_failure = self._connect_delay == RECONNECT_MIN_S
        self._connect_at = now + self._connect_delay
        self._connect_delay = min(self._connect_delay * 2, RECONNECT_MAX_S)
        try:
            self.client.reconnect()
        except (OSError, ssl.SSLError, ValueError) as exc:
            log.log(
                logging.WARNING if first_failure else logging.DEBUG,
                "cannot reach the broker at %s:%s (%s); trying again",
                self.host,
                self.port,
                exc,
            )
            return None
        return self.client.socket()

    def _read_available(self, sock: Any) -> None:
        """Read what the socket holds now, up to `READ_BURST` packets (paho reads one at a time)."""
        for _ in range(READ_BURST):
            if self.client.loop_read() != mqtt.MQTT_ERR_SUCCESS or self.client.socket() is not sock:
                return
            if not _buffered(sock) and not select.select([sock], [], [], 0)[0]:
                return

    def _resend_when_due(self, now: float) -> None:
        """The resend timer of a driven link (paho's thread and `_resend_loop` do it otherwise)."""
        if self.outbox is None or now < self._resend_at:
            return
        self._resend_at = now + self.resend_interval_s / 2
        if self.connected:
            try:
                self._resend_pending(only_stale=True)
            except Exception:
                log.exception("resending pending requests failed")

    # ------------------------------------------------------------------------------------------ internals

    def _status_now(self) -> Message:
        """The status to publish now: a device's carries its boot clock as it is sent (the server places
        the kiosk's offline tickets by it, before the outbox sends them on a new connection)."""
        status = self._status
        if isinstance(status, DeviceStatus) and status.online:
            return status.model_copy(update={"boot": boot_mark()})
        if isinstance(status, ServerStatus) and status.instance is None:
            return status.model_copy(update={"instance": self.instance})
        return status

    def _default_status(self, *, online: bool) -> Message:
        if self.role is DeviceRole.server:
            return ServerStatus(online=online, version=self.version, instance=self.instance)
        return DeviceStatus(device=self.device_id, role=self.role, online=online, version=self.version)

    def _send_pending_one(
        self, event_id: str, topic: str, payload: bytes, *, unless_sent: bool, noted: bool = False
    ) -> bool:
        """Publish one outbox request; with `unless_sent`, not when this connection already carried it
        (a resend after `resend_interval_s` is the only deliberate second copy). `noted`: the outbox
        noted this send when it took the request."""
        assert self.outbox is not None
        with self._send_lock:
            if unless_sent and event_id in self._sent_this_connection:
                return False
            self._sent_this_connection.add(event_id)
        self.client.publish(topic, payload, qos=1)
        if not noted:
            self.outbox.mark_sent(event_id)
        return True

    def _resend_pending(self, *, only_stale: bool) -> int:
        if self.outbox is None:
            return 0
        cutoff = time.time() - self.resend_interval_s if only_stale else None
        sent = 0
        for item in self.outbox.pending(sent_before=cutoff):
            if not self.connected:
                break
            sent += self._send_pending_one(
                item.event_id, item.topic, item.payload, unless_sent=not only_stale
            )
        if sent:
            log.info("resent %d pending request(s)", sent)
        return sent

    def _resend_loop(self) -> None:
        while not self._stopping.wait(self.resend_interval_s / 2):
            if self.connected:
                try:
                    self._resend_pending(only_stale=True)
                except Exception:
                    log.exception("resending pending requests failed")

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode, properties: Any
    ) -> None:
        try:
            if reason_code.is_failure:
                log.error("broker refused the connection: %s", reason_code)
                return
            self._connect_delay = RECONNECT_MIN_S
            self._up_since = time.monotonic()
            log.info(
                "connected to %s:%s as %s (session present: %s)",
                self.host,
                self.port,
                self.device_id,
                getattr(flags, "session_present", None),
            )
            self._no_delay(client)
            with self._send_lock:
                self._sent_this_connection.clear()
            with self._lock:
                filters = sorted({f for f, _, _ in self._handlers})
                stale = list(self._unsubscribe_on_connect)
            if stale:
                client.unsubscribe(stale)
            self._subscribed.clear()
            self._awaited_subacks = set()
            for topic_filter in filters:
                result, mid = client.subscribe(topic_filter, qos=1)
                if result == mqtt.MQTT_ERR_SUCCESS and mid is not None:
                    self._awaited_subacks.add(mid)
            if not self._awaited_subacks:
                self._subscribed.set()
            self._connected.set()
            if self.presence:
                client.publish(self.status_topic, self._status_now().encode(), qos=1, retain=True)
            self._resend_pending(only_stale=False)
            self._notify_connection(True)
        except Exception:
            log.exception("on_connect failed")

    @staticmethod
    def _no_delay(client: mqtt.Client) -> None:
        """paho leaves Nagle's algorithm on: a packet sent right after one is received waited ~40 ms for
        the peer's delayed ACK. Requests and replies are small and latency matters, so send at once."""
        sock = client.socket()
        if isinstance(sock, socket.socket):  # ssl.SSLSocket is one too
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                log.debug("could not set TCP_NODELAY", exc_info=True)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode, properties: Any
    ) -> None:
        try:
            self._connected.clear()
            self._subscribed.clear()
            if not self._stopping.is_set():
                log.warning("disconnected from broker: %s; reconnecting", reason_code)
                self._note_lifetime()
            self._notify_connection(False)
        except Exception:
            log.exception("on_disconnect failed")

    def _note_lifetime(self) -> None:
        """Count connections the broker closed soon after making them; say it when they repeat."""
        up, self._up_since = self._up_since, None
        if up is None:
            return
        if time.monotonic() - up >= SHORT_LIVED_S:
            self._short_lived = 0
            return
        self._short_lived += 1
        if self._short_lived == SHORT_LIVED_SAID_AFTER:
            log.error(
                "the broker closed this connection within %g s of making it, %d times in a row: is another "
                "machine connecting as %s (client id %s; a copied SD card or settings file)? The broker "
                "keeps one connection per client id. Each machine needs a device id of its own "
                "(khiu admin device add)",
                SHORT_LIVED_S,
                self._short_lived,
                self.device_id,
                self.client_id,
            )

    def _notify_connection(self, up: bool) -> None:
        for handler in list(self._connection_handlers):
            self._handoff(lambda h=handler: h(up))  # type: ignore[misc]

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_code: ReasonCode, properties: Any
    ) -> None:
        try:
            if reason_code.is_failure:
                # MQTT 5: the broker's ACL refused the publish (135 Not authorized): a setup error.
                log.error("broker refused publish mid=%s: %s", mid, reason_code)
        except Exception:
            log.exception("on_publish failed")

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: list[ReasonCode], properties: Any
    ) -> None:
        try:
            for rc in reason_codes:
                if rc.is_failure:
                    log.error("broker refused a subscription (mid=%s): %s", mid, rc)
            if mid in self._awaited_subacks:
                self._awaited_subacks.discard(mid)
                if not self._awaited_subacks:
                    self._subscribed.set()
        except Exception:
            log.exception("on_subscribe failed")

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            inbound = Inbound(msg.topic, bytes(msg.payload), bool(msg.retain))
            handlers = self._handlers_of(msg.topic)
            settled: Reply | None = None
            if self.outbox is not None and msg.topic.endswith("/reply"):
                settled = self._settle(inbound)
            if settled is not None:
                for reply_handler in self._reply_handlers:
                    self._handoff(lambda h=reply_handler, r=settled: h(r))  # type: ignore[misc]
            for handler in handlers:
                self._handoff(lambda h=handler: h(inbound))  # type: ignore[misc]
        except Exception:
            log.exception("on_message failed for topic %s", getattr(msg, "topic", "?"))

    def _handlers_of(self, topic: str) -> list[Handler]:
        with self._lock:
            handlers = self._matched.get(topic)
            if handlers is None:
                if len(self._matched) >= MATCH_CACHE_SIZE:
                    self._matched.clear()
                handlers = [h for _, f, h in self._handlers if mqtt.topic_matches_sub(f, topic)]
                self._matched[topic] = handlers
            return handlers

    def _settle(self, inbound: Inbound) -> Reply | None:
        assert self.outbox is not None
        reply = inbound.decode()
        if not isinstance(reply, Reply) or reply.request_id is None:
            return None
        with self._send_lock:  # only unanswered requests are remembered
            self._sent_this_connection.discard(str(reply.request_id))
        if self.outbox.settle(str(reply.request_id), inbound.payload):
            return reply
        return None


class LinkLoop:
    """Runs links started with `start_driven` on the thread that calls `run_once`: one `select` over their
    sockets and a wake-up socket, then paho's reads, writes and keepalive, connecting again when a
    connection is lost, and the outboxes' resends. The server's sequencer runs it between batches: a
    request read here is in the next batch, and a reply published from the batch goes onto the socket
    at once, with no thread in between and no GIL to hand over."""

    def __init__(self, links: Sequence[MqttLink]) -> None:
        self.links = list(links)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    def wake(self) -> None:
        """End the current wait in `run_once` (any thread)."""
        with contextlib.suppress(OSError):  # a wake-up is pending already, or the loop is closed
            self._wake_w.send(b"\0")

    def close(self) -> None:
        self._wake_r.close()
        self._wake_w.close()

    @contextlib.contextmanager
    def corked(self, sockets: Sequence[Any] | None = None) -> Iterator[None]:
        """Hold back what the links write (or only those of `sockets`) until the end of the block, then
        send it in as few TCP segments as the kernel can (Linux's TCP_CORK; elsewhere a no-op). Each
        packet paho writes is a send of its own, and on loopback each segment's delivery (and the
        broker's wake-up to read it) is paid by the sender: a batch's replies, or the acknowledgements
        of what one turn read, go out together instead."""
        chosen = self._sockets() if sockets is None else sockets
        corked = [sock for sock in chosen if _set_cork(sock, True)]
        try:
            yield
        finally:
            for sock in corked:
                _set_cork(sock, False)

    def _sockets(self) -> list[Any]:
        return [s for link in self.links if link._driven and (s := link.client.socket()) is not None]

    def run_once(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the network (or `wake`), then handle what came: handlers run
        here, on this thread."""
        now = time.monotonic()
        readers: list[Any] = [self._wake_r]
        writers: list[Any] = []
        by_socket: dict[Any, MqttLink] = {}
        for link in self.links:
            if not link._driven:
                continue  # not started yet
            sock = link._driven_socket(now)
            if sock is None:
                if not link._stopping.is_set():  # wake for its next connect
                    timeout = min(timeout, max(link._connect_at - now, 0.0))
                continue
            by_socket[sock] = link
            readers.append(sock)
            if link.client.want_write():
                writers.append(sock)
            if _buffered(sock):
                timeout = 0.0
        try:
            readable, writable, _ = select.select(readers, writers, [], max(timeout, 0.0))
        except (OSError, ValueError):  # a socket closed under us: the next turn sees the link down
            readable, writable = [], []
        if self._wake_r in readable:
            with contextlib.suppress(OSError):
                self._wake_r.recv(4096)
        # The acknowledgements of what this turn reads go out together (a turn that read nothing,
        # a tick, sets no socket option).
        with self.corked([sock for sock in by_socket if sock in readable or _buffered(sock)]):
            for sock, link in by_socket.items():
                try:
                    if sock in readable or _buffered(sock):
                        link._read_available(sock)
                    if sock in writable or link.client.want_write():
                        link.client.loop_write()
                    link.client.loop_misc()
                    link._resend_when_due(now)
                except Exception:  # paho's own (a TLS error, say): this connection starts again
                    log.exception("the connection of %s failed; connecting again", link.client_id)
                    link.client.disconnect()

    def run_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Turn until `done()` or `timeout` seconds; True when done."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.run_once(min(left, 0.05))
        return True


_TCP_CORK: int | None = getattr(socket, "TCP_CORK", None)


def _set_cork(sock: Any, on: bool) -> bool:
    """TCP_CORK on or off (off sends what it held); False where it cannot be set."""
    if _TCP_CORK is None:
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, _TCP_CORK, 1 if on else 0)
    except OSError:  # closed under us, or not TCP: nothing to hold back
        return False
    return True


def _buffered(sock: Any) -> bool:
    """Bytes a TLS socket has decrypted already: `select` does not see them."""
    pending = getattr(sock, "pending", None)
    return bool(pending()) if pending is not None else False


def forget_sessions(
    *, host: str, port: int, username: str, password: str, client_ids: list[str], tls_ca: Path | None = None
) -> bool:
    """End the broker's persistent sessions of these client ids: connect each with a clean start and
    no expiry, then disconnect. A session nobody resumes keeps its subscriptions for a week, and as a
    member of a shared subscription it keeps taking its share of the messages. True if every one ended."""
    ended = 0
    for client_id in client_ids:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        client.username_pw_set(username, password)
        if tls_ca is not None:
            client.tls_set(ca_certs=str(tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0
        try:
            client.connect(host, port, keepalive=10, clean_start=True, properties=props)
        except (OSError, ssl.SSLError) as exc:
            log.warning("could not end the broker session %s: %s", client_id, exc)
            continue
        try:
            deadline = time.monotonic() + 5.0
            while not client.is_connected() and time.monotonic() < deadline:
                client.loop(timeout=0.1)
            if client.is_connected():
                ended += 1
            else:
                log.warning("could not end the broker session %s: no answer", client_id)
        finally:
            client.disconnect()
            client.loop(timeout=0.1)
    return ended == len(client_ids)


def mqtt_match(topic_filter: str, topic: str) -> bool:
    """True when `topic` matches `topic_filter` (`+` and `#` wildcards)."""
    return bool(mqtt.topic_matches_sub(topic_filter, topic))


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
