"""The print worker gives freed C heap back to the system after each ticket, where the C library can."""

from __future__ import annotations

import pytest

from kiosk import print_worker


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def test_freed_heap_goes_back_to_the_system() -> None:
    if print_worker._malloc_trim() is None:
        pytest.skip("not glibc: nothing to trim")
    # 150 MB in glibc's heap (each block under its mmap threshold), all touched, then freed but the
    # last: with the heap's top still in use, free() alone leaves the pages resident.
    blocks = [bytearray(100_000) for _ in range(1500)]
    last = blocks.pop()
    del blocks
    before = _rss_kb()
    print_worker.release_free_heap()
    after = _rss_kb()
    assert before - after > 100_000, f"resident {before} kB before the trim, {after} kB after"
    assert len(last) == 100_000
