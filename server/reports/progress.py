"""The progress callback every export takes, so a long export can show a progress bar."""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Progress = Callable[[float], None]
"""Called with the fraction done, 0.0 .. 1.0, never decreasing; the last call is 1.0."""


class ProgressSteps:
    """Reports `done / total` after each step; a failing callback is logged, never stops the export
    (a closed browser tab must not lose the file being written)."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self._progress = progress
        self._total = max(total, 1)
        self._done = 0

    def start(self) -> None:
        self._call(0.0)

    def step(self) -> None:
        self._done = min(self._done + 1, self._total)
        self._call(self._done / self._total)

    def finish(self) -> None:
        """Report 1.0 unless the last step already did."""
        if self._done < self._total:
            self._done = self._total
            self._call(1.0)

    def _call(self, fraction: float) -> None:
        if self._progress is None:
            return
        try:
            self._progress(fraction)
        except Exception:
            logger.exception("export progress callback failed; the export goes on")
