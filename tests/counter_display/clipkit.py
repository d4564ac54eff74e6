"""Test helpers: a clip set whose every clip is a tone of its own length, so the order of clips in a
built announcement can be read back from the WAV; and a player that records and finishes on demand."""

from __future__ import annotations

import wave
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from counter_display.audio import RATE, Pcm, read_wav, write_wav
from counter_display.clips import ALL_PHRASES

BASE_LEN = 400
STEP = 7
"""Clip i of ALL_PHRASES lasts BASE_LEN + STEP * i samples: lengths are unique and far from each other."""
KEY_BY_LEN = {BASE_LEN + STEP * i: key for i, key in enumerate(ALL_PHRASES)}
LEN_BY_KEY = {key: n for n, key in KEY_BY_LEN.items()}


def tone_clip(samples: int, amplitude: int = 12_000) -> Pcm:
    """A square wave (never quiet, so trimming keeps every sample)."""
    return Pcm(array("h", (amplitude if (i // 20) % 2 == 0 else -amplitude for i in range(samples))), RATE)


def make_clip_set(folder: Path, keys: Iterable[str] = ALL_PHRASES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key in keys:
        write_wav(folder / f"{key}.wav", tone_clip(LEN_BY_KEY[key]))
    return folder


def loud_runs(pcm: Pcm, min_silence: int = 300, threshold: int = 1000) -> list[tuple[int, int]]:
    """(start, length) of the sounding stretches, split at silences of at least `min_silence` samples."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    quiet = 0
    for i, v in enumerate(pcm.samples):
        if abs(v) > threshold:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= min_silence:
                runs.append((start, i - quiet + 1 - start))
                start, quiet = None, 0
    if start is not None:
        runs.append((start, len(pcm.samples) - quiet - start))
    return runs


def spoken_keys(wav: Path | bytes, chime: Pcm, scratch: Path | None = None) -> list[str]:
    """The clip keys audible in an announcement WAV after its chime (which must open it, unchanged).
    `wav` is a file, or the bytes a RecordingPlayer kept (written to `scratch` to be read)."""
    if isinstance(wav, bytes):
        assert scratch is not None
        scratch.write_bytes(wav)
        wav = scratch
    pcm = read_wav(wav)
    head = pcm.samples[: len(chime.samples)]
    assert head == chime.samples, "the announcement does not start with the chime"
    rest = Pcm(pcm.samples[len(chime.samples) :], pcm.rate)
    keys = []
    for _start, length in loud_runs(rest):
        assert length in KEY_BY_LEN, f"a sound of {length} samples is no clip of the set"
        keys.append(KEY_BY_LEN[length])
    return keys


def wav_frames(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        return w.getnframes()


@dataclass
class RecordingPlayer:
    """Records what it is asked to play; `finish()` ends the current sound, as the real player does
    after the sound's duration. `overlaps` counts a play started while another was still playing."""

    played: list[Path] = field(default_factory=list)
    copies: list[bytes] = field(default_factory=list)
    overlaps: int = 0
    _on_finished: Callable[[], None] | None = None

    @property
    def playing(self) -> bool:
        return self._on_finished is not None

    def play(self, path: Path, duration_s: float, on_finished: Callable[[], None]) -> None:
        if self._on_finished is not None:
            self.overlaps += 1
        self.played.append(path)
        self.copies.append(path.read_bytes())
        self._on_finished = on_finished

    def stop(self) -> None:
        self._on_finished = None

    def finish(self) -> None:
        done, self._on_finished = self._on_finished, None
        assert done is not None, "nothing is playing"
        done()
