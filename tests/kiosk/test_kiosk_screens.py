"""Every kiosk screen under the virtual display, in Thai and English, normal and large text: saved to
build/screenshots/kiosk-*.png to be looked at, and checked for what a citizen would stumble on: text
cut off or running out of its box, touch targets under 15 mm, the number not shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.contract import TicketRejected
from common.vocabulary import PrinterState, Priority, ServiceGroup
from tests.kiosk.kiosk_support import (
    Kiosk,
    Outcome,
    example_catalog,
    issued_for,
    make_kiosk,
    with_service,
)

pytestmark = pytest.mark.ui

SHOTS = Path("build/screenshots")
SIZE = (1280, 800)


@pytest.fixture(scope="module")
def driver() -> Any:
    from common.ui.testing import KivyDriver

    return KivyDriver.get(size=SIZE)


@pytest.fixture
def kiosk(tmp_path: Path, driver: Any) -> Iterator[Kiosk]:
    from kiosk.app import KioskApp

    catalog = with_service(
        example_catalog(),
        "building-permit",
        accepting=False,
        closed_reason_th="งดรับคำขออนุญาตก่อสร้างชั่วคราว เนื่องจากเจ้าหน้าที่ออกตรวจพื้นที่",
        closed_reason_en="Building permits are paused today: the inspector is out on site",
    )
    k = make_kiosk(tmp_path, catalog=catalog)
    app = KioskApp(k.model)
    app._run_prepare()
    driver.frames(3)
    k.app = app  # type: ignore[attr-defined]
    yield k
    app.dispatch("on_stop")  # also lets kv's `app` proxy forget this app
    driver.clear()


def widgets(root: Any) -> Iterator[Any]:
    yield root
    for child in root.children:
        yield from widgets(child)


def shot(driver: Any, kiosk: Kiosk, name: str, *, offscreen: bool = False) -> Path:
    driver.frames(3)
    root = kiosk.app.root  # type: ignore[attr-defined]
    # first, to look at what failed
    path: Path = driver.screenshot(SHOTS / f"kiosk-{name}.png", widget=root if offscreen else None)
    check_layout(kiosk.app.root)  # type: ignore[attr-defined]
    return path


def check_layout(root: Any) -> None:
    """What a citizen would stumble on: text taller or wider than its label, a widget spilling out of
    the panel that holds it (text over other text), buttons under 15 mm."""
    from kivy.metrics import mm
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    from common.ui.widgets import ThaiLabel

    for w in widgets(root):
        if not w.get_root_window() or w.opacity == 0 or w.disabled:
            continue
        parent = w.parent
        nested = (
            parent is not None and parent is not w.get_root_window() and not isinstance(parent, ScrollView)
        )
        if nested and w.height > 0 and w.width > 0 and parent.opacity > 0:
            inside = (
                w.x >= parent.x - 1
                and w.right <= parent.right + 1
                and w.y >= parent.y - 1
                and w.top <= parent.top + 1
            )
            label = getattr(w, "text", "") or type(w).__name__
            where = f"{w.pos}, {w.size} in {parent.pos}, {parent.size}"
            assert inside, f"{label!r} spills out of {type(parent).__name__} ({where})"
        if isinstance(w, Label) and w.text.strip():
            assert w.font_script_name == "Thai", f"{w.text!r} is not shaped as Thai"
            tw, th = w.texture_size
            assert tw <= w.width + 1, f"{w.text!r} runs off its box ({tw} > {w.width})"
            if isinstance(w, ThaiLabel) and w.text_size[0]:
                assert th <= w.height + 1, f"{w.text!r} is cut ({th} > {w.height})"
        if isinstance(w, ButtonBehavior) and w.height > 0:
            assert w.height >= mm(15) - 1, f"{type(w).__name__} {getattr(w, 'text', '')!r} is under 15 mm"
            assert w.width >= mm(15) - 1


def go_to_service(kiosk: Kiosk, code: str) -> None:
    group = next(s.group for s in example_catalog().services if s.code == code)
    kiosk.model.open_group(group)
    kiosk.model.open_service(code)


@pytest.mark.parametrize("lang", ["th", "en"])
def test_every_screen_in_each_language(kiosk: Kiosk, driver: Any, lang: str) -> None:
    if lang == "en":
        kiosk.model.toggle_lang()
    shot(driver, kiosk, f"home-{lang}")

    kiosk.model.open_group(ServiceGroup.citizen)
    shot(driver, kiosk, f"services-{lang}")

    kiosk.model.open_service("disability-card")
    shot(driver, kiosk, f"service-{lang}")

    kiosk.model.take_ticket()
    shot(driver, kiosk, f"priority-{lang}")

    kiosk.model.choose_priority(Priority.elderly)
    shot(driver, kiosk, f"ticket-asking-{lang}")

    kiosk.model.on_reply(issued_for(kiosk.channel.requests[-1], "D012", ahead=4, wait=18))
    kiosk.model.on_print_result(kiosk.printer.jobs[-1].job_id, Outcome(True, PrinterState.ok))
    shot(driver, kiosk, f"ticket-{lang}")


@pytest.mark.parametrize("lang", ["th", "en"])
def test_closed_service_and_printer_fault(kiosk: Kiosk, driver: Any, lang: str) -> None:
    if lang == "en":
        kiosk.model.toggle_lang()
    go_to_service(kiosk, "building-permit")
    shot(driver, kiosk, f"service-closed-{lang}")

    kiosk.model.back()
    shot(driver, kiosk, f"services-local-{lang}")

    go_to_service(kiosk, "land-building-tax")
    kiosk.model.take_ticket()
    kiosk.model.choose_priority(Priority.none)
    kiosk.clock.advance(3)  # no reply: the kiosk's own number
    fault = Outcome(False, PrinterState.no_paper, "เครื่องพิมพ์กระดาษหมด", "Out of paper")
    kiosk.model.on_print_result(kiosk.printer.jobs[-1].job_id, fault)
    shot(driver, kiosk, f"ticket-offline-fault-{lang}")


def test_rejection(kiosk: Kiosk, driver: Any) -> None:
    go_to_service(kiosk, "elderly-allowance")
    kiosk.model.take_ticket()
    kiosk.model.choose_priority(Priority.none)
    kiosk.model.on_reply(
        TicketRejected(
            request_id=kiosk.channel.requests[-1].id,
            code="office_closed",
            message_th="ขณะนี้ปิดรับบัตรคิว",
            message_en="The office is not issuing tickets now.",
        )
    )
    shot(driver, kiosk, "ticket-rejected-th")


@pytest.mark.parametrize("lang", ["th", "en"])
def test_large_text_high_contrast(kiosk: Kiosk, driver: Any, lang: str) -> None:
    if lang == "en":
        kiosk.model.toggle_lang()
    kiosk.model.toggle_large()
    shot(driver, kiosk, f"large-home-{lang}")
    kiosk.model.open_group(ServiceGroup.citizen)
    shot(driver, kiosk, f"large-services-{lang}")
    kiosk.model.open_service("elderly-allowance")
    shot(driver, kiosk, f"large-service-{lang}")
    kiosk.model.take_ticket()
    shot(driver, kiosk, f"large-priority-{lang}")
    kiosk.model.choose_priority(Priority.pregnant)
    kiosk.model.on_reply(issued_for(kiosk.channel.requests[-1], "A007", ahead=0, wait=0))
    shot(driver, kiosk, f"large-ticket-{lang}")


# ------------------------------------------------------------------------------------ touches


def find(root: Any, cls_name: str, **attrs: Any) -> Any:
    for w in widgets(root):
        matches = type(w).__name__ == cls_name and all(getattr(w, k, None) == v for k, v in attrs.items())
        if matches and w.get_root_window() is not None and w.opacity > 0:
            return w
    raise AssertionError(f"no visible {cls_name} with {attrs}")


def test_a_citizen_takes_a_ticket_with_five_taps(kiosk: Kiosk, driver: Any) -> None:
    root = kiosk.app.root  # type: ignore[attr-defined]
    driver.tap(find(root, "GroupTile", title="งานบริการประชาชน"))
    driver.tap(find(root, "ServiceTile", title="ลงทะเบียนและยื่นคำขอรับเงินเบี้ยยังชีพผู้สูงอายุ"))
    driver.tap(root.ids.sm.get_screen("service").ids.take)
    driver.tap(find(root, "PriorityTile", kind="elderly"))
    (request,) = kiosk.channel.requests
    assert (request.service, request.priority) == ("elderly-allowance", Priority.elderly)

    kiosk.model.on_reply(issued_for(request, "A001"))
    driver.frames(2)
    ticket = root.ids.sm.get_screen("ticket")
    assert root.ids.sm.current == "ticket" and ticket.ids.number.text == "A001"
    driver.tap(ticket.ids.done)
    assert root.ids.sm.current == "home"


def test_the_language_and_large_text_buttons(kiosk: Kiosk, driver: Any) -> None:
    root = kiosk.app.root  # type: ignore[attr-defined]
    driver.tap(root.ids.lang_button)
    assert root.ids.lang_button.text == "ภาษาไทย"
    assert find(root, "GroupTile", title="Services for citizens")
    unit = kiosk.app.theme.unit  # type: ignore[attr-defined]
    driver.tap(root.ids.large_button)
    assert kiosk.app.theme.unit > unit  # type: ignore[attr-defined]


def test_staff_reprint_by_f12_and_by_a_long_press_in_the_corner(kiosk: Kiosk, driver: Any) -> None:
    from kivy.core.window import Window

    from kiosk.app import F12

    Window.dispatch("on_key_down", F12, 0, "", [])
    assert kiosk.printer.reprints == 1

    app = kiosk.app  # type: ignore[attr-defined]
    app.staff_hold_s = 0.6
    from kivy.uix.widget import Widget

    corner = Widget(size=(4, 4), pos=(2, Window.height - 6))
    driver.tap(corner)  # a short tap in the corner is an ordinary touch
    assert kiosk.printer.reprints == 1
    driver.tap(corner, hold_s=1.0)
    assert kiosk.printer.reprints == 2


def test_portrait_kiosk(kiosk: Kiosk, driver: Any) -> None:
    """A 1080x1920 portrait kiosk (rendered offscreen: it is taller than the virtual display)."""
    driver.window.size = (1080, 1920)
    try:
        driver.frames(3)
        shot(driver, kiosk, "portrait-home-th", offscreen=True)
        kiosk.model.open_group(ServiceGroup.citizen)
        shot(driver, kiosk, "portrait-services-th", offscreen=True)
        kiosk.model.open_service("disability-card")
        shot(driver, kiosk, "portrait-service-th", offscreen=True)
        kiosk.model.take_ticket()
        shot(driver, kiosk, "portrait-priority-th", offscreen=True)
        kiosk.model.choose_priority(Priority.disabled)
        kiosk.model.on_reply(issued_for(kiosk.channel.requests[-1], "D012", ahead=4, wait=18))
        shot(driver, kiosk, "portrait-ticket-th", offscreen=True)
        kiosk.model.toggle_lang()
        kiosk.model.toggle_large()
        shot(driver, kiosk, "portrait-large-ticket-en", offscreen=True)
    finally:
        driver.window.size = SIZE
        driver.frames(2)
