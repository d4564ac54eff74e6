"""Mosquitto 2.0 password file: one `username:$7$iterations$salt$hash` line per device, where the hash is
PBKDF2-HMAC-SHA512 over a 12-byte salt, base64-encoded, exactly as `mosquitto_passwd -b` writes it.

Done in Python so an office server without the `mosquitto-clients` package can still manage devices.
The iteration count is Mosquitto's own default (101): the broker runs PBKDF2 on every CONNECT, and our
passwords are 256-bit random tokens, so a slow hash would cost reconnect storms and buy no safety.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

PBKDF2_ITERATIONS = 101
"""What `mosquitto_passwd` 2.0 uses; the broker reads the count from each line, so it may be raised."""

SALT_BYTES = 12
HASH_BYTES = 64


def new_password() -> str:
    """A fresh device password: 32 random bytes, URL-safe text (no characters a TOML file would escape).

    It never starts with `-`: a password like `-x…` is read as an option by command-line tools
    (`mosquitto_pub -P`, our own `--password`): about one in 64 would. A leading `_` is avoided too.
    """
    while True:
        password = secrets.token_urlsafe(32)
        if password[0].isalnum():
            return password


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """The `$7$…` hash Mosquitto 2.0 accepts for `password`."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, HASH_BYTES)
    return "$7${}${}${}".format(
        iterations,
        base64.b64encode(salt).decode("ascii"),
        base64.b64encode(digest).decode("ascii"),
    )


def verify_password(password: str, hashed: str) -> bool:
    """True when `password` matches a `$7$` line hash (used by tests and `device list` sanity checks)."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    iterations, salt_b64, digest_b64 = int(parts[2]), parts[3], parts[4]
    salt = base64.b64decode(salt_b64)
    expected = base64.b64decode(digest_b64)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, len(expected))
    return hmac.compare_digest(digest, expected)


def parse_passwd(text: str) -> dict[str, str]:
    """`{username: hash}` from password file text; blank lines and `#` comments are skipped."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        username, hashed = line.split(":", 1)
        entries[username] = hashed
    return entries


def render_passwd(entries: Mapping[str, str]) -> str:
    """Password file text, one line per user, sorted so the file diffs cleanly."""
    return "".join(f"{username}:{entries[username]}\n" for username in sorted(entries))
