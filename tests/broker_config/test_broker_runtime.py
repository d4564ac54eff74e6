"""The broker as it runs: TLS for the LAN, persistence across a crash, `khiu broker` itself, a start
that fails with Mosquitto's own words, and the shipped bridge example joining two brokers."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import broker_config
from broker_config.conf import BrokerSettings
from broker_config.control import BrokerError, running_broker_pid, try_login
from broker_config.devices import add_devices
from broker_config.files import BrokerFiles
from broker_config.registry import Device
from broker_config.runner import start_mosquitto, stop_mosquitto
from common.topics import Topics
from tests.broker_config.broker_probe import Probe, unique
from tests.broker_config.test_broker_tooling import khiu
from tests.fixtures.broker import RunningBroker, free_port, launch_broker

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBroker]:
    running = launch_broker(Path(tmp_path_factory.mktemp("tls-broker")), tls=True)
    yield running
    running.stop()


def test_a_device_that_trusts_our_ca_talks_over_tls(tls_broker: RunningBroker) -> None:
    assert tls_broker.tls_port is not None and tls_broker.ca_file is not None
    topics = Topics(tls_broker.site)
    display = Probe(
        "127.0.0.1", tls_broker.tls_port, *tls_broker.credentials("display-1"), ca_file=tls_broker.ca_file
    )
    server = Probe(
        "127.0.0.1", tls_broker.tls_port, *tls_broker.credentials("server"), ca_file=tls_broker.ca_file
    )
    try:
        assert display.connect() == 0
        assert server.connect() == 0
        assert display.subscribe(topics.board_call()) == [1]
        call = unique("call")
        assert server.publish(topics.board_call(), call) == 0
        assert display.wait_for(call)
    finally:
        display.close()
        server.close()


def test_a_client_without_our_ca_cannot_connect_over_tls(tls_broker: RunningBroker) -> None:
    assert tls_broker.tls_port is not None
    stranger = Probe("127.0.0.1", tls_broker.tls_port, *tls_broker.credentials("display-1"))
    # The system's CAs only: our private CA is not among them.
    stranger.client.tls_set(tls_version=ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(ssl.SSLCertVerificationError):
        stranger.connect()


def test_tls_does_not_replace_the_password(tls_broker: RunningBroker) -> None:
    assert tls_broker.tls_port is not None
    probe = Probe("127.0.0.1", tls_broker.tls_port, "display-1", "wrong", ca_file=tls_broker.ca_file)
    assert probe.connect() in {134, 135}


def test_a_queued_message_survives_a_broker_crash(fresh_broker: RunningBroker) -> None:
    """A display is off; the server's call is acknowledged by the broker and saved in its snapshot; the
    broker is killed; after the restart the display comes back and still gets the call."""
    topics = Topics(fresh_broker.site)
    display_login = fresh_broker.credentials("display-1")

    def display() -> Probe:
        return Probe(
            fresh_broker.host,
            fresh_broker.port,
            *display_login,
            client_id="display-1-board",
            clean_start=False,
            session_expiry_s=3600,
        )

    first = display()
    assert first.connect() == 0
    assert first.subscribe(topics.board_call()) == [1]
    first.close()

    server = Probe(fresh_broker.host, fresh_broker.port, *fresh_broker.credentials("server"))
    assert server.connect() == 0
    call = unique("call-A012")
    assert server.publish(topics.board_call(), call) == 0
    acknowledged = time.time_ns()
    server.close()
    # The broker takes a snapshot once a second: what it acknowledged before the snapshot survives. What it
    # acknowledged since is lost with it; devices' outboxes resend that (tests/common/test_link.py).
    fresh_broker.wait_saved(since_ns=acknowledged)

    fresh_broker.kill()
    fresh_broker.start()

    back = display()
    try:
        assert back.connect() == 0
        assert back.wait_for(call), "the call acknowledged before the crash was lost"
    finally:
        back.close()


def test_khiu_broker_starts_a_broker_devices_can_log_in_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert khiu(["admin", "device", "add", "server", "--role", "server", "--site", "test-office", *data]) == 0
    password = capsys.readouterr().out.split('password = "')[1].split('"')[0]
    port = free_port()
    code = khiu(["broker", "--port", str(port), "--no-tls", *data])
    out = capsys.readouterr().out
    started = re.search(r"pid (\d+)", out)
    try:
        assert code == 0
        assert "broker ทำงานแล้ว" in out
        assert started is not None
        pid = int(started[1])
        assert running_broker_pid(BrokerFiles.for_data_dir(tmp_path)) == pid
        assert try_login("127.0.0.1", port, "server", password) == 0
        # A second start finds the first instead of fighting over the port.
        assert khiu(["broker", "--port", str(port), "--no-tls", *data]) == 0
        assert f"pid {pid}" in capsys.readouterr().out
    finally:
        if started is not None:
            os.kill(int(started[1]), signal.SIGTERM)


def test_a_broker_that_cannot_start_says_why(tmp_path: Path) -> None:
    files = BrokerFiles.for_data_dir(tmp_path)
    add_devices(files, [Device.create("server", "server")], site="test-office")
    files.include_dir.mkdir()
    (files.include_dir / "typo.conf").write_text("listnner 1884\n")
    with pytest.raises(BrokerError, match="listnner"):
        start_mosquitto(tmp_path, free_port())


def test_a_taken_port_is_reported_before_starting(broker: RunningBroker, tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match=str(broker.port)):
        start_mosquitto(tmp_path, broker.port)


def test_the_bridge_example_joins_an_office_to_the_centre(tmp_path: Path) -> None:
    """Filled in as an operator would, the shipped example carries khiu/<site>/# both ways over TLS,
    each message once."""
    with contextlib.ExitStack() as cleanup:
        central = launch_broker(tmp_path / "central", tls=True)
        cleanup.callback(central.stop)
        office_files = BrokerFiles.for_data_dir(tmp_path / "office")
        (office_server,) = add_devices(office_files, [Device.create("server", "server")], site="test-office")
        _, bridge_password = central.add_device("bridge-test-office", "server")
        office_files.include_dir.mkdir(parents=True)
        assert central.ca_file is not None and central.tls_port is not None
        shutil.copy(central.ca_file, office_files.include_dir / "central-ca.crt")
        example = (Path(broker_config.__file__).parent / "bridge.conf.example").read_text()
        filled = (
            example.replace("<central.example.go.th>:8883", f"127.0.0.1:{central.tls_port}")
            .replace("<password given by the central administrator>", bridge_password)
            .replace("<site>", "test-office")
            .replace("{data_dir}", str(tmp_path / "office"))
        )
        settings_lines = [line for line in filled.splitlines() if not line.startswith("#")]
        assert not [line for line in settings_lines if "<" in line or "{" in line], "a placeholder is left"
        (office_files.include_dir / "bridge.conf").write_text(filled)
        office_port = free_port()
        office = start_mosquitto(tmp_path / "office", office_port, settings=BrokerSettings(tls_port=None))
        cleanup.callback(stop_mosquitto, office)
        topics = Topics("test-office")
        at_centre = Probe(central.host, central.port, *central.credentials("server"))
        cleanup.callback(at_centre.close)
        at_office = Probe("127.0.0.1", office_port, "server", office_server.password)
        cleanup.callback(at_office.close)
        assert at_centre.connect() == 0 and at_office.connect() == 0
        assert at_centre.subscribe("khiu/#") == [1]
        assert at_office.subscribe("khiu/#") == [1]
        # The bridge connects on its own schedule: resend a hello until one crosses (no fixed sleep).
        for _ in range(100):
            hello = unique("link-up")
            assert at_office.publish(topics.board_state(), hello) == 0
            if at_centre.wait_for(hello, timeout=0.2):
                break
        else:
            pytest.fail("the bridge never carried a message to the centre")

        upward, downward = unique("up"), unique("down")
        assert at_office.publish(topics.board_state(), upward) == 0
        assert at_centre.publish(topics.catalog(), downward) == 0
        assert at_centre.wait_for(upward)
        assert at_office.wait_for(downward)
        # Anything published after them arrives after any copy of them would have.
        barrier = unique("barrier")
        assert at_office.publish(topics.board_state(), barrier) == 0
        assert at_centre.publish(topics.catalog(), barrier) == 0
        assert at_centre.wait_for(barrier) and at_office.wait_for(barrier)
        assert sum(p == upward for _, p in at_centre.received) == 1, "a message looped over the bridge"
        assert sum(p == downward for _, p in at_office.received) == 1, "a message looped over the bridge"
