"""SQLite keeps what it acknowledged when the server dies mid-write: the sequencer runs under heavy
writes in its own process and is SIGKILLed again and again; afterwards the database passes
`PRAGMA integrity_check` and holds every ticket whose reply was given, under its number, with numbers
still gapless (REFERENCE.md: WAL with synchronous FULL)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from common.paths import REPO_ROOT

WRITER = Path(__file__).with_name("power_loss_writer.py")
KILLS = 8


def run_until_killed(url: str, seconds: float, acks: list[tuple[str, str, str]]) -> int:
    """Start the writer, collect its acknowledgements, SIGKILL it `seconds` after its first one."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    process = subprocess.Popen(
        [sys.executable, str(WRITER), url], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert process.stdout is not None
    writing = threading.Event()
    mine: list[tuple[str, str, str]] = []

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode().split()
            if len(line) == 4 and line[0] == "ack":
                mine.append((line[1], line[2], line[3]))
                writing.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert writing.wait(120), "the writer did not start writing"
    time.sleep(seconds)
    process.send_signal(signal.SIGKILL)
    process.wait()
    reader.join(10)  # what was printed before the kill is still in the pipe
    acks.extend(mine)
    return len(mine)


def test_every_acknowledged_ticket_survives_repeated_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "khiu.db"
    url = f"sqlite:///{path}"
    acks: list[tuple[str, str, str]] = []
    rng = random.Random()
    per_round = [run_until_killed(url, rng.uniform(0.3, 1.0), acks) for _ in range(KILLS)]
    assert min(per_round) > 0, per_round

    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tickets = dict(connection.execute("SELECT id, number FROM tickets").fetchall())
        events = {row[0] for row in connection.execute("SELECT event_id FROM processed_events")}
        seqs: dict[str, list[int]] = {}
        for number, seq in connection.execute("SELECT number, seq FROM tickets WHERE seq IS NOT NULL"):
            seqs.setdefault(number[0], []).append(seq)
        counters = dict(connection.execute("SELECT prefix, last_seq FROM number_counters").fetchall())
    finally:
        connection.close()

    lost = [number for _event, ticket_id, number in acks if tickets.get(ticket_id) != number]
    assert lost == [], f"{len(lost)} acknowledged tickets missing after {KILLS} kills: {lost[:10]}"
    assert {event for event, _t, _n in acks} <= events
    assert len(acks) == len({ticket_id for _e, ticket_id, _n in acks})
    for prefix, values in seqs.items():
        assert sorted(values) == list(range(1, len(values) + 1)), f"prefix {prefix} not gapless"
        assert counters[prefix] == len(values)
    assert Counter(n[0] for _e, _t, n in acks).keys() <= seqs.keys()
    print(
        f"power loss: {KILLS} SIGKILLs under load, {len(acks)} tickets acknowledged ({per_round}), all stored"
    )
