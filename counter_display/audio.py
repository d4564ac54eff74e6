"""PCM audio in plain Python: read any PCM WAV into one common format, trim and level it, join clips
into one WAV, and synthesize the chime.

Why here and not a library: an announcement is a few seconds of 16-bit mono sound made of short clips
an office records itself (any rate, mono or stereo, 8 to 32 bit). Joining them into one WAV means the
player plays one sound, with no gap or overlap between words. `audioop` is deprecated (removed in
Python 3.13), so conversion is done with `array` and `wave` only.
"""

from __future__ import annotations

import logging
import math
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RATE = 22_050
"""Output sample rate. Speech carries little above 8 kHz; 22.05 kHz keeps announcements small and is
what espeak-ng writes, so placeholder clips need no resampling."""

FULL_SCALE = 32_767
SILENCE_THRESHOLD = 0.02
"""Below 2 % of full scale (about -34 dBFS) counts as silence when trimming a clip's ends."""
TRIM_MARGIN_S = 0.02
"""Silence kept at each end of a trimmed clip so a word's soft start is not cut."""
TARGET_PEAK = 0.7
"""Clips are levelled to this peak (about -3 dBFS) so one quiet recording is not lost among loud ones."""
MAX_GAIN = 4.0
"""Never amplify more than this: a near-silent clip is a bad recording, not something to blow up."""


class AudioError(Exception):
    """A file that is not a PCM WAV we can read; the message names the file."""


@dataclass(frozen=True, slots=True)
class Pcm:
    """Mono signed 16-bit samples at `rate`."""

    samples: array[int]
    """`array('h')`."""
    rate: int = RATE

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate

    @classmethod
    def silence(cls, seconds: float, rate: int = RATE) -> Pcm:
        return cls(array("h", bytes(2 * round(seconds * rate))), rate)


