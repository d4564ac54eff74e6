"""Settings of the web app: where its secrets live, how long a session lasts, how many wrong passwords
are allowed. Secrets come from the environment or from files in the data directory, never from the
repository; the app refuses to start with a short or placeholder secret."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common.paths import data_dir

logger = logging.getLogger(__name__)

SECRET_ENV = "KHIU_WEB_SECRET"
MIN_SECRET_CHARS = 32
_PLACEHOLDERS = frozenset({"changeme", "change-me", "secret", "changethis", "please-change"})


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WebSettingsError(ValueError):
    """The web app cannot start with these settings; the message says what to change."""


@dataclass(frozen=True, slots=True)
class WebSettings:
    """What the web app needs besides the office. `web_dir` holds its secret key and the one-time setup
    token (`<data dir>/web` by default)."""

    web_dir: Path
    secret_key: str
    secure_cookies: bool | None = None
    """True: always mark cookies `Secure`; False: never; None: when the request came over HTTPS."""
    session_idle: dt.timedelta = dt.timedelta(hours=8)
    """A console left untouched this long asks for the password again (the live list keeps it alive)."""
    session_max_age: dt.timedelta = dt.timedelta(hours=14)
    """A working day and a bit: after this even an active session logs in again."""
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 20
    """An office LAN often puts several staff PCs behind one address: allow more per address."""
    login_window: dt.timedelta = dt.timedelta(minutes=15)
    """Failures older than this are forgotten."""
    login_lockout: dt.timedelta = dt.timedelta(minutes=5)
    """After too many failures, the wait before the next try."""
    poll_seconds: int = 4
    """How often the console's live list asks for fresh state."""
    command_timeout_s: float = 10.0
    """How long a request waits for the sequencer's answer before telling staff to try again."""
    clock: Callable[[], dt.datetime] = field(default=utcnow, repr=False)

    def __post_init__(self) -> None:
        key = self.secret_key.strip()
        if len(key) < MIN_SECRET_CHARS or key.casefold() in _PLACEHOLDERS:
            raise WebSettingsError(
                f"the web secret key must be at least {MIN_SECRET_CHARS} random characters: unset "
                f"{SECRET_ENV} to let Khiu create one in {self.web_dir}, or set it to the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )

    @classmethod
    def from_data_dir(cls, base: Path | None = None, **overrides: object) -> WebSettings:
        """Settings for a real office: the key from `$KHIU_WEB_SECRET`, else from `<data dir>/web/secret.key`
        (created on first start, readable by the owner only)."""
        web_dir = (base or data_dir()) / "web"
        key = os.environ.get(SECRET_ENV) or _file_secret(web_dir / "secret.key")
        return cls(web_dir=web_dir, secret_key=key, **overrides)  # type: ignore[arg-type]


def _file_secret(path: Path) -> str:
    """The key kept in `path`, made on first use. Sessions survive a restart because the key does."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    logger.info("created the web secret key in %s", path)
    return key
