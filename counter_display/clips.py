"""Clip sets: a folder of `<phrase_key>.wav` files an announcement is built from, and the placeholder
set made with espeak-ng.

The Thai keys are `common.thainum.PHRASES`; the optional English call uses the `en_*` keys below.
`counter_display/clips/README.md` lists every key for an office that records its own voice.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common.paths import data_dir
from common.thainum import CLIP_SUFFIX, FALLBACKS, PHRASES, Phrase
from counter_display.audio import RATE, AudioError, Pcm, level, read_wav, trim_silence

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------ English keys

_EN_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_EN_TENS = {
    20: "twenty",
    30: "thirty",
    40: "forty",
    50: "fifty",
    60: "sixty",
    70: "seventy",
    80: "eighty",
    90: "ninety",
}

ENGLISH_PHRASES: dict[str, Phrase] = {
    "en_invite": Phrase("(English) Number", "Number"),
    "en_at_counter": Phrase("(English) please go to counter", "please go to counter"),
    **{f"en_letter_{c}": Phrase(f"(English) {c}", c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{f"en_digit_{d}": Phrase(f"(English) {_EN_ONES[d]}", _EN_ONES[d]) for d in range(10)},
    **{f"en_num_{n}": Phrase(f"(English) {word}", word) for n, word in enumerate(_EN_ONES)},
    **{f"en_num_{n}": Phrase(f"(English) {word}", word) for n, word in _EN_TENS.items()},
}
"""Clips of the optional English call: "Number A zero one two, please go to counter two"."""

ALL_PHRASES: dict[str, Phrase] = {**PHRASES, **ENGLISH_PHRASES}


def english_call_phrases(number: str, counter_number: int) -> list[str]:
    """Clip keys of the English call: letters by name, digits one by one, the counter as a number
    (one to ninety-nine; digit by digit above)."""
    letters = [c for c in number if c.isalpha()]
    digits = [c for c in number if c.isdigit()]
    return [
        "en_invite",
        *(f"en_letter_{c}" for c in letters),
        *(f"en_digit_{d}" for d in digits),
        "en_at_counter",
        *_english_number_keys(counter_number),
    ]


def _english_number_keys(n: int) -> list[str]:
    if 0 <= n < 20:
        return [f"en_num_{n}"]
    if n < 100:
        tens, units = divmod(n, 10)
        return [f"en_num_{tens * 10}"] + ([f"en_num_{units}"] if units else [])
    return [f"en_digit_{d}" for d in str(n)]


# -------------------------------------------------------------------------------------------- clip set


def default_clip_dir(base: Path | None = None) -> Path:
    """`{data_dir}/clips`: where `khiu admin clips generate` writes and the display reads by default."""
    return (base or data_dir()) / "clips"


@dataclass
class ClipSet:
    """The clips of one folder, read on first use, trimmed and levelled, kept in memory.

    A missing or unreadable clip is logged once and skipped (the chime still plays); the fallback key
    of `common.thainum.FALLBACKS` is tried first (digit_3 and num_3 say the same word). Dropping new
    files into the folder is noticed without a restart (the folder's mtime changes)."""

    folder: Path | None
    rate: int = RATE
    _cache: dict[str, Pcm | None] = field(default_factory=dict, repr=False)
    _warned: set[str] = field(default_factory=set, repr=False)
    _mtime: float | None = field(default=None, repr=False)

    def get(self, key: str) -> Pcm | None:
        """The clip of `key` (or of its fallback), or None when the set has neither."""
        self._refresh()
        pcm = self._load(key)
        if pcm is None and key in FALLBACKS:
            pcm = self._load(FALLBACKS[key])
        if pcm is None and key not in self._warned:
            self._warned.add(key)
            log.warning(
                "clip %r missing in %s: announcements skip %r (record %s%s: counter_display/clips/README.md)",
                key,
                self.folder,
                ALL_PHRASES[key].th if key in ALL_PHRASES else key,
                key,
                CLIP_SUFFIX,
            )
        return pcm

    def missing(self, keys: list[str]) -> list[str]:
        """Keys of `keys` this set cannot say."""
        return [k for k in keys if self.get(k) is None]

    def _refresh(self) -> None:
        if self.folder is None:
            return
        try:
            mtime = self.folder.stat().st_mtime
        except OSError:
            mtime = None
        if mtime != self._mtime:
            if self._mtime is not None or self._cache:
                log.info("clip folder %s changed: reloading clips", self.folder)
            self._mtime = mtime
            self._cache.clear()
            self._warned.clear()

    def _load(self, key: str) -> Pcm | None:
        if key in self._cache:
            return self._cache[key]
        pcm: Pcm | None = None
        path = self.folder / f"{key}{CLIP_SUFFIX}" if self.folder is not None else None
        if path is not None and path.is_file():
            try:
                pcm = level(trim_silence(read_wav(path, self.rate)))
            except AudioError as exc:
                log.warning("clip %s cannot be used: %s", path, exc)
            if pcm is not None and not pcm.samples:
                log.warning("clip %s is silent: skipped", path)
                pcm = None
        self._cache[key] = pcm
        return pcm


# ------------------------------------------------------------------------------------ placeholder voice

ESPEAK = "espeak-ng"
ESPEAK_SPEED_WPM = 140
"""Slower than espeak-ng's 175 words per minute: numbers in a hall must be understood the first time."""
ESPEAK_TIMEOUT_S = 20.0

VOICES = ("espeak", "espeak-th")
"""`espeak`: each Thai word spelt for espeak-ng's English voice (the default: see `THAI_BY_ENGLISH_VOICE`).
`espeak-th`: espeak-ng's Thai voice reading the Thai text as is."""

THAI_BY_ENGLISH_VOICE: dict[str, str] = {
    "invite": "kaw chern, my lake",
    "at_counter": "tee chong, baw ree gahn",
    "ka": "kah",
    "krap": "krup",
    **{f"letter_{c}": c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{
        f"{kind}_{d}": word
        for kind in ("digit", "num")
        for d, word in enumerate(("soon", "nung", "song", "sahm", "see", "hah", "hok", "jet", "pat", "gow"))
    },
    "num_10": "sip",
    "num_20": "yee sip",
    "num_100": "roy",
    "num_1000": "pun",
    "num_10000": "mern",
    "num_100000": "san",
    "num_1000000": "lahn",
    "word_et": "et",
}
"""How the default placeholder says each Thai phrase. espeak-ng 1.51's Thai voice ("status testing")
garbles Thai script: `espeak-ng -v th -x` turns ค่ะ into "kh s", ห้า into "h s" and ที่ into "ths", and
its tones come out nearly flat. Thai words spelt in English letters and read by the English voice are
understood far better (with a foreign accent and without tones), and Thai speakers name Latin letters
as the English voice does (A เอ, R อาร์, Z แซด). A key missing here is read by the Thai voice."""


class ClipGenerationError(RuntimeError):
    """The placeholder set cannot be made; the message says what to install or fix."""


@dataclass(frozen=True, slots=True)
class GenerationReport:
    folder: Path
    written: list[str]
    kept: list[str]
    """Clips already in the folder (an office's own recordings) that were left alone."""


def placeholder_speech(key: str, voice: str = "espeak") -> tuple[str, str]:
    """(espeak-ng voice, text) that makes the placeholder clip of `key`."""
    if key.startswith("en_"):
        return "en", ENGLISH_PHRASES[key].en
    if voice == "espeak" and key in THAI_BY_ENGLISH_VOICE:
        return "en", THAI_BY_ENGLISH_VOICE[key]
    return "th", PHRASES[key].th


def generate_clips(
    folder: Path,
    *,
    voice: str = "espeak",
    overwrite: bool = False,
    english: bool = True,
    runner: Callable[[list[str]], None] | None = None,
) -> GenerationReport:
    """Write a placeholder clip for every phrase key into `folder` with espeak-ng. Clips already there
    are kept unless `overwrite`, so an office can record some words itself and fill the rest with
    placeholders."""
    if voice not in VOICES:
        raise ClipGenerationError(f"unknown voice {voice!r}: use one of {', '.join(VOICES)}")
    run = runner or _run_espeak
    if runner is None and shutil.which(ESPEAK) is None:
        raise ClipGenerationError(
            "ไม่พบโปรแกรม espeak-ng / espeak-ng is not installed: sudo apt-get install espeak-ng "
            "(or record the clips yourself, see counter_display/clips/README.md)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    phrases = ALL_PHRASES if english else PHRASES
    written: list[str] = []
    kept: list[str] = []
    for key in phrases:
        target = folder / f"{key}{CLIP_SUFFIX}"
        if target.exists() and not overwrite:
            kept.append(key)
            continue
        lang, text = placeholder_speech(key, voice)
        with tempfile.TemporaryDirectory(prefix="khiu-clip-") as tmp:
            part = Path(tmp) / target.name
            run([ESPEAK, "-v", lang, "-s", str(ESPEAK_SPEED_WPM), "-w", str(part), text])
            if not part.is_file():
                raise ClipGenerationError(f"espeak-ng wrote no file for {key!r}")
            shutil.move(str(part), target)
        written.append(key)
    (folder / "GENERATED.txt").write_text(
        f"เสียงชั่วคราวสร้างด้วย espeak-ng ({voice}): บันทึกเสียงจริงของสำนักงานทับไฟล์เหล่านี้ได้\n"
        f"Placeholder clips made with espeak-ng ({voice}): replace them with the office's own recordings.\n"
        "See counter_display/clips/README.md for what each <key>.wav says.\n",
        encoding="utf-8",
    )
    log.info("clip set %s: %d clip(s) written, %d kept", folder, len(written), len(kept))
    return GenerationReport(folder, written, kept)


def _run_espeak(argv: list[str]) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, timeout=ESPEAK_TIMEOUT_S)
    except subprocess.CalledProcessError as exc:
        stderr = exc.stderr.decode(errors="replace").strip()
        raise ClipGenerationError(f"espeak-ng failed ({exc.returncode}): {stderr}") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ClipGenerationError(f"espeak-ng could not run: {exc}") from None
