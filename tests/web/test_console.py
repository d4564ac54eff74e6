"""The staff console as staff use it: every action goes to the office as a counter command with the staff
user's name, the page shows the server's answer, the waiting list and the forwarded cases."""

from __future__ import annotations

import html
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.vocabulary import Priority
from server.office import Office
from server.web.accounts import Accounts, Role
from tests.web.conftest import Clock, form_token, log_in
from tests.web.office_tools import issue, old_forwarded_case, staff_transitions

ELDERLY = "elderly-allowance"  # prefix A, counter c1
DISABILITY = "disability-allowance"  # prefix B, counter c1
TAX = "land-building-tax"  # counter c2
CARD = "disability-card"  # kind forward, counter c1


def flash(page: str) -> str:
    found = re.search(r'class="flash flash-(\w+)"[^>]*>([^<]*)<', page)
    assert found, "no message on the page"
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


def do(client: TestClient, counter: str, action: str, **fields: str) -> str:
    """Press the button of `action` as drawn on the console page (its own event id and ticket)."""
    page = client.get(f"/console/{counter}").text
    forms = re.findall(r'<form method="post" action="/console/[^"]+/action".*?</form>', page, re.S)
    form = next((f for f in forms if f'name="action" value="{action}"' in f), None)
    assert form is not None, f"no {action} button on the console of {counter}"
    data = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    data.update(fields)
    response = client.post(f"/console/{counter}/action", data=data)
    assert response.status_code == 200
    return str(response.text)


def test_a_counter_day_through_the_console(staff: TestClient, office: Office) -> None:
    first = issue(office, ELDERLY)
    issue(office, DISABILITY, Priority.elderly)
    page = staff.get("/console").text
    assert "ช่องบริการ 1" in page and "ช่องบริการ 4" in page
    page = do(staff, "c1", "open")
    assert flash(page) == "ok: เปิดช่องบริการแล้ว"
    page = do(staff, "c1", "call_next")
    assert flash(page) == "ok: เรียกหมายเลข B001", "a priority ticket goes first"
    assert 'class="ticket-number state-called">B001<' in page
    page = do(staff, "c1", "recall")
    assert flash(page).startswith("ok: เรียกหมายเลข B001 อีกครั้ง")
    page = do(staff, "c1", "start")
    assert 'class="ticket-number state-serving">B001<' in page
    page = do(staff, "c1", "complete", outcome="completed")
    assert flash(page) == "ok: ให้บริการหมายเลข B001 เสร็จแล้ว"
    do(staff, "c1", "call_next")
    page = do(staff, "c1", "no_show")
    assert flash(page) == f"ok: บันทึกว่าหมายเลข {first} ไม่มาติดต่อ"
    page = do(staff, "c1", "call_next")
    assert flash(page) == "error: ไม่มีคิวรอ", "the server's refusal, in Thai"
    page = do(staff, "c1", "close")
    assert flash(page) == "ok: ปิดช่องบริการแล้ว"
    assert "ปิด" in staff.get("/console").text
    # The transition rows record the staff user who acted at the console.
    assert staff_transitions(office) == [
        ("c1", "staff1", "waiting", "called"),
        ("c1", "staff1", "called", "called"),
        ("c1", "staff1", "called", "serving"),
        ("c1", "staff1", "serving", "done"),
        ("c1", "staff1", "waiting", "called"),
        ("c1", "staff1", "called", "no_show"),
    ]


def test_a_form_sent_twice_calls_one_citizen(staff: TestClient, office: Office) -> None:
    issue(office, ELDERLY)
    issue(office, ELDERLY)
    do(staff, "c1", "open")
    page = staff.get("/console/c1").text
    form = re.search(
        r'name="event_id" value="([^"]+)">\s*<input type="hidden" name="action" value="call_next"', page
    )
    assert form
    data = {"csrf_token": form_token(staff, "/console/c1"), "event_id": form.group(1), "action": "call_next"}
    assert flash(staff.post("/console/c1/action", data=data).text) == "ok: เรียกหมายเลข A001"
    assert flash(staff.post("/console/c1/action", data=data).text) == "ok: เรียกหมายเลข A001"
    state = staff.get("/console/c1/state.json").json()
    assert (state["current"], [t["number"] for t in state["waiting"]]) == ("A001", ["A002"])


