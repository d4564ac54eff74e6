"""Thai line breaking of the shared Kivy toolkit, without a window: word pieces and wrapping."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.ui.thai import clusters, words, wrap

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
