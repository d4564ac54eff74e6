"""A private virtual screen for the benchmarks that draw (kiosk, hall board)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator

from bench.harness import stop_process


@contextlib.contextmanager
def virtual_screen(size: tuple[int, int], what: str) -> Iterator[str]:
    """A private Xvfb of exactly `size`, so figures do not depend on the caller's display; without Xvfb,
    the caller's DISPLAY. `what` names the benchmark in the error when there is neither."""
    if shutil.which("Xvfb") is None:
        display = os.environ.get("DISPLAY")
        if not display:
            raise RuntimeError(f"the {what} benchmark needs Xvfb (apt-get install xvfb) or a display")
        yield display
        return
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as reader:
        number = reader.readline().strip()
    try:
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        stop_process(xvfb, 5)
