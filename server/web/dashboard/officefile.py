"""Editing the office TOML from the administration pages, through the same validation as the server's
start (`common.config`): a change that would stop the server is refused with the very messages the
server would print, naming the key, and the file is left as it was.

A save writes a new file beside the old one and renames it over (atomic: a crash leaves the old file
or the new, never half of one), after copying the old one to `<name>.bak`. Form edits go through
`tomli_w`, which writes no comments; the raw-file editor writes the administrator's own text, comments
included, once it validates. The server reads its settings at start: a saved change waits for a
restart, and the page says so."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from common.config import ConfigError, OfficeConfig, config_from_dict, config_from_toml
from common.paths import EXAMPLE_CONFIG

logger = logging.getLogger(__name__)


class OfficeFileError(Exception):
    """A change refused; `problems` are ConfigError lines (key path and what is wrong)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class FileState:
    """Whether this page may edit the file, and why not."""

    path: Path | None
    editable: bool
    reason_key: str | None = None
    """A text key saying why editing is off."""
    pending_restart: bool = False
    """The file holds saved changes the running server does not use yet."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OfficeFile:
    """The office TOML at `path`, checked against the configuration the server runs with."""

    def __init__(self, path: Path | None, running: Callable[[], OfficeConfig]) -> None:
        self.path = path
        self._running = running
        self._saved_digest: str | None = None
        """The bytes this process last wrote: its changes are ours, not someone else's."""

    def state(self) -> FileState:
        path = self.path
        if path is None:
            return FileState(None, False, "readonly_unknown")
        if path.resolve() == EXAMPLE_CONFIG.resolve():
            return FileState(path, False, "readonly_example")
        try:
            raw = path.read_bytes()
            on_disk = config_from_toml(raw.decode("utf-8"), source=path.name)
        except (OSError, UnicodeDecodeError, ConfigError):
            if self._saved_digest is not None:
                return FileState(path, True, pending_restart=True)
            return FileState(path, False, "readonly_unreadable")
        if on_disk == self._running():
            return FileState(path, True)
        if self._saved_digest == digest(raw):
            return FileState(path, True, pending_restart=True)
        return FileState(path, False, "readonly_differs")

    def text(self) -> str:
        if self.path is None:
            return ""
        return self.path.read_text("utf-8")

    def data(self) -> dict[str, Any]:
        """The file as TOML data (what a form edit changes)."""
        return tomllib.loads(self.text())

    def save_data(self, data: dict[str, Any]) -> OfficeConfig:
        """Check `data` as the server would at start; write it when it passes (comments are lost)."""
        path = self._writable()
        try:
            config = config_from_dict(data, source=path.name)
        except ConfigError as exc:
            raise OfficeFileError(exc.problems) from None
        self._replace(path, tomli_w.dumps(data).encode("utf-8"))
        return config

    def save_text(self, text: str) -> OfficeConfig:
        """Check TOML text as the server would at start; write it as typed when it passes."""
        path = self._writable()
        text = text.replace("\r\n", "\n")
        try:
            config = config_from_toml(text, source=path.name)
        except ConfigError as exc:
            raise OfficeFileError(exc.problems) from None
        self._replace(path, text.encode("utf-8"))
        return config

    def _writable(self) -> Path:
        state = self.state()
        if not state.editable or state.path is None:
            raise OfficeFileError([f"the office file cannot be edited here ({state.reason_key})"])
        return state.path

    def _replace(self, path: Path, data: bytes) -> None:
        """Keep the old file as .bak, then write the new one atomically (temp file, fsync, rename)."""
        with contextlib.suppress(FileNotFoundError):
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp_name, path.stat().st_mode & 0o777)
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        self._saved_digest = digest(data)
        logger.info("office file %s saved (%d bytes); the server uses it after a restart", path, len(data))


# ------------------------------------------------------------------------------------------ form helpers


def find_index(entries: list[dict[str, Any]], key: str, value: str) -> int | None:
    """The position of the table whose `key` is `value` in an array of tables."""
    return next((i for i, entry in enumerate(entries) if entry.get(key) == value), None)


def as_int(value: str) -> int | str:
    """A form's number as an int; anything else is passed on as typed, for validation to name it."""
    stripped = value.strip()
    try:
        return int(stripped)
    except ValueError:
        return stripped


def lines(value: str) -> list[str]:
    """A textarea, one entry per non-empty line."""
    return [line.strip() for line in value.splitlines() if line.strip()]
