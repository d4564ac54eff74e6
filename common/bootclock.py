"""This machine's boot clock (`contract.BootMark`): which boot, and the seconds since it, counted through
suspend. Unlike the wall clock it is never set, so a moment marked on it stays right when the wall clock
was wrong (a Raspberry Pi switched on without a time server reads the evening before)."""

from __future__ import annotations

import time
from pathlib import Path

from common.contract import BootMark

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_mark() -> BootMark | None:
    """Now on the boot clock; None where the system does not say which boot this is (not Linux)."""
    try:
        boot_id = BOOT_ID.read_text(encoding="ascii").strip()
        uptime = time.clock_gettime(time.CLOCK_BOOTTIME)
    except (OSError, AttributeError):
        return None
    return BootMark(id=boot_id, uptime_s=round(uptime, 3)) if boot_id else None
