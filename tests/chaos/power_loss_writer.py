"""The sequencer under heavy writes, in a process of its own so the test can SIGKILL it mid-commit.

Usage: python power_loss_writer.py DATABASE_URL

Citizens take tickets from several threads as fast as the sequencer commits them (many in flight), and
staff call, serve and complete at the counters, so every table of the queue is written. Each reply is
printed (`ack <event id> <ticket id> <number>`) only once the sequencer has resolved it, which it does
after the commit: a printed line is an acknowledgement the database must keep."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Future

from common.contract import CounterCommand, Reply, TicketIssued, TicketRequest
from common.vocabulary import CounterAction, Outcome
from server.office import Office, OfficeBusy
from server.store import Store
from tests.server.office_helpers import office_config

IN_FLIGHT = 8
THREADS = 2
_print_lock = threading.Lock()


def say(line: str) -> None:
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def citizens(office: Office, room: threading.Semaphore, service: str) -> None:
    while True:
        room.acquire()
        request = TicketRequest(service=service)
        try:
            future = office.submit(request, sender="kiosk-1")
        except OfficeBusy:
            room.release()
            continue

        def acknowledged(done: Future[Reply], event_id: str = str(request.id)) -> None:
            room.release()
            reply = done.result()
            if isinstance(reply, TicketIssued):
                say(f"ack {event_id} {reply.ticket_id} {reply.number}")

        future.add_done_callback(acknowledged)


def staff(office: Office, counter: str) -> None:
    office.counter_command(counter, CounterCommand(action=CounterAction.open, staff=counter)).result(60)
    cycle = (
        (CounterAction.call_next, {}),
        (CounterAction.start, {}),
        (CounterAction.complete, {"outcome": Outcome.completed}),
    )
    while True:
        for action, extra in cycle:
            office.counter_command(counter, CounterCommand(action=action, staff=counter, **extra)).result(60)


def main(url: str) -> None:
    store = Store(url)
    store.migrate()
    office = Office(office_config(), store)
    office.start()
    say("ready")
    room = threading.Semaphore(IN_FLIGHT)
    for i in range(THREADS):
        service = ("reg", "grant")[i % 2]  # tax has a daily cap in the test office
        threading.Thread(target=citizens, args=(office, room, service), daemon=True).start()
    for counter in ("c1", "c2"):
        threading.Thread(target=staff, args=(office, counter), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
