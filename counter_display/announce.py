"""Announcing calls: one at a time, in arrival order, never overlapping.

An announcement is the chime, then the Thai call built from clips ("ขอเชิญหมายเลข เอ ศูนย์ หนึ่ง สอง
ที่ช่องบริการ สอง ค่ะ"), then optionally the English call, joined into one WAV so the player plays a
single sound. The chime is synthesized at start and always plays: with no clip set at all an
announcement is the chime alone (the board still shows the number).

Pure apart from writing WAV files: the `Player` is Kivy's SoundLoader in the app and a recording fake
in tests; the `Announcer` never touches a clock or a thread.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from common.thainum import CallStyle, Politeness, call_phrases
from counter_display.audio import RATE, Pcm, concat, synth_chime, write_wav
from counter_display.clips import ClipSet, english_call_phrases

log = logging.getLogger(__name__)

MAX_PENDING = 30
"""Calls waiting to be announced. Each takes about 6 s, so 30 is three minutes of backlog: more means
the hall is announcing history, and the oldest waiting call is dropped (the board still shows it)."""


@dataclass(frozen=True, slots=True)
class Call:
    """A number to announce: the ticket, the counter it goes to, and how often it was called before."""

    number: str
    counter_number: int
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class AnnouncementSettings:
    """How calls are read. `style` digits: A012 "เอ ศูนย์ หนึ่ง สอง"; number: "เอ สิบสอง"."""

    style: CallStyle = "digits"
    polite: Politeness = "ka"
    english: bool = False
    word_gap_s: float = 0.05
    """Silence between clips: clips are trimmed, so this is the pause between words."""
    after_chime_s: float = 0.15
    between_languages_s: float = 0.6


@dataclass(frozen=True, slots=True)
class Announcement:
    """One built announcement: its WAV file and what it says."""

    call: Call
    path: Path
    duration_s: float
    spoken: tuple[str, ...]
    """Clip keys that are in it, in order."""
    skipped: tuple[str, ...]
    """Clip keys the set lacks: left out, the rest still plays."""


class AnnouncementBuilder:
    """Builds the WAV of a call from the chime and a clip set, into `out_dir`."""

    SLOTS = 2
    """Announcements alternate between two files, so the one playing is never rewritten."""

    def __init__(self, clips: ClipSet, out_dir: Path, settings: AnnouncementSettings | None = None) -> None:
        self.clips = clips
        self.settings = settings or AnnouncementSettings()
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.chime = synth_chime(RATE)
        self.chime_path = write_wav(out_dir / "chime.wav", self.chime)
        self._slot = 0

    def phrases(self, call: Call) -> list[str]:
        """The clip keys of a call, Thai then (when asked) English."""
        keys = call_phrases(
            call.number, call.counter_number, style=self.settings.style, polite=self.settings.polite
        )
        if self.settings.english:
            keys += english_call_phrases(call.number, call.counter_number)
        return keys

    def build(self, call: Call) -> Announcement:
        s = self.settings
        spoken: list[str] = []
        skipped: list[str] = []
        thai: list[Pcm] = []
        english: list[Pcm] = []
        for key in self.phrases(call):
            pcm = self.clips.get(key)
            if pcm is None:
                skipped.append(key)
                continue
            spoken.append(key)
            (english if key.startswith("en_") else thai).append(pcm)
        parts = [self.chime]
        if thai:
            parts += [Pcm.silence(s.after_chime_s), concat(thai, s.word_gap_s)]
        if english:
            parts += [
                Pcm.silence(s.between_languages_s if thai else s.after_chime_s),
                concat(english, s.word_gap_s),
            ]
        if thai or english:
            parts.append(Pcm.silence(0.3))
        pcm = concat(parts)
        path = write_wav(self.out_dir / f"announcement-{self._slot}.wav", pcm)
        self._slot = (self._slot + 1) % self.SLOTS
        if skipped:
            log.debug("announcing %s without clip(s) %s", call.number, ", ".join(skipped))
        return Announcement(call, path, pcm.duration_s, tuple(spoken), tuple(skipped))


class Player(Protocol):
    """Plays one WAV and calls `on_finished` exactly once when it is over (or could not play)."""

    def play(self, path: Path, duration_s: float, on_finished: Callable[[], None]) -> None: ...

    def stop(self) -> None: ...


Listener = Callable[[Announcement], None]


@dataclass
class Announcer:
    """The queue: calls are announced one at a time in arrival order; a recall is announced again.

    `announce` may be called at any moment (from the UI thread); the next announcement starts only
    when the player says the current one finished."""

    builder: AnnouncementBuilder
    player: Player
    max_pending: int = MAX_PENDING
    on_start: list[Listener] = field(default_factory=list)
    """Called as each announcement starts: the board flashes that counter then, in step with the voice."""
    _pending: deque[Call] = field(default_factory=deque, repr=False)
    _current: Announcement | None = field(default=None, repr=False)
    _generation: int = field(default=0, repr=False)

    @property
    def current(self) -> Announcement | None:
        return self._current

    @property
    def pending(self) -> list[Call]:
        return list(self._pending)

    @property
    def busy(self) -> bool:
        return self._current is not None

    def announce(self, call: Call) -> None:
        if len(self._pending) >= self.max_pending:
            dropped = self._pending.popleft()
            log.warning(
                "announcement backlog full: %s at counter %s dropped", dropped.number, dropped.counter_number
            )
        self._pending.append(call)
        if self._current is None:
            self._start_next()

    def clear(self) -> None:
        """Forget waiting calls and stop the one playing (shutdown)."""
        self._pending.clear()
        self._generation += 1
        self._current = None
        self.player.stop()

    def _start_next(self) -> None:
        while self._pending and self._current is None:
            call = self._pending.popleft()
            try:
                announcement = self.builder.build(call)
            except Exception:
                log.exception("could not build the announcement of %s; playing the chime alone", call.number)
                announcement = Announcement(
                    call, self.builder.chime_path, self.builder.chime.duration_s, (), ()
                )
            self._current = announcement
            self._generation += 1
            generation = self._generation
            for listener in list(self.on_start):
                try:
                    listener(announcement)
                except Exception:
                    log.exception("announcement listener failed")
            try:
                self.player.play(
                    announcement.path,
                    announcement.duration_s,
                    lambda generation=generation: self._finished(generation),  # type: ignore[misc]
                )
            except Exception:
                log.exception("player failed on %s", announcement.path)
                self._current = None

    def _finished(self, generation: int) -> None:
        if generation != self._generation:
            return  # a late callback of an announcement already given up (clear)
        self._current = None
        self._start_next()