def test_forwarded_case_is_followed_up_from_the_console(
    staff: TestClient, office: Office, clock: Clock
) -> None:
    number = issue(office, CARD)
    do(staff, "c1", "open")
    do(staff, "c1", "call_next")
    page = do(staff, "c1", "start")
    assert re.search(r'value="forwarded" required checked', page), (
        "a forward-kind service proposes 'forwarded'"
    )
    page = do(staff, "c1", "complete", outcome="forwarded", reference="สผ 0123/2569")
    assert flash(page) == f"ok: ให้บริการหมายเลข {number} แล้ว ส่งเรื่องต่อหน่วยงานเจ้าของเรื่อง"
    assert "เรื่องที่ส่งต่อหน่วยงาน" in page
    assert "สผ 0123/2569" in page and number in page
    case_id = re.search(r'action="/cases/([^"]+)"', page)
    assert case_id
    response = staff.post(
        f"/cases/{case_id.group(1)}",
        data={
            "status": "in_progress",
            "note": "โทรตามกองช่างแล้ว",
            "next": "/console/c1",
            "csrf_token": form_token(staff, "/console/c1"),
        },
    )
    assert flash(response.text) == "ok: บันทึกการติดตามเรื่องแล้ว"
    assert 'value="in_progress" selected' in response.text
    assert "โทรตามกองช่างแล้ว" in response.text


def test_overdue_cases_stand_out(app: FastAPI, users: dict[Role, str], office: Office, clock: Clock) -> None:
    late = old_forwarded_case(office, clock, service=CARD, counter="c1", reference="ร 1/2569", days=8)
    fresh = old_forwarded_case(office, clock, service=CARD, counter="c1", reference="ร 2/2569", days=1)
    with TestClient(app) as staff:
        log_in(staff, users[Role.staff])
        page = staff.get("/console/c1").text
    rows = re.findall(r'<tr class="([^"]*)">\s*<td class="number">(\w+)</td>', page)
    assert rows == [("is-overdue", late), ("", fresh)]  # both D001: numbers restart each day
    assert page.count("เกินกำหนด") == 1
    assert "3 ธ.ค. 69" in page, "due dates in B.E."
    assert "ร 1/2569" in page and "สำนักงานพัฒนาสังคมและความมั่นคงของมนุษย์" in page


def test_transfer_park_and_resume(staff: TestClient, office: Office) -> None:
    number = issue(office, ELDERLY)
    do(staff, "c1", "open")
    do(staff, "c1", "call_next")
    do(staff, "c1", "park")
    page = staff.get("/console/c1").text
    assert "คิวที่พักไว้" in page and f'<span class="number">{number}</span>' in page
    page = do(staff, "c1", "resume", ticket=number)
    assert flash(page) == f"ok: หมายเลข {number} กลับเข้าคิวแล้ว"
    do(staff, "c1", "call_next")
    do(staff, "c1", "start")
    page = do(staff, "c1", "transfer")
    assert flash(page) == "error: กรุณาเลือกบริการที่จะย้ายไป"
    page = do(staff, "c1", "transfer", to_service=TAX)
    assert flash(page) == f"ok: ส่งหมายเลข {number} ไปรอรับบริการ ชำระภาษีที่ดินและสิ่งปลูกสร้าง"
    state = staff.get("/console/c2/state.json").json()
    assert [t["number"] for t in state["waiting"]] == [number]


def test_complete_without_outcome_asks_for_one(staff: TestClient, office: Office) -> None:
    issue(office, ELDERLY)
    do(staff, "c1", "open")
    do(staff, "c1", "call_next")
    do(staff, "c1", "start")
    page = do(staff, "c1", "complete")
    assert flash(page) == "error: กรุณาเลือกผลการให้บริการ"
    assert staff_transitions(office)[-1][3] == "serving", "nothing was sent"


