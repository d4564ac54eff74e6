"""The staff console in a real browser (Chromium through Playwright): log in, choose a counter, call, serve,
complete with an outcome, transfer; the waiting list refreshing itself; no script or style blocked by the
CSP. Screenshots go to build/screenshots/console-*.png, in Thai and English, desktop and phone width."""

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

from common.vocabulary import CounterAction, Priority
from server.office import Office
from server.web import WebSettings
from server.web.accounts import Role
from tests.web.conftest import PASSWORD, Clock
from tests.web.office_tools import issue, old_forwarded_case, staff_transitions, terminal

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 860},
    "phone": {"width": 390, "height": 844},
}


@pytest.fixture
def settings(tmp_path: Path, clock: Clock) -> WebSettings:
    """Polls every 2 s, so the test sees the live list move without waiting long."""
    return WebSettings(web_dir=tmp_path / "web", secret_key="b" * 48, clock=clock, poll_seconds=2)


@contextmanager
def _serve(app: FastAPI) -> Iterator[str]:
    """The app on a free loopback port, served by uvicorn in a thread."""
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


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    with _serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser: Browser, base: str, viewport: str, lang: str) -> tuple[Page, list[str]]:
    context = browser.new_context(
        base_url=base, viewport=VIEWPORTS[viewport], locale="th-TH" if lang == "th" else "en-GB"
    )
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("dialog", lambda dialog: dialog.accept())
    return page, problems


def log_in(page: Page, username: str, lang: str) -> None:
    page.goto("/console")
    expect(page).to_have_url("/login?next=/console")
    if lang == "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("ชื่อผู้ใช้" if lang == "th" else "Username").fill(username)
    page.get_by_label("รหัสผ่าน" if lang == "th" else "Password").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ" if lang == "th" else "Log in").click()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


def morning(office: Office, clock: Clock) -> None:
    """A matter forwarded three weeks ago is now overdue; this morning a few citizens arrive over half an
    hour."""
    old_forwarded_case(
        office, clock, service="disability-card", counter="c1", reference="พม 0456/2569", days=20
    )
    for service, priority in [
        ("elderly-allowance", Priority.none),
        ("disability-allowance", Priority.none),
        ("elderly-allowance", Priority.elderly),
        ("newborn-child-grant", Priority.none),
        ("land-building-tax", Priority.none),
        ("disability-card", Priority.pregnant),
        ("elderly-allowance", Priority.none),
    ]:
        issue(office, service, priority)
        clock.advance(minutes=4)


T = {
    "th": {
        "counter": "ช่องบริการ 1",
        "open": "เปิดช่องบริการ",
        "call": "เรียกคิวถัดไป",
        "start": "เริ่มให้บริการ",
        "complete": "จบการให้บริการ",
        "forwarded": "รับเรื่องส่งต่อหน่วยงาน",
        "reference": "เลขที่อ้างอิงของหน่วยงาน",
        "transfer": "ย้ายไปบริการอื่น",
        "called": "เรียกหมายเลข A002",
        "completed": "ให้บริการหมายเลข A002 แล้ว ส่งเรื่องต่อหน่วยงานเจ้าของเรื่อง",
        "moved": "ส่งหมายเลข D001 ไปรอรับบริการ ชำระภาษีที่ดินและสิ่งปลูกสร้าง",
    },
    "en": {
        "counter": "Counter 1",
        "open": "Open counter",
        "call": "Call next",
        "start": "Start service",
        "complete": "Complete",
        "forwarded": "Forwarded to the agency",
        "reference": "Agency reference",
        "transfer": "Move to service",
        "called": "Calling A002.",
        "completed": "A002 done: forwarded to the agency.",
        "moved": "D001 now waits for Land and building tax payment.",
    },
}


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["th", "en"])
def test_a_counter_session_in_the_browser(
    browser: Browser,
    live_server: str,
    office: Office,
    clock: Clock,
    users: dict[Role, str],
    lang: str,
    viewport: str,
) -> None:
    words = T[lang]
    morning(office, clock)
    page, problems = open_page(browser, live_server, viewport, lang)
    log_in(page, users[Role.staff], lang)
    expect(page).to_have_url(f"{live_server}/console")
    shot(page, f"{lang}-{viewport}-counters")

    page.get_by_role("link", name=words["counter"]).click()
    page.get_by_role("button", name=words["open"]).click()
    expect(page.get_by_role("button", name=words["call"])).to_be_visible()
    expect(page.locator("#waiting-rows tr")).to_have_count(6)  # counter 1 does not serve the land tax
    shot(page, f"{lang}-{viewport}-open")

    page.get_by_role("button", name=words["call"]).click()
    expect(page.locator(".flash")).to_have_text(words["called"])  # the elderly citizen goes first
    expect(page.locator(".ticket-number")).to_have_text("A002")
    shot(page, f"{lang}-{viewport}-called")

    page.get_by_role("button", name=words["start"]).click()
    page.get_by_label(words["forwarded"]).check()
    page.get_by_label(words["reference"]).fill("พม 0789/2569")
    shot(page, f"{lang}-{viewport}-serving")
    page.get_by_role("button", name=words["complete"]).click()
    expect(page.locator(".flash")).to_have_text(words["completed"])
    expect(page.locator(".cases-table")).to_contain_text("พม 0789/2569")
    expect(page.locator(".cases-table tr.is-overdue")).to_contain_text("พม 0456/2569")

    page.get_by_role("button", name=words["call"]).click()
    page.get_by_role("button", name=words["start"]).click()
    page.locator("#to-service").select_option("land-building-tax")
    page.get_by_role("button", name=words["transfer"]).click()
    expect(page.locator(".flash")).to_have_text(words["moved"])
    shot(page, f"{lang}-{viewport}-after-transfer")

    assert ("c1", "staff1", "serving", "done") in staff_transitions(office)
    assert [c.reference for c in office.cases().result()] == ["พม 0456/2569", "พม 0789/2569"]
    assert problems == [], f"browser errors (CSP?): {problems}"


