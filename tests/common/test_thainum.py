"""How a ticket number is called in Thai: number words, letter names, and the clip keys of a call."""

from __future__ import annotations

import pytest

from common.thainum import (
    CLIP_KEYS,
    LETTER_NAMES_TH,
    PHRASES,
    CallStyle,
    call_phrases,
    call_text_en,
    call_text_th,
    clip_filename,
    digit_words,
    missing_clips,
    number_keys,
    split_ticket_number,
    thai_number_text,
    thai_number_words,
)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, ["ศูนย์"]),
        (1, ["หนึ่ง"]),
        (7, ["เจ็ด"]),
        (10, ["สิบ"]),
        (11, ["สิบ", "เอ็ด"]),
        (12, ["สิบ", "สอง"]),
        (20, ["ยี่สิบ"]),
        (21, ["ยี่สิบ", "เอ็ด"]),
        (30, ["สาม", "สิบ"]),
        (31, ["สาม", "สิบ", "เอ็ด"]),
        (100, ["หนึ่ง", "ร้อย"]),
        (101, ["หนึ่ง", "ร้อย", "เอ็ด"]),
        (111, ["หนึ่ง", "ร้อย", "สิบ", "เอ็ด"]),
        (120, ["หนึ่ง", "ร้อย", "ยี่สิบ"]),
        (999, ["เก้า", "ร้อย", "เก้า", "สิบ", "เก้า"]),
        (1000, ["หนึ่ง", "พัน"]),
        (1001, ["หนึ่ง", "พัน", "เอ็ด"]),
        (2021, ["สอง", "พัน", "ยี่สิบ", "เอ็ด"]),
        (10000, ["หนึ่ง", "หมื่น"]),
        (100000, ["หนึ่ง", "แสน"]),
        (1000000, ["หนึ่ง", "ล้าน"]),
        (1000001, ["หนึ่ง", "ล้าน", "เอ็ด"]),
        (11000000, ["สิบ", "เอ็ด", "ล้าน"]),
    ],
)
def test_thai_number_words(n: int, words: list[str]) -> None:
    assert thai_number_words(n) == words


@pytest.mark.parametrize(
    ("n", "text"),
    [(11, "สิบเอ็ด"), (21, "ยี่สิบเอ็ด"), (101, "หนึ่งร้อยเอ็ด"), (111, "หนึ่งร้อยสิบเอ็ด"), (2021, "สองพันยี่สิบเอ็ด")],
)
def test_thai_number_text(n: int, text: str) -> None:
    assert thai_number_text(n) == text


def test_number_words_agree_with_pythainlp_up_to_a_big_office_day() -> None:
    from pythainlp.util import num_to_thaiword

    for n in range(0, 10_000):
        assert thai_number_text(n) == num_to_thaiword(n), n


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_number_keys_refuse_what_is_not_a_count(bad: object) -> None:
    with pytest.raises(ValueError):
        number_keys(bad)  # type: ignore[arg-type]


def test_digit_words() -> None:
    assert digit_words("012") == ["ศูนย์", "หนึ่ง", "สอง"]
    assert digit_words("9") == ["เก้า"]
    for bad in ("", "1a", "๑"):
        with pytest.raises(ValueError):
            digit_words(bad)


def test_letter_names_cover_every_prefix() -> None:
    assert len(LETTER_NAMES_TH) == 26
    assert LETTER_NAMES_TH["A"] == "เอ" and LETTER_NAMES_TH["B"] == "บี" and LETTER_NAMES_TH["W"] == "ดับเบิลยู"
    assert all(PHRASES[f"letter_{letter}"].th == name for letter, name in LETTER_NAMES_TH.items())


@pytest.mark.parametrize(
    ("number", "counter", "style", "polite", "keys"),
    [
        (
            "A012",
            2,
            "digits",
            "ka",
            ["invite", "letter_A", "digit_0", "digit_1", "digit_2", "at_counter", "num_2", "ka"],
        ),
        ("A012", 2, "number", "ka", ["invite", "letter_A", "num_10", "num_2", "at_counter", "num_2", "ka"]),
        (
            "B101",
            11,
            "number",
            "krap",
            ["invite", "letter_B", "num_1", "num_100", "word_et", "at_counter", "num_10", "word_et", "krap"],
        ),
        (
            "AX05",
            3,
            "digits",
            "ka",
            ["invite", "letter_A", "letter_X", "digit_0", "digit_5", "at_counter", "num_3", "ka"],
        ),
        ("C021", 4, "number", "ka", ["invite", "letter_C", "num_20", "word_et", "at_counter", "num_4", "ka"]),
    ],
)
def test_call_phrases(number: str, counter: int, style: str, polite: str, keys: list[str]) -> None:
    assert call_phrases(number, counter, style=style, polite=polite) == keys  # type: ignore[arg-type]


def test_every_key_of_a_call_is_a_clip_of_the_set() -> None:
    styles: tuple[CallStyle, ...] = ("digits", "number")
    for number in ("A001", "Z999", "AX01", "Q1234"):
        for style in styles:
            for key in call_phrases(number, 12, style=style):
                assert clip_filename(key) == f"{key}.wav"
                assert key in CLIP_KEYS


def test_call_of_a_bad_number_or_counter_is_refused() -> None:
    for bad in ("a012", "A1", "ABC12", "012", "A01234", ""):
        with pytest.raises(ValueError, match="not a ticket number"):
            call_phrases(bad, 1)
    with pytest.raises(ValueError, match="counter"):
        call_phrases("A012", 0)
    with pytest.raises(ValueError, match="style"):
        call_phrases("A012", 1, style="roman")  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        clip_filename("letter_a")


def test_split_ticket_number() -> None:
    assert split_ticket_number("A012") == ("A", "012")
    assert split_ticket_number("AX05") == ("AX", "05")


def test_call_texts() -> None:
    assert call_text_th("A012", 2) == "ขอเชิญหมายเลข A ศูนย์ หนึ่ง สอง ที่ช่องบริการ 2 ค่ะ"
    assert call_text_th("A012", 2, style="number", polite="krap") == "ขอเชิญหมายเลข A สิบสอง ที่ช่องบริการ 2 ครับ"
    assert call_text_th("AX05", 10) == "ขอเชิญหมายเลข A X ศูนย์ ห้า ที่ช่องบริการ 10 ค่ะ"
    assert call_text_en("A012", 2) == "Number A012, please go to counter 2"


def test_phrase_table_has_thai_and_english_for_every_clip() -> None:
    assert all(phrase.th and phrase.en for phrase in PHRASES.values())
    assert PHRASES["invite"].th == "ขอเชิญหมายเลข"
    assert PHRASES["at_counter"].th == "ที่ช่องบริการ"
    assert PHRASES["word_et"].th == "เอ็ด" and PHRASES["num_20"].th == "ยี่สิบ"


def test_missing_clips_uses_the_same_word_under_the_other_key() -> None:
    everything = [f"{k}.wav" for k in CLIP_KEYS]
    assert missing_clips(everything) == []
    without_digits = [name for name in everything if not name.startswith("digit_")]
    assert missing_clips(without_digits) == []  # num_0..num_9 say the same words
    assert missing_clips([n for n in everything if n != "at_counter.wav"]) == ["at_counter"]
