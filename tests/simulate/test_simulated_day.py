"""A short simulated office day against a real Mosquitto and the real server (its own process, on a
fresh SQLite file): what a manager would check the next morning."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from common.contract import Catalog, ServerStatus
from common.link import Inbound, MqttLink
from common.paths import REPO_ROOT
from common.vocabulary import DeviceRole
from server.simulation import SimulatorSettings, run_simulation
from server.simulation.office import always_open_office, write_office
from server.simulation.summary import numbering_problems
from tests.fixtures.broker import RunningBroker

pytestmark = pytest.mark.broker

KIOSKS = ("kiosk-1", "kiosk-2", "kiosk-3")
COUNTERS = {"counter-1": "c1", "counter-2": "c2", "counter-3": "c3", "counter-4": "c4"}
SURVEYS = ("survey-1", "survey-2")


def wait_until_serving(broker: RunningBroker, server: subprocess.Popen[bytes], log: Path) -> None:
    """Until the server's retained status says online and its catalog is there."""
    seen: set[str] = set()
    ready = threading.Event()

    def on_message(inbound: Inbound) -> None:
        message = inbound.decode()
        if isinstance(message, ServerStatus) and message.online:
            seen.add("online")
        if isinstance(message, Catalog):
            seen.add("catalog")
        if seen == {"online", "catalog"}:
            ready.set()

    user, password = broker.credentials("display-3")
    link = MqttLink(
        host=broker.host,
        port=broker.port,
        username=user,
        password=password,
        site=broker.site,
        device_id=user,
        role=DeviceRole.display,
        handoff=lambda task: task(),
    )
    link.subscribe(link.topics.server_status(), on_message)
    link.subscribe(link.topics.catalog(), on_message)
    link.start()
    try:
        deadline = time.monotonic() + 60
        while not ready.wait(0.2):
            if server.poll() is not None:
                pytest.fail(f"the server exited ({server.returncode}):\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not come up:\n{log.read_text()[-3000:]}")
    finally:
        link.stop(publish_offline=False)


@pytest.fixture
def office(fresh_broker: RunningBroker, tmp_path: Path) -> Iterator[tuple[RunningBroker, str]]:
    """The real server, as an office runs it, on a fresh SQLite file; yields the broker and the URL."""
    config = write_office(
        tmp_path / "office.toml",
        always_open_office(
            site=fresh_broker.site,
            counters=len(COUNTERS),
            kiosks=KIOSKS,
            counter_terminals=COUNTERS,
            surveys=SURVEYS,
            displays=("display-1", "display-2", "display-3"),
        ),
    )
    url = f"sqlite:///{tmp_path / 'khiu.db'}"
    password_file = tmp_path / "server.password"
    password_file.write_text(fresh_broker.credentials("server")[1])
    password_file.chmod(0o600)
    log = tmp_path / "server.log"
    command = [
        sys.executable,
        "-m",
        "common.cli",
        "server",
        "--config",
        str(config),
        "--database-url",
        url,
        "--mqtt-host",
        fresh_broker.host,
        "--mqtt-port",
        str(fresh_broker.port),
        "--username",
        "server",
        "--password-file",
        str(password_file),
        # A port of its own: a fixed one (8000) may be held by another server on this machine.
        "--http-host",
        "127.0.0.1",
        "--http-port",
        "0",
    ]
    env = dict(os.environ, KHIU_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO_ROOT))
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=out, env=env, cwd=tmp_path)
    try:
        wait_until_serving(fresh_broker, server, log)
        yield fresh_broker, url
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_a_short_day_every_request_answered_once_numbers_gapless(office: tuple[RunningBroker, str]) -> None:
    broker, url = office
    devices = [*KIOSKS, *COUNTERS, *SURVEYS]
    settings = SimulatorSettings(
        host=broker.host,
        port=broker.port,
        site=broker.site,
        credentials={d: broker.credentials(d)[1] for d in devices},
        kiosks=KIOSKS,
        counters=COUNTERS,
        surveys=SURVEYS,
        speed=None,
        tickets=120,
        seed=20261126,
        day=dt.date(2026, 11, 26),
        reply_grace_s=20,
    )
    summary = run_simulation(settings)
    report = json.dumps(summary.as_dict(), ensure_ascii=False, indent=1)

    # The contract held: every request got exactly one reply (a resend may bring the same one again).
    assert summary.requests_sent > summary.tickets_requested
    assert summary.replies_missing == 0, report
    assert summary.replies_conflicting == 0, report
    assert summary.stopped_early is None, report
    assert summary.tickets_requested == 120
    assert summary.tickets_issued == 120, report
    assert summary.numbering == [], report

    # The day happened: counters served people with the outcome of each service's kind, some never came
    # back, some rated the service and the ratings were accepted.
    assert summary.served_total >= 90, report
    assert {"completed", "forwarded"} <= set(summary.served), report
    assert summary.calls >= summary.served_total
    assert summary.surveys_accepted >= 20, report
    assert summary.surveys_accepted == summary.surveys_sent, report
    assert summary.left_waiting == 0, report

    # And the server's database says the same.
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tickets = conn.execute(sa.text("SELECT number, state, counter, outcome FROM tickets")).all()
            ratings = conn.execute(sa.text("SELECT count(*) FROM survey_responses")).scalar_one()
    finally:
        engine.dispose()
    numbers = [t.number for t in tickets]
    assert len(numbers) == 120
    assert numbering_problems(numbers) == []
    states = Counter(t.state for t in tickets)
    assert states["done"] == summary.served_total, states
    assert states["no_show"] == summary.no_show, states
    served_by = Counter(t.counter for t in tickets if t.state == "done")
    assert set(served_by) == set(COUNTERS.values()), served_by
    assert ratings == summary.surveys_accepted
