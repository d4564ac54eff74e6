"""The office server as one process: the store, the sequencer, the MQTT link and (optionally) the web app.

`ServerRuntime(settings).start()` opens and migrates the database, connects to the broker, rebuilds the
queue and starts the sequencer, then the web app in the same process. `stop()` undoes it in the order
that loses nothing: the web app stops taking requests, the sequencer finishes its inbox, the link says
`server.status` offline (retained) and disconnects, the database closes.

The web app is mounted through `web_app`: a callable that gets the running `Office` and returns an ASGI
app (default: `server.web.create_app` with settings from the data directory). Tests and `khiu demo` may
pass their own, or none."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import importlib.metadata
import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.config import OfficeConfig
from common.contract import ServerStatus, utcnow
from common.link import (
    MATCH_CACHE_SIZE,
    Inbound,
    LinkLoop,
    MqttLink,
    forget_sessions,
    mqtt_match,
    port_open,
)
from common.paths import data_dir, write_private_file
from common.topics import Topics
from common.vocabulary import DeviceRole
from server.diskspace import DiskWatch, server_disks
from server.office import Office
from server.store import Store
from server.store.database import WalCheckpointer
from server.store.lock import LockLost, LockWatch, ServerLock
from server.survey.mirror import FormMirror

log = logging.getLogger(__name__)

CONNECT_WAIT_S = 10.0
"""How long `start` waits for the broker before going on (the link keeps reconnecting in the background;
requests the broker queues for the server's persistent session arrive once it connects)."""

REQUEST_LANES = 3
"""Extra MQTT connections that share the kiosks' ticket requests and the survey ratings, and carry
their replies. Mosquitto 2.0 reads one packet per connection per pass of its loop: with more connections
one pass carries more of the server's traffic (docs/benchmarks.md, sustained issue rate: about a tenth
more tickets a second than on one connection since the broker saves once a second; before that, when
every pass that changed something ended in a save and fsync, about half as many on one connection)."""

MAX_REQUEST_LANES = 8
"""Lanes beyond the configured number, up to this, have their broker sessions ended at start: a
session left by a server that ran with more lanes would keep taking its share of the requests."""

LANE_GROUP_FILE = "mqtt-lane-group"
"""In the data folder: the shared-subscription group the request lanes last subscribed under."""

WebAppFactory = Callable[[Office], Any]


def khiu_version() -> str:
    try:
        return importlib.metadata.version("khiu")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How to run the office server."""

    config: OfficeConfig
    database_url: str
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    username: str = "server"
    password: str = ""
    tls_ca: Path | None = None
    mqtt_client_id: str | None = None
    """Default `khiu-{site}-server`: the broker keeps this session (and the requests sent to it while
    the server is down) across restarts."""
    http_host: str = "0.0.0.0"
    """The web app listens here: staff PCs and citizens' phones on the office network reach it."""
    http_port: int = 8000
    data_dir: Path = field(default_factory=data_dir)
    request_lanes: int = REQUEST_LANES
    """0: one connection carries everything, as before lanes existed."""


def share_group(password: str, client_id: str) -> str:
    """The request lanes' shared-subscription group: one per server identity, and secret. Mosquitto's
    ACL lets any device subscribe to any filter and only filters what it delivers; a device that joined
    the server's group would be dealt a share of the requests and, denied them, drop them. A name made
    from the server's password cannot be guessed."""
    digest = hmac.new(password.encode(), client_id.encode(), hashlib.sha256).hexdigest()
    return f"khiu-lanes-{digest[:32]}"


def default_web_app(settings: ServerSettings) -> WebAppFactory:
    """The staff console and administration (server.web), its secrets in `<data dir>/web`."""

    def build(office: Office) -> Any:
        from server.web import WebSettings, create_app

        return create_app(office, WebSettings.from_data_dir(settings.data_dir))

    return build


class ServerRuntime:
    """Everything `khiu server` runs, startable and stoppable from code (tests, `khiu demo`)."""

    def __init__(
        self,
        settings: ServerSettings,
        *,
        web_app: WebAppFactory | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        on_halt: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.version = khiu_version()
        self.store = Store(settings.database_url)
        self.lock = ServerLock(settings.database_url)
        self.lock_watch = LockWatch(self.lock, self._lock_lost)
        self.halted: LockLost | None = None
        """Why this server must stop by itself: another server took its lock (`on_halt` was called)."""
        self._on_halt = on_halt
        self.checkpointer = WalCheckpointer.for_url(settings.database_url)
        self.disk_watch = DiskWatch(lambda: server_disks(settings.data_dir, settings.database_url))
        config = settings.config
        self.link = self._connection(settings.mqtt_client_id)
        self.lanes = [
            self._connection(self._lane_client_id(n), presence=False)
            for n in range(1, settings.request_lanes + 1)
        ]
        self._share_group = share_group(settings.password, self.link.client_id)
        self._lanes_checked = False
        self._reply_links: dict[str, MqttLink] = {}
        self._lane_replies = Topics(config.office.id).lane_replies() if self.lanes else []
        self.network = LinkLoop([self.link, *self.lanes])
        """The server's connections, run by the sequencer's thread between batches (before it starts and
        after it stops, by the thread that starts and stops the server)."""
        self.office = Office(
            config,
            self.store,
            publish=self._publish,
            clock=clock,
            set_server_status=self._set_status,
            version=self.version,
            network=self.network,
        )
        self.mirror = FormMirror(self.store, config.survey, clock=clock)
        """Copies accepted ratings to the office's Google Form, in a thread of its own (off unless the
        office file turns it on)."""
        self._web_app = web_app
        self._web: _WebServer | None = None

    def _connection(self, client_id: str | None, *, presence: bool = True) -> MqttLink:
        """One of the server's connections to the broker: the main one, or a request lane."""
        settings = self.settings
        return MqttLink(
            host=settings.mqtt_host,
            port=settings.mqtt_port,
            username=settings.username,
            password=settings.password,
            site=settings.config.office.id,
            device_id=settings.username,
            role=DeviceRole.server,
            tls_ca=settings.tls_ca,
            handoff=_inline,
            version=self.version,
            client_id=client_id,
            presence=presence,
        )

    def _lane_client_id(self, lane: int) -> str:
        return f"{self.link.client_id}-lane-{lane}"

    @property
    def web_port(self) -> int | None:
        """The port the web app listens on, once started."""
        return self._web.port if self._web is not None else None

    def start(self, *, connect_wait_s: float = CONNECT_WAIT_S) -> None:
        """Raises ServerAlreadyRunning, having touched neither the database nor the broker, when another
        server runs on this database."""
        self.lock.acquire()
        self.store.migrate()
        if self.checkpointer is not None:
            self.checkpointer.start()
        topics = self.office.topics
        shared = topics.lane_subscriptions() if self.lanes else []
        for topic_filter in topics.server_subscriptions():
            if topic_filter not in shared:
                self.link.subscribe(topic_filter, self._inbound)
        for lane in self.lanes:
            for topic_filter in shared:
                lane.subscribe(topic_filter, self._inbound, share_group=self._share_group)
        # Live statuses of another instance: a second server on this broker (`_server_status`).
        self.link.subscribe(topics.server_status(), self._server_status)
        # The main session of an earlier version (or of a server run without lanes) holds these.
        self.link.unsubscribe_on_connect(shared)
        if port_open(self.settings.mqtt_host, self.settings.mqtt_port):
            # Before any lane subscribes: what the broker deals an unused lane is lost when its session
            # ends (the devices' outboxes resend it, seconds later).
            self._lanes_checked = True
            self._clean_lane_sessions()
        # Subscribed, not only connected: a lane whose session was just ended takes no request until
        # the broker has acknowledged its subscription. The lanes first: the main connection says the
        # server is online as it connects, and a device may send a request at once.
        deadline = time.monotonic() + connect_wait_s
        for lane in self.lanes:
            lane.start_driven()
        self.network.run_until(lambda: all(lane.subscribed for lane in self.lanes), connect_wait_s)
        self.link.on_connection_change(self._connection_changed)
        self.link.start_driven()
        connections = (self.link, *self.lanes)
        left = max(0.0, deadline - time.monotonic())
        if not self.network.run_until(lambda: all(c.subscribed for c in connections), left):
            if not self.link.connected:
                self.office.broker_connection(False)
            log.warning(
                "broker %s:%s %s: starting anyway, the link keeps trying",
                self.settings.mqtt_host,
                self.settings.mqtt_port,
                "has not acknowledged every subscription yet" if self.link.connected else "not reachable yet",
            )
        self.office.start()
        self.mirror.start()
        log.info(
            "server of %s started: MQTT %s:%s as %s%s, database %s",
            self.settings.config.office.id,
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            self.settings.username,
            " (TLS)" if self.settings.tls_ca else "",
            self.store.describe(),
        )
        self.disk_watch.start()
        self.lock_watch.start()
        if self._web_app is not None:
            app = self._web_app(self.office)
            self._web = _WebServer(app, self.settings.http_host, self.settings.http_port)
            self._web.start()
            log.info("web app on http://%s:%s", self.settings.http_host, self._web.port)

    def _clean_lane_sessions(self) -> None:
        """Before any lane subscribes: end the sessions of the lanes this server does not run and, when
        the lanes' group is not the one noted in the data folder (the server's password changed, or the
        first start with lanes), of every lane. A resumed session keeps its subscription under the old
        group beside the new one, and the broker would deal each lane every request twice, once per
        group, for a week. What the broker held for an ended session the devices' outboxes resend."""
        noted_at = self.settings.data_dir / LANE_GROUP_FILE
        try:
            noted = noted_at.read_text("utf-8").strip()
        except OSError:
            noted = ""
        regroup = bool(self.lanes) and noted != self._share_group
        ended = self._forget_lanes(1 if regroup else len(self.lanes) + 1)
        if regroup and ended:  # noted only once the old sessions are gone: else the next start retries
            try:
                # A secret: a device that knew the group could join it.
                write_private_file(noted_at, self._share_group + "\n")
            except OSError as exc:
                log.warning("could not note the request lanes' group in %s: %s", noted_at, exc)

    def _forget_lanes(self, first: int) -> bool:
        """End the broker sessions of lanes `first` to the last there may be; True if all ended."""
        settings = self.settings
        lanes = range(first, max(MAX_REQUEST_LANES, len(self.lanes)) + 1)
        if not lanes:
            return True
        started = time.monotonic()
        ended = forget_sessions(
            host=settings.mqtt_host,
            port=settings.mqtt_port,
            username=settings.username,
            password=settings.password,
            tls_ca=settings.tls_ca,
            client_ids=[self._lane_client_id(n) for n in lanes],
        )
        log.info(
            "ended the sessions of request lanes %d-%d in %.2f s",
            first,
            lanes[-1],
            time.monotonic() - started,
        )
        return ended

    def stop(self) -> None:
        if self._web is not None:
            self._web.stop()
            self._web = None
        self.mirror.stop()
        self.office.stop()
        for lane in self.lanes:
            lane.stop()
        self.link.stop(publish_offline=True)
        self.network.close()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.disk_watch.stop()
        self.lock_watch.stop()
        self.store.close()
        self.lock.release()
        log.info("server stopped")

    def _lock_lost(self, lost: LockLost) -> None:
        """Another server serves this database now: this one stops rather than number the same tickets
        (under systemd it then waits, refused, until the other stops)."""
        self.halted = lost
        if self._on_halt is not None:
            self._on_halt()

    # ------------------------------------------------------------------------------------------ wiring

    def _inbound(self, inbound: Inbound) -> None:
        self.office.receive(inbound.topic, inbound.payload, retain=inbound.retain)

    def _server_status(self, inbound: Inbound) -> None:
        """A `server.status` as it was published (not the one the broker kept, which may be of a server
        long gone): another instance online means two servers serve this office. The first time, this
        one's status goes out again, so that the other, which found it only retained, sees it live too."""
        if inbound.retain:
            return
        status = inbound.decode(expect=(ServerStatus,))
        if not isinstance(status, ServerStatus) or status.instance == self.link.instance:
            return
        if self.office.notice_server_status(status):
            self.link.republish_status()

    def _publish(self, topic: str, payload: bytes, retain: bool) -> None:
        # The stored reply of a resend must go out byte for byte.
        link = self.link if retain else self._link_of(topic)
        link.publish_raw(topic, payload, retain=retain)

    def _link_of(self, topic: str) -> MqttLink:
        """The connection a reply goes out on: a kiosk's or a terminal's on its lane (one device's
        replies always take the same lane, so they keep their order), everything else on the main one."""
        link = self._reply_links.get(topic)
        if link is None:
            link = self.link
            if self.lanes and any(mqtt_match(f, topic) for f in self._lane_replies):
                link = self.lanes[zlib.crc32(topic.encode()) % len(self.lanes)]
            if len(self._reply_links) >= MATCH_CACHE_SIZE:
                self._reply_links.clear()
            self._reply_links[topic] = link
        return link

    def _set_status(self, status: ServerStatus) -> None:
        self.link.set_status(status)

    def _connection_changed(self, up: bool) -> None:
        self.office.broker_connection(up)
        if up and not self._lanes_checked:
            # The broker was away at start. Not on the sequencer's thread, which runs the connections.
            self._lanes_checked = True
            unused = len(self.lanes) + 1
            threading.Thread(
                target=self._forget_lanes, args=(unused,), name="forget-lanes", daemon=True
            ).start()
        if up and self.office.running:
            # A broker that restarted without its persistence file has lost the retained states.
            self.office.republish()


def _inline(task: Callable[[], None]) -> None:
    """Run link handlers where the message was read, on the sequencer's thread: they put the message in
    its inbox, for the batch it starts next."""
    task()


class _WebServer:
    """uvicorn in a thread of this process."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        import uvicorn

        self._config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(self._config)
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)

    @property
    def port(self) -> int:
        servers = getattr(self._server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self._config.port)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start on {self._config.host}:{self._config.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
