"""The broker's ACL, checked on a real Mosquitto: for every role, every topic of the wire contract (the
device's own and another's) and both directions, what is allowed arrives and what is not never does.

The expected rights are written out here from DESIGN.md and the broker brief, not derived from
broker_config/acl.py, so a wrong rule table fails this test.

Mosquitto 2.0's acl_file grants every SUBSCRIBE and filters at delivery, so a forbidden read shows as a
message that never arrives (the SUBACK may still say granted). A forbidden publish is answered with
PUBACK reason 135 and reaches nobody.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from common.topics import Topics
from tests.broker_config.broker_probe import NOT_AUTHORIZED, Probe, unique
from tests.fixtures.broker import RunningBroker, launch_broker

pytestmark = pytest.mark.broker


@dataclass(frozen=True)
class Subject:
    """The device under test for one role, and whose topics count as "another's"."""

    device: str
    other_device: str
    counter: str
    """Its bound counter (counter terminals) or simply a counter id."""
    other_counter: str


SUBJECTS: dict[str, Subject] = {
    "kiosk": Subject("kiosk-1", "kiosk-2", "c1", "c2"),
    "survey": Subject("survey-1", "survey-2", "c1", "c2"),
    "display": Subject("display-1", "display-2", "c1", "c2"),
    # Bound to c2 on purpose: the binding, not "the first counter", decides.
    "counter": Subject("counter-2", "counter-3", "c2", "c1"),
    "server": Subject("server", "kiosk-1", "c1", "c2"),
}

TopicOf = Callable[[Topics, Subject], str]

TOPICS: dict[str, TopicOf] = {
    "catalog": lambda t, s: t.catalog(),
    "server/status": lambda t, s: t.server_status(),
    "board/state": lambda t, s: t.board_state(),
    "board/call": lambda t, s: t.board_call(),
    "kiosk/self/ticket/request": lambda t, s: t.ticket_request(s.device),
    "kiosk/other/ticket/request": lambda t, s: t.ticket_request(s.other_device),
    "kiosk/self/ticket/offline": lambda t, s: t.ticket_offline(s.device),
    "kiosk/other/ticket/offline": lambda t, s: t.ticket_offline(s.other_device),
    "kiosk/self/ticket/reply": lambda t, s: t.ticket_reply(s.device),
    "kiosk/other/ticket/reply": lambda t, s: t.ticket_reply(s.other_device),
    "survey/self/response": lambda t, s: t.survey_response(s.device),
    "survey/other/response": lambda t, s: t.survey_response(s.other_device),
    "survey/self/reply": lambda t, s: t.survey_reply(s.device),
    "survey/other/reply": lambda t, s: t.survey_reply(s.other_device),
    "counter/mine/command": lambda t, s: t.counter_command(s.counter),
    "counter/other/command": lambda t, s: t.counter_command(s.other_counter),
    "counter/mine/reply": lambda t, s: t.counter_reply(s.counter),
    "counter/other/reply": lambda t, s: t.counter_reply(s.other_counter),
    "counter/mine/state": lambda t, s: t.counter_state(s.counter),
    "counter/other/state": lambda t, s: t.counter_state(s.other_counter),
    "device/self/status": lambda t, s: t.device_status(s.device),
    "device/other/status": lambda t, s: t.device_status(s.other_device),
}

EVERYONE = {("write", "device/self/status"), ("read", "catalog"), ("read", "server/status")}

ALLOWED: dict[str, set[tuple[str, str]]] = {
    "kiosk": EVERYONE
    | {
        ("write", "kiosk/self/ticket/request"),
        ("write", "kiosk/self/ticket/offline"),
        ("read", "kiosk/self/ticket/reply"),
        ("read", "board/state"),
        ("write", "survey/self/response"),
        ("read", "survey/self/reply"),
    },
    "survey": EVERYONE
    | {
        ("write", "survey/self/response"),
        ("read", "survey/self/reply"),
        ("read", "counter/mine/state"),
        ("read", "counter/other/state"),
    },
    "display": EVERYONE
    | {
        ("read", "board/state"),
        ("read", "board/call"),
        ("read", "counter/mine/state"),
        ("read", "counter/other/state"),
        ("read", "device/self/status"),
        ("read", "device/other/status"),
    },
    "counter": EVERYONE
    | {
        ("write", "counter/mine/command"),
        ("read", "counter/mine/reply"),
        ("read", "counter/mine/state"),
        ("read", "counter/other/state"),
        ("read", "board/state"),
        ("read", "board/call"),
    },
    "server": {(action, key) for action in ("read", "write") for key in TOPICS},
}

CASES = [(role, action, key) for role in SUBJECTS for key in TOPICS for action in ("write", "read")]


def _case_id(case: tuple[str, str, str]) -> str:
    role, action, key = case
    verdict = "allowed" if (action, key) in ALLOWED[role] else "denied"
    return f"{role}-{action}-{key}-{verdict}"


@dataclass
class Matrix:
    """One broker for the whole matrix, a server-side observer and one connected client per role."""

    broker: RunningBroker
    topics: Topics
    observer: Probe
    clients: dict[str, Probe]

    def barrier_topic(self) -> str:
        return self.topics.catalog()


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    # Its own broker, not the shared session one: the matrix publishes junk on every request topic,
    # which a long-lived server of another test module would have to read.
    broker = launch_broker(Path(tmp_path_factory.mktemp("acl-matrix")))
    topics = Topics(broker.site)
    observer = Probe(broker.host, broker.port, *broker.credentials("server"))
    assert observer.connect() == 0
    assert observer.subscribe(f"khiu/{broker.site}/#") == [1]
    clients: dict[str, Probe] = {}
    for role, subject in SUBJECTS.items():
        probe = Probe(broker.host, broker.port, *broker.credentials(subject.device))
        assert probe.connect() == 0, f"{subject.device} cannot log in"
        assert probe.subscribe(topics.catalog()) == [1]
        clients[role] = probe
    yield Matrix(broker, topics, observer, clients)
    for probe in [observer, *clients.values()]:
        probe.close()
    broker.stop()


@pytest.mark.parametrize(("role", "action", "key"), CASES, ids=[_case_id(c) for c in CASES])
def test_rights_of_each_role_on_each_topic(matrix: Matrix, role: str, action: str, key: str) -> None:
    subject = SUBJECTS[role]
    device = matrix.clients[role]
    topic = TOPICS[key](matrix.topics, subject)
    allowed = (action, key) in ALLOWED[role]
    payload = unique(f"{role}-{action}")

    if action == "write":
        code = device.publish(topic, payload)
        if allowed:
            assert code == 0, f"{subject.device} may publish on {topic} but got PUBACK {code}"
            assert matrix.observer.wait_for(payload), (
                f"{topic} from {subject.device} never reached the server"
            )
        else:
            assert code == NOT_AUTHORIZED, f"{subject.device} published on {topic}: PUBACK {code}"
            # Anything published after it by the same client arrives after it would have.
            barrier = unique("barrier")
            assert device.publish(matrix.topics.device_status(subject.device), barrier) == 0
            assert matrix.observer.wait_for(barrier)
            assert not matrix.observer.has(payload), f"refused publish on {topic} was delivered"
        return

    codes = device.subscribe(topic)
    try:
        assert matrix.observer.publish(topic, payload) == 0
        barrier = unique("barrier")
        assert matrix.observer.publish(matrix.barrier_topic(), barrier) == 0
        assert device.wait_for(barrier), f"{subject.device} stopped receiving"
        delivered = device.has(payload)
        if allowed:
            assert codes == [1], f"{subject.device} subscribe to {topic}: SUBACK {codes}"
            assert delivered, f"{subject.device} may read {topic} but got nothing"
        else:
            assert not delivered, f"{subject.device} read {topic} (SUBACK {codes})"
    finally:
        if topic != matrix.barrier_topic():
            device.unsubscribe(topic)


def test_a_kiosk_subscribed_to_every_topic_still_reads_only_its_own_replies(broker: RunningBroker) -> None:
    topics = Topics(broker.site)
    server = Probe(broker.host, broker.port, *broker.credentials("server"))
    kiosk = Probe(broker.host, broker.port, *broker.credentials("kiosk-1"))
    try:
        assert server.connect() == 0
        assert kiosk.connect() == 0
        kiosk.subscribe(f"khiu/{broker.site}/kiosk/+/ticket/reply")
        kiosk.subscribe(f"khiu/{broker.site}/#")
        kiosk.subscribe("#")
        someone_elses = unique("kiosk-2-reply")
        own = unique("kiosk-1-reply")
        assert server.publish(topics.ticket_reply("kiosk-2"), someone_elses) == 0
        assert server.publish(topics.ticket_reply("kiosk-1"), own) == 0
        assert kiosk.wait_for(own)
        assert not kiosk.has(someone_elses)
        # (Overlapping subscriptions each deliver a copy under MQTT 5: compare the set of topics.)
        assert {t for t, _ in kiosk.received if "/kiosk/" in t} == {topics.ticket_reply("kiosk-1")}
    finally:
        kiosk.close()
        server.close()


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("kiosk-1", "not-the-password"),
        ("kiosk-1", None),
        (None, None),
        ("nobody", "whatever"),
    ],
    ids=["wrong-password", "no-password", "anonymous", "unknown-user"],
)
def test_logins_without_the_right_password_are_refused(
    broker: RunningBroker, username: str | None, password: str | None
) -> None:
    probe = Probe(broker.host, broker.port, username, password)
    code = probe.connect()
    # 134 bad user name or password, 135 not authorised: either way, no session.
    assert code in {134, 135}


def test_a_device_cannot_log_in_with_another_devices_password(broker: RunningBroker) -> None:
    _, kiosk_password = broker.credentials("kiosk-2")
    probe = Probe(broker.host, broker.port, "kiosk-1", kiosk_password)
    assert probe.connect() in {134, 135}


def _connect_with_will_then_vanish(
    broker: RunningBroker, device_id: str, will_topic: str, will: bytes
) -> None:
    """An MQTT 3.1.1 CONNECT with a will, then the socket closes without DISCONNECT (a kiosk losing
    power): the broker publishes the will. Raw bytes, so no client library reconnects behind our back."""

    def utf8(raw: bytes) -> bytes:
        return len(raw).to_bytes(2, "big") + raw

    username, password = broker.credentials(device_id)
    flags = 0x80 | 0x40 | 0x08 | 0x04 | 0x02  # username, password, will QoS 1, will, clean session
    body = utf8(b"MQTT") + bytes([4, flags]) + (30).to_bytes(2, "big")
    body += utf8(unique("will-probe")) + utf8(will_topic.encode()) + utf8(will)
    body += utf8(username.encode()) + utf8(password.encode())
    assert 128 <= len(body) < 16384
    remaining_length = bytes([0x80 | (len(body) % 128), len(body) // 128])
    with socket.create_connection((broker.host, broker.port), timeout=5) as conn:
        conn.sendall(b"\x10" + remaining_length + body)
        assert conn.recv(4) == b"\x20\x02\x00\x00", "CONNACK refused"


@pytest.mark.parametrize("whose", ["own", "another"])
def test_a_device_will_can_mark_only_itself_offline(matrix: Matrix, whose: str) -> None:
    display = matrix.clients["display"]
    target = "kiosk-5" if whose == "own" else "kiosk-6"
    status_topic = matrix.topics.device_status(target)
    assert display.subscribe(f"khiu/{matrix.broker.site}/device/+/status") == [1]
    try:
        will = unique(f"offline-{whose}")
        _connect_with_will_then_vanish(matrix.broker, "kiosk-5", status_topic, will)
        # Two round trips later the broker has surely handled the closed socket (and any will).
        for _ in range(2):
            barrier = unique("barrier")
            assert display.publish(matrix.topics.device_status("display-1"), barrier) == 0
            assert display.wait_for(barrier)
        if whose == "own":
            assert display.wait_for(will), "the kiosk's own will never arrived"
        else:
            assert not display.has(will), "a kiosk marked another device offline"
    finally:
        display.unsubscribe(f"khiu/{matrix.broker.site}/device/+/status")
