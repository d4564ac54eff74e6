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

import importlib.util
import itertools
import logging
import re
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

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

WORD_LIST = "words_th.txt"
"""PyThaiNLP's Thai word list (62,000 words), the dictionary of its `newmm` tokenizer."""


class WordList:
    """A sorted word list held as one string and the offsets of its words; membership by binary search
    among the words that share the first two characters.

    PyThaiNLP's word list as a set of 62,000 `str` objects takes about 10 MB, and importing PyThaiNLP to
    get it another 7 MB (its package imports every submodule); its `newmm` tokenizer builds a trie of
    about 65 MB. The same words in one string take about 1 MB, the offsets 0.25 MB and the index of
    first two characters 0.2 MB; a lookup is a handful of slice comparisons."""

    __slots__ = ("_heads", "_offsets", "_text")

    def __init__(self, words: Callable[[], Iterable[str]]) -> None:
        # The long-lived objects first and the index after the words are gone: a small object made
        # among 62,000 short-lived ones would keep their memory from being returned.
        self._offsets = array("I", [0])
        self._heads: dict[str, tuple[int, int]] = {}
        """First two characters -> (first, last + 1) index of the words that begin with them."""
        ordered = sorted(set(words()))
        self._text = "".join(ordered)
        self._offsets.extend(itertools.accumulate(map(len, ordered)))
        del ordered
        for index in range(len(self)):
            head = self._word(index)[:2]
            if len(head) == 2:
                first, _ = self._heads.get(head, (index, index))
                self._heads[head] = (first, index + 1)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or not word:
            return False
        lo, hi = self._span(word)
        at = self._first_not_below(word, lo, hi)
        return at < hi and self._word(at) == word

    def ends_of_words_at(self, text: str, start: int, ends: Iterable[int]) -> Iterator[int]:
        """Those of `ends` (ascending) where `text[start:end]` is a word. Stops at the first end where no
        word even begins with `text[start:end]`: no longer piece can be a word then either."""
        at = 0
        for end in ends:
            piece = text[start:end]
            lo, hi = self._span(piece)
            # a longer piece sorts after a shorter one: its place is never before the last one found
            at = self._first_not_below(piece, max(at, lo), hi)
            if at >= hi:
                return
            found = self._word(at)
            if found == piece:
                yield end
            elif not found.startswith(piece):
                return

    def _span(self, piece: str) -> tuple[int, int]:
        """The indices of the words that may begin with `piece`."""
        if len(piece) < 2:
            return 0, len(self)
        return self._heads.get(piece[:2], (0, 0))

    def _word(self, index: int) -> str:
        return self._text[self._offsets[index] : self._offsets[index + 1]]

    def _first_not_below(self, word: str, lo: int, hi: int) -> int:
        """The index of the first word >= `word` among the words lo..hi-1 (bisect_left)."""
        text, offsets = self._text, self._offsets
        while lo < hi:
            mid = (lo + hi) // 2
            if text[offsets[mid] : offsets[mid + 1]] < word:
                lo = mid + 1
            else:
                hi = mid
        return lo


@lru_cache(maxsize=1)
def _dictionary() -> WordList:
    """PyThaiNLP's word list, read from its file without importing PyThaiNLP (see `WordList`), as
    `pythainlp.corpus.thai_words()` reads it: one word a line."""

    def words() -> Iterator[str]:
        lines = _pythainlp_file("corpus", WORD_LIST).read_text(encoding="utf-8-sig").splitlines()
        return (w for w in lines if w and len(w) <= MAX_WORD and " " not in w)

    return WordList(words)


def _pythainlp_file(*parts: str) -> Path:
    """A file of the installed PyThaiNLP, found without running its package's `__init__`."""
    spec = importlib.util.find_spec("pythainlp")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            "pythainlp is not installed: Thai line breaking needs its word list and rules"
        )
    return Path(spec.origin).parent.joinpath(*parts)


# Thai character clusters: the pieces no break may split (a consonant with its vowels and tone mark,
# and the clusters of preposed vowels): PyThaiNLP's own rules, `pythainlp.tokenize.tcc`, a module that
# needs nothing but `re`. Loaded from its file like the word list, without PyThaiNLP's `__init__`.
@lru_cache(maxsize=1)
def _tcc() -> re.Pattern[str]:
    path = _pythainlp_file("tokenize", "tcc.py")
    module_spec = importlib.util.spec_from_file_location("_khiu_pythainlp_tcc", path)
    if module_spec is None or module_spec.loader is None:
        raise ModuleNotFoundError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    pattern: re.Pattern[str] = module._PAT_TCC
    return pattern


def cluster_ends(text: str) -> set[int]:
    """The end positions of the Thai character clusters of `text` (as PyThaiNLP's `tcc_pos`): a
    character no rule matches is a cluster of its own."""
    ends: set[int] = set()
    pattern = _tcc()
    p, n = 0, len(text)
    while p < n:
        m = pattern.match(text, p)
        p = m.end() if m and m.end() > p else p + 1
        ends.add(p)
    return ends


def _split_thai(chunk: str) -> list[str]:
    """Maximal matching over Thai character clusters (the idea of PyThaiNLP's newmm): the split into
    dictionary words with the fewest unknown clusters, then the fewest words. Words start and end only
    at cluster boundaries, so no break ever separates a consonant from its vowel or tone mark. Runs of
    unknown clusters (names, typos) stay one piece. Non-Thai characters inside the chunk (digits,
    Latin letters, punctuation) form their own pieces."""
    dictionary = _dictionary()
    n = len(chunk)
    bounds = sorted(cluster_ends(chunk) | {0, n} | _script_changes(chunk))
    # best[i]: (unknown clusters, words, previous boundary, was a dictionary word) for a split of chunk[:i]
    best: dict[int, tuple[int, int, int, bool]] = {0: (0, 0, -1, True)}
    for k, i in enumerate(bounds):
        if i not in best or i == n:
            continue
        unknown, count, _, _ = best[i]
        for j in dictionary.ends_of_words_at(chunk, i, _within(bounds[k + 1 :], i + MAX_WORD)):
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


def _within(ends: list[int], last: int) -> Iterator[int]:
    return itertools.takewhile(lambda end: end <= last, ends)


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
