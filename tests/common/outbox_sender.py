"""A device process for the outbox crash test: sends ticket requests through MqttLink's durable outbox,
printing each event id once `request()` has returned (the moment a kiosk would show "please wait"), and
exits when nothing is pending. With --drain it sends nothing new, only what the outbox still holds."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common.contract import TicketRequest
from common.link import MqttLink
from common.vocabulary import DeviceRole


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("host", "user", "password", "site", "outbox"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--interval", type=float, default=0.005)
    parser.add_argument("--drain", action="store_true", help="send nothing new (same as --count 0)")
    args = parser.parse_args()

    link = MqttLink(
        host=args.host,
        port=args.port,
        username=args.user,
        password=args.password,
        site=args.site,
        device_id=args.user,
        role=DeviceRole.kiosk,
        outbox_path=Path(args.outbox),
        resend_interval_s=0.5,
    )
    link.subscribe(link.topics.ticket_reply(args.user), lambda _inbound: None)
    link.start()
    if not link.wait_connected(10):
        print("could not connect", file=sys.stderr)
        return 1
    topic = link.topics.ticket_request(args.user)
    for _ in range(0 if args.drain else args.count):
        message = TicketRequest(service="elderly_allowance")
        link.request(topic, message)
        print(message.id, flush=True)
        time.sleep(args.interval)
    assert link.outbox is not None
    deadline = time.monotonic() + 60
    while link.outbox.pending_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    pending = link.outbox.pending_count()
    link.stop()
    return 0 if pending == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
