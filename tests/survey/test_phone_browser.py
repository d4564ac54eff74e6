"""The citizen's ticket page in Chromium at phone width (Playwright, Debian's chromium): waiting, called,
the form filled by tapping faces and chips, the thanks, a second visit; in Thai and English. Nothing the
CSP blocks, nothing wider than the phone. Screenshots: build/screenshots/phone-*.png."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, expect, sync_playwright
from sqlalchemy import select

from common.vocabulary import CounterAction, Outcome
from server.office import Office
from server.store.models import SurveyResponseRow
from server.web import WebSettings
from tests.survey.helpers import Clock, act, serve, start_office, stop_office, take_ticket
from tests.survey.phone import phone_app

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE: ViewportSize = {"width": 390, "height": 844}

WORDS: dict[str, dict[str, str]] = {
    "th": {
        "lang_button": "",
        "waiting": "รอเรียกคิว",
        "called": "ถึงคิวของท่านแล้ว",
        "send": "ส่งแบบประเมิน",
        "very": "มากที่สุด",
        "good": "มาก",
        "female": "หญิง",
        "thanks": "ขอบคุณสำหรับการประเมินค่ะ",
        "again": "บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ",
        "comment": "ข้อเสนอแนะเพิ่มเติม (ไม่บังคับ)",
        "need": "กรุณาตอบข้อ",
    },
    "en": {
        "lang_button": "English",
        "waiting": "Waiting",
        "called": "It's your turn",
        "send": "Send",
        "very": "Very satisfied",
        "good": "Satisfied",
        "female": "Female",
        "thanks": "Thank you for your rating!",
        "again": "This ticket has already been rated. Thank you!",
        "comment": "Other comments (optional)",
        "need": "Please answer",
    },
}


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    office = start_office(tmp_path, clock=Clock())
    yield office
    stop_office(office)


@pytest.fixture
def base(office: Office, tmp_path: Path) -> Iterator[str]:
    settings = WebSettings(web_dir=tmp_path / "web", secret_key="q" * 48, clock=Clock())
    with serving(phone_app(office, settings)) as url:
        yield url


def phone(browser: Browser, base: str, lang: str) -> tuple[Page, list[str]]:
    context = browser.new_context(
        base_url=base,
        viewport=PHONE,
        locale="th-TH" if lang == "th" else "en-GB",
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return page, problems


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width} px wide on a {PHONE['width']} px phone"


def open_ticket(page: Page, ticket_id: str, lang: str) -> None:
    page.goto(f"/t/{ticket_id}")
    button = WORDS[lang]["lang_button"]
    if button:
        page.get_by_role("button", name=button).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)


@pytest.mark.parametrize("lang", ["th", "en"])
def test_a_citizen_follows_the_ticket_and_rates_it(
    browser: Browser, base: str, office: Office, lang: str
) -> None:
    w = WORDS[lang]
    for _ in range(3):
        take_ticket(office)
    ticket = take_ticket(office)
    page, problems = phone(browser, base, lang)
    open_ticket(page, ticket.ticket_id, lang)
    expect(page.get_by_text(w["waiting"], exact=True)).to_be_visible()
    expect(page.locator(".ticket-big")).to_have_text(ticket.number)
    shot(page, f"waiting-{lang}")

    act(office, "c1", CounterAction.open, staff="staff")
    for _ in range(3):
        act(office, "c1", CounterAction.call_next)
        act(office, "c1", CounterAction.start)
        act(office, "c1", CounterAction.complete, outcome=Outcome.completed)
    act(office, "c1", CounterAction.call_next)
    page.reload()
    expect(page.get_by_text(w["called"])).to_be_visible()
    shot(page, f"called-{lang}")

    act(office, "c1", CounterAction.start)
    act(office, "c1", CounterAction.complete, outcome=Outcome.completed)
    page.reload()
    expect(page.get_by_role("button", name=w["send"])).to_be_visible()
    shot(page, f"survey-{lang}")

    page.get_by_role("button", name=w["send"]).click()  # the overall question is left out
    expect(page.get_by_role("alert")).to_contain_text(w["need"])
    overall = page.locator("fieldset.rating").first
    overall.locator("label.face-5").click()
    expect(overall.locator("input[value='5']")).to_be_checked()
    page.locator("fieldset.rating").nth(1).locator("label.face-4").click()
    page.locator("fieldset.choices").first.get_by_text(w["female"], exact=True).click()
    page.get_by_label(w["comment"]).fill("ขอบคุณค่ะ" if lang == "th" else "Thanks")
    shot(page, f"survey-filled-{lang}")
    page.get_by_role("button", name=w["send"]).click()
    expect(page.get_by_text(w["thanks"])).to_be_visible()
    shot(page, f"thanks-{lang}")

    page.goto(f"/t/{ticket.ticket_id}")
    expect(page.get_by_text(w["again"])).to_be_visible()
    expect(page.get_by_role("button", name=w["send"])).to_have_count(0)
    assert problems == [] or all("400" in p for p in problems), problems

    office.call(lambda _c: None).result(30)
    t = SurveyResponseRow.__table__
    with office.store.read_engine.connect() as connection:
        rows = connection.execute(select(t.c.channel, t.c.demographics, t.c.comment)).all()
    assert [(r.channel, r.demographics) for r in rows] == [("phone", {"gender": "female"})]


def test_a_wrong_link_on_a_phone(browser: Browser, base: str, office: Office) -> None:
    serve(office)
    page, _problems = phone(browser, base, "th")
    page.goto("/t/00000000-0000-4000-8000-000000000000")
    expect(page.get_by_role("heading", name="ไม่พบบัตรคิวนี้")).to_be_visible()
    shot(page, "not-found-th")
