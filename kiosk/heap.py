"""The kiosk's C heap on glibc: how many heaps it keeps, and giving freed pages back.

A kiosk runs for a whole office day on a small board, with threads that each allocate and free a few MB
per ticket (Kivy's UI thread, the print worker, paho's network thread). glibc gives every thread that
allocates its own heap ("arena"), up to eight per core, and keeps what is freed in each for reuse, so
resident memory settles near the sum of every thread's peak. Elsewhere than glibc both functions do
nothing."""

from __future__ import annotations

import ctypes
import functools
from typing import Any

M_ARENA_MAX = -8
"""mallopt's parameter for the most heaps glibc creates (malloc.h)."""

ARENAS = 2
"""The UI thread and the rest. Measured with bench/bench_kiosk.py after 1,000 tickets: glibc's default
195 MB resident, two heaps 188 MB, one heap 188 MB (and the tap-to-number time unchanged)."""


def limit_heap_arenas(count: int = ARENAS) -> bool:
    """Cap the heaps glibc creates from now on: call it before the first thread starts. True if glibc
    took it."""
    libc = _glibc()
    return libc is not None and libc.mallopt(M_ARENA_MAX, count) == 1


def release_free_heap() -> None:
    """Give the pages the C heap has free back to the system (glibc's `malloc_trim`).

    A ticket allocates a few MB and frees them (the 4000-dot canvas, its crop, the raster, FreeType's
    work), on the print worker's thread and Kivy's. Trimming after each ticket, off the UI thread, takes
    under a millisecond and kept about 9 MB less resident at 300 tickets (bench/bench_kiosk.py)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _glibc() -> Any | None:
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim  # noqa: B018 - present in glibc only
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):  # not glibc
        return None
    return libc
