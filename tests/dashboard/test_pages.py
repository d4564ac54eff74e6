"""The dashboard and administration pages through HTTP: who may open each route, today's live figures
after a morning played through the sequencer, the exports as files a manager downloads (XLSX read back
with openpyxl, PDF text and first page), and the office file refusing a bad edit without touching the
file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import html
import io
import logging
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from broker_config.devices import list_devices
from broker_config.files import BrokerFiles
from common.cli import main
from common.config import load_config
from common.contract import BootMark, DeviceStatus, ServerStatus, TicketIssued, TicketRequest
from common.topics import Topics
from common.vocabulary import DeviceRole, Lang
from server.office import Office
from server.views import ClockStep
from server.web.accounts import Role
from server.web.dashboard.manager import _clock_step_text
from server.web.security import Access
from tests.dashboard.office_day import play_morning
from tests.dashboard.routes import DASHBOARD_ROUTES
from tests.web.conftest import Clock, form_token, log_in
from tests.web.test_access import ROUTES as WEB_ROUTES
from tests.web.test_access import app_routes

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PATH_VALUES = {
    "job_id": "no-such-job",
    "name": "dashboard.css",
    "code": "no-such-service",
    "counter_id": "no-such-counter",
    "item_id": "no.such.item",
    "device_id": "no-such-device",
}


def _fill(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def test_every_dashboard_route_has_a_role_decision(app: FastAPI) -> None:
    declared = app_routes(app)
    ours = {key: access for key, access in declared.items() if key not in WEB_ROUTES}
    assert set(ours) == set(DASHBOARD_ROUTES), (
        f"routes without a line in DASHBOARD_ROUTES: {sorted(set(ours) - set(DASHBOARD_ROUTES))}; "
        f"lines without a route: {sorted(set(DASHBOARD_ROUTES) - set(ours))}"
    )
    for key, access in DASHBOARD_ROUTES.items():
        assert ours[key] == access, f"{key} is guarded as {ours[key]}, the table says {access}"


@pytest.mark.parametrize("who", [None, Role.staff, Role.manager, Role.admin], ids=lambda r: r or "anonymous")
def test_walk_every_dashboard_route_as_every_role(
    app: FastAPI, users: dict[Role, str], office_file: Path, who: Role | None
) -> None:
    before = office_file.read_bytes()
    level = Access.anonymous if who is None else Access.of(who)
    with TestClient(app) as client:
        if who is not None:
            log_in(client, users[who])
        token = form_token(client, "/console" if who is not None else "/login")
        for (method, path), needed in DASHBOARD_ROUTES.items():
            url = _fill(path)
            if method == "GET":
                response = client.get(url, follow_redirects=False)
            else:
                response = client.post(url, data={"csrf_token": token}, follow_redirects=False)
            where = f"{method} {path} as {who or 'anonymous'}"
            if level >= needed:
                assert response.status_code not in (401, 403), f"{where}: refused ({response.status_code})"
                assert not response.headers.get("location", "").startswith("/login"), (
                    f"{where}: sent to login"
                )
            elif who is None:
                expected = 303 if method == "GET" and not path.endswith(".json") else 401
                assert response.status_code == expected, where
            else:
                assert response.status_code == 403, f"{where}: let in ({response.status_code})"
    assert office_file.read_bytes() == before, "walking the routes changed nothing in the office file"


def test_the_nav_offers_the_dashboard_to_managers_only(app: FastAPI, users: dict[Role, str]) -> None:
    for role, shown in ((Role.staff, False), (Role.manager, True), (Role.admin, True)):
        with TestClient(app) as client:
            log_in(client, users[role])
            page = client.get("/console").text
            assert ('href="/dashboard"' in page) is shown, role


# ------------------------------------------------------------------------------------------------ today


def test_today_counts_the_morning(manager: TestClient, office: Office, clock: Clock) -> None:
    morning = play_morning(office, clock)
    figures = manager.get("/dashboard/today.json").json()["figures"]
    assert figures["issued"] == 6
    assert figures["served"] == 2
    assert figures["no_show"] == 1
    assert figures["waiting"] == len(morning.waiting) == 3
    assert figures["counters_open"] == 2
    assert figures["devices_offline"] == 1
    assert figures["responses"] == 1 and figures["percent_satisfaction"] == pytest.approx(100.0)
    assert figures["longest_wait_s"] == pytest.approx(30 * 60), "the last three waited 30 minutes"
    page = manager.get("/dashboard").text
    assert "กระดาษหมด" in page, "the kiosk's empty printer shows"
    assert "รออยู่ขณะนี้" in page


def test_today_warns_while_the_servers_disk_is_nearly_full(
    manager: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    """Before a full disk stops the queue, the manager is told on the live part of the today page (the
    web folder's disk here: the test's database is on the same one, so it is named once)."""
    warning = "ดิสก์ของเซิร์ฟเวอร์ใกล้เต็ม"
    assert manager.get("/dashboard").status_code == 200  # the dashboard is made at its first page
    dashboard = app.state.dashboard
    dashboard.settings = dataclasses.replace(dashboard.settings, disk_low_bytes=0)
    assert warning not in manager.get("/dashboard").text
    dashboard.settings = dataclasses.replace(dashboard.settings, disk_low_bytes=10**18)
    live = manager.get("/dashboard/today.json").json()["html"]
    assert live.count(warning) == 1, live
    assert f"({tmp_path})" in html.unescape(live), "the folder whose disk it is"
    assert re.search(r"เหลือว่าง \d+\.\d GB จาก \d+\.\d GB", live)


def test_today_says_when_backups_fail_or_stop(
    manager: TestClient,
    users: dict[Role, str],
    clock: Clock,
    tmp_path: Path,
    office_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The nightly backup's outcome reaches the manager: `khiu admin backup` records each archive and
    each failure in the audit log, and the today page reads them (the command stamps the real time)."""
    monkeypatch.setenv("KHIU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KHIU_DATABASE_URL", f"sqlite:///{tmp_path / 'office.db'}")
    monkeypatch.setenv("KHIU_CONFIG", str(office_file))
    clock.now = dt.datetime.now(dt.UTC)
    log_in(manager, users[Role.manager])  # days after the first login (the fixture's, at T0)

    def alerts() -> str:
        live = html.unescape(manager.get("/dashboard/today.json").json()["html"])
        found = re.search(r'<div class="alerts".*?</div>', live, re.S)
        return found.group(0) if found else ""

    assert "ไม่มีการสำรองข้อมูลตั้งแต่" in alerts(), "the office is days old and was never backed up"

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backups should go")
    assert main(["admin", "backup", "--to", str(blocked)]) == 1
    assert "cannot write backups to" in capsys.readouterr().err
    shown = alerts()
    assert "สำรองข้อมูลไม่สำเร็จ" in shown and f"cannot write backups to {blocked}" in shown, shown

    assert main(["admin", "backup", "--to", str(tmp_path / "backups")]) == 0
    assert "สำรองข้อมูล" not in alerts(), "a backup that worked clears the alert"

    # an error nobody foresaw (here a disk that fails a read) is raised, and shown all the same
    def failing_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patched, pytest.raises(OSError, match="Input/output error"):
        patched.setattr("server.backup._archive", failing_disk)
        main(["admin", "backup", "--to", str(tmp_path / "backups")])
    shown = alerts()
    assert "สำรองข้อมูลไม่สำเร็จ" in shown and "OSError: [Errno 5] Input/output error" in shown, shown
    assert main(["admin", "backup", "--to", str(tmp_path / "backups")]) == 0

    clock.advance(hours=37)
    log_in(manager, users[Role.manager])
    shown = alerts()
    assert "สำรองข้อมูลครั้งล่าสุดเมื่อ" in shown and "ควรสำรองทุกคืน" in shown, shown