def read_wav(path: Path, rate: int = RATE) -> Pcm:
    """A PCM WAV file (8/16/24/32-bit, any channels, any rate) as mono 16-bit at `rate`."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, src_rate, frames = (
                w.getnchannels(),
                w.getsampwidth(),
                w.getframerate(),
                w.getnframes(),
            )
            raw = w.readframes(frames)
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(f"{path}: not a PCM WAV file we can read ({exc})") from None
    if width not in (1, 2, 3, 4) or channels < 1 or src_rate < 1000:
        raise AudioError(f"{path}: unsupported WAV ({channels} channels, {8 * width} bit, {src_rate} Hz)")
    mono = _to_mono16(raw, width, channels)
    return Pcm(resample(mono, src_rate, rate), rate)


def _to_mono16(raw: bytes, width: int, channels: int) -> array[int]:
    """Interleaved little-endian PCM of any width -> mono signed 16-bit (channels averaged)."""
    if width == 1:  # WAV 8-bit is unsigned
        wide = array("h", ((b - 128) << 8 for b in raw))
    elif width == 2:
        wide = array("h")
        wide.frombytes(raw[: len(raw) - len(raw) % 2])
        if sys.byteorder == "big":
            wide.byteswap()
    elif width == 3:
        wide = array(
            "h",
            (int.from_bytes(raw[i + 1 : i + 3], "little", signed=True) for i in range(0, len(raw) - 2, 3)),
        )
    else:
        wide32 = array("i")
        wide32.frombytes(raw[: len(raw) - len(raw) % 4])
        if sys.byteorder == "big":
            wide32.byteswap()
        wide = array("h", (s >> 16 for s in wide32))
    if channels == 1:
        return wide
    frames = len(wide) // channels
    return array("h", (sum(wide[i * channels : (i + 1) * channels]) // channels for i in range(frames)))


def resample(samples: array[int], src_rate: int, dst_rate: int) -> array[int]:
    """Linear interpolation; good enough for speech clips, exact when the rates are equal."""
    if src_rate == dst_rate or len(samples) < 2:
        return array("h", samples)
    n_out = max(1, round(len(samples) * dst_rate / src_rate))
    step = src_rate / dst_rate
    last = len(samples) - 1
    out = array("h", bytes(2 * n_out))
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = samples[last]
            continue
        frac = pos - j
        out[i] = int(samples[j] + (samples[j + 1] - samples[j]) * frac)
    return out


def trim_silence(pcm: Pcm, threshold: float = SILENCE_THRESHOLD, margin_s: float = TRIM_MARGIN_S) -> Pcm:
    """Cut leading and trailing silence (keeping a short margin): recorded clips and espeak-ng output
    carry their own pauses, which would make a joined announcement halting."""
    limit = threshold * FULL_SCALE
    s = pcm.samples
    start = next((i for i, v in enumerate(s) if abs(v) > limit), None)
    if start is None:
        return Pcm(array("h"), pcm.rate)
    end = next(i for i in range(len(s) - 1, -1, -1) if abs(s[i]) > limit)
    margin = round(margin_s * pcm.rate)
    return Pcm(s[max(0, start - margin) : min(len(s), end + 1 + margin)], pcm.rate)


def level(pcm: Pcm, target_peak: float = TARGET_PEAK, max_gain: float = MAX_GAIN) -> Pcm:
    """Scale so the peak is `target_peak` of full scale (never more than `max_gain` times louder)."""
    if not pcm.samples:
        return pcm
    peak = max(abs(min(pcm.samples)), abs(max(pcm.samples)))
    if peak == 0:
        return pcm
    gain = min(max_gain, target_peak * FULL_SCALE / peak)
    if abs(gain - 1.0) < 0.01:
        return pcm
    return Pcm(array("h", (_clip(v * gain) for v in pcm.samples)), pcm.rate)


def _clip(value: float) -> int:
    return max(-FULL_SCALE - 1, min(FULL_SCALE, int(value)))


def concat(parts: list[Pcm], gap_s: float = 0.0, rate: int = RATE) -> Pcm:
    """Join parts with `gap_s` of silence between them (all parts must be at `rate`)."""
    out = array("h")
    gap = Pcm.silence(gap_s, rate).samples if gap_s > 0 else array("h")
    for i, part in enumerate(parts):
        if part.rate != rate:
            raise ValueError(f"part {i} is at {part.rate} Hz, expected {rate} Hz")
        if i and gap:
            out.extend(gap)
        out.extend(part.samples)
    return Pcm(out, rate)


def write_wav(path: Path, pcm: Pcm) -> Path:
    """Write mono 16-bit PCM; the file is complete before it appears under its name."""
    samples = pcm.samples
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(pcm.rate)
        w.writeframes(samples.tobytes())
    tmp.replace(path)
    return path


def wav_duration_s(path: Path) -> float:
    """Length of a WAV file in seconds (0 when it cannot be read)."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / w.getframerate()
    except (OSError, EOFError, wave.Error):
        return 0.0


# ---------------------------------------------------------------------------------------------- chime

CHIME_TONES_HZ: tuple[float, float] = (659.26, 523.25)
"""E5 then C5: the falling "ding-dong" citizens know from Thai offices, banks and hospitals."""
CHIME_NOTE_S = 0.65
CHIME_GAP_S = 0.05


def synth_chime(rate: int = RATE) -> Pcm:
    """A two-tone ding-dong: each note a bell-like tone (fundamental plus two soft partials) with a fast
    attack and an exponential decay. Made in Python at start, so the chime works with no clip set,
    no espeak-ng and no file at all."""
    notes = [_bell(freq, CHIME_NOTE_S, rate) for freq in CHIME_TONES_HZ]
    tail = Pcm.silence(0.25, rate)
    return concat([notes[0], notes[1], tail], gap_s=CHIME_GAP_S, rate=rate)


def _bell(freq: float, seconds: float, rate: int) -> Pcm:
    n = round(seconds * rate)
    attack = round(0.008 * rate)
    partials = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12))
    norm = sum(a for _, a in partials)
    amp = 0.6 * FULL_SCALE / norm
    two_pi = 2 * math.pi
    out = array("h", bytes(2 * n))
    for i in range(n):
        t = i / rate
        env = math.exp(-4.0 * t / seconds) * (min(1.0, i / attack) if attack else 1.0)
        value = sum(a * math.sin(two_pi * freq * k * t) for k, a in partials)
        out[i] = _clip(amp * env * value)
    return Pcm(out, rate)
