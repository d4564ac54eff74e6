"""How a ticket number is called in Thai (DOMAIN.md, "Calling a number"):
"ขอเชิญหมายเลข A ศูนย์ หนึ่ง สอง ที่ช่องบริการ 2 ค่ะ".

Offline synthetic Thai voices are poor, so an announcement is a sequence of recorded clips. `PHRASES` is
the one table of clip keys: a clip set is a folder holding `<key>.wav` for every key (`CLIP_KEYS`),
recorded by the office in its own voice. `call_phrases` turns a call into keys; the display plays them.

Numbers are read digit by digit ("digits": A012 -> เอ ศูนย์ หนึ่ง สอง) or as a Thai number ("number":
A012 -> เอ สิบสอง), with the Thai rules: สิบ (not หนึ่งสิบ) for 10, ยี่สิบ for the twenties, เอ็ด for a
final 1 after a higher digit (11 สิบเอ็ด, 21 ยี่สิบเอ็ด, 101 หนึ่งร้อยเอ็ด). Pure: no audio here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from common.vocabulary import TICKET_NUMBER_PATTERN

CallStyle = Literal["digits", "number"]
"""`digits`: A012 -> เอ ศูนย์ หนึ่ง สอง. `number`: A012 -> เอ สิบสอง."""

Politeness = Literal["ka", "krap"]
"""The closing particle: ค่ะ for a female voice, ครับ for a male voice."""

CLIP_SUFFIX = ".wav"

_TICKET_RE = re.compile(TICKET_NUMBER_PATTERN)
_SPLIT_RE = re.compile(r"^([A-Z]+)([0-9]+)$")


@dataclass(frozen=True, slots=True)
class Phrase:
    """What a clip says, in Thai, and what it means in English (for whoever records it)."""

    th: str
    en: str


LETTER_NAMES_TH: dict[str, str] = {
    "A": "เอ",
    "B": "บี",
    "C": "ซี",
    "D": "ดี",
    "E": "อี",
    "F": "เอฟ",
    "G": "จี",
    "H": "เอช",
    "I": "ไอ",
    "J": "เจ",
    "K": "เค",
    "L": "แอล",
    "M": "เอ็ม",
    "N": "เอ็น",
    "O": "โอ",
    "P": "พี",
    "Q": "คิว",
    "R": "อาร์",
    "S": "เอส",
    "T": "ที",
    "U": "ยู",
    "V": "วี",
    "W": "ดับเบิลยู",
    "X": "เอ็กซ์",
    "Y": "วาย",
    "Z": "แซด",
}
"""Latin capitals as Thai speakers name them; prefixes and offline series are read this way."""

DIGIT_WORDS_TH: tuple[str, ...] = ("ศูนย์", "หนึ่ง", "สอง", "สาม", "สี่", "ห้า", "หก", "เจ็ด", "แปด", "เก้า")
_DIGIT_WORDS_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_PLACES: tuple[tuple[int, str, Phrase], ...] = (
    (100_000, "num_100000", Phrase("แสน", "hundred thousand")),
    (10_000, "num_10000", Phrase("หมื่น", "ten thousand")),
    (1_000, "num_1000", Phrase("พัน", "thousand")),
    (100, "num_100", Phrase("ร้อย", "hundred")),
)

PHRASES: dict[str, Phrase] = {
    # The frame of a call.
    "invite": Phrase("ขอเชิญหมายเลข", "Calling number"),
    "at_counter": Phrase("ที่ช่องบริการ", "please go to counter"),
    "ka": Phrase("ค่ะ", "(polite closing, female voice)"),
    "krap": Phrase("ครับ", "(polite closing, male voice)"),
    # letter_A .. letter_Z: a ticket's prefix (and a kiosk's offline series) by its Thai letter name.
    **{f"letter_{letter}": Phrase(name, f"the letter {letter}") for letter, name in LETTER_NAMES_TH.items()},
    # digit_0 .. digit_9: digits read one by one (A012 -> ศูนย์ หนึ่ง สอง). Same words as num_0 .. num_9;
    # kept apart so that an office can record them with the separated cadence of a digit-by-digit read.
    **{f"digit_{d}": Phrase(word, _DIGIT_WORDS_EN[d]) for d, word in enumerate(DIGIT_WORDS_TH)},
    # num_*: the words of a Thai number (12 -> num_10 num_2, สิบสอง). num_10 is สิบ alone and
    # num_100 is ร้อย alone: 100 is num_1 num_100 (หนึ่งร้อย).
    **{f"num_{d}": Phrase(word, _DIGIT_WORDS_EN[d]) for d, word in enumerate(DIGIT_WORDS_TH)},
    "num_10": Phrase("สิบ", "ten (also the tens word: สามสิบ is num_3 num_10)"),
    "num_20": Phrase("ยี่สิบ", "twenty"),
    **{key: phrase for _value, key, phrase in reversed(_PLACES)},
    "num_1000000": Phrase("ล้าน", "million"),
    "word_et": Phrase("เอ็ด", "one, as the last digit after a higher one (21 ยี่สิบเอ็ด)"),
}
"""Every clip key, what it says in Thai and means in English. A clip set has `<key>.wav` for each."""

CLIP_KEYS: tuple[str, ...] = tuple(PHRASES)

FALLBACKS: dict[str, str] = {
    **{f"digit_{d}": f"num_{d}" for d in range(10)},
    **{f"num_{d}": f"digit_{d}" for d in range(10)},
}
"""A player missing a clip may use the same word recorded under this other key."""


def clip_filename(key: str) -> str:
    """`digit_0` -> `digit_0.wav`; unknown keys are refused so a typo never plays silence."""
    if key not in PHRASES:
        raise KeyError(f"no phrase {key!r}")
    return key + CLIP_SUFFIX


def missing_clips(available: Iterable[str]) -> list[str]:
    """Keys of `CLIP_KEYS` that neither `available` (file names or keys) nor their fallback covers."""
    have = {name.removesuffix(CLIP_SUFFIX) for name in available}
    return [k for k in CLIP_KEYS if k not in have and FALLBACKS.get(k) not in have]


# --------------------------------------------------------------------------------------------- numbers


def _below_million_keys(n: int, *, after_higher: bool) -> list[str]:
    """Keys of 0 < n < 1,000,000. `after_higher`: a higher part (millions) was read before, so a final
    1 is still เอ็ด (1,000,001 หนึ่งล้านเอ็ด)."""
    keys: list[str] = []
    rest = n
    for value, key, _phrase in _PLACES:
        digit, rest = divmod(rest, value)
        if digit:
            keys += [f"num_{digit}", key]
    tens, units = divmod(rest, 10)
    if tens == 1:
        keys.append("num_10")
    elif tens == 2:
        keys.append("num_20")
    elif tens:
        keys += [f"num_{tens}", "num_10"]
    if units == 1 and (n > 1 or after_higher):
        keys.append("word_et")
    elif units:
        keys.append(f"num_{units}")
    return keys


def number_keys(n: int) -> list[str]:
    """Clip keys reading `n` as a Thai number: 21 -> [num_20, word_et], 111 -> [num_1, num_100, num_10,
    word_et], 2021 -> [num_2, num_1000, num_20, word_et]."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"a non-negative integer is needed, not {n!r}")
    if n == 0:
        return ["num_0"]
    return _number_keys(n, after_higher=False)


