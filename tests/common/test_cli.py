"""The `khiu` command line: a device's command loads only what that device runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.kivy_env import DEVICE_KIVY_ENV, set_device_kivy_env

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


KIVY_PROBE = """
from common.kivy_env import set_device_kivy_env
set_device_kivy_env()
from kivy.config import Config
print(Config.getint("graphics", "multisamples"), Config.getint("kivy", "exit_on_escape"))
"""


def test_a_screen_makes_kivys_home_before_kivy_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Kivy checks, then makes it: two screens starting together raced, and one stopped.
    home = tmp_path / "shared" / "kivy"
    monkeypatch.setenv("KIVY_HOME", str(home))
    for key, value in DEVICE_KIVY_ENV.items():  # restored after the test
        monkeypatch.setenv(key, os.environ.get(key, value))
    set_device_kivy_env()
    assert (home / "mods").is_dir()
    set_device_kivy_env()  # the second screen finds it there


@pytest.mark.parametrize(("office_setting", "expected"), [(None, "0 0"), ("2", "2 0")])
def test_kivy_reads_our_device_settings_and_the_office_can_override_them(
    tmp_path: Path, office_setting: str | None, expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCFG_")}
    env["KIVY_HOME"] = str(tmp_path)
    if office_setting is not None:
        env["KCFG_GRAPHICS_MULTISAMPLES"] = office_setting
    out = subprocess.run(
        [sys.executable, "-c", KIVY_PROBE], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out.splitlines()[-1] == expected
