"""The sequencer on real databases, without MQTT: what kiosks, counters, boards and staff get from it."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import func, select

from common.contract import (
    BoardCall,
    BoardState,
    BootMark,
    Catalog,
    CounterCommand,
    CounterRejected,
    CounterResult,
    CounterState,
    DeviceStatus,
    Message,
    SurveyAccepted,
    SurveyRejected,
    SurveyResponse,
    TicketIssued,
    TicketOffline,
    TicketRejected,
    TicketRequest,
)
from common.link import LinkLoop
from common.topics import Topics
from common.vocabulary import CounterAction, DeviceRole, Outcome, Priority, TicketState
from server.office import Office
from server.store import Store, records
from server.views import CaseStatus
from tests.server.office_helpers import SITE, THURSDAY_9AM, FakeClock, barrier, office_config, start_office

T = Topics(SITE)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def office(store: Store) -> Iterator[tuple[Office, Any, Any]]:
    running = start_office(store)
    yield running
    running[0].stop()


def take(office: Office, service: str = "reg", **kw: Any) -> TicketIssued:
    reply = office.submit(TicketRequest(service=service, **kw), sender="kiosk-1").result(timeout=30)
    assert isinstance(reply, TicketIssued), reply
    return reply


def act(office: Office, counter: str, action: CounterAction, **kw: Any) -> CounterResult | CounterRejected:
    reply = office.counter_command(counter, CounterCommand(action=action, **kw)).result(timeout=30)
    assert isinstance(reply, CounterResult | CounterRejected)
    return reply


def ok(reply: Any) -> CounterResult:
    assert isinstance(reply, CounterResult), reply
    return reply


def test_a_ticket_is_called_announced_and_shown_on_board_and_counter(office: tuple[Office, Any, Any]) -> None:
    o, published, _clock = office
    assert isinstance(published.last(T.catalog()), Catalog)
    first = take(o)
    assert (first.number, first.waiting_ahead, first.business_date) == ("A001", 0, dt.date(2026, 11, 26))
    assert first.status_url == f"http://127.0.0.1:8000/t/{first.ticket_id}?n=A001"
    second = take(o, priority=Priority.elderly)
    assert second.number == "A002" and second.waiting_ahead == 0
    assert take(o).waiting_ahead == 2
    ok(act(o, "c1", CounterAction.open, staff="สมศรี"))
    called = ok(act(o, "c1", CounterAction.call_next))
    assert called.ticket is not None and called.ticket.number == "A002"  # priority first
    ok(act(o, "c1", CounterAction.recall))
    barrier(o)
    calls = published.messages(T.board_call())
    assert [(c.number, c.counter_number, c.repeat) for c in calls] == [("A002", 1, 0), ("A002", 1, 1)]
    assert isinstance(calls[0], BoardCall) and calls[0].service_name_th == "ทะเบียนราษฎร"
    state = published.last(T.counter_state("c1"))
    assert isinstance(state, CounterState)
    assert state.open and state.staff == "สมศรี" and state.current is not None and state.current.calls == 2
    assert state.waiting == 2
    board = published.last(T.board_state())
    assert isinstance(board, BoardState)
    assert [(s.counter, s.number) for s in board.serving] == [("c1", "A002")]
    assert [r.number for r in board.recent_calls] == ["A002"]
    assert {w.service: w.waiting for w in board.waiting} == {"reg": 2, "tax": 0, "grant": 0}
    # an unchanged counter's state is not published again
    before = len(published.on(T.counter_state("c2")))
    take(o, "tax")
    barrier(o)
    assert len(published.on(T.counter_state("c2"))) == before


def test_a_resent_request_gets_the_same_bytes_and_no_second_ticket(
    office: tuple[Office, Any, Any], store: Store
) -> None:
    o, published, _clock = office
    request = TicketRequest(service="reg")
    topic = T.ticket_request("kiosk-3")
    o.receive(topic, request.encode())
    barrier(o)
    o.receive(topic, request.encode())
    o.receive(topic, request.encode())
    barrier(o)
    replies = published.on(T.ticket_reply("kiosk-3"))
    assert len(replies) == 3 and replies[0] == replies[1] == replies[2]
    with store.read_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(records.tickets_t)).scalar() == 1
    # the web path: the same id twice gives the same reply
    command = CounterCommand(action=CounterAction.open, staff="a")
    first = o.counter_command("c2", command).result(timeout=30)
    again = o.counter_command("c2", command).result(timeout=30)
    assert first == again


def test_an_event_id_from_another_sender_is_refused(office: tuple[Office, Any, Any]) -> None:
    o, published, _clock = office
    request = TicketRequest(service="reg")
    o.receive(T.ticket_request("kiosk-1"), request.encode())
    o.receive(T.ticket_request("kiosk-2"), request.encode())
    barrier(o)
    reply = published.last(T.ticket_reply("kiosk-2"))
    assert isinstance(reply, TicketRejected) and reply.code == "invalid"


def test_counter_rules_are_answered_with_codes(office: tuple[Office, Any, Any]) -> None:
    o, _published, _clock = office
    closed = act(o, "c1", CounterAction.call_next)
    assert isinstance(closed, CounterRejected) and closed.code == "counter_closed"
    assert closed.message_th == "ช่องบริการยังไม่เปิด"
    ok(act(o, "c1", CounterAction.open))
    empty = act(o, "c1", CounterAction.call_next)
    assert isinstance(empty, CounterRejected) and empty.code == "queue_empty"
    unknown = act(o, "c99", CounterAction.open)
    assert isinstance(unknown, CounterRejected) and unknown.code == "unknown_counter"
    take(o)
    ok(act(o, "c1", CounterAction.call_next))
    busy = act(o, "c1", CounterAction.close)
    assert isinstance(busy, CounterRejected) and busy.code == "busy"
    for _ in range(2):
        ok(act(o, "c1", CounterAction.recall))
    no_show = ok(act(o, "c1", CounterAction.recall))
    assert no_show.ticket is not None and no_show.ticket.state is TicketState.no_show
    assert "ไม่มาติดต่อ" in no_show.message_th and "no-show" in no_show.message_en


def test_the_queue_resumes_exactly_after_a_restart(store: Store) -> None:
    o, _published, clock = start_office(store)
    for i in range(7):
        take(o, ("reg", "tax", "grant")[i % 3], priority=Priority.monk if i in (2, 5) else Priority.none)
    ok(act(o, "c1", CounterAction.open, staff="ก"))
    ok(act(o, "c2", CounterAction.open))
    ok(act(o, "c1", CounterAction.call_next))
    ok(act(o, "c1", CounterAction.start))
    ok(act(o, "c2", CounterAction.call_next))
    ok(act(o, "c2", CounterAction.park))
    ok(act(o, "c2", CounterAction.call_next))
    ok(act(o, "c1", CounterAction.transfer, to_service="tax"))
    before = o.queue.digest()
    o.stop()  # as good as a SIGKILL: nothing is written at stop
    again, published, _ = start_office(store, clock=clock)
    try:
        assert again.queue.digest() == before
        assert take(again).number == "A004"
        state = published.last(T.counter_state("c1"))
        assert state.open and state.staff == "ก"
    finally:
        again.stop()


def test_a_counter_state_names_the_ticket_completed_last_even_after_a_restart(store: Store) -> None:
    o, published, clock = start_office(store)
    first, second = take(o, "reg"), take(o, "reg")
    ok(act(o, "c1", CounterAction.open))
    for _ in range(2):
        ok(act(o, "c1", CounterAction.call_next))
        ok(act(o, "c1", CounterAction.start))
        ok(act(o, "c1", CounterAction.complete, outcome=Outcome.completed))
        clock.advance(seconds=60)
    barrier(o)
    state = published.last(T.counter_state("c1"))
    assert state.current is None and state.last_completed.number == second.number
    take(o, "reg")
    ok(act(o, "c1", CounterAction.call_next))
    ok(act(o, "c1", CounterAction.start))
    ok(act(o, "c1", CounterAction.transfer, to_service="tax"))  # moved on, not completed
    barrier(o)
    assert published.last(T.counter_state("c1")).last_completed.number == second.number
    o.stop()
    again, published, _ = start_office(store, clock=clock)
    try:
        state = published.last(T.counter_state("c1"))
        assert state.last_completed.number == second.number != first.number
        assert state.last_completed.state is TicketState.done
    finally:
        again.stop()


def test_a_new_business_day_cancels_the_waiting_and_restarts_numbers(store: Store) -> None:
    statuses: list[Any] = []
    o, published, clock = start_office(store, set_server_status=statuses.append)
    try:
        take(o)
        kept = take(o)
        ok(act(o, "c1", CounterAction.open))
        ok(act(o, "c1", CounterAction.call_next))
        ok(act(o, "c1", CounterAction.start))
        clock.set(dt.datetime(2026, 11, 26, 17, 0, 1, tzinfo=dt.UTC))  # 00:00:01 on Friday in Bangkok
        barrier(o)
        assert statuses[-1].business_date == dt.date(2026, 11, 27)
        assert published.last(T.catalog()).business_date == dt.date(2026, 11, 27)
        assert take(o).number == "A001"
        # yesterday's ticket being served is still finished at its counter
        done = ok(act(o, "c1", CounterAction.complete, outcome=Outcome.completed))
        assert (
            done.ticket is not None and done.ticket.number == "A001" and done.ticket.state is TicketState.done
        )
        with store.read_engine.connect() as connection:
            row = records.find_ticket(connection, ticket_id=kept.ticket_id)
            assert row is not None and row.state is TicketState.cancelled
    finally:
        o.stop()
    # a server that was down over midnight closes the old day when it starts
    clock.set(dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC))
    later, _, _ = start_office(store, clock=clock)
    try:
        assert later.queue.business_date == dt.date(2026, 11, 28)
        assert [t.state for t in later.queue] == []
    finally:
        later.stop()


def test_hours_close_and_open_the_catalog_on_time(store: Store) -> None:
    config = office_config(issuing_hours={"thu": {"open": "08:30", "close": "16:00"}})
    o, published, clock = start_office(store, config, clock=None)
    try:
        clock.set(dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.UTC))  # 07:00 local
        refused = o.submit(TicketRequest(service="reg"), sender="kiosk-1").result(timeout=30)
        assert isinstance(refused, TicketRejected) and refused.code == "office_closed"
        catalog = published.last(T.catalog())
        reg = next(s for s in catalog.services if s.code == "reg")
        assert not reg.accepting and "08:30–16:00" in (reg.closed_reason_th or "")
        clock.set(dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC))  # 08:30 local
        barrier(o)
        assert published.last(T.catalog()).services[0].accepting
        # staff may issue after hours from the console
        clock.set(dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC))
        late = o.issue_ticket(TicketRequest(service="reg"), check_hours=False).result(timeout=30)
        assert isinstance(late, TicketIssued)
    finally:
        o.stop()


def test_a_forwarded_matter_opens_a_case_staff_follow_up(office: tuple[Office, Any, Any]) -> None:
    o, _published, _clock = office
    take(o, "grant")
    ok(act(o, "c1", CounterAction.open))
    ok(act(o, "c1", CounterAction.call_next))
    ok(act(o, "c1", CounterAction.start))
    done = ok(act(o, "c1", CounterAction.complete, outcome=Outcome.forwarded, reference="ดย 123/2569"))
    assert "ส่งเรื่องต่อ" in done.message_th
    (case,) = o.cases().result(timeout=30)
    assert (case.ticket, case.reference, case.status) == ("C001", "ดย 123/2569", CaseStatus.open)
    assert case.due_on == dt.date(2026, 12, 3) and case.agency_th == "กรมกิจการเด็กและเยาวชน"
    assert o.overdue_cases(dt.date(2026, 12, 3)) == []
    assert [c.case_id for c in o.overdue_cases(dt.date(2026, 12, 4))] == [case.case_id]
    updated = o.update_case(case.case_id, status=CaseStatus.done, note="อนุมัติแล้ว", staff="สมชาย").result(30)
    assert updated is not None and updated.status is CaseStatus.done and updated.updated_by == "สมชาย"
    assert o.cases().result(timeout=30) == []
    assert len(o.cases(include_done=True).result(timeout=30)) == 1
    assert o.update_case(str(uuid.uuid4()), status=CaseStatus.done, note="", staff="x").result(30) is None


def test_a_survey_is_taken_once_for_a_served_ticket(office: tuple[Office, Any, Any]) -> None:
    o, _published, _clock = office
    ticket = take(o)
    ok(act(o, "c1", CounterAction.open))

    def rate(**kw: Any) -> Any:
        response = SurveyResponse(ticket=ticket.number, answers={"result.overall": 5}, **kw)
        return o.submit(response, sender="survey-1").result(timeout=30)

    early = rate()
    assert isinstance(early, SurveyRejected) and early.code == "ticket_not_served"
    ok(act(o, "c1", CounterAction.call_next))
    ok(act(o, "c1", CounterAction.start))
    ok(act(o, "c1", CounterAction.complete, outcome=Outcome.completed))
    bad = o.submit(SurveyResponse(ticket=ticket.number, answers={"nope": 5}), sender="survey-1").result(
        timeout=30
    )
    assert isinstance(bad, SurveyRejected) and bad.code == "invalid_answers"
    accepted = rate(demographics={"gender": "female"}, ticket_id=ticket.ticket_id)
    assert isinstance(accepted, SurveyAccepted) and accepted.ticket == "A001"
    twice = rate()
    assert isinstance(twice, SurveyRejected) and twice.code == "already_rated"


def test_offline_tickets_are_taken_in_their_place(office: tuple[Office, Any, Any]) -> None:
    o, _published, _clock = office
    take(o)  # A001 at 09:00
    printed = THURSDAY_9AM - dt.timedelta(minutes=5)
    offline = TicketOffline(service="reg", number="AD01", issued_at=printed)
    reply = o.submit(offline, sender="kiosk-1").result(timeout=30)
    assert isinstance(reply, TicketIssued) and reply.offline and reply.waiting_ahead == 0
    wrong = TicketOffline(service="reg", number="AE01", issued_at=printed)  # kiosk-2's series
    refused = o.submit(wrong, sender="kiosk-1").result(timeout=30)
    assert isinstance(refused, TicketRejected) and refused.code == "invalid"
    ok(act(o, "c1", CounterAction.open))
    called = ok(act(o, "c1", CounterAction.call_next))
    assert called.ticket is not None and called.ticket.number == "AD01"


def test_an_offline_ticket_is_placed_by_the_kiosks_boot_clock_when_its_wall_clock_was_wrong(
    office: tuple[Office, Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A kiosk switched on at 08:50 without a time server reads the evening before (its saved time) and
    stamps its offline tickets so: by that stamp the server would refuse them as of an earlier day, while
    the citizens hold them. Its boot clock says when they were printed, measured from a live status of
    the same boot; until one comes (it waits at most a minute), the ticket is not answered."""
    o, published, clock = office
    boot = "3f1c2e9a-0000-4000-8000-000000000001"
    evening = dt.datetime(2026, 11, 25, 12, 5, tzinfo=dt.UTC)  # 19:05 yesterday, the kiosk's saved time
    replies = T.ticket_reply("kiosk-1")

    def offline(number: str, uptime_s: float) -> TicketOffline:
        mark = BootMark(id=boot, uptime_s=uptime_s)
        return TicketOffline(service="reg", number=number, issued_at=evening, printed=mark)

    def send(message: Message) -> Any:
        """Send as the kiosk does (over MQTT); its reply, or None when none came."""
        o.receive(T.ticket_offline("kiosk-1"), message.encode())
        barrier(o)
        answers = [r for r in published.messages(replies) if r.request_id == message.id]
        assert len(answers) <= 1
        return answers[0] if answers else None

    def status(uptime_s: float, boot_id: str = boot, *, retain: bool = False) -> None:
        mark = BootMark(id=boot_id, uptime_s=uptime_s)
        payload = DeviceStatus(device="kiosk-1", role=DeviceRole.kiosk, online=True, boot=mark).encode()
        o.receive(T.device_status("kiosk-1"), payload, retain=retain)

    first = offline("AD01", 290.0)
    assert send(first) is None, "held: no status of the kiosk's yet"
    status(900.0, retain=True)  # the broker's stored status, from before the server subscribed
    assert send(first) is None, "a stored status says nothing of now"
    clock.advance(seconds=61)
    refused = send(first)
    assert isinstance(refused, TicketRejected) and refused.code == "offline_expired", "a minute, no more"

    status(900.0, boot_id="another-boot")  # the kiosk started again since: its boot clock is of no use
    other = send(offline("AD02", 300.0))
    assert isinstance(other, TicketRejected) and other.code == "offline_expired"

    held = offline("AD03", 300.0)
    status(200.0)  # this boot, but from before the ticket was printed: wait for a newer one
    assert send(held) is None
    with caplog.at_level(logging.WARNING, logger="server.office"):
        status(900.0)  # live, now, by the server's clock
        taken = send(held)
    assert isinstance(taken, TicketIssued) and taken.offline, taken
    assert taken.issued_at == clock.now - dt.timedelta(seconds=600), "printed ten minutes before the status"
    assert taken.business_date == THURSDAY_9AM.date()
    assert (
        "AD03 from kiosk-1 is stamped 2026-11-25T19:05:00+07:00 but was printed at 2026-11-26T08:51:01"
        in (caplog.text)
    )


