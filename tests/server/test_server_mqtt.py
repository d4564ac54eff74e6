"""The office server through the real broker, on SQLite and PostgreSQL: many kiosks at once, counters,
a display that comes late, resends, and every kind of bad payload."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from common.contract import (
    MAX_PAYLOAD_BYTES,
    BoardState,
    Catalog,
    CounterCommand,
    CounterResult,
    CounterState,
    ServerStatus,
    TicketIssued,
    TicketRejected,
    TicketRequest,
    decode,
)
from common.topics import Topics
from common.vocabulary import CounterAction, Outcome, Priority
from server.runtime import ServerRuntime, ServerSettings
from server.store.lock import ServerAlreadyRunning
from tests.fixtures.broker import RunningBroker
from tests.fixtures.database import lose_server_lock
from tests.server.mqtt_helpers import Device
from tests.server.office_helpers import SITE, office_config

pytestmark = pytest.mark.broker

T = Topics(SITE)
KIOSKS = [f"kiosk-{i}" for i in range(1, 11)]
TICKETS_PER_KIOSK = 15


def server_settings(
    broker: Any, db_url: str, data_dir: Path, *, client_id: str | None = None, **more: Any
) -> ServerSettings:
    """The test office's server on this broker and database, with a session of its own."""
    user, password = broker.credentials("server")
    return ServerSettings(
        config=office_config(),
        database_url=db_url,
        mqtt_host=broker.host,
        mqtt_port=broker.port,
        username=user,
        password=password,
        mqtt_client_id=client_id or f"test-server-{uuid.uuid4().hex[:8]}",
        data_dir=data_dir,
        **more,
    )


@pytest.fixture
def server(broker: Any, db_url: str, tmp_path: Path) -> Iterator[ServerRuntime]:
    runtime = ServerRuntime(server_settings(broker, db_url, tmp_path))
    runtime.start()
    assert runtime.link.connected
    yield runtime
    runtime.stop()


def kiosk(broker: Any, device_id: str) -> Device:
    return Device(broker, device_id, [T.ticket_reply(device_id)])