def test_today_says_when_the_servers_clock_was_set(
    manager: TestClient, users: dict[Role, str], office: Office, clock: Clock
) -> None:
    """A Raspberry Pi starts on yesterday evening's time until it finds a time server: when the clock is
    put right, the morning's tickets carry wrong times (and were numbered on yesterday's business day).
    The manager is told on the today page, in the office's local time, for the rest of that day; a
    clock that merely runs says nothing."""

    def take() -> None:
        reply = office.issue_ticket(TicketRequest(service="elderly-allowance"), check_hours=False).result(30)
        assert isinstance(reply, TicketIssued)

    def live() -> str:
        log_in(manager, users[Role.manager])  # hours later: a new session
        return html.unescape(manager.get("/dashboard/today.json").json()["html"])

    shown = "นาฬิกาของเครื่องแม่ข่ายถูกปรับ"
    take()
    clock.advance(hours=3)
    take()
    assert shown not in live()

    clock.now += dt.timedelta(hours=15, minutes=30)  # set, not run
    take()
    page = live()
    assert re.search(
        r"นาฬิกาของเครื่องแม่ข่ายถูกปรับไปข้างหน้า 15 ชั่วโมง (30|29) นาที เมื่อ 27 พ\.ย\. 69 03:3\d "
        r"\(ก่อนหน้านั้นแสดง 26 พ\.ย\. 69 12:0\d\)",
        page,
    ), page
    assert "ครั้ง)" not in page, "one step, no count"
    (step,) = office.clock_steps
    assert re.match(
        r"The server's clock was set forward by 15 h (30|29) min at 27 Nov 2026 03:3\d",
        _clock_step_text(step, Lang.en),
    )

    # put right from a year typed in the Buddhist Era: said in days, and why
    wrong = step.at.replace(year=step.at.year + 543)
    put_right = _clock_step_text(ClockStep(at=step.at, was=wrong), Lang.en)
    assert "set back by 198,327 d " in put_right and "typed in the Buddhist Era" in put_right, put_right
    # the year in full where two digits could be any century: 3112 B.E. is 2569 C.E.
    assert "(ก่อนหน้านั้นแสดง 27 พ.ย. 3112 " in _clock_step_text(ClockStep(at=step.at, was=wrong), Lang.th)
    assert "Buddhist" not in _clock_step_text(ClockStep(at=wrong, was=wrong - dt.timedelta(days=3)), Lang.en)

    clock.now -= dt.timedelta(minutes=5)
    take()
    page = live()
    assert page.count(shown) == 1 and "ย้อนหลัง 5 นาที" in page and "(วันนี้ปรับแล้ว 2 ครั้ง)" in page, page

    clock.advance(days=1)
    take()
    assert shown not in live(), "news for its own day only"


