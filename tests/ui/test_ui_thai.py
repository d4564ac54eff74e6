"""Thai line breaking of the shared Kivy toolkit, without a window: word pieces and wrapping."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.ui import thai
from common.ui.thai import clusters, is_thai, words, wrap

SAMPLES = [
    "ลงทะเบียนและยื่นคำขอรับเงินเบี้ยยังชีพผู้สูงอายุ",
    "สมุดบัญชีเงินฝากธนาคาร (กรณีขอรับเงินผ่านบัญชี)",
    "สำนักงานพัฒนาสังคมและความมั่นคงของมนุษย์จังหวัดขอนแก่น",
    "พิมพ์บัตรคิวไม่ได้ กรุณาจำหมายเลขนี้ แล้วแจ้งเจ้าหน้าที่",
    "หมายเลข A012 ที่ช่องบริการ 2",
    "น้ำ ญาติ ฐาน ปู่ ที่นี่",
]


def width_of(text: str) -> float:
    """A stand-in font: every character but a combining mark is 10 px wide."""
    return 10.0 * sum(1 for ch in text if unicodedata.category(ch) != "Mn" and ch != "\u0e33") + (
        10.0 * text.count("\u0e33")
    )


def test_thai_is_cut_into_dictionary_words() -> None:
    assert words("ลงทะเบียนและยื่นคำขอรับเงินเบี้ยยังชีพผู้สูงอายุ") == (
        "ลงทะเบียน",
        "และ",
        "ยื่นคำขอ",
        "รับเงิน",
        "เบี้ย",
        "ยังชีพ",
        "ผู้สูงอายุ",
    )


def test_numbers_latin_and_short_brackets_stay_whole() -> None:
    assert words("หมายเลข A012 ที่ช่อง 2") == ("หมายเลข", " ", "A012", " ", "ที่", "ช่อง", " ", "2")
    assert words("ผู้สูงอายุ (60 ปีขึ้นไป)") == ("ผู้สูงอายุ", " ", "(60 ปีขึ้นไป)")
    assert words("แบบคำร้อง (ดร.01)")[-1] == "(ดร.01)"
    assert words("Take a ticket") == ("Take", " ", "a", " ", "ticket")


@pytest.mark.parametrize("text", SAMPLES)
def test_no_piece_starts_with_a_mark_and_nothing_is_lost(text: str) -> None:
    pieces = words(text)
    assert "".join(pieces) == text
    for piece in pieces:
        assert unicodedata.category(piece[0]) != "Mn" and piece[0] != "\u0e33", piece


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("width", [60, 120, 200, 400])
def test_wrapped_lines_fit_and_break_only_between_words(text: str, width: int) -> None:
    lines = wrap(text, width, width_of)
    pieces = [p for p in words(text) if not p.isspace()]
    for line in lines:
        if width_of(line) > width:
            # only a single word longer than the line may be cut, and then only between clusters
            assert len(line) <= max(len(p) for p in pieces)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    whole = [line for line in lines if width_of(line) <= width]
    for line in whole:
        assert unicodedata.category(line[0]) != "Mn"


def test_a_line_break_falls_between_words_not_inside_one() -> None:
    lines = wrap("ลงทะเบียนและยื่นคำขอรับเงินเบี้ยยังชีพผู้สูงอายุ", 150, width_of)
    assert lines == ["ลงทะเบียนและ", "ยื่นคำขอรับเงินเบี้ย", "ยังชีพผู้สูงอายุ"]


def test_a_word_wider_than_the_line_breaks_between_clusters() -> None:
    lines = wrap("ผู้สูงอายุ", 30, width_of)
    assert "".join(lines) == "ผู้สูงอายุ"
    assert all(line and unicodedata.category(line[0]) != "Mn" for line in lines)
    assert clusters("ผู้") == ["ผู้"]


def test_newlines_in_the_text_are_kept() -> None:
    assert wrap("หมายเลขคิว\nYour number", 1000, width_of) == ["หมายเลขคิว", "Your number"]


THAI_TEXT = st.text(alphabet=st.sampled_from(list("กขคงจนมยรลวสหอะาิีึืุูเแโใไ่้๊๋็์ำั ")), max_size=60)


@settings(max_examples=200, deadline=None)
@given(text=THAI_TEXT, width=st.integers(min_value=20, max_value=300))
def test_wrapping_never_loses_or_reorders_text(text: str, width: int) -> None:
    assert "".join(words(text)) == text
    lines = wrap(text, width, width_of)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")


# ------------------------------------------------------------------ the compact dictionary and clusters
#
# Line breaking reads PyThaiNLP's word list into one string and has its own copy of PyThaiNLP's character
# cluster rules, so that a kiosk does not import PyThaiNLP (17 MB). These tests hold both to PyThaiNLP's
# own, and the break points of an office's texts to those of the plain set and PyThaiNLP's `tcc_pos`.


def _office_texts() -> list[str]:
    """Every Thai text an office shows on a kiosk: the example office's file and the kiosk's wording."""
    import tomllib

    from common.paths import REPO_ROOT
    from kiosk.texts import TEXTS

    found: list[str] = [th for th, _en in TEXTS.values()]

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(tomllib.loads((REPO_ROOT / "examples" / "office.toml").read_text("utf-8")))
    return sorted({text for text in found if is_thai(text)})


def test_the_word_list_holds_exactly_pythainlps_words() -> None:
    from pythainlp.corpus import thai_words

    expected = {w for w in thai_words() if len(w) <= thai.MAX_WORD and " " not in w}
    dictionary = thai._dictionary()
    assert len(dictionary) == len(expected)
    assert all(word in dictionary for word in expected)
    for near_miss in ("ลงทะเบียนx", "ผู้สูงอายุุ", "กกกกกก", "", "A012", "ก" * (thai.MAX_WORD + 1)):
        assert near_miss not in dictionary


@given(text=THAI_TEXT)
@settings(max_examples=300, deadline=None)
def test_character_clusters_are_pythainlps(text: str) -> None:
    from pythainlp.tokenize.tcc import tcc_pos

    assert thai.cluster_ends(text) == tcc_pos(text)


@pytest.mark.parametrize("text", SAMPLES)
def test_character_clusters_of_office_words_are_pythainlps(text: str) -> None:
    from pythainlp.tokenize.tcc import tcc_pos

    assert thai.cluster_ends(text) == tcc_pos(text)


WORDS = st.lists(st.text(alphabet="กขคา่ะ", min_size=1, max_size=5), max_size=40)


@given(words_=WORDS, text=st.text(alphabet="กขคา่ะ", max_size=12), start=st.integers(0, 12))
@settings(max_examples=300, deadline=None)
def test_words_found_at_a_place_are_every_dictionary_word_there(
    words_: list[str], text: str, start: int
) -> None:
    dictionary = thai.WordList(lambda: words_)
    ends = range(start + 1, len(text) + 1)
    assert list(dictionary.ends_of_words_at(text, start, ends)) == [
        end for end in ends if text[start:end] in set(words_)
    ]
    for word in words_:
        assert word in dictionary


class PlainWords:
    """The word list as the plain set it was before (every candidate looked up)."""

    def __init__(self, words_: frozenset[str]) -> None:
        self.words = words_

    def ends_of_words_at(self, text: str, start: int, ends: Iterable[int]) -> list[int]:
        return [end for end in ends if text[start:end] in self.words]


def test_an_offices_texts_break_where_pythainlps_dictionary_and_clusters_break_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pythainlp.corpus import thai_words
    from pythainlp.tokenize.tcc import tcc_pos

    texts = _office_texts()
    assert len(texts) > 100
    ours = {text: thai.words.__wrapped__(text) for text in texts}
    plain = PlainWords(frozenset(w for w in thai_words() if len(w) <= thai.MAX_WORD and " " not in w))
    monkeypatch.setattr(thai, "_dictionary", lambda: plain)
    monkeypatch.setattr(thai, "cluster_ends", tcc_pos)
    theirs = {text: thai.words.__wrapped__(text) for text in texts}
    assert ours == theirs


def test_line_breaking_does_not_import_pythainlp() -> None:
    """PyThaiNLP's package imports every submodule (7 MB); the kiosk needs only its word list file."""
    import subprocess
    import sys

    code = (
        "import sys; from common.ui.thai import words; "
        "assert words('ลงทะเบียนผู้สูงอายุ') == ('ลงทะเบียน', 'ผู้สูงอายุ'); "
        "print(sorted(m for m in sys.modules if m.startswith('pythainlp')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
