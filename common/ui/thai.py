"""Thai line breaking for Kivy labels.

Thai is written without spaces between words, and Kivy breaks lines only at ASCII spaces (REFERENCE.md,
"Kivy"): a long Thai sentence either runs off the widget or is cut in the middle of a word. So we find
the word boundaries ourselves (maximal matching on PyThaiNLP's dictionary and character clusters, as its
`newmm` does, with a fraction of the memory), measure candidate lines with the label's own font and
insert the line breaks before Kivy sees the text.

`wrap` is pure (it takes a measuring function), so it is tested without a window; `kivy_measure` gives
the measuring function of a Kivy font.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from functools import lru_cache

log = logging.getLogger(__name__)

Measure = Callable[[str], float]
"""Width in pixels of one line of text set in a given font."""

_OPENING = frozenset("([{“‘«")
_CLOSING = frozenset(")]}”’».,:;!?%ๆฯ")
"""Punctuation that must stay with the word after (opening) or before (closing) it; ๆ (mai yamok) and
ฯ (paiyannoi) belong to the word they follow."""


def is_thai(text: str) -> bool:
    return any("\u0e00" <= ch <= "\u0e7f" for ch in text)


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """The pieces a line may break between: Thai words, Latin words and numbers, and the spaces.

    "ลงทะเบียนผู้สูงอายุ A012" gives ("ลงทะเบียน", "ผู้สูงอายุ", " ", "A012"). Runs of Latin letters,
    digits and punctuation are kept whole, and short bracketed asides stay together."""
    if not text:
        return ()
    tokens: list[str] = []
    for chunk in _split_spaces(text):
        if chunk.isspace() or not is_thai(chunk):
            tokens.append(chunk)
        else:
            tokens.extend(_split_thai(chunk))
    return tuple(_keep_brackets(_glue(tokens)))


MAX_WORD = 30
"""Longer dictionary entries are compounds no line needs to keep whole."""


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    """PyThaiNLP's Thai word list (62,000 words). Kept as a plain set: about 17 MB and 40 ms to load,
    where PyThaiNLP's own `newmm` tokenizer builds a trie of about 65 MB in half a second, which a kiosk
    that must start in 3 s and stay under 150 MB cannot spare."""
    from pythainlp.corpus import thai_words

    return frozenset(w for w in thai_words() if len(w) <= MAX_WORD and " " not in w)


def _split_thai(chunk: str) -> list[str]:
    """Maximal matching over Thai character clusters (the idea of PyThaiNLP's newmm): the split into
    dictionary words with the fewest unknown clusters, then the fewest words. Words start and end only
    at cluster boundaries, so no break ever separates a consonant from its vowel or tone mark. Runs of
    unknown clusters (names, typos) stay one piece. Non-Thai characters inside the chunk (digits,
    Latin letters, punctuation) form their own pieces."""
    from pythainlp.tokenize.tcc import tcc_pos

    dictionary = _dictionary()
    n = len(chunk)
    bounds = sorted(tcc_pos(chunk) | {0, n} | _script_changes(chunk))
    # best[i]: (unknown clusters, words, previous boundary, was a dictionary word) for a split of chunk[:i]
    best: dict[int, tuple[int, int, int, bool]] = {0: (0, 0, -1, True)}
    for k, i in enumerate(bounds):
        if i not in best or i == n:
            continue
        unknown, count, _, _ = best[i]
        for j in bounds[k + 1 :]:
            if j - i > MAX_WORD:
                break
            if chunk[i:j] in dictionary:
                _relax(best, j, (unknown, count + 1, i, True))
        _relax(best, bounds[k + 1], (unknown + 1, count + 1, i, False))
    pieces: list[tuple[str, bool]] = []
    j = n
    while j > 0:
        _, _, i, known = best[j]
        pieces.append((chunk[i:j], known))
        j = i
    pieces.reverse()
    out: list[str] = []
    previous_known = True
    for piece, known in pieces:
        if not known and not previous_known and out and is_thai(piece) and is_thai(out[-1]):
            out[-1] += piece  # one unknown word, not a row of clusters
        else:
            out.append(piece)
        previous_known = known
    return out


def _relax(
    best: dict[int, tuple[int, int, int, bool]], j: int, candidate: tuple[int, int, int, bool]
) -> None:
    current = best.get(j)
    if current is None or candidate[:2] < current[:2]:
        best[j] = candidate


def _script_changes(chunk: str) -> set[int]:
    """Positions where Thai meets non-Thai ("ดร.01"): always a possible boundary."""
    return {i for i in range(1, len(chunk)) if is_thai(chunk[i]) != is_thai(chunk[i - 1])}


def _split_spaces(text: str) -> list[str]:
    out: list[str] = []
    for ch in text:
        if out and (ch == " ") == (out[-1][-1] == " "):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _glue(tokens: list[str]) -> list[str]:
    """Join what must not be broken apart: non-Thai runs, closing marks to the word before, opening
    marks to the word after."""
    out: list[str] = []
    carry = ""
    for token in tokens:
        if not token:
            continue
        if token.isspace():
            if carry:
                out.append(carry)
                carry = ""
            out.append(token)
            continue
        token = carry + token
        carry = ""
        if all(ch in _OPENING for ch in token):
            carry = token
            continue
        prev = out[-1] if out else ""
        if prev and not prev.isspace():
            closing = all(ch in _CLOSING for ch in token)
            latin_run = not is_thai(prev[-1]) and not is_thai(token[0])
            if closing or latin_run:
                out[-1] = prev + token
                continue
        out.append(token)
    if carry:
        out.append(carry)
    return out


SHORT_BRACKET = 16
"""A bracketed aside up to this many characters, "(60 ปีขึ้นไป)", stays on one line."""


def _keep_brackets(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token[:1] in _OPENING and not _closes(token):
            j, joined = i, token
            while j + 1 < len(tokens) and len(joined) <= SHORT_BRACKET and not _closes(joined):
                j += 1
                joined += tokens[j]
            if _closes(joined) and len(joined) <= SHORT_BRACKET:
                out.append(joined)
                i = j + 1
                continue
        out.append(token)
        i += 1
    return out


def _closes(text: str) -> bool:
    return text.rstrip(".,:;!?")[-1:] in (")", "]", "}", "”", "»")


def clusters(word: str) -> list[str]:
    """A word cut where a break cannot detach a vowel or tone mark from its consonant (the last resort
    when one word is wider than the line)."""
    out: list[str] = []
    for ch in word:
        if out and (unicodedata.category(ch) == "Mn" or ch == "\u0e33"):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap(text: str, max_width: float, measure: Measure) -> list[str]:
    """Lines no wider than `max_width`, broken at word boundaries; existing newlines are kept.

    Spaces at a break are dropped. A single word wider than the line is broken between characters (never
    between a consonant and its marks) rather than allowed to run off the screen."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, max_width, measure))
    return lines


def _wrap_paragraph(paragraph: str, max_width: float, measure: Measure) -> list[str]:
    if not paragraph.strip() or measure(paragraph) <= max_width:
        return [paragraph]
    lines: list[str] = []
    current = ""
    for token in words(paragraph):
        candidate = current + token
        if token.isspace() or measure(candidate.rstrip()) <= max_width:
            current = candidate
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = token
        if measure(current) > max_width:
            piece = ""
            for cluster in clusters(current):
                if piece and measure(piece + cluster) > max_width:
                    lines.append(piece)
                    piece = ""
                piece += cluster
            current = piece
    if current.strip():
        lines.append(current.rstrip())
    return lines


def kivy_measure(font_name: str, font_size: float, *, bold: bool = False) -> Measure:
    """The width of a line as a Kivy label with this font would draw it (Thai shaping on), cached."""
    from kivy.core.text import Label as CoreLabel  # deferred: only a running Kivy app needs it

    core = CoreLabel(font_name=font_name, font_size=font_size, bold=bold, font_script_name="Thai")

    @lru_cache(maxsize=2048)
    def measure(text: str) -> float:
        width, _height = core.get_extents(text)
        return float(width)

    return measure
