"""Fuzz fixtures: the real sequencer on a SQLite file (in memory-backed /dev/shm when the machine has it:
the fuzz tests exercise the handlers, not the disk) and the session's case count."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.harness import CASES

SHM = Path("/dev/shm")


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory for the fuzzed database: tmpfs when there is one, else the test's tmp_path."""
    if SHM.is_dir():
        with tempfile.TemporaryDirectory(prefix="khiu-fuzz-", dir=SHM) as path:
            yield Path(path)
    else:
        yield tmp_path


@pytest.fixture(autouse=True)
def quiet_refusals() -> Iterator[None]:
    """Thousands of refusals are the point here: keep their warnings out of the captured log."""
    loggers = [logging.getLogger(name) for name in ("server.office", "server.web", "server.web.app")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CASES.total:
        parts = ", ".join(
            f"{kind} {n} ({CASES.rejected.get(kind, 0)} rejected)" for kind, n in sorted(CASES.counts.items())
        )
        terminalreporter.write_line(f"fuzz cases: {CASES.total}: {parts}")
        if CASES.notes:
            notes = ", ".join(f"{what} {n}" for what, n in sorted(CASES.notes.items()))
            terminalreporter.write_line(f"fuzz notes: {notes}")
