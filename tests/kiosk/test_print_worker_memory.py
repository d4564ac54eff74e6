"""The print worker gives freed C heap back to the system after each ticket, where the C library can."""

from __future__ import annotations

import pytest

from kiosk import print_worker


def test_releasing_free_heap_works_here_and_is_a_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    print_worker.release_free_heap()  # glibc here: malloc_trim, which never fails

    monkeypatch.setattr(print_worker, "_malloc_trim", lambda: None)
    print_worker.release_free_heap()