def test_today_says_while_the_server_has_lost_its_broker(
    manager: TestClient, office: Office, clock: Clock
) -> None:
    """The devices' list shows what was last known, all online, while nothing reaches the server: the
    page says so first, with since when, until the connection is back."""
    lost = "ติดต่อระบบรับส่งข้อความ (MQTT) ไม่ได้"
    assert lost not in manager.get("/dashboard/today.json").json()["html"]
    office.broker_connection(False)
    clock.advance(minutes=7)
    office.broker_connection(False)  # still down: since the first
    live = html.unescape(manager.get("/dashboard/today.json").json()["html"])
    assert f"{lost} ตั้งแต่ 09:00" in live, live
    office.broker_connection(True)
    assert lost not in manager.get("/dashboard/today.json").json()["html"]


def test_health_says_what_the_today_page_warns_of_without_a_login(
    app: FastAPI, manager: TestClient, office: Office, clock: Clock
) -> None:
    """A district's monitoring asks each office's server: 200 and `ok` while all is well, the today
    page's problems as codes (no message, nothing personal), 503 while the office cannot serve."""
    with TestClient(app) as anyone:

        def health(status: int) -> dict[str, Any]:
            response = anyone.get("/health")
            assert response.status_code == status, response.text
            assert response.headers["cache-control"] == "no-store"
            body: dict[str, Any] = response.json()
            return body

        assert health(200) == {"status": "ok", "problems": [], "time": "2026-11-26T02:00:00+00:00"}

        clock.advance(hours=40)  # the manager's login at T0 is the office's first entry: no backup since
        assert health(200)["problems"] == [{"code": "backup_none", "at": "2026-11-26T02:00:00+00:00"}]

        office.broker_connection(False)
        body = health(503)
        assert body["status"] == "failing"
        assert [p["code"] for p in body["problems"]] == ["broker_lost", "backup_none"]
        assert body["problems"][0]["since"] == "2026-11-27T18:00:00+00:00"
        office.broker_connection(True)

        dashboard = app.state.dashboard
        dashboard.settings = dataclasses.replace(dashboard.settings, disk_low_bytes=10**18)
        (disk, _backup) = health(200)["problems"]
        assert disk["code"] == "disk_low" and 0 < disk["free_bytes"] < disk["total_bytes"]

        office.stop()
        assert health(503)["problems"][0] == {"code": "sequencer_stopped"}


