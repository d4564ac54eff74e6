"""The LAN relay of the chaos run: it tells devices apart by their MQTT client id, relays them to the real
broker, and unplugging one device cuts it off both ways without a clean close, until it is plugged back
in; then its durable outbox delivers what it sent meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from common.contract import TicketRequest
from common.link import Inbound, MqttLink
from common.vocabulary import DeviceRole
from server.chaos.lan import LanRelay, client_id_of
from tests.fixtures.broker import RunningBroker

pytestmark = pytest.mark.broker


def connect_packet(client_id: str, protocol: int) -> bytes:
    """The CONNECT bytes paho sends for this client id."""
    sent: list[bytes] = []

    class Capture:
        def send(self, data: bytes) -> int:
            sent.append(bytes(data))
            return len(data)

        def close(self) -> None:
            """paho closes its socket when the client is collected."""

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
    client.username_pw_set("kiosk-1", "secret")
    client.will_set("khiu/x/device/kiosk-1/status", b"{}", qos=1, retain=True)
    client._sock = Capture()  # type: ignore[assignment]
    properties = Properties(PacketTypes.CONNECT) if protocol == mqtt.MQTTv5 else None  # type: ignore[no-untyped-call]
    if properties is not None:
        properties.SessionExpiryInterval = 60
    client._connect_properties = properties  # type: ignore[attr-defined]
    client._send_connect(20)  # type: ignore[attr-defined]
    return b"".join(sent)


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5])
def test_the_device_is_read_from_the_connect_packet(protocol: int) -> None:
    packet = connect_packet("khiu-office-kiosk-7", protocol)
    assert client_id_of(packet) == "khiu-office-kiosk-7"


@pytest.fixture
def relay(fresh_broker: RunningBroker) -> Iterator[LanRelay]:
    lan = LanRelay(fresh_broker.host, fresh_broker.port, site=fresh_broker.site)
    lan.start()
    yield lan
    lan.stop()


def link(broker: RunningBroker, device: str, port: int, **kw: object) -> MqttLink:
    user, password = broker.credentials(device)
    return MqttLink(
        host=broker.host,
        port=port,
        username=user,
        password=password,
        site=broker.site,
        device_id=device,
        role=DeviceRole.kiosk if device.startswith("kiosk") else DeviceRole.display,
        keepalive=2,
        handoff=lambda task: task(),
        resend_interval_s=1.0,
        **kw,  # type: ignore[arg-type]
    )


def test_an_unplugged_kiosk_is_cut_off_until_plugged_back(
    fresh_broker: RunningBroker, relay: LanRelay, tmp_path: object
) -> None:
    from pathlib import Path

    received: list[bytes] = []
    got = threading.Event()

    def on_request(inbound: Inbound) -> None:
        received.append(inbound.payload)
        got.set()

    server_user, server_password = fresh_broker.credentials("server")
    server = MqttLink(
        host=fresh_broker.host,
        port=fresh_broker.port,
        username=server_user,
        password=server_password,
        site=fresh_broker.site,
        device_id="server",
        role=DeviceRole.server,
        handoff=lambda task: task(),
    )
    server.subscribe(server.topics.ticket_request("kiosk-1"), on_request)
    server.start()
    kiosk = link(fresh_broker, "kiosk-1", relay.port, outbox_path=Path(str(tmp_path)) / "kiosk-1.sqlite")
    kiosk.start()
    try:
        assert server.wait_connected(10) and kiosk.wait_connected(10)
        first = TicketRequest(service="reg")
        kiosk.request(kiosk.topics.ticket_request("kiosk-1"), first)
        assert got.wait(10) and received == [first.encode()]

        relay.cut("kiosk-1")
        got.clear()
        during = TicketRequest(service="reg")
        kiosk.request(kiosk.topics.ticket_request("kiosk-1"), during)
        time.sleep(3)
        assert during.encode() not in received, "a request crossed a pulled cable"
        deadline = time.monotonic() + 15
        while kiosk.connected and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not kiosk.connected, "the kiosk never noticed (keepalive)"

        relay.restore("kiosk-1")
        assert kiosk.wait_connected(40)
        deadline = time.monotonic() + 15
        while during.encode() not in received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert during.encode() in received, "the outbox did not deliver after the cable came back"
    finally:
        kiosk.stop()
        server.stop()