def test_many_kiosks_and_counters_at_once(broker: Any, server: ServerRuntime) -> None:
    kiosks = [kiosk(broker, k) for k in KIOSKS]
    counters = [Device(broker, f"counter-{i}", [T.counter_reply(f"c{i}")]) for i in (1, 2, 3)]
    sent: dict[str, list[TicketRequest]] = {k.device_id: [] for k in kiosks}
    try:
        for i, c in enumerate(counters, start=1):
            c.send(T.counter_command(f"c{i}"), CounterCommand(action=CounterAction.open, staff=f"staff {i}"))

        def take_tickets(device: Device) -> None:
            for n in range(TICKETS_PER_KIOSK):
                request = TicketRequest(
                    service=("reg", "tax", "grant")[n % 3],
                    priority=Priority.elderly if n == 4 else Priority.none,
                )
                sent[device.device_id].append(request)
                device.send(T.ticket_request(device.device_id), request)

        def serve(device: Device, counter: str) -> None:
            for _ in range(5):
                for action in (CounterAction.call_next, CounterAction.start):
                    device.send(T.counter_command(counter), CounterCommand(action=action))
                done = CounterCommand(action=CounterAction.complete, outcome=Outcome.completed)
                device.send(T.counter_command(counter), done)

        workers = [threading.Thread(target=take_tickets, args=(k,)) for k in kiosks]
        workers += [
            threading.Thread(target=serve, args=(c, f"c{i}")) for i, c in enumerate(counters, start=1)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        for device in kiosks:
            device.wait(lambda d=device: len(d.on(T.ticket_reply(d.device_id))) >= TICKETS_PER_KIOSK)
        for i, device in enumerate(counters, start=1):
            device.wait(lambda d=device, i=i: len(d.on(T.counter_reply(f"c{i}"))) >= 16)

        # exactly one reply per request, each naming its request
        issued: list[TicketIssued] = []
        for device in kiosks:
            replies = device.messages(T.ticket_reply(device.device_id))
            assert sorted(str(r.request_id) for r in replies) == sorted(
                str(r.id) for r in sent[device.device_id]
            )
            assert all(isinstance(r, TicketIssued) for r in replies)
            issued += replies
        # gapless numbers per prefix
        for prefix, count in (("A", 50), ("B", 50), ("C", 50)):
            seqs = sorted(int(t.number[1:]) for t in issued if t.number[0] == prefix)
            assert seqs == list(range(1, count + 1))
        # a resend is answered with the very same bytes
        first = kiosks[0]
        original = first.on(T.ticket_reply(first.device_id))[0]
        request_id = decode(original).request_id  # type: ignore[union-attr]
        request = next(r for r in sent[first.device_id] if r.id == request_id)
        first.send(T.ticket_request(first.device_id), request)
        first.wait(lambda: len(first.on(T.ticket_reply(first.device_id))) == TICKETS_PER_KIOSK + 1)
        assert first.on(T.ticket_reply(first.device_id))[-1] == original

        # a display that connects now gets the current board, counters, catalog and server status
        display = Device(
            broker, "display-1", [T.board_state(), T.counter_state("c1"), T.catalog(), T.server_status()]
        )
        try:
            display.wait(
                lambda: all(
                    display.on(t)
                    for t in (T.board_state(), T.counter_state("c1"), T.catalog(), T.server_status())
                )
            )
            # The retained board may be one the server has since replaced, and the server may hold the
            # newest back for its interval: the display converges on the queue and the server's board.
            queued = {s: _waiting(server, s) for s in ("reg", "tax", "grant")}

            def board_is_current() -> bool:
                latest = display.messages(T.board_state())[-1]
                shows_queue = {w.service: w.waiting for w in latest.waiting} == queued
                return shows_queue and latest == server.office.board

            display.wait(board_is_current)
            board = display.messages(T.board_state())[-1]
            assert isinstance(board, BoardState)
            assert len(board.serving) == 3
            state = display.messages(T.counter_state("c1"))[-1]
            assert isinstance(state, CounterState) and state.open and state.staff == "staff 1"
            catalog = display.messages(T.catalog())[-1]
            assert isinstance(catalog, Catalog) and [s.code for s in catalog.services] == [
                "reg",
                "tax",
                "grant",
            ]
            status = display.messages(T.server_status())[-1]
            assert isinstance(status, ServerStatus) and status.online and status.business_date is not None
        finally:
            display.close()
    finally:
        for device in kiosks + counters:
            device.close()


def _waiting(server: ServerRuntime, service: str) -> int:
    return server.office.call(lambda _c: server.office.queue.waiting_count(service)).result(30)


def test_bad_payloads_are_refused_with_a_reason_and_counted(broker: Any, server: ServerRuntime) -> None:
    device = kiosk(broker, "kiosk-11")
    counter = Device(broker, "counter-4", [T.counter_reply("c4")])
    topic = T.ticket_request("kiosk-11")
    readable_id = str(uuid.uuid4())
    misplaced = CounterCommand(action=CounterAction.open)
    payloads = {
        "not_json": b"\x00\x01 binary",
        "not_object": b'"a string"',
        "unknown_type": json.dumps({"type": "ticket.steal", "v": 1}).encode(),
        "unknown_version": json.dumps({"type": "ticket.request", "v": 2, "service": "reg"}).encode(),
        "wrong_type": misplaced.encode(),
        "invalid": json.dumps(
            {
                "type": "ticket.request",
                "v": 1,
                "id": readable_id,
                "ts": "2026-11-26T02:00:00Z",
                "service": "NO SUCH",
            }
        ).encode(),
        # larger than the contract allows, smaller than the broker's packet limit
        "too_large": b" " * (MAX_PAYLOAD_BYTES + 100),
    }
    try:
        # One at a time: the server may take one kiosk's requests over several connections (its
        # request lanes), so requests sent together may be answered in any order.
        for n, payload in enumerate(payloads.values(), start=1):
            device.send(topic, payload)
            device.wait(lambda n=n: len(device.on(T.ticket_reply("kiosk-11"))) == n)  # type: ignore[misc]
        replies = device.messages(T.ticket_reply("kiosk-11"))
        assert [r.code for r in replies] == list(payloads)
        assert all(isinstance(r, TicketRejected) and r.message_th and r.message_en for r in replies)
        request_ids = [str(r.request_id) if r.request_id else None for r in replies]
        assert request_ids == [None] * 4 + [str(misplaced.id), readable_id, None]
        unknown_service = TicketRequest(service="nope")
        device.send(topic, unknown_service)
        device.wait(lambda: len(device.on(T.ticket_reply("kiosk-11"))) == len(payloads) + 1)
        # a counter command for a counter that does not exist is refused on its own reply topic
        counter.send(T.counter_command("c4"), CounterCommand(action=CounterAction.call_next))
        good = TicketRequest(service="reg")
        device.send(topic, good)
        device.wait(lambda: len(device.on(T.ticket_reply("kiosk-11"))) == len(payloads) + 2)
        *_, refused, answered = device.messages(T.ticket_reply("kiosk-11"))
        assert isinstance(refused, TicketRejected) and refused.code == "unknown_service"
        assert isinstance(answered, TicketIssued) and answered.request_id == good.id
        counter.wait(lambda: bool(counter.on(T.counter_reply("c4"))))
        assert counter.messages(T.counter_reply("c4"))[0].code == "counter_closed"
        with server.store.read_engine.connect() as connection:
            from server.store.records import rejection_counts

            counts = rejection_counts(connection)
        assert all(counts.get(code, 0) >= 1 for code in payloads)
    finally:
        device.close()
        counter.close()


def test_a_clean_stop_says_offline(broker: Any, db_url: str, tmp_path: Path) -> None:
    runtime = ServerRuntime(server_settings(broker, db_url, tmp_path))
    runtime.start()
    watcher = Device(broker, "display-2", [T.server_status()])
    try:
        watcher.wait(lambda: any(decode(p).online for p in watcher.on(T.server_status())))  # type: ignore[union-attr]
        runtime.stop()
        watcher.wait(lambda: decode(watcher.on(T.server_status())[-1]).online is False)  # type: ignore[union-attr]
    finally:
        watcher.close()


def test_the_office_knows_while_the_server_has_lost_its_broker(
    fresh_broker: RunningBroker, sqlite_url: str, tmp_path: Path
) -> None:
    """Without the broker the devices' presence stops changing and the dashboard would show the last
    known (all online): the office keeps since when the connection is gone, for the today page, and
    forgets it once the link is back by itself."""
    runtime = ServerRuntime(server_settings(fresh_broker, sqlite_url, tmp_path))
    runtime.start()
    try:
        assert runtime.office.broker_lost_at is None
        fresh_broker.kill()
        wait_until(lambda: runtime.office.broker_lost_at is not None, "the server notices")
        lost_at = runtime.office.broker_lost_at
        assert lost_at is not None and abs(lost_at - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=30)
        fresh_broker.start()
        wait_until(lambda: runtime.office.broker_lost_at is None, "the link reconnects by itself")
    finally:
        runtime.stop()


def wait_until(done: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_the_server_says_at_start_when_its_disk_is_nearly_full(
    broker: Any,
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("server.diskspace.LOW_FREE_BYTES", 10**18)  # any disk is nearly full
    runtime = ServerRuntime(server_settings(broker, sqlite_url, tmp_path))
    with caplog.at_level(logging.WARNING, logger="server.diskspace"):
        runtime.start()
    runtime.stop()
    warnings = [r.getMessage() for r in caplog.records if "is nearly full" in r.getMessage()]
    assert len(warnings) == 1, "the data folder and the database share the test's disk: named once"
    assert (
        warnings[0].startswith(f"the disk of {tmp_path} is nearly full (") and " GB free of " in warnings[0]
    )


def test_counter_result_names_the_ticket(broker: Any, server: ServerRuntime) -> None:
    device = kiosk(broker, "kiosk-12")
    counter = Device(broker, "counter-5", [T.counter_reply("c5")])
    try:
        device.send(T.ticket_request("kiosk-12"), TicketRequest(service="grant"))
        device.wait(lambda: bool(device.on(T.ticket_reply("kiosk-12"))))
        for action in (CounterAction.open, CounterAction.call_next):
            counter.send(T.counter_command("c5"), CounterCommand(action=action))
        counter.wait(lambda: len(counter.on(T.counter_reply("c5"))) == 2)
        called = counter.messages(T.counter_reply("c5"))[-1]
        assert isinstance(called, CounterResult) and called.ticket is not None
        assert called.ticket.number == "C001" and called.message_th == "เรียกหมายเลข C001"
    finally:
        device.close()
        counter.close()


def test_a_second_server_on_the_same_database_is_refused_before_it_touches_anything(
    broker: Any, db_url: str, server: ServerRuntime, tmp_path: Path
) -> None:
    """The service runs and someone types `khiu server` with the same settings (or, on PostgreSQL, a
    second machine is given the same database): the second one stops with a message, before it takes
    over the first one's broker sessions or numbers a ticket; the first serves on undisturbed."""
    drops: list[bool] = []
    server.link.on_connection_change(lambda up: drops.append(up) if not up else None)
    second = ServerRuntime(
        server_settings(broker, db_url, tmp_path / "second", client_id=server.settings.mqtt_client_id)
    )
    with pytest.raises(ServerAlreadyRunning, match="another Khiu server") as refused:
        second.start()
    assert "ให้หยุดตัวนั้นก่อน" in str(refused.value)
    assert not second.link.connected and not any(lane.connected for lane in second.lanes)
    second.store.close()

    device = kiosk(broker, "kiosk-3")
    try:
        device.send(T.ticket_request("kiosk-3"), TicketRequest(service="reg"))
        device.wait(lambda: bool(device.on(T.ticket_reply("kiosk-3"))))
        reply = device.messages(T.ticket_reply("kiosk-3"))[-1]
        assert isinstance(reply, TicketIssued) and reply.number == "A001"
    finally:
        device.close()
    assert drops == [] and server.link.connected and all(lane.subscribed for lane in server.lanes)

    server.stop()  # a stopped server leaves the database to the next one
    third = ServerRuntime(server_settings(broker, db_url, tmp_path / "third"))
    third.start()
    try:
        assert third.link.connected
    finally:
        third.stop()


def test_a_server_whose_lock_another_server_took_stops(broker: Any, db_url: str, tmp_path: Path) -> None:
    """PostgreSQL restarted (the session holding the lock ended), or the lock file was removed by hand,
    and a second server, refused until then, started: the first one stops by itself (`khiu server` then
    exits 3) rather than number the tickets the second one numbers."""
    halted = threading.Event()
    first = ServerRuntime(server_settings(broker, db_url, tmp_path / "first"), on_halt=halted.set)
    first.lock_watch.interval_s = 0.05
    first.start()
    second: ServerRuntime | None = None
    try:
        lose_server_lock(db_url)
        second = ServerRuntime(server_settings(broker, db_url, tmp_path / "second"))
        second.start()
        assert halted.wait(10), "the first server was told to stop"
        assert first.halted is not None and "this server lost its lock" in str(first.halted)
        first.stop()
        device = kiosk(broker, "kiosk-4")
        try:
            device.send(T.ticket_request("kiosk-4"), TicketRequest(service="reg"))
            device.wait(lambda: bool(device.on(T.ticket_reply("kiosk-4"))))
            reply = device.messages(T.ticket_reply("kiosk-4"))[-1]
            assert isinstance(reply, TicketIssued) and reply.number == "A001", "the second one serves"
        finally:
            device.close()
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_two_servers_on_one_broker_each_say_the_other(broker: Any, db_url: str, tmp_path: Path) -> None:
    """A second server with its own database given the office server's broker account (a laptop, a
    test install): its lanes take kiosks' requests of their own. Neither can tell which is right, so
    each says the other is there; a server restarted on its own database is not taken for another."""
    first = ServerRuntime(server_settings(broker, db_url, tmp_path / "first"))
    first.start()
    second: ServerRuntime | None = None
    try:
        same = first.settings.mqtt_client_id
        restarted = ServerRuntime(server_settings(broker, db_url, tmp_path / "first", client_id=same))
        first.stop()  # the same server, restarted: the broker keeps the old one's status (offline)
        first = restarted
        first.start()
        watcher = kiosk(broker, "kiosk-5")
        watcher.client.subscribe(T.server_status(), qos=1)
        try:
            watcher.wait(lambda: bool(watcher.on(T.server_status())))
            own = watcher.messages(T.server_status())[-1]
            assert isinstance(own, ServerStatus) and own.online and own.instance == first.link.instance
        finally:
            watcher.close()
        assert first.office.other_servers == {}, "neither its own status nor the old one's counts"

        elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
        second = ServerRuntime(server_settings(broker, elsewhere, tmp_path / "second"))
        second.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
            first.office.other_servers and second.office.other_servers
        ):
            time.sleep(0.05)
        assert list(first.office.other_servers) == [second.link.instance]
        assert list(second.office.other_servers) == [first.link.instance], "it saw the first one live"
        assert first.office.other_servers[second.link.instance].online

        second.stop()
        second = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and next(iter(first.office.other_servers.values())).online:
            time.sleep(0.05)
        (gone,) = first.office.other_servers.values()
        assert not gone.online and gone.version == first.version
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_a_restart_with_fewer_request_lanes_loses_no_request(
    broker: Any, db_url: str, tmp_path: Path
) -> None:
    """The lanes share the requests (MQTT 5 shared subscription over persistent sessions). A lane the
    server no longer runs would keep its session, and with it its share of every kiosk's requests,
    for a week: the server ends those sessions when it starts."""
    client_id = f"test-server-{uuid.uuid4().hex[:8]}"

    def runtime(lanes: int) -> ServerRuntime:
        return ServerRuntime(
            server_settings(broker, db_url, tmp_path, client_id=client_id, request_lanes=lanes)
        )

    device = kiosk(broker, "kiosk-12")
    first = runtime(3)
    first.start()
    try:
        device.send(T.ticket_request("kiosk-12"), TicketRequest(service="reg"))
        device.wait(lambda: len(device.on(T.ticket_reply("kiosk-12"))) == 1)
    finally:
        first.stop()
    second = runtime(1)
    second.start()
    try:
        for _ in range(12):
            device.send(T.ticket_request("kiosk-12"), TicketRequest(service="reg"))
        # no resend here (the test device has no outbox): a request lost to an old lane stays lost
        device.wait(lambda: len(device.on(T.ticket_reply("kiosk-12"))) == 13, timeout=10)
        numbers = sorted(r.number for r in device.messages(T.ticket_reply("kiosk-12")))  # type: ignore[attr-defined]
        assert numbers == [f"A{n:03d}" for n in range(1, 14)]
    finally:
        second.stop()
        device.close()


def test_a_new_server_password_leaves_no_lane_under_the_old_group(
    fresh_broker: Any, db_url: str, tmp_path: Path
) -> None:
    """The lanes' group is made from the server's password. After the server's account gets a new one
    (`khiu admin device add server` again), a lane's resumed session would keep its subscription under
    the old group beside the new one, and take every request twice: the server ends the lanes' sessions
    when the group is not the one it noted."""
    client_id = f"test-server-{uuid.uuid4().hex[:8]}"
    replies = T.ticket_reply("kiosk-12")

    def runtime() -> ServerRuntime:
        return ServerRuntime(server_settings(fresh_broker, db_url, tmp_path, client_id=client_id))

    device = kiosk(fresh_broker, "kiosk-12")
    first = runtime()
    first.start()
    try:
        device.send(T.ticket_request("kiosk-12"), TicketRequest(service="reg"))
        device.wait(lambda: len(device.on(replies)) == 1)
    finally:
        first.stop()
    fresh_broker.add_device("server", "server")  # a new password
    second = runtime()
    second.start()
    try:
        for _ in range(12):
            device.send(T.ticket_request("kiosk-12"), TicketRequest(service="reg"))
        device.wait(lambda: len(device.on(replies)) >= 13, timeout=10)
        # A last request, sent after every earlier one was answered: a second delivery of any of them
        # reached the server long before it, and its second reply is out by the time this one's is.
        device.send(T.ticket_request("kiosk-12"), TicketRequest(service="reg"))
        device.wait(lambda: len(device.on(replies)) >= 14, timeout=10)
        time.sleep(0.5)
        answered = [r.request_id for r in device.messages(replies)]  # type: ignore[attr-defined]
        assert len(answered) == len(set(answered)) == 14, f"{len(answered)} replies to 14 requests"
    finally:
        second.stop()
        device.close()
