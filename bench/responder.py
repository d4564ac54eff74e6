"""A stand-in for the server that does no work: it answers each `ticket.request` at once with a ready-made
`ticket.issued` (only the ids change), from one paho thread in a process of its own. Nothing is checked,
stored or committed. Swapped in for the real server (`replace_server`), it gives the round trip's floor:
what the kiosks' links, the broker and paho cost with no server work at all. A diagnostic, never an office
setup: every kiosk gets the same number.

Run as `python -m bench.responder SETTINGS_JSON` (what `replace_server` does)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.harness import BenchOffice, stop_process, stop_server
from common.contract import TicketIssued
from common.paths import REPO_ROOT
from common.topics import Topics
from common.vocabulary import Priority

READY = "ready"


def canned_reply(service: str) -> dict[str, Any]:
    """The ticket every request gets (its `id` and `request_id` are replaced per request)."""
    now = dt.datetime.now(dt.UTC)
    reply = TicketIssued(
        request_id=uuid.uuid4(),
        ticket_id="bench-responder",
        number="A001",
        service=service,
        priority=Priority.none,
        issued_at=now,
        business_date=now.date(),
        waiting_ahead=0,
        estimated_wait_min=0,
    )
    body: dict[str, Any] = json.loads(reply.encode())
    return body


@contextlib.contextmanager
def replace_server(office: BenchOffice, kiosks: list[str], service: str) -> Iterator[None]:
    """Stop the office's server and answer `kiosks`' ticket requests with the do-nothing responder
    until exit. The server's own client id is taken with a clean start, which ends its session, so the
    broker keeps no copies of the requests for it."""
    stop_server(office)
    topics = Topics(office.site)
    settings = {
        "host": office.host,
        "port": office.port,
        "password": office.passwords["server"],
        "client_id": f"khiu-{office.site}-server",
        "replies": {topics.ticket_request(k): topics.ticket_reply(k) for k in kiosks},
        "reply": canned_reply(service),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.responder", json.dumps(settings)],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != READY:
            raise RuntimeError("the do-nothing responder did not subscribe")
        yield
    finally:
        stop_process(process, 10)


def main(settings: dict[str, Any]) -> None:
    replies: dict[str, str] = settings["replies"]
    reply: dict[str, Any] = settings["reply"]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings["client_id"], protocol=mqtt.MQTTv5)
    client.username_pw_set("server", settings["password"])

    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic = replies.get(message.topic)
        if topic is not None:
            request_id = json.loads(message.payload)["id"]
            body = dict(reply, id=str(uuid.uuid4()), request_id=request_id)
            client.publish(topic, json.dumps(body), qos=1)

    def on_subscribe(*_: Any) -> None:
        sys.stdout.write(READY + "\n")
        sys.stdout.flush()

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.connect(settings["host"], settings["port"], clean_start=True)
    client.subscribe([(topic, 1) for topic in replies])
    client.loop_forever()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