def test_the_console_redraws_itself_for_the_terminal_and_for_a_lost_broker(
    browser: Browser, live_server: str, office: Office, clock: Clock, users: dict[Role, str]
) -> None:
    page, problems = open_page(browser, live_server, "desktop", "th")
    log_in(page, users[Role.staff], "th")
    page.goto("/console/c1")
    page.get_by_role("button", name="เปิดช่องบริการ").click()
    expect(page.locator("#waiting-rows tr.empty")).to_have_count(1)

    number = issue(office, "elderly-allowance")
    expect(page.locator("#waiting-rows td.number")).to_have_text([number], timeout=10_000)
    expect(page.locator("#waiting-count")).to_have_text("รอ 1 คิว")

    # The counter terminal (MQTT) calls the number: the console redraws with the called ticket.
    terminal(office, "c1", CounterAction.call_next)
    expect(page.locator(".ticket-number")).to_have_text(number, timeout=10_000)
    expect(page.get_by_role("button", name="เริ่มให้บริการ")).to_be_visible()

    # The server loses its broker: the open console redraws itself with the warning, and without it
    # once the connection is back.
    office.broker_connection(False)
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("กรุณาขานหมายเลขคิวด้วยเสียง", timeout=10_000)
    shot(page, "th-desktop-broker-lost")
    office.broker_connection(True)
    expect(warning).to_have_count(0, timeout=10_000)
    assert problems == []


def test_first_start_in_the_browser(browser: Browser, office: Office, settings: WebSettings) -> None:
    from server.web import create_app
    from server.web.accounts import Accounts
    from tests.web.conftest import cheap_hasher

    app = create_app(office, settings, accounts=Accounts(office.engine, settings, hasher=cheap_hasher()))
    code = (settings.web_dir / "setup-code").read_text().strip()
    with _serve(app) as base:
        page, problems = open_page(browser, base, "phone", "th")
        page.goto("/console")
        expect(page).to_have_url(f"{base}/setup")
        page.get_by_label("รหัสตั้งค่าครั้งเดียว").fill(code)
        page.get_by_label("ชื่อผู้ใช้").fill("admin")
        page.get_by_label("ชื่อที่แสดง").fill("ผู้ดูแลระบบ")
        page.get_by_label("รหัสผ่าน", exact=True).fill("a long enough pass")
        page.get_by_label("ยืนยันรหัสผ่าน").fill("a long enough pass")
        shot(page, "th-phone-setup")
        page.get_by_role("button", name="สร้างผู้ดูแลระบบ").click()
        expect(page.locator(".notice")).to_have_text("สร้างผู้ดูแลระบบแล้ว กรุณาเข้าสู่ระบบ")
        page.get_by_label("ชื่อผู้ใช้").fill("admin")
        page.get_by_label("รหัสผ่าน").fill("a long enough pass")
        shot(page, "th-phone-login")
        page.get_by_role("button", name="เข้าสู่ระบบ").click()
        expect(page.get_by_role("heading", name="เลือกช่องบริการ")).to_be_visible()
        page.goto("/admin/users")
        shot(page, "th-phone-users")
        assert problems == []
