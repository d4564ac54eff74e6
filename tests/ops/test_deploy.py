"""deploy/ and docs/operations.md stay true to the code: every `khiu` command a unit runs or the
operations guide tells an operator to type is one the command line accepts; the units' variables are in
the example environment file; the runtime packages are the project's own."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from common.cli import build_parser
from common.paths import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("khiu-*.*"))
OPERATIONS = REPO_ROOT / "docs" / "operations.md"
INSTALL_ONLY = {"python3-venv", "python3-pip", "cage", "usbutils"}
"""Runtime packages the development list does not need: the venv tools (bootstrap.sh checks the module
itself), the kiosk compositor and lsusb."""
SAMPLE_ENV = {
    "KHIU_BROKER_ARGS": "",
    "KHIU_SERVER_ARGS": "",
    "KHIU_KIOSK_ARGS": "--mode survey",
    "KHIU_DISPLAY_ARGS": "--mode board",
    "KHIU_DEVICE": "kiosk-1",
}
SUBCOMMANDS = ("admin", "server", "kiosk", "display", "broker", "simulate", "demo", "chaos")
_COMMAND = re.compile(r"(?:^|[\s/`])khiu ((?:" + "|".join(SUBCOMMANDS) + r")\b[^|>`\n]*)")
"""`khiu <subcommand> ...` up to a pipe, a redirection, the end of a code span or of the line."""


def accepts(argv: list[str]) -> None:
    """Fail with the words argparse prints when `khiu` would refuse `argv`."""
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"khiu {' '.join(argv)} is refused (exit {exc.code})")


def expand(command: str) -> list[str]:
    for name, value in SAMPLE_ENV.items():
        command = command.replace("${" + name + "}", value).replace("$" + name, value)
    return shlex.split(command)


def exec_lines(unit: Path) -> list[str]:
    """The commands a unit runs, without systemd's prefixes ("-": a failure does not stop the unit)."""
    return [
        line.split("=", 1)[1].lstrip("-@:+!")
        for line in unit.read_text("utf-8").splitlines()
        if line.startswith(("ExecStart=", "ExecReload="))
    ]


def test_the_nightly_purge_runs_even_when_the_backup_fails() -> None:
    """systemd stops a oneshot unit at its first failing command: a backup refused for want of space
    would keep the purge (PDPA's deletions, and the room it frees) from ever running."""
    starts = [
        line.split("=", 1)[1]
        for line in (DEPLOY / "systemd" / "khiu-maintenance.service").read_text("utf-8").splitlines()
        if line.startswith("ExecStart=")
    ]
    assert [s.split()[-1] for s in starts] == ["backup", "purge"]
    assert starts[0].startswith("-/") and not starts[1].startswith("-"), starts


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_every_unit_runs_a_command_khiu_accepts(unit: Path) -> None:
    text = unit.read_text("utf-8")
    if unit.suffix == ".timer":
        assert (DEPLOY / "systemd" / unit.name.replace(".timer", ".service")).exists()
        return
    assert "EnvironmentFile=/etc/khiu/khiu.env" in text and "User=khiu" in text
    starts = [line for line in exec_lines(unit) if "khiu " in line]
    assert starts, f"{unit.name} starts no khiu command"
    for line in starts:
        words = expand(line)
        program = next(i for i, word in enumerate(words) if word.endswith("/khiu"))
        assert words[program] == "/opt/khiu/venv/bin/khiu"
        accepts(words[program + 1 :])


def test_the_example_environment_names_every_variable_the_units_use() -> None:
    example = (DEPLOY / "khiu.env.example").read_text("utf-8")
    defined = set(re.findall(r"^#?([A-Z_]+)=", example, re.MULTILINE))
    used = {name for unit in UNITS for name in re.findall(r"\$\{?([A-Z_]+)\}?", unit.read_text("utf-8"))}
    used.discard("MAINPID")
    assert used <= defined, used - defined
    assert {"KHIU_CONFIG", "KHIU_DATA_DIR"} <= defined


def test_runtime_packages_are_the_projects_own() -> None:
    def listed(path: Path) -> set[str]:
        lines = path.read_text("utf-8").splitlines()
        return {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}

    runtime = listed(DEPLOY / "debian-runtime-packages.txt")
    development = listed(REPO_ROOT / "scripts" / "debian-packages.txt")
    assert runtime - INSTALL_ONLY <= development, (runtime - INSTALL_ONLY) - development


def test_the_install_script_is_valid_shell_and_installs_every_unit() -> None:
    subprocess.run(["bash", "-n", str(DEPLOY / "install.sh")], check=True)
    script = (DEPLOY / "install.sh").read_text("utf-8")
    assert '"$here"/systemd/*.service "$here"/systemd/*.timer' in script


def test_every_khiu_command_in_the_operations_guide_is_accepted() -> None:
    text = OPERATIONS.read_text("utf-8")
    commands = [shlex.split(m.group(1).replace("\\", " ")) for m in _COMMAND.finditer(text)]
    # `khiu kiosk` alone, in a sentence, names the program; a command line has arguments.
    commands = [words for words in commands if len(words) > 1]
    assert len(commands) >= 15, commands
    for words in commands:
        accepts(words)


def test_the_guide_names_every_unit() -> None:
    text = OPERATIONS.read_text("utf-8")
    for unit in UNITS:
        assert unit.stem in text, unit.name
