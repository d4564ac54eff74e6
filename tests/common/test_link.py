"""The MQTT link against a real Mosquitto: presence with a will, one hand-off thread, callbacks that
survive exceptions, and requests that survive a broker crash."""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from common.bootclock import boot_mark
from common.contract import DeviceStatus, ServerStatus, TicketRejected, TicketRequest, decode
from common.link import Inbound, LinkLoop, MqttLink
from common.vocabulary import DeviceRole

pytestmark = pytest.mark.broker


def make_link(broker, device: str, role: DeviceRole, **kwargs) -> MqttLink:  # type: ignore[no-untyped-def]
    user, password = broker.credentials(device)
    return MqttLink(
        host=broker.host,
        port=broker.port,
        username=user,
        password=password,
        site=broker.site,
        device_id=device,
        role=role,
        **kwargs,
    )


def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def refusing_server(broker, kiosk: str, seen: list[TicketRequest], **kwargs) -> MqttLink:  # type: ignore[no-untyped-def]
    """The server's link, not started, answering each ticket request of `kiosk` with `queue_empty` (on
    the thread its handoff runs handlers on) and noting it in `seen`."""
    server = make_link(broker, "server", DeviceRole.server, **kwargs)

    def answer(message: Inbound) -> None:
        request = decode(message.payload)
        assert isinstance(request, TicketRequest)
        seen.append(request)
        server.publish(
            server.topics.ticket_reply(kiosk),
            TicketRejected(request_id=request.id, code="queue_empty", message_th="-", message_en="-"),
        )

    server.subscribe(server.topics.ticket_request(kiosk), answer)
    return server


def kiosk_with_outbox(broker, kiosk: str, outbox: Path, replies: queue.Queue[object], **kwargs) -> MqttLink:  # type: ignore[no-untyped-def]
    """A kiosk's link, started, with its outbox; the replies that settle its requests go to `replies`."""
    link = make_link(broker, kiosk, DeviceRole.kiosk, outbox_path=outbox, **kwargs)
    link.subscribe(link.topics.ticket_reply(kiosk), lambda _m: None)
    link.on_reply(replies.put)
    link.start()
    return link


def test_presence_online_then_offline_by_will(fresh_broker) -> None:  # type: ignore[no-untyped-def]
    seen: queue.Queue[DeviceStatus] = queue.Queue()
    display = make_link(fresh_broker, "display-1", DeviceRole.display)
    display.subscribe(display.topics.device_status("kiosk-1"), lambda m: seen.put(decode(m.payload)))  # type: ignore[arg-type]
    display.start()
    kiosk = make_link(fresh_broker, "kiosk-1", DeviceRole.kiosk, keepalive=1)
    kiosk.start()
    try:
        assert display.wait_connected(10) and kiosk.wait_connected(10)
        online = seen.get(timeout=10)
        assert online.online is True
        # it says where its boot clock stood when it was sent (the server places offline tickets by it)
        now = boot_mark()
        assert online.boot is not None and now is not None and online.boot.id == now.id
        assert 0 <= now.uptime_s - online.boot.uptime_s < 10
        # The kiosk vanishes without a goodbye: the broker publishes its will.
        kiosk.client._sock_close()  # type: ignore[attr-defined]
        kiosk.client.loop_stop()
        status = seen.get(timeout=10)
        assert isinstance(status, DeviceStatus) and status.online is False and status.device == "kiosk-1"
        assert status.boot is None
    finally:
        display.stop()


def test_handlers_run_on_one_thread_and_survive_exceptions(broker) -> None:  # type: ignore[no-untyped-def]
    threads: set[str] = set()
    received: list[str] = []
    done = threading.Event()

    def handler(message: Inbound) -> None:
        threads.add(threading.current_thread().name)
        received.append(message.topic)
        if len(received) == 1:
            raise RuntimeError("a bug in one handler must not stop the link")
        if len(received) == 3:
            done.set()

    server = make_link(broker, "server", DeviceRole.server)
    server.subscribe(f"khiu/{broker.site}/kiosk/+/ticket/request", handler)
    server.start()
    kiosk = make_link(broker, "kiosk-2", DeviceRole.kiosk)
    kiosk.start()
    try:
        assert server.wait_connected(10) and kiosk.wait_connected(10)
        time.sleep(0.2)
        for _ in range(3):
            kiosk.publish(kiosk.topics.ticket_request("kiosk-2"), TicketRequest(service="tax"))
        assert done.wait(10), f"only {len(received)} messages handled"
        assert len(threads) == 1 and next(iter(threads)) != threading.current_thread().name
    finally:
        kiosk.stop()
        server.stop()


