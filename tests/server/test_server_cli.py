"""`khiu server` as an office runs it: a process that says what it started, survives SIGKILL without losing
a ticket (requests sent while it is down are answered when it is back), and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from common.contract import CounterCommand, CounterState, TicketIssued, TicketRequest, decode
from common.topics import Topics
from common.vocabulary import CounterAction
from server.cli import ALREADY_RUNNING_EXIT
from server.store import Store
from server.store.database import schema_is_current
from server.store.lock import ServerLock
from tests.server.mqtt_helpers import Device
from tests.server.office_helpers import SITE, office_dict

pytestmark = pytest.mark.broker

T = Topics(SITE)


def khiu(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "common.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def server_files(tmp_path: Path, fresh_broker: Any) -> Iterator[tuple[list[str], dict[str, str]]]:
    config = tmp_path / "office.toml"
    config.write_text(tomli_w.dumps(office_dict()), encoding="utf-8")
    password = tmp_path / "server.pass"
    password.write_text(fresh_broker.credentials("server")[1] + "\n", encoding="utf-8")
    args = [
        "server",
        "--config",
        str(config),
        "--database-url",
        f"sqlite:///{tmp_path / 'khiu.db'}",
        "--mqtt-host",
        fresh_broker.host,
        "--mqtt-port",
        str(fresh_broker.port),
        "--password-file",
        str(password),
        "--no-web",
    ]
    env = {**os.environ, "KHIU_DATA_DIR": str(tmp_path / "data")}
    yield args, env


def test_migrate_brings_an_empty_database_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    process = khiu("admin", "migrate", "--database-url", url, env=dict(os.environ))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    store = Store(url)
    try:
        assert schema_is_current(store.engine)
    finally:
        store.close()


def test_migrate_leaves_the_schema_of_a_running_server_alone(tmp_path: Path) -> None:
    """An upgrade's install runs `khiu admin migrate` while the old server still serves: a schema
    changed under it could break it mid-day. It says so and leaves the database to the server's restart."""
    url = f"sqlite:///{tmp_path / 'office.db'}"
    running = ServerLock(url)
    running.acquire()
    try:
        process = khiu("admin", "migrate", "--database-url", url, env=dict(os.environ))
        output, _ = process.communicate(timeout=60)
    finally:
        running.release()
    assert process.returncode == ALREADY_RUNNING_EXIT, output
    assert "another Khiu server is running" in output and "restart khiu-server" in output
    store = Store(url)
    try:
        assert not schema_is_current(store.engine)
    finally:
        store.close()


def test_server_process_survives_a_kill_and_stops_cleanly(
    fresh_broker: Any, server_files: tuple[list[str], dict[str, str]]
) -> None:
    args, env = server_files
    kiosk = Device(fresh_broker, "kiosk-1", [T.ticket_reply("kiosk-1")])
    counter = Device(fresh_broker, "counter-1", [T.counter_reply("c1")])
    watcher = Device(fresh_broker, "display-1", [T.server_status(), T.counter_state("c1")])

    def online() -> bool | None:
        statuses = watcher.on(T.server_status())
        return decode(statuses[-1]).online if statuses else None  # type: ignore[union-attr]

    def replies() -> list[Any]:
        return kiosk.messages(T.ticket_reply("kiosk-1"))

    server = khiu(*args, env=env)
    try:
        watcher.wait(lambda: online() is True)
        for _ in range(3):
            kiosk.send(T.ticket_request("kiosk-1"), TicketRequest(service="reg"))
        # The tickets first: the server takes what two devices send in no particular order.
        kiosk.wait(lambda: len(replies()) == 3)
        counter.send(T.counter_command("c1"), CounterCommand(action=CounterAction.open, staff="สมศรี"))
        counter.send(T.counter_command("c1"), CounterCommand(action=CounterAction.call_next))
        counter.wait(lambda: len(counter.on(T.counter_reply("c1"))) == 2)

        server.send_signal(signal.SIGKILL)
        server.wait(30)
        watcher.wait(lambda: online() is False)  # the will
        # requests made while the server is down wait in its session at the broker
        for _ in range(2):
            kiosk.send(T.ticket_request("kiosk-1"), TicketRequest(service="reg"))

        watcher.clear()
        server = khiu(*args, env=env)
        watcher.wait(lambda: online() is True)
        kiosk.wait(lambda: len(replies()) == 5)
        assert [r.number for r in replies() if isinstance(r, TicketIssued)] == [
            f"A00{i}" for i in range(1, 6)
        ]
        watcher.wait(lambda: bool(watcher.on(T.counter_state("c1"))))
        state = watcher.messages(T.counter_state("c1"))[-1]
        assert isinstance(state, CounterState) and state.open and state.staff == "สมศรี"
        assert state.current is not None and state.current.number == "A001"

        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
        assert server.returncode == 0, output
        assert "server of test-office started" in output and "server stopped" in output
        watcher.wait(lambda: online() is False)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for device in (kiosk, counter, watcher):
            device.close()


def test_a_second_server_process_stops_with_a_message_and_the_first_serves_on(
    fresh_broker: Any, server_files: tuple[list[str], dict[str, str]]
) -> None:
    """The service runs; someone starts `khiu server` by hand with the same settings. The second says
    who holds the database and exits with its own status, without a traceback; the first's connection
    to the broker is not taken over, and it answers as before."""
    args, env = server_files
    kiosk = Device(fresh_broker, "kiosk-1", [T.ticket_reply("kiosk-1")])
    watcher = Device(fresh_broker, "display-1", [T.server_status()])
    first = khiu(*args, env=env)
    try:
        watcher.wait(lambda: any(decode(p).online for p in watcher.on(T.server_status())))  # type: ignore[union-attr]
        watcher.clear()
        second = khiu(*args, env=env)
        output, _ = second.communicate(timeout=60)
        assert second.returncode == ALREADY_RUNNING_EXIT, output
        assert f"another Khiu server is running on {args[4].removeprefix('sqlite:///')}" in output
        assert f"process {first.pid} on " in output and "Traceback" not in output

        kiosk.send(T.ticket_request("kiosk-1"), TicketRequest(service="reg"))
        kiosk.wait(lambda: bool(kiosk.on(T.ticket_reply("kiosk-1"))))
        reply = kiosk.messages(T.ticket_reply("kiosk-1"))[-1]
        assert isinstance(reply, TicketIssued) and reply.number == "A001"
        statuses = [decode(p) for p in watcher.on(T.server_status())]
        assert all(s.online for s in statuses), statuses  # no will of a connection taken over

        first.send_signal(signal.SIGTERM)
        output, _ = first.communicate(timeout=60)
        assert first.returncode == 0 and "disconnected from broker" not in output, output
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        kiosk.close()
        watcher.close()
