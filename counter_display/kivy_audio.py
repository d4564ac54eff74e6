"""Playing announcements in the Kivy app.

The end of an announcement is timed by the clock from the WAV's own length (plus a short margin),
not by the audio backend's `on_stop`: with no sound card, a broken driver or a muted board, the queue
still moves on at the pace of the voice and the board still flashes in step. Main thread only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock

log = logging.getLogger(__name__)

END_MARGIN_S = 0.4
"""Pause after an announcement before the next one starts (and slack for the backend's latency)."""


class KivyPlayer:
    """Plays WAV files with Kivy's SoundLoader (SDL2 audio). `muted` plays nothing but keeps the pace."""

    def __init__(self, *, muted: bool = False, volume: float = 1.0) -> None:
        self.muted = muted
        self.volume = volume
        self._sound: Any = None
        self._timer: Any = None
        self._warned = False

    def play(self, path: Path, duration_s: float, on_finished: Callable[[], None]) -> None:
        self.stop()
        if not self.muted:
            self._sound = self._load(path)
            if self._sound is not None:
                self._sound.volume = self.volume
                self._sound.play()
        self._timer = Clock.schedule_once(lambda _dt: self._done(on_finished), duration_s + END_MARGIN_S)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._sound is not None:
            try:
                self._sound.stop()
                self._sound.unload()
            except Exception:
                log.debug("could not stop the sound", exc_info=True)
            self._sound = None

    def _done(self, on_finished: Callable[[], None]) -> None:
        self._timer = None
        if self._sound is not None:
            try:
                self._sound.unload()
            except Exception:
                log.debug("could not unload the sound", exc_info=True)
            self._sound = None
        on_finished()

    def _load(self, path: Path) -> Any:
        from kivy.core.audio import SoundLoader

        sound = SoundLoader.load(str(path))
        if sound is None or not sound.length:
            if not self._warned:
                log.warning(
                    "cannot play sound (no audio device or no audio backend): announcements are silent, "
                    "the board still shows and flashes each call"
                )
                self._warned = True
            return None
        return sound