def test_a_clock_in_a_year_no_office_can_be_in_is_said_in_red(
    app: FastAPI,
    manager: TestClient,
    users: dict[Role, str],
    office: Office,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A clock set once, before the server started, shows no step: a year typed in the Buddhist Era, or
    a Raspberry Pi that starts in 1970, must still be said, on the today page, by /health and in the log."""

    def live() -> str:
        return html.unescape(manager.get("/dashboard/today.json").json()["html"])

    def take() -> None:
        reply = office.issue_ticket(TicketRequest(service="elderly-allowance"), check_hours=False).result(30)
        assert isinstance(reply, TicketIssued)

    right = clock.now
    assert "ซึ่งเป็นเลขปีพุทธศักราช" not in live()
    with TestClient(app) as anyone, caplog.at_level(logging.INFO, logger="server.office"):
        clock.now = right.replace(year=2569)
        take()
        log_in(manager, users[Role.manager])  # the session ran out 543 years ago
        page = live()
        assert '<span class="alert danger">นาฬิกาของเครื่องแม่ข่ายตั้งปีเป็น ค.ศ. 2569 ซึ่งเป็นเลขปีพุทธศักราช' in page
        assert "ให้ตั้งปีของนาฬิกาเป็น ค.ศ. 2026" in page, page
        body = anyone.get("/health").json()
        assert body["status"] == "warning" and {"code": "clock_wrong", "year": 2569} in body["problems"]

        clock.now = dt.datetime(1970, 1, 1, 0, 0, 30, tzinfo=dt.UTC)
        take()
        log_in(manager, users[Role.manager])
        assert "นาฬิกาของเครื่องแม่ข่ายแสดงปี ค.ศ. 1970 ซึ่งยังไม่มีระบบนี้" in live()

        clock.now = right
        take()
        log_in(manager, users[Role.manager])
        assert "นาฬิกาของเครื่องแม่ข่ายแสดงปี" not in live() and "ซึ่งเป็นเลขปีพุทธศักราช" not in live()
        assert all(p["code"] != "clock_wrong" for p in anyone.get("/health").json()["problems"])
    said = [r.getMessage() for r in caplog.records if "clock reads" in r.getMessage()]
    assert len(said) == 3, said
    assert said[0].startswith(
        "the server's clock reads the year 2569, a Buddhist Era year where the Common Era's belongs (2026)"
    )
    assert said[1].startswith("the server's clock reads the year 1970: every ticket")
    assert said[2] == "the server's clock reads 2026 again"


def test_today_json_does_not_eat_the_next_pages_message(admin: TestClient) -> None:
    """The live part polls every few seconds: it must leave a saved-change message to the page."""
    token = form_token(admin, "/admin/office/file")
    text = admin.get("/admin/office/file").text
    content = re.search(r'<textarea class="code" name="content"[^>]*>(.*?)</textarea>', text, re.S)
    assert content
    response = admin.post(
        "/admin/office/file",
        data={"csrf_token": token, "content": html.unescape(content.group(1))},
        follow_redirects=False,
    )
    assert response.status_code == 303
    admin.get("/dashboard/today.json")
    assert "เริ่มเครื่องแม่ข่ายใหม่" in admin.get("/admin/office").text


# ------------------------------------------------------------------------------------------------ exports


def _export(client: TestClient, app: FastAPI, fmt: str, **fields: str) -> bytes:
    token = form_token(client, "/dashboard/quarter")
    response = client.post(
        "/dashboard/export", data={"csrf_token": token, "format": fmt, **fields}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    page = response.headers["location"]
    job_id = page.rsplit("/", 1)[1]
    assert app.state.dashboard.exports.wait(job_id, 120), "the export finished"
    progress = client.get(f"{page}/progress.json").json()
    assert progress["state"] == "done" and progress["percent"] == 100
    assert "ดาวน์โหลด" in client.get(page).text
    download = client.get(progress["download"])
    assert download.status_code == 200
    assert progress["filename"] in download.headers["content-disposition"]
    return download.content


def test_xlsx_export_of_the_day_reads_back(
    manager: TestClient, app: FastAPI, office: Office, clock: Clock
) -> None:
    play_morning(office, clock)
    data = _export(manager, app, "xlsx", scope="period", first="2026-11-26", last="2026-11-26")
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    summary = workbook.worksheets[0]
    values = {row[1]: row[2] for row in summary.iter_rows(values_only=True) if row and len(row) > 2}
    assert values["Tickets issued"] == 6
    assert values["Served"] == 2
    assert values["No-show"] == 1
    assert values["Survey respondents"] == 1
    assert values["Percent satisfaction"] == pytest.approx(100.0)
    assert any("เทศบาลตำบลบ้านสวนงาม" in str(cell) for cell in next(summary.iter_rows(values_only=True)))


def _normalized(text: str) -> str:
    """PDF text compared loosely (see tests/reports/test_exports.py: glyph order, sara am)."""
    return unicodedata.normalize("NFC", "".join(text.split())).replace("ำ", "า")


def test_pdf_export_of_the_quarter_has_its_title_and_due_dates(
    manager: TestClient, app: FastAPI, office: Office, clock: Clock, tmp_path: Path
) -> None:
    play_morning(office, clock)
    data = _export(manager, app, "pdf", scope="quarter", fy="2570", q="1")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = _normalized("".join(page.extract_text() for page in reader.pages))
    for expected in ("เทศบาลตำบลบ้านสวนงาม", "ไตรมาสที่1ปีงบประมาณพ.ศ.2570", "30ธันวาคม2569", "15มกราคม2570"):
        assert _normalized(expected) in text, expected
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = tmp_path / "quarter.pdf"
    pdf.write_bytes(data)
    target = SCREENSHOTS / "dashboard-export-pdf"
    subprocess.run(
        [pdftoppm, "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(target)], check=True
    )
    assert target.with_suffix(".png").stat().st_size > 10_000


def test_csv_export_is_a_zip_of_tables(manager: TestClient, app: FastAPI) -> None:
    import zipfile

    data = _export(manager, app, "csv", scope="quarter", fy="2570", q="1")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "summary.csv" in names and "services.csv" in names


def test_an_export_belongs_to_its_user(manager: TestClient, app: FastAPI, users: dict[Role, str]) -> None:
    token = form_token(manager, "/dashboard/quarter")
    response = manager.post(
        "/dashboard/export",
        data={"csrf_token": token, "format": "csv", "scope": "quarter", "fy": "2570", "q": "1"},
        follow_redirects=False,
    )
    page = response.headers["location"]
    app.state.dashboard.exports.wait(page.rsplit("/", 1)[1], 60)
    with TestClient(app) as other:
        log_in(other, users[Role.admin])
        assert other.get(f"{page}/file").status_code == 404
        assert other.get(f"{page}/progress.json").status_code == 404


# ------------------------------------------------------------------------------------------------ admin


def test_a_bad_service_value_names_the_key_and_leaves_the_file(admin: TestClient, office_file: Path) -> None:
    before = office_file.read_bytes()
    page = admin.get("/admin/office/services/land-building-tax").text
    assert 'value="ชำระภาษีที่ดินและสิ่งปลูกสร้าง"' in page
    token = form_token(admin, "/admin/office/services/land-building-tax")
    response = admin.post(
        "/admin/office/services/land-building-tax",
        data={
            "csrf_token": token,
            "name_th": "ชำระภาษีที่ดินและสิ่งปลูกสร้าง",
            "name_en": "Land and building tax",
            "group": "local",
            "kind": "complete",
            "prefix": "AB",
            "agency_th": "กองคลัง",
            "agency_en": "Finance Division",
            "standard_minutes": "15",
            "enabled": "on",
        },
    )
    assert response.status_code == 400
    assert "services[4].prefix" in response.text
    assert "must be one capital Latin letter A-Z" in response.text
    assert "ไม่ได้บันทึก" in response.text
    assert office_file.read_bytes() == before


def test_a_good_service_edit_is_saved_checked_and_waits_for_a_restart(
    admin: TestClient, office_file: Path
) -> None:
    token = form_token(admin, "/admin/office/services/land-building-tax")
    response = admin.post(
        "/admin/office/services/land-building-tax",
        data={
            "csrf_token": token,
            "name_th": "ชำระภาษีที่ดินและสิ่งปลูกสร้าง (ภ.ด.ส.)",
            "name_en": "Land and building tax",
            "group": "local",
            "kind": "complete",
            "prefix": "E",
            "agency_th": "กองคลัง",
            "agency_en": "Finance Division",
            "standard_minutes": "20",
            "daily_cap": "",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "เริ่มเครื่องแม่ข่ายใหม่" in response.text
    saved = load_config(office_file).service_by_code("land-building-tax")
    assert saved is not None and saved.standard_minutes == 20 and saved.name_th.endswith("(ภ.ด.ส.)")
    assert office_file.with_name("office.toml.bak").exists(), "the previous file is kept"
    page = admin.get("/admin/office").text
    assert "มีการแก้ไขที่บันทึกแล้วแต่ยังไม่มีผล" in page, "saved, waiting for a restart"


def test_the_raw_file_editor_keeps_comments(admin: TestClient, office_file: Path) -> None:
    text = office_file.read_text("utf-8")
    changed = text.replace('name_en = "Counter 1"', 'name_en = "Counter One"  # renamed at the meeting')
    token = form_token(admin, "/admin/office/file")
    response = admin.post("/admin/office/file", data={"csrf_token": token, "content": changed})
    assert response.status_code == 200
    assert office_file.read_text("utf-8") == changed
    bad = changed.replace("max_calls_before_no_show = 3", "max_calls_before_no_show = 0")
    response = admin.post("/admin/office/file", data={"csrf_token": token, "content": bad})
    assert response.status_code == 400 and "queue.max_calls_before_no_show" in response.text
    assert office_file.read_text("utf-8") == changed


def test_a_file_changed_elsewhere_is_not_overwritten(admin: TestClient, office_file: Path) -> None:
    office_file.write_text(office_file.read_text("utf-8").replace("Counter 1", "Desk 1"), "utf-8")
    page = admin.get("/admin/office").text
    assert "ไม่ตรงกับการตั้งค่าที่เครื่องแม่ข่ายใช้อยู่" in page
    token = form_token(admin, "/admin/office/file")
    response = admin.post("/admin/office/file", data={"csrf_token": token, "content": "x = 1"})
    assert response.status_code == 400
    assert "Desk 1" in office_file.read_text("utf-8")


def test_devices_get_credentials_shown_once(admin: TestClient, tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "broker")
    token = form_token(admin, "/admin/devices")
    response = admin.post(
        "/admin/devices", data={"csrf_token": token, "device_id": "kiosk-1", "role": "kiosk"}
    )
    assert response.status_code == 200
    first = re.search(r'password = "([^"]+)"', html.unescape(response.text))
    assert first, "the new password is on the page"
    assert [d.id for d in list_devices(files)] == ["kiosk-1"]
    assert first.group(1) not in html.unescape(admin.get("/admin/devices").text), "and never again"
    rotated = admin.post("/admin/devices/kiosk-1/rotate", data={"csrf_token": token})
    second = re.search(r'password = "([^"]+)"', html.unescape(rotated.text))
    assert second and second.group(1) != first.group(1)
    bad = admin.post("/admin/devices", data={"csrf_token": token, "device_id": "Kiosk/2", "role": "kiosk"})
    assert bad.status_code == 400 and "a-z" in bad.text
    removed = admin.post("/admin/devices/kiosk-1/remove", data={"csrf_token": token}, follow_redirects=True)
    assert removed.status_code == 200 and list_devices(files) == []


def test_another_server_on_the_broker_is_said_in_red_until_it_has_been_gone_a_while(
    app: FastAPI, manager: TestClient, users: dict[Role, str], office: Office, clock: Clock
) -> None:
    """A second server with the office server's broker account: the today page says so in red, with
    what to do, and /health names it; it stays said ten minutes after it went offline (two servers on
    one client id take turns going offline), then goes."""

    def live() -> str:
        return html.unescape(manager.get("/dashboard/today.json").json()["html"])

    other = "9f3c" * 8
    with TestClient(app) as anyone:
        assert "มีเซิร์ฟเวอร์ Khiu อีกตัว" not in live()
        assert not office.notice_server_status(ServerStatus(online=False, version="0.9.1", instance=other))
        assert office.notice_server_status(ServerStatus(online=True, version="0.9.1", instance=other))
        assert not office.notice_server_status(ServerStatus(online=True, version="0.9.1", instance=other))
        page = live()
        assert '<span class="alert danger">มีเซิร์ฟเวอร์ Khiu อีกตัว (รุ่น 0.9.1) ใช้โบรกเกอร์ของสำนักงาน' in page
        assert "ให้หยุดเซิร์ฟเวอร์ตัวนั้น" in page
        since = clock.now.isoformat()
        expected = {"code": "server_duplicate", "instance": other, "version": "0.9.1", "since": since}
        assert expected in anyone.get("/health").json()["problems"]

        office.notice_server_status(ServerStatus(online=False, version="0.9.1", instance=other))
        clock.advance(minutes=9)
        log_in(manager, users[Role.manager])
        assert "มีเซิร์ฟเวอร์ Khiu อีกตัว" in live()
        clock.advance(minutes=2)
        log_in(manager, users[Role.manager])
        assert "มีเซิร์ฟเวอร์ Khiu อีกตัว" not in live()
        assert all(p["code"] != "server_duplicate" for p in anyone.get("/health").json()["problems"])


def test_two_machines_sharing_a_device_id_are_said_in_red_until_they_stop(
    app: FastAPI, manager: TestClient, users: dict[Role, str], office: Office, clock: Clock
) -> None:
    """A copied SD card: two kiosks connect as one id and take turns dropping each other. The today page
    says so in red, with what to do, and /health names the device; ten minutes after the turns stop (the
    copy was given an id of its own), both are quiet."""
    topics = Topics(office.config.office.id)
    kiosk, name = next((d.id, d.name_th) for d in office.config.devices if d.role is DeviceRole.kiosk)

    def status(boot: str) -> None:
        mark = BootMark(id=boot, uptime_s=60.0)
        payload = DeviceStatus(device=kiosk, role=DeviceRole.kiosk, online=True, boot=mark).encode()
        office.receive(topics.device_status(kiosk), payload)
        # the sequencer takes its inbox in order: once this is answered, the status was seen
        office.issue_ticket(TicketRequest(service="elderly-allowance"), check_hours=False).result(30)

    def live() -> str:
        return html.unescape(manager.get("/dashboard/today.json").json()["html"])

    with TestClient(app) as anyone:
        for boot in ("boot-a", "boot-b"):
            status(boot)
        assert f"ชื่ออุปกรณ์ {kiosk}" not in live()
        status("boot-a")
        page = live()
        said = f"มีมากกว่าหนึ่งเครื่องเชื่อมต่อด้วยชื่ออุปกรณ์ {name} ({kiosk}) (คัดลอกการ์ด SD"
        assert f'<a class="alert danger" href="#devices">{said}' in page
        assert "(khiu admin device add)" in page
        problems = anyone.get("/health").json()["problems"]
        assert {"code": "device_shared", "device": kiosk, "since": clock.now.isoformat()} in problems

        clock.advance(minutes=11)
        log_in(manager, users[Role.manager])
        assert f"ชื่ออุปกรณ์ {kiosk}" not in live()
        assert all(p["code"] != "device_shared" for p in anyone.get("/health").json()["problems"])
