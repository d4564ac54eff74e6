"""The outbox keeps every request until its reply arrives, across reconnects and a SIGKILL of the device."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from common.contract import TicketRejected, TicketRequest, decode
from common.outbox import Outbox, OutboxFull
from common.topics import Topics

REPO = Path(__file__).resolve().parents[2]


def test_outbox_survives_reopen_and_settles_once(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    box.add("e1", "t", b"one")
    box.add("e2", "t", b"two")
    box.add("e1", "t", b"one again")  # same event id: no second row
    box.close()
    box = Outbox(tmp_path / "outbox.db")
    assert [p.event_id for p in box.pending()] == ["e1", "e2"]
    assert box.pending()[0].payload == b"one"
    assert box.settle("e1", b"reply") is True
    assert box.settle("e1", b"another reply") is False
    assert box.answered("e1") is not None and box.answered("e1").reply == b"reply"  # type: ignore[union-attr]
    assert box.pending_count() == 1


def test_only_marking_a_send_skips_the_sync(tmp_path: Path) -> None:
    """A send's mark commits under synchronous=NORMAL (no fsync in WAL mode) and puts FULL back, so
    requests and replies are still synced before anything relies on them."""
    box = Outbox(tmp_path / "outbox.db")
    statements: list[str] = []
    box._db.set_trace_callback(statements.append)
    box.add("e1", "t", b"one")
    box.mark_sent("e1")
    box.settle("e1", b"reply")
    box._db.set_trace_callback(None)
    levels = []
    level = "FULL"  # as opened
    for sql in statements:
        if sql.startswith("PRAGMA synchronous="):
            level = sql.split("=", 1)[1]
        elif sql.lstrip().split()[0] in {"INSERT", "UPDATE"}:
            levels.append((sql.split()[0], "attempts = attempts + 1" in sql, level))
    assert levels == [("INSERT", False, "FULL"), ("UPDATE", True, "NORMAL"), ("UPDATE", False, "FULL")]
    assert box._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    box.close()
    box = Outbox(tmp_path / "outbox.db")
    assert box.answered("e1") is not None


def test_a_request_sent_at_once_costs_two_statements_and_counts_as_sent(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    box.add("e1", "t", b"one", sent=True)
    assert box.pending_count() == 1
    assert box.pending(sent_before=time.time() - 1) == [], "just sent: not due for a resend"
    (first,) = box.pending()
    assert first.attempts == 1 and first.last_sent_at is not None
    statements: list[str] = []
    box._db.set_trace_callback(statements.append)
    box.add("e2", "t", b"two", sent=True)
    box.settle("e2", b"reply")
    box._db.set_trace_callback(None)
    assert [sql.split()[0] for sql in statements] == ["INSERT", "UPDATE"]
    box.close()
    reopened = Outbox(tmp_path / "outbox.db")
    assert reopened.pending_count() == 1 and reopened.answered("e2") is not None
    reopened.close()


def test_outbox_is_bounded(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", max_pending=2)
    box.add("a", "t", b"")
    box.add("b", "t", b"")
    with pytest.raises(OutboxFull):
        box.add("c", "t", b"")
    box.settle("a", b"ok")
    box.add("c", "t", b"")


class IdempotentReceiver:
    """Plays the server: applies each event id once, answers every delivery (a resend gets the same
    answer), and ignores the first delivery of every third request so some are pending when the sender
    dies."""

    def __init__(self, host: str, port: int, user: str, password: str, site: str) -> None:
        self.topics = Topics(site)
        self.applied: Counter[str] = Counter()
        self.deliveries: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="receiver", protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, password)
        self.client.on_message = self.on_message
        self.client.on_connect = lambda c, *_: c.subscribe(f"khiu/{site}/kiosk/+/ticket/request", qos=1)
        self.client.connect(host, port)
        self.client.loop_start()

    def on_message(self, client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        request = decode(msg.payload)
        assert isinstance(request, TicketRequest)
        key = str(request.id)
        with self.lock:
            self.deliveries[key] += 1
            if self.deliveries[key] == 1 and uuid.UUID(key).int % 3 == 0:
                return  # lost on the way, as far as the sender can tell
            if key not in self.applied:
                self.applied[key] = 1
        kiosk = msg.topic.split("/")[3]
        reply = TicketRejected(
            request_id=request.id,
            code="queue_empty",
            message_th="-",
            message_en="-",
            id=uuid.uuid5(uuid.NAMESPACE_URL, key),
        )
        client.publish(self.topics.ticket_reply(kiosk), reply.encode(), qos=1)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.broker
def test_sigkill_mid_stream_loses_nothing_and_applies_nothing_twice(broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server_user, server_pw = broker.credentials("server")
    receiver = IdempotentReceiver(broker.host, broker.port, server_user, server_pw, broker.site)
    user, password = broker.credentials("kiosk-7")
    outbox = tmp_path / "kiosk-7-outbox.db"
    cmd = [
        sys.executable,
        str(REPO / "tests/common/outbox_sender.py"),
        "--host",
        broker.host,
        "--port",
        str(broker.port),
        "--user",
        user,
        f"--password={password}",  # a password may start with "-" (older configs); never read it as an option
        "--site",
        broker.site,
        "--outbox",
        str(outbox),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        sender = subprocess.Popen([*cmd, "--count", "400"], stdout=subprocess.PIPE, text=True, env=env)
        assert sender.stdout is not None
        acknowledged = [sender.stdout.readline().strip() for _ in range(200)]
        sender.kill()  # SIGKILL mid-stream: no goodbye, no flush beyond what the outbox already did
        sender.wait(10)

        with sqlite3.connect(outbox) as db:
            stored = {row[0] for row in db.execute("SELECT event_id FROM outbox")}
            pending_at_kill = db.execute("SELECT count(*) FROM outbox WHERE answered_at IS NULL").fetchone()[
                0
            ]
        assert set(acknowledged) <= stored
        assert pending_at_kill > 0, "the crash should leave unanswered requests behind"

        drained = subprocess.run([*cmd, "--drain"], env=env, timeout=90, capture_output=True, text=True)
        assert drained.returncode == 0, drained.stderr[-2000:]
        with receiver.lock:
            applied = dict(receiver.applied)
        assert set(applied) == stored, "every stored request reached the receiver"
        assert all(count == 1 for count in applied.values()), "nothing applied twice"
        assert sum(receiver.deliveries.values()) > len(applied), "some requests were resent"
    finally:
        receiver.stop()
