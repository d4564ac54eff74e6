"""The shared Kivy toolkit under the virtual display: Thai labels wrap at word boundaries with Thai
shaping on, the one thread crossing runs work on the main thread, redraws are coalesced, and the
large-text mode enlarges and recolours. Screenshots go to build/screenshots/ui-*.png."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from common.ui.thai import words

pytestmark = pytest.mark.ui

SHOTS = Path("build/screenshots")


@pytest.fixture(scope="module")
def driver() -> Any:
    from common import ui
    from common.ui.testing import KivyDriver

    ui.setup()
    return KivyDriver.get(size=(1280, 800))


def test_thai_label_wraps_at_word_boundaries_and_rewraps_when_resized(driver: Any) -> None:
    from kivy.uix.boxlayout import BoxLayout

    from common.ui.widgets import ThaiLabel

    text = "สมุดบัญชีเงินฝากธนาคาร (กรณีขอรับเงินผ่านบัญชี) น้ำ ญาติ ฐาน ผู้สูงอายุ A012"
    root = BoxLayout(padding=20)
    label = ThaiLabel(text=text, font_size=44, size_hint=(None, None), width=420, color=(1, 1, 1, 1))
    label.bind(texture_size=lambda w, size: setattr(w, "height", size[1]))
    root.add_widget(label)
    driver.show(root)
    driver.frames(3)
    driver.screenshot(SHOTS / "ui-thai-label.png")

    assert label.font_script_name == "Thai"
    assert label.source_text == text
    lines = label.text.split("\n")
    assert len(lines) >= 3
    pieces = set(words(text))
    for line in lines:
        for piece in words(line):
            assert piece in pieces or piece.isspace(), f"{piece!r} is a word cut in two"
    assert label.texture_size[0] <= 420

    label.width = 900
    driver.frames(3)
    assert len(label.text.split("\n")) < len(lines)
    assert label.text.replace("\n", "").replace(" ", "") == text.replace(" ", "")


def test_setting_text_again_shows_the_new_text(driver: Any) -> None:
    from common.ui.widgets import ThaiLabel

    label = ThaiLabel(text="หนึ่ง", font_size=30, size_hint=(None, None), width=300)
    driver.show(label)
    label.text = "บัตรคิวบริการนี้ของวันนี้หมดแล้ว กรุณาติดต่อเจ้าหน้าที่"
    driver.frames(2)
    assert label.source_text.startswith("บัตรคิว")
    assert "\n" in label.text


def test_work_from_another_thread_runs_on_the_main_thread(driver: Any) -> None:
    from common.ui.clock import kivy_handoff

    ran_on: list[str] = []

    def task() -> None:
        ran_on.append(threading.current_thread().name)

    def failing() -> None:
        raise RuntimeError("a handler bug must not stop the app")

    def network() -> None:
        kivy_handoff(failing)
        kivy_handoff(task)

    thread = threading.Thread(target=network, name="network")
    thread.start()
    thread.join()
    assert ran_on == [], "nothing runs before the main loop turns"
    driver.frames(2)
    assert ran_on == [threading.main_thread().name]


def test_a_burst_of_changes_redraws_once(driver: Any) -> None:
    from common.ui.clock import redraw_trigger

    redraws: list[int] = []
    trigger = redraw_trigger(lambda: redraws.append(1))
    for _ in range(50):
        trigger()
    driver.frames(2)
    assert len(redraws) == 1


def test_large_text_mode_enlarges_and_switches_to_high_contrast() -> None:
    from kivy.metrics import mm

    from common.ui.theme import LARGE_FACTOR, Theme

    theme = Theme()
    theme.fit(size=(1280, 800))
    normal_unit, normal_bg = theme.unit, tuple(theme.bg)
    assert theme.touch >= mm(15)
    theme.large = True
    assert theme.unit == pytest.approx(normal_unit * LARGE_FACTOR)
    assert tuple(theme.bg) != normal_bg and tuple(theme.bg)[:3] == (0, 0, 0)
    theme.fit(size=(1920, 1080))
    assert theme.unit > normal_unit * LARGE_FACTOR
