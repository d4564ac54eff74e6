"""The kiosk's behaviour without a window, a broker or a printer: what a citizen sees and what the
server and staff get, driven through `KioskModel` with recording fakes and a hand-moved clock."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from common.contract import TicketRejected
from common.vocabulary import TICKET_NUMBER_PATTERN, Lang, PrinterState, Priority, ServiceGroup
from kiosk.offline_numbers import OfflineNumbers
from kiosk.viewmodels import PrintPhase, Screen, TicketPhase
from tests.kiosk.kiosk_support import (
    NOW,
    Kiosk,
    Outcome,
    example_catalog,
    issued_for,
    make_kiosk,
    service,
    with_service,
)


def take(kiosk: Kiosk, code: str = "elderly-allowance", priority: Priority = Priority.none) -> None:
    m = kiosk.model
    m.open_group(service(example_catalog(), code).group)
    m.open_service(code)
    m.take_ticket()
    m.choose_priority(priority)


def screen(kiosk: Kiosk) -> Screen:
    return kiosk.model.screen


# ------------------------------------------------------------------------------------ catalog screens


def test_home_lists_the_groups_of_the_catalog_in_the_guideline_order(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path)
    home = kiosk.model.home_view()
    assert [g.group for g in home.groups] == [
        ServiceGroup.citizen,
        ServiceGroup.business,
        ServiceGroup.labour,
        ServiceGroup.local,
        ServiceGroup.tang_rat,
    ]
    titles = {g.group: (g.title, g.subtitle) for g in home.groups}
    assert titles[ServiceGroup.citizen] == ("งานบริการประชาชน", "4 บริการ")
    assert titles[ServiceGroup.local][0] == "งานบริการของเทศบาล"
    assert titles[ServiceGroup.tang_rat][1] == "1 บริการ"
    assert home.office_name == "เทศบาลตำบลบ้านสวนงาม"
    assert home.date_text == "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569"
    assert home.time_text == "10:04 น."


def test_a_group_without_services_is_not_offered(tmp_path: Path) -> None:
    catalog = example_catalog()
    only_citizen = catalog.model_copy(
        update={"services": [s for s in catalog.services if s.group is ServiceGroup.citizen]}
    )
    kiosk = make_kiosk(tmp_path, catalog=only_citizen)
    assert [g.group for g in kiosk.model.home_view().groups] == [ServiceGroup.citizen]
    kiosk.model.open_group(ServiceGroup.labour)
    assert screen(kiosk) is Screen.home


def test_services_of_a_group_show_their_standard_time_in_the_chosen_language(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path)
    kiosk.model.open_group(ServiceGroup.citizen)
    view = kiosk.model.services_view()
    assert view.title == "งานบริการประชาชน"
    details = {t.code: t.detail for t in view.services}
    assert details["elderly-allowance"] == "ระยะเวลาดำเนินการ 10 นาที"
    assert details["newborn-child-grant"] == "ระยะเวลาดำเนินการ 30 วัน"
    kiosk.model.toggle_lang()
    details = {t.code: t.detail for t in kiosk.model.services_view().services}
    assert details["disability-card"] == "Processing time: 7 days"


def test_a_service_shows_its_documents_before_a_ticket_is_taken(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path)
    kiosk.model.open_group(ServiceGroup.citizen)
    kiosk.model.open_service("elderly-allowance")
    view = kiosk.model.service_view()
    assert view is not None and view.accepting
    assert view.documents[:2] == ("บัตรประจำตัวประชาชน", "ทะเบียนบ้าน")
    assert view.action == "รับบัตรคิว"
    assert kiosk.channel.requests == []


def test_a_closed_service_shows_its_reason_and_issues_nothing(tmp_path: Path) -> None:
    catalog = with_service(
        example_catalog(),
        "building-permit",
        accepting=False,
        closed_reason_th="งดรับคำขอช่วงบ่ายวันนี้",
        closed_reason_en="No applications this afternoon",
    )
    kiosk = make_kiosk(tmp_path, catalog=catalog)
    kiosk.model.open_group(ServiceGroup.local)
    tiles = {t.code: t for t in kiosk.model.services_view().services}
    assert not tiles["building-permit"].accepting
    assert tiles["building-permit"].detail == "ปิดรับบัตรคิว: งดรับคำขอช่วงบ่ายวันนี้"
    kiosk.model.open_service("building-permit")
    view = kiosk.model.service_view()
    assert view is not None and not view.accepting
    assert view.closed_reason == "งดรับคำขอช่วงบ่ายวันนี้"
    kiosk.model.take_ticket()
    kiosk.model.choose_priority(Priority.none)
    assert screen(kiosk) is Screen.service
    assert kiosk.channel.requests == [] and kiosk.channel.offline == []


def test_a_catalog_that_closes_the_service_on_screen_takes_the_citizen_home(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path)
    kiosk.model.open_group(ServiceGroup.local)
    kiosk.model.open_service("building-permit")
    assert screen(kiosk) is Screen.service
    catalog = example_catalog()
    kiosk.model.set_catalog(
        catalog.model_copy(update={"services": [s for s in catalog.services if s.code != "building-permit"]})
    )
    assert screen(kiosk) is Screen.home


# ------------------------------------------------------------------------------------ idle timeout


def test_idle_kiosk_returns_home_in_thai(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path, idle_timeout_s=60)
    m = kiosk.model
    m.open_group(ServiceGroup.citizen)
    m.toggle_lang()
    m.toggle_large()
    kiosk.clock.advance(50)
    m.touched()
    kiosk.clock.advance(50)
    assert screen(kiosk) is Screen.services, "a touch restarts the idle time"
    kiosk.clock.advance(11)
    assert screen(kiosk) is Screen.home
    assert m.lang is Lang.th and not m.large


def test_the_number_stays_on_screen_then_the_kiosk_returns_home(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path, ticket_linger_s=20, idle_timeout_s=60)
    take(kiosk)
    kiosk.model.on_reply(issued_for(kiosk.channel.requests[0]))
    kiosk.model.on_print_result(kiosk.printer.jobs[0].job_id, Outcome(True, PrinterState.ok))
    kiosk.clock.advance(19)
    assert screen(kiosk) is Screen.ticket
    kiosk.clock.advance(2)
    assert screen(kiosk) is Screen.home


# ------------------------------------------------------------------------------------ tickets


def test_a_tap_asks_the_server_and_shows_and_prints_its_number(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path)
    kiosk.model.toggle_lang()  # English
    take(kiosk, priority=Priority.elderly)
    (request,) = kiosk.channel.requests
    assert (request.service, request.priority, request.lang) == (
        "elderly-allowance",
        Priority.elderly,
        Lang.en,
    )
    assert kiosk.model.ticket_view().phase is TicketPhase.asking  # type: ignore[union-attr]

    kiosk.model.on_reply(issued_for(request, "A012", ahead=4, wait=18))
    view = kiosk.model.ticket_view()
    assert view is not None
    assert view.number == "A012"
    assert view.lines == ("4 people ahead of you", "Estimated wait: about 18 min")
    assert view.priority_label == "Older person (60+)"
    (job,) = kiosk.printer.jobs
    assert (job.number, job.priority, job.lang, job.offline) == ("A012", Priority.elderly, Lang.en, False)
    assert job.qr_url == "http://127.0.0.1:8000/t/abc"
    assert job.documents_th[0] == "บัตรประจำตัวประชาชน"
    assert kiosk.model.health().server_reachable is True
    assert len(kiosk.model.latencies_s) == 1
    kiosk.clock.advance(10)
    assert kiosk.channel.offline == [], "no offline ticket once the number came"


def test_no_reply_in_time_gives_an_offline_ticket_that_replaces_the_request(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path, reply_timeout_s=2.0)
    take(kiosk, priority=Priority.monk)
    (request,) = kiosk.channel.requests
    kiosk.clock.advance(1.9)
    assert kiosk.model.ticket.phase is TicketPhase.asking  # type: ignore[union-attr]
    kiosk.clock.advance(0.2)

    assert kiosk.channel.withdrawn == [request.id]
    (offline,) = kiosk.channel.offline
    assert offline.replaces == request.id
    assert (offline.number, offline.service, offline.priority) == ("AX01", "elderly-allowance", Priority.monk)
    assert offline.issued_at == NOW
    view = kiosk.model.ticket_view()
    assert view is not None and view.number == "AX01"
    assert view.lines == ("เจ้าหน้าที่จะเรียกตามลำดับ",)
    shown = " ".join([view.heading, *view.lines, view.print_text])
    assert "ขัดข้อง" not in shown and "ออฟไลน์" not in shown, "nothing alarming for the citizen"
    (job,) = kiosk.printer.jobs
    assert job.number == "AX01" and job.offline
    assert kiosk.channel.health[-1].server_reachable is False


def test_a_late_reply_after_the_offline_ticket_is_ignored(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path)
    take(kiosk)
    kiosk.clock.advance(3)
    (request,) = kiosk.channel.requests
    kiosk.model.on_reply(issued_for(request, "A013"))
    assert kiosk.model.ticket_view().number == "AX01"  # type: ignore[union-attr]
    assert [j.number for j in kiosk.printer.jobs] == ["AX01"]
    assert kiosk.model.health().server_reachable is True, "a reply shows the server is back"


def test_a_kiosk_that_knows_the_server_is_away_does_not_make_the_citizen_wait(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path, connected=False)
    take(kiosk, "land-building-tax")
    assert kiosk.channel.requests == []
    (offline,) = kiosk.channel.offline
    assert offline.number == "TX01" and offline.replaces is None
    assert kiosk.model.ticket_view().number == "TX01"  # type: ignore[union-attr]


def test_without_an_offline_series_the_citizen_is_sent_to_staff(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path, offline_series=None)
    take(kiosk)
    kiosk.clock.advance(3)
    view = kiosk.model.ticket_view()
    assert view is not None and view.phase is TicketPhase.unavailable and view.number == ""
    assert "เจ้าหน้าที่" in view.lines[0]
    assert kiosk.channel.offline == [] and kiosk.printer.jobs == []


def test_a_rejection_shows_the_servers_reason(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path)
    take(kiosk)
    (request,) = kiosk.channel.requests
    kiosk.model.on_reply(
        TicketRejected(
            request_id=request.id,
            code="daily_cap_reached",
            message_th="บัตรคิวบริการนี้ของวันนี้หมดแล้ว",
            message_en="Today's tickets for this service have run out.",
        )
    )
    kiosk.clock.advance(5)
    view = kiosk.model.ticket_view()
    assert view is not None and view.phase is TicketPhase.rejected
    assert view.lines == ("บัตรคิวบริการนี้ของวันนี้หมดแล้ว", "กรุณาติดต่อเจ้าหน้าที่")
    assert kiosk.channel.offline == [] and kiosk.printer.jobs == []


# ------------------------------------------------------------------------------------ offline numbers


def test_offline_numbers_count_per_prefix_per_day_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "offline-numbers.json"
    day = dt.date(2026, 11, 26)
    numbers = OfflineNumbers(path)
    assert [numbers.next_number("A", "X", day) for _ in range(3)] == ["AX01", "AX02", "AX03"]
    assert numbers.next_number("B", "X", day) == "BX01"
    restarted = OfflineNumbers(path)
    assert restarted.next_number("A", "X", day) == "AX04"
    assert restarted.next_number("A", "X", day + dt.timedelta(days=1)) == "AX01"
    assert restarted.next_number("B", "X", day + dt.timedelta(days=1)) == "BX01"


def test_offline_numbers_never_take_the_servers_form(tmp_path: Path) -> None:
    numbers = OfflineNumbers(tmp_path / "n.json")
    day = dt.date(2026, 11, 26)
    issued = [numbers.next_number("A", "Y", day) for _ in range(150)]
    assert issued[0] == "AY01" and issued[99] == "AY100"
    for number in issued:
        assert re.fullmatch(TICKET_NUMBER_PATTERN, number)
        assert not re.fullmatch(r"[A-Z][0-9]{3}", number), "a server number is {prefix}{seq:03d}"
    assert len(set(issued)) == len(issued)


def test_offline_tickets_of_the_model_follow_the_kiosk_local_day(tmp_path: Path) -> None:
    moments = iter([NOW, NOW, NOW + dt.timedelta(days=1)])
    kiosk = make_kiosk(tmp_path, connected=False, now=lambda: next(moments))
    numbers = []
    for _ in range(3):
        take(kiosk)
        numbers.append(kiosk.model.ticket.number)  # type: ignore[union-attr]
        kiosk.model.finish()
    assert numbers == ["AX01", "AX02", "AX01"]


# ------------------------------------------------------------------------------------ printer


def test_a_printer_fault_keeps_the_number_and_tells_citizen_and_staff(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path, ticket_linger_s=20, fault_linger_s=90)
    take(kiosk)
    kiosk.model.on_reply(issued_for(kiosk.channel.requests[0], "A012"))
    fault = Outcome(
        False,
        PrinterState.no_paper,
        "เครื่องพิมพ์กระดาษหมด กรุณาแจ้งเจ้าหน้าที่",
        "The printer is out of paper. Please tell a staff member",
    )
    kiosk.model.on_print_result(kiosk.printer.jobs[0].job_id, fault)

    view = kiosk.model.ticket_view()
    assert view is not None and view.number == "A012" and view.print_fault
    assert view.print_text == "พิมพ์บัตรคิวไม่ได้ กรุณาจำหมายเลขนี้ แล้วแจ้งเจ้าหน้าที่"
    health = kiosk.channel.health[-1]
    assert health.printer is PrinterState.no_paper
    assert health.printer_message_th == "เครื่องพิมพ์กระดาษหมด กรุณาแจ้งเจ้าหน้าที่"
    assert health.printer_message_en == "The printer is out of paper. Please tell a staff member"
    kiosk.clock.advance(60)
    assert screen(kiosk) is Screen.ticket, "the number stays longer when the paper did not come out"

    kiosk.model.reprint_last()
    assert kiosk.printer.reprints == 1
    kiosk.model.on_print_result(
        None, Outcome(True, PrinterState.ok, "กรุณารับบัตรคิว", "Please take your ticket")
    )
    health = kiosk.channel.health[-1]
    assert health.printer is PrinterState.ok and health.printer_message_th is None


def test_a_printed_ticket_tells_the_citizen_to_take_it(tmp_path: Path) -> None:
    kiosk = make_kiosk(tmp_path)
    take(kiosk)
    kiosk.model.on_reply(issued_for(kiosk.channel.requests[0]))
    assert kiosk.model.ticket.print_phase is PrintPhase.printing  # type: ignore[union-attr]
    kiosk.model.on_print_result(kiosk.printer.jobs[0].job_id, Outcome(True, PrinterState.ok))
    view = kiosk.model.ticket_view()
    assert view is not None and not view.print_fault
    assert view.print_text == "กรุณารับบัตรคิว แล้วรอเรียกหมายเลขของท่าน"