def _number_keys(n: int, *, after_higher: bool) -> list[str]:
    millions, rest = divmod(n, 1_000_000)
    keys: list[str] = []
    if millions:
        keys += [*_number_keys(millions, after_higher=after_higher), "num_1000000"]
    if rest:
        keys += _below_million_keys(rest, after_higher=after_higher or bool(millions))
    return keys


def thai_number_words(n: int) -> list[str]:
    """`n` read as a Thai number, one entry per clip: 21 -> ["ยี่สิบ", "เอ็ด"] (ยี่สิบเอ็ด),
    101 -> ["หนึ่ง", "ร้อย", "เอ็ด"] (หนึ่งร้อยเอ็ด)."""
    return [PHRASES[k].th for k in number_keys(n)]


def thai_number_text(n: int) -> str:
    """`n` as one Thai word: 2021 -> สองพันยี่สิบเอ็ด."""
    return "".join(thai_number_words(n))


def _digits(text: str) -> list[int]:
    if not text or not all("0" <= ch <= "9" for ch in text):
        raise ValueError(f"digits 0-9 are needed, not {text!r}")
    return [int(ch) for ch in text]


def digit_keys(text: str) -> list[str]:
    """Clip keys reading a string of digits one by one: "012" -> [digit_0, digit_1, digit_2]."""
    return [f"digit_{d}" for d in _digits(text)]


