"""The README's front door: `khiu demo` brings up a whole office on this machine (broker, server with its
web app, kiosk, hall board, counter terminal, simulated traffic) and tickets flow from kiosk to counter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
