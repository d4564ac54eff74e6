"""`khiu display` and `khiu admin clips generate` from the command line: arguments and files are
checked before a window opens, and a display started as an office would start it comes online."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.contract import DeviceStatus
from common.link import Inbound
from counter_display import READY
from counter_display.cli import display_options
from tests.counter_display.fake_server import FakeServer
from tests.fixtures.broker import RunningBroker

REPO = Path(__file__).resolve().parents[2]
KHIU = [sys.executable, "-m", "common.cli"]
WAIT_S = 30.0
"""Failure deadline for a Kivy process to start and connect (not a speed target)."""


def settings_file(path: Path, broker: RunningBroker, device_id: str, counter: str | None = None) -> Path:
    user, password = broker.credentials(device_id)
    role = "counter" if device_id.startswith("counter") else "display"
    lines = [
        "[mqtt]",
        f'host = "{broker.host}"',
        f"port = {broker.port}",
        f'site = "{broker.site}"',
        f'device_id = "{device_id}"',
        f'role = "{role}"',
        *([f'counter = "{counter}"'] if counter else []),
        f'username = "{user}"',
        f'password = "{password}"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def parse(*argv: str) -> object:
    from common.cli import build_parser

    return build_parser().parse_args(["display", *argv])


ARGUMENTS_PROBE = """
import sys
from common.cli import build_parser
from counter_display.cli import display_options
display_options(build_parser().parse_args(["display", *sys.argv[1:]]))
print("kivy" in sys.modules)
"""


def test_checking_the_arguments_leaves_kivy_unread(tmp_path: Path, broker: RunningBroker) -> None:
    # Kivy reads its settings (full screen, no multisampling, Escape does not quit) once, when first
    # imported; the display sets them after checking its arguments, so checking must not import it.
    settings = settings_file(tmp_path / "s.toml", broker, "display-1")
    done = subprocess.run(
        [sys.executable, "-c", ARGUMENTS_PROBE, "--mode", "board", "--settings", str(settings)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split()[-1] == "False"


def test_a_settings_file_for_another_device_is_refused(tmp_path: Path, broker: RunningBroker) -> None:
    settings = settings_file(tmp_path / "s.toml", broker, "display-1")
    with pytest.raises(Exception, match="display-1"):
        display_options(parse("--mode", "board", "--device", "display-2", "--settings", str(settings)))  # type: ignore[arg-type]


def test_a_counter_terminal_is_bound_to_its_counter(tmp_path: Path, broker: RunningBroker) -> None:
    settings = settings_file(tmp_path / "s.toml", broker, "counter-4", counter="c4")
    options = display_options(parse("--mode", "counter", "--settings", str(settings)))  # type: ignore[arg-type]
    assert options.counter == "c4"
    with pytest.raises(Exception, match="c4"):
        display_options(parse("--mode", "counter", "--counter", "c5", "--settings", str(settings)))  # type: ignore[arg-type]


def test_missing_settings_say_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KHIU_DEVICE_SETTINGS"}
    done = subprocess.run(
        [*KHIU, "display", "--mode", "board"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "--settings" in done.stderr and "khiu admin device add" in done.stderr


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_clips_generate_keeps_an_offices_own_recording(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "invite.wav").write_bytes(b"the office's own recording")
    done = subprocess.run(
        [*KHIU, "admin", "clips", "generate", "--into", str(folder), "--no-english"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (folder / "invite.wav").read_bytes() == b"the office's own recording"
    assert (folder / "digit_0.wav").stat().st_size > 1000
    assert not (folder / "en_invite.wav").exists()


@pytest.fixture
def server(fresh_broker: RunningBroker) -> Iterator[FakeServer]:
    _user, password = fresh_broker.credentials("server")
    fake = FakeServer(fresh_broker.host, fresh_broker.port, password, fresh_broker.site, counters=3)
    fake.start()
    yield fake
    fake.stop()


@pytest.mark.ui
@pytest.mark.broker
@pytest.mark.parametrize(
    ("mode", "device", "extra"), [("board", "display-1", []), ("counter", "counter-2", [])]
)
def test_a_display_started_from_the_command_line_comes_online(
    tmp_path: Path, fresh_broker: RunningBroker, server: FakeServer, mode: str, device: str, extra: list[str]
) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs the virtual display of scripts/test.sh")
    settings = settings_file(
        tmp_path / "device.toml", fresh_broker, device, counter="c2" if mode == "counter" else None
    )
    online = threading.Event()

    def on_status(inbound: Inbound) -> None:
        status = inbound.decode(expect=(DeviceStatus,))
        if isinstance(status, DeviceStatus) and status.device == device and status.online:
            online.set()

    server.link.subscribe(server.topics.device_status(device), on_status)
    process = subprocess.Popen(
        [*KHIU, "display", "--mode", mode, "--settings", str(settings), "--windowed", "--mute", *extra],
        cwd=tmp_path,
        env={**os.environ, "KHIU_DATA_DIR": str(tmp_path / "data")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    lines: list[str] = []
    drawn = threading.Event()

    def read_log() -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            lines.append(raw.decode(errors="replace"))
            if READY in lines[-1]:
                drawn.set()

    threading.Thread(target=read_log, daemon=True).start()
    try:
        if not (online.wait(WAIT_S) and drawn.wait(WAIT_S)):
            process.kill()
            process.wait(timeout=10)
            pytest.fail(f"the {mode} never came online and drew:\n{''.join(lines)[-3000:]}")
        assert process.poll() is None, "the display keeps running"
        if mode == "counter":
            assert (tmp_path / "data" / "devices" / device / "outbox.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