def test_request_survives_broker_crash(fresh_broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    replies: queue.Queue[object] = queue.Queue()
    server = refusing_server(fresh_broker, "kiosk-3", [])
    kiosk = kiosk_with_outbox(fresh_broker, "kiosk-3", tmp_path / "outbox.db", replies, resend_interval_s=0.5)
    try:
        assert kiosk.wait_connected(10)
        fresh_broker.kill()
        wait_for(lambda: not kiosk.connected)
        request = TicketRequest(service="tax")
        kiosk.request(kiosk.topics.ticket_request("kiosk-3"), request)  # written while the broker is down
        assert kiosk.outbox is not None and kiosk.outbox.pending_count() == 1
        fresh_broker.start()
        server.start()
        reply = replies.get(timeout=30)
        assert isinstance(reply, TicketRejected) and reply.request_id == request.id
        assert kiosk.outbox.pending_count() == 0
    finally:
        kiosk.stop()
        server.stop()


def test_a_request_the_broker_lost_in_a_crash_is_answered(fresh_broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The broker acknowledges the request and queues it for the server, which is away; the broker dies
    before its next snapshot. The kiosk's outbox sends the request again when it reconnects."""
    seen: list[TicketRequest] = []
    server = refusing_server(fresh_broker, "kiosk-5", seen)
    server.start()
    assert server.wait_subscribed(10)
    server.stop(publish_offline=False)  # its session stays: the broker queues requests for it
    replies: queue.Queue[object] = queue.Queue()
    # No resend timer within the test: only the resend at reconnect can bring the request back.
    kiosk = kiosk_with_outbox(fresh_broker, "kiosk-5", tmp_path / "outbox.db", replies, resend_interval_s=600)
    try:
        assert kiosk.wait_subscribed(10)
        request = TicketRequest(service="tax")
        # Just after a snapshot: the next one is a second away, the kill comes within milliseconds.
        fresh_broker.wait_saved(since_ns=time.time_ns())
        acknowledged = threading.Event()
        kiosk.client.on_publish = lambda *_args: acknowledged.set()
        kiosk.request(kiosk.topics.ticket_request("kiosk-5"), request)
        assert acknowledged.wait(10), "the broker did not acknowledge the request"
        fresh_broker.kill()
        fresh_broker.start()
        server = refusing_server(fresh_broker, "kiosk-5", seen)
        server.start()
        reply = replies.get(timeout=30)
        assert isinstance(reply, TicketRejected) and reply.request_id == request.id
        assert [r.id for r in seen] == [request.id]
        assert kiosk.outbox is not None and kiosk.outbox.pending_count() == 0
    finally:
        kiosk.stop()
        server.stop()


def test_a_driven_link_runs_on_its_callers_thread_and_reconnects(fresh_broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """As the server's sequencer runs its connections: no network thread, handlers on the thread that
    turns the loop, and a new connection by itself after the broker restarts."""
    handled_on: set[str] = set()

    def inline(task: Callable[[], None]) -> None:
        handled_on.add(threading.current_thread().name)
        task()

    server = refusing_server(fresh_broker, "kiosk-6", [], handoff=inline)
    loop = LinkLoop([server])
    threads_before = threading.active_count()
    server.start_driven()
    assert threading.active_count() == threads_before, "a driven link starts no thread"
    replies: queue.Queue[object] = queue.Queue()
    kiosk = kiosk_with_outbox(fresh_broker, "kiosk-6", tmp_path / "outbox.db", replies)
    try:
        assert loop.run_until(lambda: server.subscribed, 10) and kiosk.wait_subscribed(10)
        for restart in (False, True):
            if restart:
                fresh_broker.kill()
                fresh_broker.start()
                assert loop.run_until(lambda: not server.connected, 10)
                assert loop.run_until(lambda: server.subscribed, 20), "the driven link did not reconnect"
                assert kiosk.wait_subscribed(20)
            request = TicketRequest(service="tax")
            kiosk.request(kiosk.topics.ticket_request("kiosk-6"), request)
            assert loop.run_until(lambda: not replies.empty(), 10), "no reply"
            reply = replies.get_nowait()
            assert isinstance(reply, TicketRejected) and reply.request_id == request.id
        assert handled_on == {threading.current_thread().name}
    finally:
        kiosk.stop()
        server.stop()
        loop.close()


def test_server_status_is_retained(broker) -> None:  # type: ignore[no-untyped-def]
    server = make_link(broker, "server", DeviceRole.server, version="9.9")
    server.start()
    assert server.wait_connected(10)
    got: queue.Queue[object] = queue.Queue()
    display = make_link(broker, "display-2", DeviceRole.display)
    display.subscribe(display.topics.server_status(), lambda m: got.put((m.retain, decode(m.payload))))
    try:
        time.sleep(0.3)
        display.start()
        retained, status = got.get(timeout=10)  # type: ignore[misc]
        assert retained and isinstance(status, ServerStatus) and status.online and status.version == "9.9"
    finally:
        display.stop()
        server.stop()


def test_a_request_made_as_the_connection_comes_up_is_sent_once(fresh_broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A fresh broker: a session left by another test could hold a second matching subscription.
    received: queue.Queue[bytes] = queue.Queue()
    server = make_link(fresh_broker, "server", DeviceRole.server)
    server.subscribe(server.topics.ticket_request("kiosk-4"), lambda m: received.put(m.payload))
    server.start()
    kiosk = make_link(fresh_broker, "kiosk-4", DeviceRole.kiosk, outbox_path=tmp_path / "outbox.db")
    # Hold the on-connect resend of the outbox until the request below is made: the order in which
    # the network thread and a tap met in a CI run, which delivered the request twice.
    request_made = threading.Event()
    resend = kiosk._resend_pending  # type: ignore[attr-defined]

    def resend_after_the_request(*, only_stale: bool) -> int:
        if not only_stale:
            request_made.wait(10)
        return resend(only_stale=only_stale)  # type: ignore[no-any-return]

    kiosk._resend_pending = resend_after_the_request  # type: ignore[method-assign]
    kiosk.start()
    try:
        assert server.wait_connected(10) and kiosk.wait_connected(10)
        request = TicketRequest(service="reg")
        kiosk.request(kiosk.topics.ticket_request("kiosk-4"), request)
        request_made.set()
        assert received.get(timeout=10) == request.encode()
        with pytest.raises(queue.Empty):  # the on-connect resend ran and found it already sent
            received.get(timeout=1.0)
    finally:
        kiosk.stop()
        server.stop()


@pytest.mark.skipif(not hasattr(socket, "TCP_CORK"), reason="TCP_CORK is Linux's")
def test_what_a_driven_link_writes_while_corked_goes_out_at_the_end(broker) -> None:  # type: ignore[no-untyped-def]
    """The sequencer sends a batch's replies together: held back while corked (the kernel holds a
    partial segment up to 200 ms), sent when the block ends."""
    got: queue.Queue[bytes] = queue.Queue()
    display = make_link(broker, "display-2", DeviceRole.display)
    display.subscribe(display.topics.board_call(), lambda m: got.put(m.payload))
    server = make_link(broker, "server", DeviceRole.server, handoff=lambda task: task())
    loop = LinkLoop([server])
    server.start_driven()
    try:
        display.start()
        assert display.wait_subscribed(10) and loop.run_until(lambda: server.connected, 10)
        with loop.corked():
            server.publish_raw(server.topics.board_call(), b"first")
            server.publish_raw(server.topics.board_call(), b"second")
            with pytest.raises(queue.Empty):
                got.get(timeout=0.1)
        assert loop.run_until(lambda: got.qsize() == 2, 10)
        assert [got.get_nowait(), got.get_nowait()] == [b"first", b"second"]
    finally:
        display.stop()
        server.stop()
        loop.close()


def test_two_machines_under_one_client_id_are_said_in_the_log(
    fresh_broker, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """A kiosk's SD card copied to a second kiosk: both connect as kiosk-1, and the broker closes the
    older connection each time the other connects. Nothing else looks wrong from the device (it
    reconnects each time), so the log must say what is likely going on, once."""
    first = make_link(fresh_broker, "kiosk-1", DeviceRole.kiosk)
    copy = make_link(fresh_broker, "kiosk-1", DeviceRole.kiosk)
    with caplog.at_level(logging.INFO, logger="common.link"):
        first.start()
        assert first.wait_connected(10)
        copy.start()
        try:
            wait_for(lambda: "times in a row" in caplog.text, timeout=30)
        finally:
            copy.stop()
            first.stop()
    said = [r for r in caplog.records if "times in a row" in r.getMessage()]
    assert said and all(r.levelno == logging.ERROR for r in said)
    assert "is another machine connecting as kiosk-1 (client id khiu-" in said[0].getMessage()
    assert len(said) <= 2, "once for each of the two machines, not at every drop"
