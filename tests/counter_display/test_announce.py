"""Announcements: what a call sounds like (chime, then the clips in the right order) and the queue that
plays calls one at a time, in order, never overlapping."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import pytest

from counter_display.announce import (
    Announcement,
    AnnouncementBuilder,
    AnnouncementSettings,
    Announcer,
    Call,
)
from counter_display.audio import RATE, read_wav, synth_chime, wav_duration_s, write_wav
from counter_display.clips import ClipSet
from tests.counter_display.clipkit import RecordingPlayer, make_clip_set, spoken_keys, tone_clip

THAI_ONLY = AnnouncementSettings()

CASES = [
    # number, counter, settings, the clips heard after the chime
    (
        "A012",
        2,
        THAI_ONLY,
        ["invite", "letter_A", "digit_0", "digit_1", "digit_2", "at_counter", "num_2", "ka"],
    ),
    (
        "A012",
        2,
        AnnouncementSettings(style="number"),
        ["invite", "letter_A", "num_10", "num_2", "at_counter", "num_2", "ka"],
    ),
    (
        "B121",
        11,
        AnnouncementSettings(style="number", polite="krap"),
        [
            "invite",
            "letter_B",
            "num_1",
            "num_100",
            "num_20",
            "word_et",
            "at_counter",
            "num_10",
            "word_et",
            "krap",
        ],
    ),
    (
        "C021",
        21,
        AnnouncementSettings(style="number"),
        ["invite", "letter_C", "num_20", "word_et", "at_counter", "num_20", "word_et", "ka"],
    ),
    (
        "C100",
        3,
        AnnouncementSettings(style="number"),
        ["invite", "letter_C", "num_1", "num_100", "at_counter", "num_3", "ka"],
    ),
    (
        "AX05",
        12,
        THAI_ONLY,
        ["invite", "letter_A", "letter_X", "digit_0", "digit_5", "at_counter", "num_10", "num_2", "ka"],
    ),
    (
        "T007",
        45,
        AnnouncementSettings(english=True),
        [
            *[
                "invite",
                "letter_T",
                "digit_0",
                "digit_0",
                "digit_7",
                "at_counter",
                "num_4",
                "num_10",
                "num_5",
            ],
            "ka",
            *["en_invite", "en_letter_T", "en_digit_0", "en_digit_0", "en_digit_7", "en_at_counter"],
            *["en_num_40", "en_num_5"],
        ],
    ),
    (
        "D015",
        13,
        AnnouncementSettings(english=True),
        [
            *["invite", "letter_D", "digit_0", "digit_1", "digit_5", "at_counter", "num_10", "num_3", "ka"],
            *[
                "en_invite",
                "en_letter_D",
                "en_digit_0",
                "en_digit_1",
                "en_digit_5",
                "en_at_counter",
                "en_num_13",
            ],
        ],
    ),
]


@pytest.fixture(scope="module")
def full_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip_set(tmp_path_factory.mktemp("clips"))


@pytest.mark.parametrize(("number", "counter", "settings", "heard"), CASES)
def test_a_call_sounds_as_the_chime_then_its_clips_in_order(
    full_set: Path,
    tmp_path: Path,
    number: str,
    counter: int,
    settings: AnnouncementSettings,
    heard: list[str],
) -> None:
    builder = AnnouncementBuilder(ClipSet(full_set), tmp_path / "out", settings)
    announcement = builder.build(Call(number, counter))
    assert spoken_keys(announcement.path, builder.chime) == heard
    assert announcement.skipped == ()
    assert announcement.duration_s == pytest.approx(wav_duration_s(announcement.path))


def test_without_any_clip_an_announcement_is_the_chime(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    builder = AnnouncementBuilder(ClipSet(tmp_path / "no-such-folder"), tmp_path / "out")
    announcement = builder.build(Call("A012", 2))
    pcm = read_wav(announcement.path)
    assert pcm.samples == builder.chime.samples
    assert announcement.spoken == ()
    assert "invite" in announcement.skipped and "ka" in announcement.skipped


def _power_at(samples: Iterable[int], freq: float, rate: int = RATE) -> float:
    """Goertzel: how much of `freq` is in `samples`."""
    import math

    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for v in samples:
        s1, s2 = v + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def test_chime_is_a_falling_ding_dong_made_in_python(tmp_path: Path) -> None:
    from counter_display.audio import CHIME_GAP_S, CHIME_NOTE_S, CHIME_TONES_HZ

    chime = synth_chime()
    assert 1.0 < chime.duration_s < 2.0
    peak = max(abs(v) for v in chime.samples)
    assert 0.4 * 32767 < peak < 32767  # clearly audible, never clipping
    high, low = CHIME_TONES_HZ
    assert high > low
    window = int(0.25 * RATE)
    ding = chime.samples[:window]
    second = int((CHIME_NOTE_S + CHIME_GAP_S) * RATE)
    dong = chime.samples[second : second + window]
    assert _power_at(ding, high) > 10 * _power_at(ding, low)
    assert _power_at(dong, low) > 10 * _power_at(dong, high)
    write_wav(tmp_path / "c.wav", chime)
    assert wav_duration_s(tmp_path / "c.wav") == pytest.approx(chime.duration_s)


def test_a_missing_clip_is_skipped_and_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from counter_display.clips import ALL_PHRASES

    folder = make_clip_set(tmp_path / "clips", [k for k in ALL_PHRASES if k != "letter_A"])
    builder = AnnouncementBuilder(ClipSet(folder), tmp_path / "out")
    with caplog.at_level(logging.WARNING):
        first = builder.build(Call("A012", 2))
        builder.build(Call("A013", 2))
    assert spoken_keys(first.path, builder.chime) == [
        "invite",
        "digit_0",
        "digit_1",
        "digit_2",
        "at_counter",
        "num_2",
        "ka",
    ]
    assert first.skipped == ("letter_A",)
    assert sum("letter_A" in r.getMessage() for r in caplog.records) == 1


def test_digits_fall_back_to_number_words_recorded_once(tmp_path: Path) -> None:
    """An office that recorded ศูนย์..เก้า only as num_0..num_9 still gets digit-by-digit calls."""
    from counter_display.clips import ALL_PHRASES

    folder = make_clip_set(tmp_path / "clips", [k for k in ALL_PHRASES if not k.startswith("digit_")])
    builder = AnnouncementBuilder(ClipSet(folder), tmp_path / "out")
    announcement = builder.build(Call("A012", 2))
    assert spoken_keys(announcement.path, builder.chime) == [
        "invite", "letter_A", "num_0", "num_1", "num_2", "at_counter", "num_2", "ka"
    ]  # fmt: skip


def test_clips_of_any_format_join_into_one_sound(tmp_path: Path) -> None:
    """An office records at 44.1 kHz stereo 24-bit: the clip is converted, not refused or garbled."""
    import wave

    folder = tmp_path / "clips"
    folder.mkdir()
    tone = tone_clip(int(0.3 * 44_100), amplitude=10_000)
    with wave.open(str(folder / "invite.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(3)
        w.setframerate(44_100)
        frames = bytearray()
        for v in tone.samples:
            b = (v << 8).to_bytes(3, "little", signed=True)
            frames += b + b
        w.writeframes(bytes(frames))
    pcm = ClipSet(folder).get("invite")
    assert pcm is not None and pcm.rate == RATE
    assert abs(pcm.duration_s - 0.3) < 0.01


def test_new_clips_are_picked_up_without_restart(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    clips = ClipSet(folder)
    assert clips.get("invite") is None
    make_clip_set(folder, ["invite"])
    assert clips.get("invite") is not None


# ------------------------------------------------------------------------------------------------ queue


def make_announcer(tmp_path: Path, full_set: Path) -> tuple[Announcer, RecordingPlayer]:
    player = RecordingPlayer()
    builder = AnnouncementBuilder(ClipSet(full_set), tmp_path / "out")
    return Announcer(builder, player), player


def test_two_calls_at_once_are_two_announcements_in_order_never_overlapping(
    tmp_path: Path, full_set: Path
) -> None:
    announcer, player = make_announcer(tmp_path, full_set)
    started: list[str] = []
    announcer.on_start.append(lambda a: started.append(a.call.number))
    announcer.announce(Call("A012", 2))
    announcer.announce(Call("B003", 5))
    assert len(player.played) == 1, "the second call must wait for the first to finish"
    assert [c.number for c in announcer.pending] == ["B003"]
    player.finish()
    assert len(player.played) == 2
    player.finish()
    assert not announcer.busy and player.overlaps == 0
    assert started == ["A012", "B003"]
    chime = announcer.builder.chime
    heard = [spoken_keys(b, chime, tmp_path / f"heard{i}.wav") for i, b in enumerate(player.copies)]
    assert heard[0][1:5] == ["letter_A", "digit_0", "digit_1", "digit_2"]
    assert heard[1][1:5] == ["letter_B", "digit_0", "digit_0", "digit_3"]


def test_a_recall_is_announced_again(tmp_path: Path, full_set: Path) -> None:
    announcer, player = make_announcer(tmp_path, full_set)
    announcer.announce(Call("A012", 2))
    player.finish()
    announcer.announce(Call("A012", 2, repeat=1))
    assert len(player.played) == 2
    chime = announcer.builder.chime
    assert spoken_keys(player.copies[0], chime, tmp_path / "a.wav") == spoken_keys(
        player.copies[1], chime, tmp_path / "b.wav"
    )


def test_with_no_clips_every_call_still_chimes(tmp_path: Path) -> None:
    player = RecordingPlayer()
    builder = AnnouncementBuilder(ClipSet(None), tmp_path / "out")
    announcer = Announcer(builder, player)
    announcer.announce(Call("A012", 2))
    announcer.announce(Call("A013", 3))
    player.finish()
    player.finish()
    assert len(player.played) == 2
    for i, data in enumerate(player.copies):
        (tmp_path / f"p{i}.wav").write_bytes(data)
        assert read_wav(tmp_path / f"p{i}.wav").samples == builder.chime.samples


def test_a_failing_build_still_chimes_and_the_queue_goes_on(tmp_path: Path, full_set: Path) -> None:
    announcer, player = make_announcer(tmp_path, full_set)

    def broken(call: Call) -> Announcement:
        raise OSError("disk full")

    announcer.builder.build = broken  # type: ignore[method-assign]
    announcer.announce(Call("A012", 2))
    announcer.announce(Call("A013", 2))
    assert player.played == [announcer.builder.chime_path]
    player.finish()
    assert len(player.played) == 2


def test_the_backlog_is_bounded(tmp_path: Path, full_set: Path) -> None:
    announcer, _player = make_announcer(tmp_path, full_set)
    announcer.max_pending = 3
    for i in range(6):
        announcer.announce(Call(f"A{i:03d}", 1))
    assert [c.number for c in announcer.pending] == ["A003", "A004", "A005"]