def test_two_machines_connecting_as_one_device_are_told_apart_by_their_boots(
    office: tuple[Office, Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A kiosk's SD card copied to a second kiosk: both connect as kiosk-1, and the broker, which keeps
    one connection per id, drops each whenever the other connects. Their live statuses come from two
    boots taking turns, which one machine never does: its boots follow each other and never come back."""
    o, _published, clock = office

    def status(boot: str, *, device: str = "kiosk-1", retain: bool = False) -> None:
        mark = BootMark(id=boot, uptime_s=100.0)
        payload = DeviceStatus(device=device, role=DeviceRole.kiosk, online=True, boot=mark).encode()
        o.receive(T.device_status(device), payload, retain=retain)
        barrier(o)

    a, b = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
    status(a, retain=True)  # the broker's stored status: says nothing of now
    status(b)
    status(b)
    status(a, device="kiosk-2")  # another id, any boot
    status("cccccccc-0000-4000-8000-000000000003")  # kiosk-1 restarted: a new boot, the old never again
    assert o.shared_devices == {}

    with caplog.at_level(logging.WARNING, logger="server.office"):
        clock.advance(seconds=5)
        status(a)
        clock.advance(seconds=2)
        status(b)  # b again after a: two machines
        started = clock.now
        clock.advance(seconds=2)
        status(a)
    shared = o.shared_devices["kiosk-1"]
    assert (shared.since, shared.last) == (started, clock.now)
    said = [r.getMessage() for r in caplog.records if "connecting as" in r.getMessage()]
    assert said == [
        "more than one machine is connecting as kiosk-1 (boots aaaaaaaa, bbbbbbbb, cccccccc, taking turns): "
        "a copied SD card or settings file? The broker keeps one connection per device, so each drops the "
        "other's, and a reply may reach the wrong one. Give each machine a device id of its own (khiu admin "
        "device add)"
    ], "said once, not at every turn"

    clock.advance(minutes=11)  # the copy was given an id of its own: kiosk-1 is one machine again
    status(a)
    assert o.shared_devices == {}


def test_bad_payloads_are_answered_counted_and_do_not_stop_the_server(
    office: tuple[Office, Any, Any], store: Store
) -> None:
    o, published, _clock = office
    topic = T.ticket_request("kiosk-5")
    good_id = str(uuid.uuid4())
    bad_payloads = [
        b"\xff\xfe not json",
        b"[1, 2]",
        json.dumps({"type": "ticket.request", "v": 1, "id": good_id, "ts": "2026-11-26T02:00:00Z"}).encode(),
        json.dumps({"type": "no.such", "v": 1}).encode(),
        json.dumps({"type": "ticket.request", "v": 9, "service": "reg"}).encode(),
        TicketRequest(service="reg").model_copy(update={"type": "counter.command"}).encode(),
        CounterCommand(action=CounterAction.open).encode(),
        b"{" * 300_000,
    ]
    for payload in bad_payloads:
        o.receive(topic, payload)
    o.receive(
        T.ticket_request("kiosk-5").replace(SITE, "other-office"), TicketRequest(service="reg").encode()
    )
    o.receive(T.device_status("kiosk-5"), b"garbage")
    good = TicketRequest(service="reg")
    o.receive(topic, good.encode())
    barrier(o)
    replies = published.messages(T.ticket_reply("kiosk-5"))
    codes = [r.code for r in replies if isinstance(r, TicketRejected)]
    assert codes == [
        "not_json",
        "not_object",
        "invalid",
        "unknown_type",
        "unknown_version",
        "wrong_type",
        "wrong_type",
        "too_large",
    ]
    assert str(replies[2].request_id) == good_id and replies[0].request_id is None
    assert all(r.message_th and r.message_en for r in replies if isinstance(r, TicketRejected))
    assert isinstance(replies[-1], TicketIssued) and replies[-1].request_id == good.id
    with store.read_engine.connect() as connection:
        counts = records.rejection_counts(connection)
    assert counts["not_json"] == 2  # the garbage status too
    assert (counts["invalid"], counts["wrong_type"], counts["wrong_site"]) == (1, 2, 1)


def test_presence_lists_kiosks_that_lost_the_server_on_the_board(office: tuple[Office, Any, Any]) -> None:
    o, published, _clock = office
    status = DeviceStatus(device="kiosk-2", role=DeviceRole.kiosk, online=True, server_reachable=False)
    o.receive(T.device_status("kiosk-2"), status.encode())
    barrier(o)
    assert published.last(T.board_state()).kiosks_offline == ["kiosk-2"]
    back = status.model_copy(update={"server_reachable": True})
    o.receive(T.device_status("kiosk-2"), back.encode())
    barrier(o)
    assert published.last(T.board_state()).kiosks_offline == []


def test_a_failing_batch_is_retried_one_by_one(
    office: tuple[Office, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    o, _published, _clock = office
    real = records.insert_transitions
    failures = {"left": 1}

    def flaky(connection: Any, transitions: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("disk trouble")
        real(connection, transitions)

    monkeypatch.setattr(records, "insert_transitions", flaky)
    futures: list[Future[Any]] = [o.submit(TicketRequest(service="reg"), sender="kiosk-1") for _ in range(20)]
    numbers = sorted(f.result(timeout=30).number for f in futures)
    assert numbers == [f"A{i:03d}" for i in range(1, 21)]

    def broken(connection: Any, transitions: Any) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(records, "insert_transitions", broken)
    reply = o.submit(TicketRequest(service="reg"), sender="kiosk-1").result(timeout=30)
    assert isinstance(reply, TicketRejected) and reply.code == "internal_error"
    monkeypatch.setattr(records, "insert_transitions", real)
    assert take(o).number == "A021"


def test_concurrent_submitters_get_gapless_numbers_in_few_transactions(
    office: tuple[Office, Any, Any],
) -> None:
    o, _published, _clock = office
    futures = [
        o.submit(TicketRequest(service=("reg", "tax")[i % 2]), sender=f"kiosk-{i % 12 + 1}")
        for i in range(400)
    ]
    replies = [f.result(timeout=60) for f in futures]
    for prefix in "AB":
        seqs = sorted(int(r.number[1:]) for r in replies if r.number[0] == prefix)
        assert seqs == list(range(1, 201))


def test_work_from_another_thread_wakes_a_sequencer_waiting_on_the_network(store: Store) -> None:
    # The server's sequencer waits on its MQTT sockets, up to a tick; the staff console's work comes from
    # the web app's threads and must not wait for the tick.
    network = LinkLoop([])
    o, _published, _clock = start_office(store, network=network, tick_s=3600)
    try:
        assert take(o).number == "A001"
        done = o.counter_command("c1", CounterCommand(action=CounterAction.open, staff="ก")).result(
            timeout=10
        )
        assert isinstance(done, CounterResult)
        worker = o._thread  # type: ignore[attr-defined]
    finally:
        o.stop(timeout=10)
        network.close()
    assert worker is not None and not worker.is_alive(), "stop did not wake the sequencer"


@pytest.mark.postgres
class Backlog:
    """A network holding a broker's backlog of ticket requests: each turn reads a burst into the office."""

    def __init__(self, total: int, burst: int) -> None:
        self.office: Office | None = None
        self.left, self.burst = total, burst

    def run_once(self, timeout: float) -> None:
        assert self.office is not None
        for _ in range(min(self.burst, self.left)):
            self.left -= 1
            self.office.receive(T.ticket_request("kiosk-1"), TicketRequest(service="reg").encode())

    def wake(self) -> None:
        pass

    def corked(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def test_a_clock_set_forward_overnight_is_logged_and_closes_the_day(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A Raspberry Pi without a clock of its own starts on the time it saved the evening before and is
    put right when it finds a time server: the jump closes the business day, so it must be in the log;
    a clock that merely ran must not fill it."""
    o, _published, clock = start_office(store)
    try:
        with caplog.at_level(logging.INFO, logger="server.office"):
            take(o)
            clock.advance(seconds=50)  # a small correction, under CLOCK_STEP: not worth a line
            take(o)
            assert "clock was set" not in caplog.text
            clock.advance(hours=15, minutes=30)
            after = take(o)
    finally:
        o.stop()
    steps = [r.getMessage() for r in caplog.records if "clock was set" in r.getMessage()]
    assert len(steps) == 1, steps
    # The step is what the clock moved beyond the time that passed (a tick or two of the sequencer).
    assert re.match(
        r"the server's clock was set forward by 15:(30:00|29:5\d) "
        r"\(from 2026-11-26T09:00:5\d\+07:00 to 2026-11-27T00:30:50\+07:00\)",
        steps[0],
    ), steps[0]
    assert "business day 2026-11-26 closed" in caplog.text
    assert after.number.endswith("001"), "the next morning numbers afresh"


def test_a_clock_set_ahead_then_put_right_brings_the_office_back_to_today(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The year typed in the Buddhist Era (2569 for 2026) takes the office to a day 543 years ahead. Put
    right, the office must come back to today, not number on that day until the calendar gets there:
    today's numbers go on, tickets taken meanwhile keep their place, and a restart agrees."""
    today = THURSDAY_9AM.date()
    o, published, clock = start_office(store)
    try:
        first, _second = take(o), take(o)
        ok(act(o, "c1", CounterAction.open))
        ok(act(o, "c1", CounterAction.call_next))
        ok(act(o, "c1", CounterAction.start))
        clock.set(THURSDAY_9AM.replace(year=2569) + dt.timedelta(minutes=30))
        meanwhile = take(o, "tax")
        assert meanwhile.business_date == dt.date(2569, 11, 26)
        with caplog.at_level(logging.INFO, logger="server.office"):
            clock.set(THURSDAY_9AM + dt.timedelta(minutes=40))
            back = take(o)
        assert (back.business_date, back.number) == (today, "A003")
        assert "clock went back to 2026-11-26 from business day 2569-11-26" in caplog.text
        assert "543 years: the year was typed in the Buddhist Era" in caplog.text
        assert "tickets of business day 2569-11-26, after today (2026-11-26)" in caplog.text
        barrier(o)
        assert published.last(T.catalog()).business_date == today
        # the ticket served since the morning is still finished at its counter
        done = ok(act(o, "c1", CounterAction.complete, outcome=Outcome.completed))
        assert done.ticket is not None and done.ticket.number == first.number
        # the one taken meanwhile still waits: after today's, as its issue time is years later
        called = []
        for _ in range(2):
            reply = ok(act(o, "c1", CounterAction.call_next))
            assert reply.ticket is not None
            called.append(reply.ticket.number)
            ok(act(o, "c1", CounterAction.start))
            ok(act(o, "c1", CounterAction.complete, outcome=Outcome.completed))
        assert called == [back.number, meanwhile.number]
    finally:
        o.stop()
    again, _published, _clock = start_office(store, clock=clock)
    try:
        assert again.queue.business_date == today
        assert take(again).number == "A004"
    finally:
        again.stop()


def test_a_clock_that_lost_its_time_keeps_the_office_on_its_day(store: Store) -> None:
    """A Raspberry Pi that found neither a time server nor a saved time reads 1970: the office is not
    taken back to a day of 1970, before or after a restart; its numbers go on (and the today page says
    the clock is wrong in red meanwhile)."""
    o, _published, clock = start_office(store)
    try:
        take(o)
        clock.set(dt.datetime(1970, 1, 1, 0, 1, tzinfo=dt.UTC))
        lost = take(o)
        assert (lost.business_date, lost.number) == (THURSDAY_9AM.date(), "A002")
    finally:
        o.stop()
    again, _published, _clock = start_office(store, clock=clock)
    try:
        assert again.queue.business_date == THURSDAY_9AM.date()
        assert take(again).number == "A003"
    finally:
        again.stop()


def test_a_clock_a_few_minutes_fast_at_midnight_numbers_each_day_once(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A clock five minutes fast at midnight, put right, then midnight again: each day's numbers go on
    where they stopped (no number twice, no failed batch) and the old day closes when midnight comes."""
    late = dt.datetime(2026, 11, 26, 16, 58, tzinfo=dt.UTC)  # 23:58 in Bangkok
    o, _published, clock = start_office(store, clock=FakeClock(late))
    try:
        with caplog.at_level(logging.INFO, logger="server.office"):
            before = take(o)
            clock.set(late + dt.timedelta(minutes=5))  # fast: 00:03 of Friday
            early = take(o)
            clock.set(late + dt.timedelta(seconds=30))  # put right: 23:58 of Thursday
            last = take(o)
            clock.set(late + dt.timedelta(minutes=3))  # 00:01 of Friday, truly
            friday = take(o)
        issued = [(t.business_date.day, t.number) for t in (before, early, last, friday)]
        assert issued == [(26, "A001"), (27, "A001"), (26, "A002"), (27, "A002")]
        assert "batch of 1 request(s) failed" not in caplog.text
        assert "business day 2026-11-27 was numbered before the clock was set back" in caplog.text
        with store.read_engine.connect() as connection:
            row = records.find_ticket(connection, ticket_id=last.ticket_id)
            assert row is not None and row.state is TicketState.cancelled, "Thursday closed at midnight"
        assert {t.number for t in o.queue if t.state is TicketState.waiting} == {"A001", "A002"}
    finally:
        o.stop()


def test_a_full_disk_refuses_tickets_plainly_and_the_numbers_go_on_once_there_is_room(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The database cannot grow (SQLite's max_page_count stands in for a full SD card): every request
    that does not fit is answered internal_error, the log says why in a line instead of a traceback per
    request, and once there is room the numbers go on without a gap: nothing half-written stayed."""
    store = Store(sqlite_url)
    store.migrate()
    o, _published, _clock = start_office(store)

    def cap(pages: int | None) -> None:
        def run(connection: Any) -> None:
            raw = connection.connection.dbapi_connection
            (count,) = raw.execute("PRAGMA page_count").fetchone()
            raw.execute(f"PRAGMA max_page_count={pages or count}")

        o.call(run).result(timeout=30)

    try:
        first = take(o)
        cap(None)  # no page more than it has now
        with caplog.at_level(logging.INFO, logger="server.office"):
            futures = [o.submit(TicketRequest(service="reg"), sender="kiosk-1") for _ in range(40)]
            replies = [f.result(timeout=60) for f in futures]
        refused = [r for r in replies if isinstance(r, TicketRejected)]
        issued = [r for r in replies if isinstance(r, TicketIssued)]
        assert len(refused) + len(issued) == 40
        assert len(refused) >= 30, "a few may fit in the last pages' free space, not forty"
        assert {r.code for r in refused} == {"internal_error"}
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors and all("its disk is full" in r.getMessage() for r in errors)
        assert not any(r.exc_info for r in errors), "a full disk is not a bug: no traceback"
        cap(1_073_741_823)
        after = take(o)
    finally:
        o.stop()
        store.close()
    numbers = [first.number, *(r.number for r in issued), after.number]
    assert [int(n[1:]) for n in numbers] == list(range(1, len(numbers) + 1)), numbers


def test_a_backlog_read_from_the_network_never_overflows_the_inbox(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    network = Backlog(total=600, burst=40)
    o, published, _clock = start_office(store, network=network, inbox_size=60, max_batch=25)
    network.office = o
    try:
        deadline = time.monotonic() + 60
        while len(published.on(T.ticket_reply("kiosk-1"))) < 600 and time.monotonic() < deadline:
            time.sleep(0.05)
        replies = published.on(T.ticket_reply("kiosk-1"))
    finally:
        o.stop()
    assert "inbox full" not in caplog.text
    assert len(replies) == 600


def test_the_sequencer_gets_a_new_connection_when_the_database_drops_its_own(postgres_url: str) -> None:
    store = Store(postgres_url)
    store.migrate()
    o, _published, _clock = start_office(store)
    try:
        assert take(o).number == "A001"
        pid = o._writer.connection.driver_connection.info.backend_pid  # type: ignore[attr-defined]
        with store.read_engine.connect() as admin:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        # The batch that found its connection gone is retried on a new one: nothing lost, nothing twice.
        assert take(o).number == "A002"
        assert take(o).number == "A003"
    finally:
        o.stop()
        store.close()


def test_counter_panel_lists_what_the_console_shows(office: tuple[Office, Any, Any]) -> None:
    o, _published, _clock = office
    take(o)
    take(o, "tax", priority=Priority.disabled)
    take(o, "grant")
    ok(act(o, "c2", CounterAction.open, staff="ข"))
    panel = o.counter_panel("c2").result(timeout=30)
    assert panel.open and panel.staff == "ข" and panel.current is None
    assert [t.number for t in panel.waiting] == ["A001", "C001"]  # c2 does not serve tax
    assert dataclasses.is_dataclass(panel)
    with pytest.raises(KeyError):
        o.counter_panel("c99").result(timeout=30)
