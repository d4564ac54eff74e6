"""The hall board under the virtual display: idle, a new call, many counters busy, disconnected, in
1920x1080 and 1280x720. Screenshots go to build/screenshots/board-*.png to be looked at."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.topics import Topics
from counter_display.announce import Announcement, Call
from counter_display.board_vm import BoardViewModel
from tests.counter_display.samples import NOW, board_state, catalog

pytestmark = pytest.mark.ui

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SIZES = {"1080p": (1920, 1080), "720p": (1280, 720)}


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    import common.ui

    common.ui.setup()
    from common.ui.testing import KivyDriver

    yield KivyDriver.get()


def board(driver: object, size: tuple[int, int]) -> object:
    from counter_display.board_screen import BoardScreen

    driver.get(size=size)  # type: ignore[attr-defined]
    screen = BoardScreen()
    driver.show(screen)  # type: ignore[attr-defined]
    return screen


def vm_with(state_kwargs: dict[str, object] | None = None, *, connected: bool = True) -> BoardViewModel:
    calls: list[Call] = []
    vm = BoardViewModel(Topics("test-office"), calls.append)
    vm.apply(catalog(), NOW)
    if state_kwargs is not None:
        vm.apply(board_state(**state_kwargs), NOW)  # type: ignore[arg-type]
    vm.on_connection(connected)
    return vm


def shoot(driver: object, screen: object, name: str) -> Path:
    driver.frames(3)  # type: ignore[attr-defined]
    return driver.screenshot(SHOTS / f"board-{name}.png")  # type: ignore[attr-defined,no-any-return]


def texts(widget: object) -> list[str]:
    out = []
    for w in widget.walk():  # type: ignore[attr-defined]
        text = getattr(w, "text", None)
        if isinstance(text, str) and text:
            out.append(text)
    return out


@pytest.mark.parametrize("size", SIZES)
def test_idle_board(driver: object, size: str) -> None:
    vm = vm_with({"counters": 4, "busy": 0, "recent": []})
    screen = board(driver, SIZES[size])
    screen.show(vm.view(NOW))  # type: ignore[attr-defined]
    shoot(driver, screen, f"idle-{size}")
    shown = texts(screen)
    assert "เทศบาลตำบลบ้านสวนงาม" in shown
    assert "10:04" in shown
    assert any("26 พฤศจิกายน 2569" in t for t in shown)


@pytest.mark.parametrize("size", SIZES)
def test_new_call_flashes_its_counter(driver: object, size: str) -> None:
    vm = vm_with({"counters": 4, "numbers": {2: "A012"}})
    vm.on_announcement(Announcement(Call("A012", 2), Path("x.wav"), 5.0, (), ()), NOW)
    screen = board(driver, SIZES[size])
    view = vm.view(NOW + dt.timedelta(seconds=1))
    screen.show(view)  # type: ignore[attr-defined]
    shoot(driver, screen, f"call-{size}")
    flashing = [t for t in view.tiles if t.flashing]
    assert [t.number for t in flashing] == ["A012"]
    assert view.caption_live and "A012" in view.caption_th and "ช่องบริการ 2" in view.caption_th
    assert not vm.view(NOW + dt.timedelta(seconds=30)).tiles[1].flashing


@pytest.mark.parametrize("size", SIZES)
def test_many_counters_busy(driver: object, size: str) -> None:
    vm = vm_with({"counters": 12, "kiosks_offline": ["kiosk-2"]})
    vm.on_announcement(Announcement(Call("W017", 7), Path("x.wav"), 5.0, (), ()), NOW)
    screen = board(driver, SIZES[size])
    screen.show(vm.view(NOW))  # type: ignore[attr-defined]
    shoot(driver, screen, f"busy-{size}")
    shown = texts(screen)
    assert all(str(n) in shown for n in range(1, 13))
    assert any("kiosk-2" in t for t in shown)


@pytest.mark.parametrize("size", SIZES)
def test_disconnected_banner(driver: object, size: str) -> None:
    vm = vm_with({"counters": 6})
    vm.on_connection(False)
    screen = board(driver, SIZES[size])
    screen.show(vm.view(NOW))  # type: ignore[attr-defined]
    shoot(driver, screen, f"disconnected-{size}")
    assert "ขาดการเชื่อมต่อ" in screen.banner  # type: ignore[attr-defined]
    vm.on_connection(True)
    screen.show(vm.view(NOW))  # type: ignore[attr-defined]
    assert screen.banner == ""  # type: ignore[attr-defined]


def test_long_thai_names_are_cut_between_words(driver: object) -> None:
    from common.ui.thai import words
    from counter_display.widgets import ThaiLine

    vm = vm_with({"counters": 12})
    screen = board(driver, SIZES["720p"])
    screen.show(vm.view(NOW))  # type: ignore[attr-defined]
    driver.frames(3)  # type: ignore[attr-defined]
    lines = [w for w in screen.walk() if isinstance(w, ThaiLine) and w.full_text]  # type: ignore[attr-defined]
    cut = [w for w in lines if w.text != w.full_text]
    assert cut, "12 tiles at 720p leave no room for the longest names"
    for line in cut:
        shown = line.text.removesuffix("…")
        assert line.text.endswith("…") and line.full_text.startswith(shown)
        boundaries = {
            sum(len(p) for p in words(line.full_text)[:i]) for i in range(len(words(line.full_text)) + 1)
        }
        assert len(shown) in boundaries, f"{line.text!r} cuts a word of {line.full_text!r}"
