"""The placeholder clip set and the clip documentation an office records from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from common.thainum import PHRASES
from counter_display.audio import write_wav
from counter_display.clips import (
    ALL_PHRASES,
    THAI_BY_ENGLISH_VOICE,
    ClipSet,
    generate_clips,
    placeholder_speech,
)
from tests.counter_display.clipkit import tone_clip

README = Path(__file__).resolve().parents[2] / "counter_display" / "clips" / "README.md"


def test_the_readme_lists_every_clip_an_office_must_record() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [key for key in ALL_PHRASES if f"`{key}.wav`" not in text]
    assert missing == []
    for key, phrase in PHRASES.items():
        assert f"| `{key}.wav` | {phrase.th} |" in text, f"README says something else for {key}"


def test_no_thai_phrase_is_left_to_the_broken_thai_voice() -> None:
    assert set(PHRASES) <= set(THAI_BY_ENGLISH_VOICE)
    assert placeholder_speech("letter_R") == ("en", "R")
    assert placeholder_speech("invite", "espeak-th") == ("th", "ขอเชิญหมายเลข")
    assert placeholder_speech("en_num_40")[0] == "en"


def fake_espeak(argv: list[str]) -> None:
    """Writes a short tone where espeak-ng would write its WAV (`-w PATH`)."""
    write_wav(Path(argv[argv.index("-w") + 1]), tone_clip(3000))


def test_generate_fills_the_folder_and_keeps_recorded_clips(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    recorded = write_wav(folder / "invite.wav", tone_clip(1234))
    before = recorded.read_bytes()
    report = generate_clips(folder, runner=fake_espeak)
    assert report.kept == ["invite"]
    assert sorted(report.written) == sorted(k for k in ALL_PHRASES if k != "invite")
    assert recorded.read_bytes() == before, "an office's own recording is never overwritten"
    clips = ClipSet(folder)
    assert all(clips.get(k) is not None for k in ALL_PHRASES)
    again = generate_clips(folder, runner=fake_espeak, overwrite=True)
    assert "invite" in again.written and recorded.read_bytes() != before


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_real_espeak_makes_clips_the_board_can_use(tmp_path: Path) -> None:
    from counter_display.clips import ESPEAK, ESPEAK_SPEED_WPM, _run_espeak

    for key in ("invite", "digit_7", "en_at_counter"):
        lang, text = placeholder_speech(key)
        _run_espeak(
            [ESPEAK, "-v", lang, "-s", str(ESPEAK_SPEED_WPM), "-w", str(tmp_path / f"{key}.wav"), text]
        )
    clips = ClipSet(tmp_path)
    for key in ("invite", "digit_7", "en_at_counter"):
        pcm = clips.get(key)
        assert pcm is not None and 0.15 < pcm.duration_s < 3.0, key
