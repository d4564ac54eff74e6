"""Running Mosquitto with our configuration: render it, start Mosquitto, wait until it accepts
connections, stop it.

Used by `khiu broker`, the demo and the test fixture (tests/fixtures/broker.py).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from common.link import port_open

from .conf import BrokerSettings, write_config
from .control import BrokerError
from .devices import sync_security_files
from .files import BrokerFiles

log = logging.getLogger(__name__)

MOSQUITTO_CANDIDATES: tuple[str, ...] = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str:
    """Path of the `mosquitto` binary ($KHIU_MOSQUITTO, PATH, then where Debian puts it)."""
    override = os.environ.get("KHIU_MOSQUITTO")
    if override:
        return override
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in MOSQUITTO_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BrokerError(
        "ไม่พบโปรแกรม mosquitto / mosquitto not found: install it (apt-get install mosquitto) "
        "or set KHIU_MOSQUITTO to its path"
    )


def _client_host(bind: str) -> str:
    """Where a local client reaches a listener bound to `bind`."""
    if bind in {"", "*", "0.0.0.0"}:
        return "127.0.0.1"
    if bind == "::":
        return "::1"
    return bind


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Mosquitto sets SO_REUSEADDR too: a port in TIME_WAIT after a kill counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _log_tail(path: Path, start: int, limit: int = 4000) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            return handle.read().decode("utf-8", "replace")[-limit:].strip()
    except OSError:
        return ""


def prepare_broker(files: BrokerFiles, settings: BrokerSettings) -> Path:
    """Bring `passwd` and `acl` in line with the registry and write `mosquitto.conf`; its path."""
    sync_security_files(files)
    return write_config(files, settings)


def check_port_free(port: int, bind: str) -> None:
    """Raise BrokerError, in words an operator can act on, when the listener's port is taken."""
    if not _port_free(bind if bind not in {"", "*"} else "0.0.0.0", port):
        raise BrokerError(
            f"พอร์ต {port} ถูกใช้อยู่ / port {port} on {bind or '*'} is already in use "
            "(another broker? Debian's own mosquitto service listens on 1883: "
            "`systemctl disable --now mosquitto`, or pick another port with --port)"
        )


def start_mosquitto(
    data_dir: Path | None = None,
    port: int = 1883,
    bind: str = "127.0.0.1",
    *,
    settings: BrokerSettings | None = None,
    timeout: float = 15.0,
    detach: bool = False,
) -> subprocess.Popen[bytes]:
    """Render the configuration for `data_dir` and start Mosquitto; return once its plain listener
    accepts connections. Mosquitto's log goes to `{broker_dir}/mosquitto.log`.

    `settings` overrides everything but `port` and `bind`; with `detach` the broker gets its own session
    and outlives this process (`khiu broker` without --foreground). Raises BrokerError with Mosquitto's
    own words when it exits during start or the port is taken.
    """
    settings = dataclasses.replace(settings or BrokerSettings(), port=port, bind=bind)
    files = BrokerFiles.for_data_dir(data_dir.resolve() if data_dir else None)
    host = _client_host(bind)
    check_port_free(port, bind)
    config = prepare_broker(files, settings)
    executable = find_mosquitto()
    start_offset = files.log_file.stat().st_size if files.log_file.exists() else 0
    with files.log_file.open("ab") as log_handle:
        process = subprocess.Popen(
            [executable, "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=log_handle,
            start_new_session=detach,
        )
    log.info("mosquitto started (pid %d) on %s:%d, log %s", process.pid, bind or "*", port, files.log_file)
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise BrokerError(
                f"mosquitto หยุดทำงานทันที / mosquitto exited with code {code}: "
                f"{_log_tail(files.log_file, start_offset) or '(no output)'}"
            )
        if port_open(host, port, timeout=0.2):
            return process
        if time.monotonic() > deadline:
            stop_mosquitto(process)
            raise BrokerError(
                f"mosquitto did not accept connections on {host}:{port} within {timeout:.0f} s: "
                f"{_log_tail(files.log_file, start_offset)}"
            )
        time.sleep(0.02)


def stop_mosquitto(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """SIGTERM (Mosquitto saves its persistence file on the way out), SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("mosquitto (pid %d) ignored SIGTERM for %.0f s; killing it", process.pid, timeout)
            process.kill()
            process.wait()
    return process.returncode
