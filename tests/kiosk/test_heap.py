"""The kiosk's C heap: freed pages go back to the system after a ticket, and the threads share a capped
number of heaps, where the C library is glibc."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kiosk import heap

pytestmark = pytest.mark.skipif(heap._glibc() is None, reason="not glibc: nothing to trim or cap")


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def test_freed_heap_goes_back_to_the_system() -> None:
    # 150 MB in glibc's heap (each block under its mmap threshold), all touched, then freed but the
    # last: with the heap's top still in use, free() alone leaves the pages resident.
    blocks = [bytearray(100_000) for _ in range(1500)]
    last = blocks.pop()
    del blocks
    before = _rss_kb()
    heap.release_free_heap()
    after = _rss_kb()
    assert before - after > 100_000, f"resident {before} kB before the trim, {after} kB after"
    assert len(last) == 100_000


HEAPS_IN_USE = textwrap.dedent(
    """
    import ctypes, os, sys, tempfile, threading
    from kiosk import heap
    if sys.argv[1] == "capped":
        assert heap.limit_heap_arenas(), "glibc refused the cap"
    ready, go = threading.Barrier(9), threading.Event()
    def work():
        block = bytearray(100_000)  # from this thread's heap
        ready.wait()
        go.wait()
        del block
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    ready.wait()  # eight threads hold memory at once
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    path = os.path.join(tempfile.mkdtemp(), "heaps.xml")
    stream = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    go.set()
    for t in threads:
        t.join()
    print(open(path).read().count("<heap nr="))
    """
)


def _heaps(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", HEAPS_IN_USE, mode], capture_output=True, text=True, timeout=60, check=True
    )
    return int(done.stdout.split()[-1])


def test_threads_share_the_capped_heaps() -> None:
    assert _heaps("default") > heap.ARENAS  # eight allocating threads: glibc makes heaps for them
    assert _heaps("capped") == heap.ARENAS
