"""The README's front door: `khiu demo` brings up a whole office on this machine (broker, server with its
web app, kiosk, hall board, counter terminal, simulated traffic) and tickets flow from kiosk to counter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.store.lock import ServerLock

pytestmark = [pytest.mark.broker, pytest.mark.ui]


def test_demo_runs_a_whole_office(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "common.cli",
            "demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--duration",
            "30",
            "--check",
            "--http-port",
            "0",
            "--mqtt-port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    for part in ("broker", "server", "screens", "traffic", "OK: the office worked end to end"):
        assert part in out
    logs = tmp_path / "demo" / "logs"
    assert {p.name for p in logs.iterdir()} >= {"server.log", "kiosk.log", "board.log", "counter.log"}


def test_a_second_demo_in_the_same_folder_stops_before_rewriting_the_first_ones_files(tmp_path: Path) -> None:
    """`make demo` typed again in another terminal: it would rewrite the running demo's office file and
    broker passwords, and its server would be refused the database. It says so and stops instead."""
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    running = ServerLock(f"sqlite:///{demo_dir / 'khiu.db'}")  # the first demo's server
    running.acquire()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "common.cli", "demo", "--data-dir", str(demo_dir), "--duration", "5"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        running.release()
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"another demo runs in {demo_dir}: stop it (Ctrl-C) or pass --data-dir" in done.stdout
    assert not (demo_dir / "office.toml").exists() and not (demo_dir / "broker").exists()
