"""The `khiu` command line: a device's command loads only what that device runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from common.cli import build_parser
args = build_parser(sys.argv[1:]).parse_args(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'fastapi', 'alembic', 'server'})
print(args.command, ','.join(heavy) or '-')
"""


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["kiosk", "--device", "kiosk-1"], "kiosk"),
        (["-v", "kiosk", "--device", "kiosk-1", "--mode", "survey"], "kiosk"),
        (["display", "--mode", "board", "--device", "board-1"], "display"),
    ],
)
def test_a_device_command_does_not_load_the_server(argv: list[str], command: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [command, "-"]


def test_the_full_command_line_still_knows_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "common.cli", "--help"], cwd=REPO, capture_output=True, text=True
    ).stdout
    for command in ("server", "kiosk", "display", "admin", "demo", "simulate"):
        assert command in out