def digit_words(text: str) -> list[str]:
    """A string of digits read one by one: "012" -> ["ศูนย์", "หนึ่ง", "สอง"]."""
    return [DIGIT_WORDS_TH[d] for d in _digits(text)]


# ----------------------------------------------------------------------------------------------- calls


def split_ticket_number(number: str) -> tuple[str, str]:
    """The prefix letters and the digits of a ticket number: A012 -> ("A", "012"), an offline number
    AX05 -> ("AX", "05"). Refuses anything else."""
    if not _TICKET_RE.match(number):
        raise ValueError(f"not a ticket number: {number!r} (expected like A012 or AX05)")
    match = _SPLIT_RE.match(number)
    assert match is not None  # the ticket pattern is letters then digits
    return match.group(1), match.group(2)


def _check_counter(counter_number: int) -> None:
    if isinstance(counter_number, bool) or not isinstance(counter_number, int) or counter_number < 1:
        raise ValueError(f"a counter number is a positive integer, not {counter_number!r}")


def _check_options(style: str, polite: str) -> None:
    if style not in ("digits", "number"):
        raise ValueError(f"style is 'digits' or 'number', not {style!r}")
    if polite not in ("ka", "krap"):
        raise ValueError(f"polite is 'ka' or 'krap', not {polite!r}")


def call_phrases(
    number: str, counter_number: int, *, style: CallStyle = "digits", polite: Politeness = "ka"
) -> list[str]:
    """The clip keys of one call. "A012" at counter 2, digits style: [invite, letter_A, digit_0,
    digit_1, digit_2, at_counter, num_2, ka]. Number style reads the digits as a number without its
    leading zeros (A012 -> letter_A num_10 num_2). The counter is always read as a number."""
    letters, digits = split_ticket_number(number)
    _check_counter(counter_number)
    _check_options(style, polite)
    number_part = digit_keys(digits) if style == "digits" else number_keys(int(digits))
    return [
        "invite",
        *(f"letter_{letter}" for letter in letters),
        *number_part,
        "at_counter",
        *number_keys(counter_number),
        polite,
    ]


def call_text_th(
    number: str, counter_number: int, *, style: CallStyle = "digits", polite: Politeness = "ka"
) -> str:
    """The call as Thai text (subtitle, log, screen reader): "ขอเชิญหมายเลข A ศูนย์ หนึ่ง สอง ที่ช่องบริการ 2
    ค่ะ"; number style "ขอเชิญหมายเลข A สิบสอง ที่ช่องบริการ 2 ค่ะ"."""
    letters, digits = split_ticket_number(number)
    _check_counter(counter_number)
    _check_options(style, polite)
    spoken = " ".join(digit_words(digits)) if style == "digits" else thai_number_text(int(digits))
    return (
        f"{PHRASES['invite'].th} {' '.join(letters)} {spoken} "
        f"{PHRASES['at_counter'].th} {counter_number} {PHRASES[polite].th}"
    )


def call_text_en(number: str, counter_number: int) -> str:
    """The call in English: "Number A012, please go to counter 2"."""
    split_ticket_number(number)
    _check_counter(counter_number)
    return f"Number {number}, please go to counter {counter_number}"
