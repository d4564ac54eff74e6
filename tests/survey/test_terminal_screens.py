"""Every survey terminal screen under the virtual display, in Thai and English, normal and large text,
driven by taps through Kivy's real touch path: saved to build/screenshots/survey-*.png to be looked at,
and checked for what a citizen would stumble on (cut text, small targets, widgets spilling out)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.contract import CounterState, TicketView
from common.vocabulary import TicketState
from kiosk.survey.model import SurveyScreen
from tests.survey.kivy_checks import by_text, check_layout, find
from tests.survey.terminal import Terminal, make_terminal, on

pytestmark = pytest.mark.ui

SHOTS = Path("build/screenshots")
SIZE = (1280, 800)


@pytest.fixture(scope="module")
def driver() -> Any:
    from common.ui.testing import KivyDriver

    return KivyDriver.get(size=SIZE)


def start_app(driver: Any, terminal: Terminal) -> Any:
    from kiosk.survey.app import SurveyApp

    app = SurveyApp(terminal.model)
    app._run_prepare()
    driver.frames(3)
    return app


@pytest.fixture
def t(tmp_path: Path, driver: Any) -> Iterator[Terminal]:
    terminal = make_terminal(tmp_path, offline_series=("X",))
    app = start_app(driver, terminal)
    terminal.app = app
    yield terminal
    app.dispatch("on_stop")
    driver.clear()


def shot(driver: Any, t: Terminal, name: str) -> Path:
    driver.frames(1)
    path: Path = driver.screenshot(SHOTS / f"survey-{name}.png")
    check_layout(t.app.root)
    return path


def tap(driver: Any, t: Terminal, widget: Any) -> None:
    t.clock.advance(0.5)  # a moment after the last tap (the double-tap guard)
    driver.tap(widget)


def tap_text(driver: Any, t: Terminal, text: str) -> None:
    tap(driver, t, by_text(t.app.root, text))


def face(t: Terminal, level: int) -> Any:
    (found,) = [f for f in find(t.app.root, "FaceButton") if f.level == level and f.get_root_window()]
    return found


@pytest.mark.parametrize("lang", ["th", "en"])
def test_a_full_rating_on_screen(driver: Any, t: Terminal, lang: str) -> None:
    if lang == "en":
        tap(driver, t, t.app.root.ids.lang_button)
    shot(driver, t, f"pad-{lang}")
    for key in ("A", "X", "0", "7"):
        tap_text(driver, t, key)
    assert t.model.entry == "AX07"
    tap(driver, t, t.app.root.ids.sm.get_screen("pad").ids.delete)
    tap(driver, t, t.app.root.ids.sm.get_screen("pad").ids.delete)
    tap(driver, t, t.app.root.ids.sm.get_screen("pad").ids.delete)
    for key in ("1", "2"):
        tap_text(driver, t, key)
    shot(driver, t, f"pad-typed-{lang}")
    tap(driver, t, t.app.root.ids.sm.get_screen("pad").ids.ok)
    assert on(t) is SurveyScreen.overall
    shot(driver, t, f"overall-{lang}")
    tap(driver, t, face(t, 5))
    shot(driver, t, f"more-{lang}")
    tap(driver, t, t.app.root.ids.sm.get_screen("more").ids.yes)
    shot(driver, t, f"item-{lang}")
    tap(driver, t, face(t, 4))
    tap(driver, t, face(t, 2))
    tap(driver, t, t.app.root.ids.sm.get_screen("question").ids.back)
    shot(driver, t, f"item-back-{lang}")
    for _ in range(13):  # the rest through the model: each real tap costs frames of a software GPU
        t.tap(t.model.rate, 4)
    driver.frames(2)
    assert on(t) is SurveyScreen.profile
    shot(driver, t, f"profile-gender-{lang}")
    tap_text(driver, t, "หญิง" if lang == "th" else "Female")
    tap_text(driver, t, "51-60 ปี" if lang == "th" else "51-60")
    shot(driver, t, f"profile-education-{lang}")
    tap(driver, t, t.app.root.ids.sm.get_screen("profile").ids.skip)
    shot(driver, t, f"profile-occupation-{lang}")
    tap_text(driver, t, "เกษตรกร" if lang == "th" else "Farmer")
    assert on(t) is SurveyScreen.sending
    shot(driver, t, f"sending-{lang}")
    t.accept_last()
    shot(driver, t, f"thanks-{lang}")
    (sent,) = t.channel.sent
    assert sent.ticket == "A012" and len(sent.answers) == 15
    assert sent.demographics == {"gender": "female", "age_band": "51_60", "occupation": "farmer"}
    t.clock.advance(6)
    driver.frames(2)
    assert t.app.root.ids.sm.current == "pad"


@pytest.mark.parametrize("lang", ["th", "en"])
def test_the_kind_refusal_and_large_text(driver: Any, t: Terminal, lang: str) -> None:
    if lang == "en":
        t.model.toggle_lang()
    tap(driver, t, t.app.root.ids.large_button)
    shot(driver, t, f"pad-large-{lang}")
    t.type_number("B3")
    shot(driver, t, f"overall-large-{lang}")
    t.tap(t.model.rate, 2)
    shot(driver, t, f"more-large-{lang}")
    t.tap(t.model.answer_more, True)
    shot(driver, t, f"item-large-{lang}")
    t.tap(t.model.finish)
    t.refuse_last("already_rated")
    shot(driver, t, f"refused-large-{lang}")
    t.tap(t.model.toggle_large)
    shot(driver, t, f"refused-{lang}")
    assert "ประเมินแล้ว" in t.model.message_view().text or "already been rated" in t.model.message_view().text


def test_a_tablet_at_a_counter(tmp_path: Path, driver: Any) -> None:
    terminal = make_terminal(
        tmp_path, counter="c1", counter_name_th="ช่องบริการ 1", counter_name_en="Counter 1"
    )
    app = start_app(driver, terminal)
    terminal.app = app
    try:
        shot(driver, terminal, "counter-idle-th")

        def state(current: TicketView | None) -> CounterState:
            return CounterState(
                counter="c1",
                number=1,
                name_th="ช่องบริการ 1",
                name_en="Counter 1",
                open=True,
                current=current,
                waiting=0,
            )

        ticket = TicketView(
            ticket_id="0b8f6c9e-2d4a-4c1e-9f3b-7a6d5e4c3b2a",
            number="A031",
            service="elderly-allowance",
            state=TicketState.serving,
        )
        terminal.model.on_counter_state(state(ticket))
        terminal.model.on_counter_state(state(None))
        shot(driver, terminal, "counter-ask-th")
        assert on(terminal) is SurveyScreen.overall
    finally:
        app.dispatch("on_stop")
        driver.clear()


def test_a_portrait_tablet(tmp_path: Path, driver: Any) -> None:
    """A 10-inch tablet held upright at a counter (rendered off screen: taller than the virtual display)."""
    driver = type(driver).get(size=(800, 1280))
    terminal = make_terminal(
        tmp_path, counter="c1", counter_name_th="ช่องบริการ 1", counter_name_en="Counter 1"
    )
    app = start_app(driver, terminal)
    terminal.app = app

    def portrait(name: str) -> None:
        driver.frames(6)
        driver.screenshot(SHOTS / f"survey-portrait-{name}-th.png", widget=app.root)
        check_layout(app.root)

    try:
        portrait("pad")
        terminal.type_number("A5")
        portrait("overall")
        terminal.tap(terminal.model.rate, 5)
        terminal.tap(terminal.model.answer_more, True)
        portrait("item")
        for _ in range(14):
            terminal.tap(terminal.model.skip)
        portrait("profile")
        assert on(terminal) is SurveyScreen.profile
    finally:
        app.dispatch("on_stop")
        driver.clear()
        type(driver).get(size=SIZE)
