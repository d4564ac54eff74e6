"""Talking to a running Mosquitto from outside: ask it to reload its password file and ACL (SIGHUP via
its pid file), and check whether a login works (how we know a reload has taken effect).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import time
from pathlib import Path

from .files import BrokerFiles

log = logging.getLogger(__name__)


class BrokerError(RuntimeError):
    """Mosquitto could not be found, started, signalled or reached; the message says why and what to do."""


def running_broker_pid(files: BrokerFiles) -> int | None:
    """The pid of the Mosquitto that serves `files`, from its pid file, if it is alive."""
    try:
        pid = int(files.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        command = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    # A stale pid file may name a pid reused by another program: only signal a mosquitto.
    return pid if command == "mosquitto" else None


def reload_broker(files: BrokerFiles) -> bool:
    """Ask a running broker to re-read its password file and ACL; False when none runs.

    The reload happens on the broker's next loop turn; `wait_for_login` tells when new credentials work.
    """
    pid = running_broker_pid(files)
    if pid is None:
        log.debug("no running mosquitto for %s: nothing to reload", files.dir)
        return False
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return False
    except PermissionError as exc:
        # The files are written already: say how to apply them rather than lose the new password.
        log.warning("cannot signal mosquitto (pid %d) to reload (%s): restart the broker to apply", pid, exc)
        return False
    log.info("asked mosquitto (pid %d) to reload its passwords and ACL", pid)
    return True


def mqtt_string(text: str) -> bytes:
    """An MQTT UTF-8 string: its length in two bytes, then its bytes."""
    raw = text.encode("utf-8")
    return len(raw).to_bytes(2, "big") + raw


def remaining_length(length: int) -> bytes:
    """An MQTT packet's remaining length (a variable byte integer)."""
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def try_login(host: str, port: int, username: str, password: str, timeout: float = 2.0) -> int:
    """The CONNACK return code of an MQTT 3.1.1 login (0 accepted, 4 bad password, 5 not authorised).

    A bare CONNECT with a throwaway client id and a clean session: it disturbs no device's session.
    """
    client_id = "khiu-probe-" + secrets.token_hex(6)
    flags = 0x80 | 0x40 | 0x02  # username, password, clean session
    variable = mqtt_string("MQTT") + bytes([4, flags]) + (10).to_bytes(2, "big")
    payload = mqtt_string(client_id) + mqtt_string(username) + mqtt_string(password)
    body = variable + payload
    packet = bytes([0x10]) + remaining_length(len(body)) + body
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(packet)
        reply = b""
        while len(reply) < 4:
            chunk = conn.recv(4 - len(reply))
            if not chunk:
                raise BrokerError(f"{host}:{port} closed the connection before CONNACK")
            reply += chunk
        if reply[0] != 0x20:
            raise BrokerError(f"{host}:{port} did not answer CONNECT with CONNACK")
        if reply[3] == 0:
            with contextlib.suppress(OSError):
                conn.sendall(b"\xe0\x00")  # DISCONNECT
        return reply[3]


def wait_for_login(
    host: str, port: int, username: str, password: str, *, accepted: bool = True, timeout: float = 10.0
) -> None:
    """Wait until the broker accepts (or, with `accepted=False`, refuses) these credentials: the way to
    know a reload has taken effect."""
    deadline = time.monotonic() + timeout
    while True:
        code = try_login(host, port, username, password)
        if (code == 0) == accepted:
            return
        if time.monotonic() > deadline:
            state = "accept" if accepted else "refuse"
            raise BrokerError(f"broker at {host}:{port} did not {state} {username!r} within {timeout:.0f} s")
        time.sleep(0.02)