def test_live_waiting_list(staff: TestClient, office: Office, clock: Clock) -> None:
    issue(office, ELDERLY)
    clock.advance(minutes=3)
    issue(office, DISABILITY, Priority.disabled)
    clock.advance(minutes=4)
    state = staff.get("/console/c1/state.json").json()
    assert state["waiting_label"] == "รอ 2 คิว"
    assert [(t["number"], t["priority"], t["waited_min"]) for t in state["waiting"]] == [
        ("B001", "ผู้พิการ", 4),
        ("A001", "", 7),
    ]
    before = state["fingerprint"]
    do(staff, "c1", "open")
    assert staff.get("/console/c1/state.json").json()["fingerprint"] != before, (
        "the page must redraw its buttons"
    )


def test_staff_are_told_to_call_out_loud_while_the_board_gets_no_calls(
    staff: TestClient, users: dict[Role, str], office: Office, clock: Clock
) -> None:
    """Without the broker a call from the console changes the queue but reaches no board: whoever is
    at the counter must know to call the number out loud. The open console redraws itself (its
    fingerprint changes) when the connection goes and when it comes back."""
    warning = "กรุณาขานหมายเลขคิวด้วยเสียง"
    before = staff.get("/console/c1/state.json").json()["fingerprint"]
    assert warning not in staff.get("/console/c1").text
    office.broker_connection(False)
    lost = staff.get("/console/c1/state.json").json()["fingerprint"]
    assert lost != before
    clock.advance(minutes=2)
    page = staff.get("/console/c1").text
    assert f"ติดต่อระบบรับส่งข้อความ (MQTT) ไม่ได้ ตั้งแต่ 09:00 {warning}" in page, page
    clock.advance(days=1)
    log_in(staff, users[Role.staff])  # the session ended overnight
    assert "ไม่ได้ ตั้งแต่ 26 พ.ย. 69 09:00" in staff.get("/console/c1").text, "since another day: its date"
    office.broker_connection(True)
    assert staff.get("/console/c1/state.json").json()["fingerprint"] == before
    assert warning not in staff.get("/console/c1").text


def test_english_console(staff: TestClient, office: Office) -> None:
    issue(office, ELDERLY)
    response = staff.post(
        "/lang", data={"lang": "en", "next": "/console/c1", "csrf_token": form_token(staff, "/console")}
    )
    page = response.text
    assert '<html lang="en">' in page
    assert "Counter 1" in page and "Open counter" in page
    page = do(staff, "c1", "open")
    assert flash(page) == "ok: Counter opened."
    assert "Elderly allowance registration" in page
    assert "26 Nov 2026" in page
    state = staff.get("/console/c1/state.json").json()
    assert state["waiting_label"] == "1 waiting"


def test_actions_are_in_the_audit_log(
    staff: TestClient, admin: TestClient, office: Office, accounts: Accounts, users: dict[Role, str]
) -> None:
    issue(office, ELDERLY)
    do(staff, "c1", "open")
    do(staff, "c1", "call_next")
    entries = [(e.username, e.action, e.detail) for e in accounts.audit_entries()]
    assert ("staff1", "counter.call_next", "c1 A001") in entries
    assert ("staff1", "counter.open", "c1 -") in entries
    page = admin.get("/admin/audit").text
    assert "counter.call_next" in page and "testclient" in page


def test_unknown_counter_is_a_404(staff: TestClient) -> None:
    assert staff.get("/console/c99").status_code == 404
    assert "ไม่พบหน้านี้" in staff.get("/console/c99").text


def test_home_goes_back_to_the_last_counter(staff: TestClient) -> None:
    assert staff.get("/", follow_redirects=False).headers["location"] == "/console"
    staff.get("/console/c2")
    assert staff.get("/", follow_redirects=False).headers["location"] == "/console/c2"


def test_a_stopped_sequencer_is_a_clear_page_not_a_crash(staff: TestClient, office: Office) -> None:
    office.stop()
    response = staff.get("/console/c1")
    assert response.status_code == 503
    assert "ระบบตอบช้า กรุณาลองใหม่อีกครั้ง" in response.text
    assert staff.get("/console/c1/state.json").json() == {"error": "server_busy"}
