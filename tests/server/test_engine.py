"""The queue engine, operation by operation: what staff and citizens would see."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from common.contract import REJECTIONS
from common.vocabulary import Outcome, Priority, TicketState
from server.engine import OfficeQueue, QueueError, QueueRules, ServiceRule, WeeklyCalendar
from tests.server.engine_helpers import DAY, T0, Clock, make_queue, rules


def open_all(q: OfficeQueue, clock: Clock) -> None:
    for counter in q.desks:
        q.open_counter(counter, now=clock(), staff=f"staff-{counter}")


def codes_of(excinfo: pytest.ExceptionInfo[QueueError]) -> str:
    assert excinfo.value.code in REJECTIONS or excinfo.value.code == "offline_expired"
    return excinfo.value.code


def test_numbers_run_per_prefix_and_restart_next_day() -> None:
    q, clock = make_queue(), Clock()
    numbers = [q.issue(s, now=clock()).ticket.number for s in ("reg", "reg", "tax", "reg", "app")]  # type: ignore[union-attr]
    assert numbers == ["A001", "A002", "B001", "A003", "C001"]
    q.roll_over(DAY + dt.timedelta(days=1), now=clock())
    assert q.issue("reg", now=clock()).ticket.number == "A001"  # type: ignore[union-attr]


def test_call_next_takes_priority_first_then_issue_time() -> None:
    q, clock = make_queue(), Clock()
    open_all(q, clock)
    q.issue("reg", now=clock())  # A001
    q.issue("tax", now=clock())  # B001
    q.issue("reg", now=clock(), priority=Priority.elderly)  # A003 ... A002
    calls = []
    for _ in range(3):
        effects = q.call_next("c1", now=clock())
        assert effects.call is not None and effects.call.repeat == 0
        calls.append(effects.ticket.number)  # type: ignore[union-attr]
        q.start("c1", now=clock())
        q.complete("c1", Outcome.completed, now=clock())
    assert calls == ["A002", "A001", "B001"]


def test_counter_only_calls_its_own_services() -> None:
    q, clock = make_queue(), Clock()
    open_all(q, clock)
    q.issue("app", now=clock())
    with pytest.raises(QueueError) as excinfo:
        q.call_next("c2", now=clock())
    assert codes_of(excinfo) == "queue_empty"
    assert q.call_next("c3", now=clock()).ticket.number == "C001"  # type: ignore[union-attr]


def test_starvation_guard_calls_an_older_normal_ticket_after_the_streak() -> None:
    q, clock = make_queue(rules(priority_streak_limit=2)), Clock()
    q.open_counter("c2", now=clock())
    q.issue("reg", now=clock())  # A001, normal, oldest
    for _ in range(4):
        q.issue("reg", now=clock(), priority=Priority.monk)  # A002..A005
    called = []
    for _ in range(5):
        called.append(q.call_next("c2", now=clock()).ticket.number)  # type: ignore[union-attr]
        q.start("c2", now=clock())
        q.complete("c2", Outcome.advice, now=clock())
    assert called == ["A002", "A003", "A001", "A004", "A005"]


def test_guard_does_not_jump_a_normal_ticket_issued_after_the_priority_one() -> None:
    q, clock = make_queue(rules(priority_streak_limit=1)), Clock()
    q.open_counter("c2", now=clock())
    q.issue("reg", now=clock(), priority=Priority.pregnant)  # A001
    q.issue("reg", now=clock(), priority=Priority.pregnant)  # A002
    q.issue("reg", now=clock())  # A003, younger than both
    first = q.call_next("c2", now=clock()).ticket.number  # type: ignore[union-attr]
    q.no_show("c2", now=clock())
    second = q.call_next("c2", now=clock()).ticket.number  # type: ignore[union-attr]
    assert (first, second) == ("A001", "A002")


def test_recall_announces_again_and_the_call_beyond_the_maximum_is_a_no_show() -> None:
    q, clock = (
        make_queue(rules(max_calls_before_no_show=3)),
        Clock(),
    )
    open_all(q, clock)
    q.issue("reg", now=clock())
    q.call_next("c2", now=clock())
    repeats = []
    for _ in range(2):
        effects = q.recall("c2", now=clock())
        assert effects.call is not None
        repeats.append(effects.call.repeat)
    assert repeats == [1, 2]
    effects = q.recall("c2", now=clock())
    assert effects.auto_no_show and effects.call is None
    assert effects.ticket.state is TicketState.no_show  # type: ignore[union-attr]
    assert effects.transitions[-1].reason == "max_calls"
    assert q.current("c2") is None


def test_start_complete_and_estimates_follow_service_times() -> None:
    q, clock = make_queue(), Clock()
    q.open_counter("c2", now=clock())
    for _ in range(4):
        q.issue("reg", now=clock())
    for minutes in (4, 6, 20):
        q.call_next("c2", now=clock())
        q.start("c2", now=clock())
        q.complete("c2", Outcome.completed, now=clock(minutes * 60))
    assert q.expected_service_minutes("reg") == 6
    last = q.issue("reg", now=clock()).ticket
    assert last is not None
    assert q.estimate(last) == (1, 6)  # A004 ahead, one open counter
    q.open_counter("c1", now=clock())
    assert q.estimate(last) == (1, 3)
    assert q.expected_service_minutes("tax") == q.rules.default_service_minutes


def test_complete_needs_a_started_ticket_and_records_the_outcome() -> None:
    q, clock = make_queue(), Clock()
    open_all(q, clock)
    q.issue("reg", now=clock())
    q.call_next("c1", now=clock())
    with pytest.raises(QueueError) as excinfo:
        q.complete("c1", Outcome.forwarded, now=clock())
    assert codes_of(excinfo) == "invalid_transition"
    q.start("c1", now=clock())
    effects = q.complete("c1", Outcome.forwarded, now=clock(), staff="สมศรี")
    assert effects.ticket.outcome is Outcome.forwarded  # type: ignore[union-attr]
    assert effects.transitions[-1].staff == "สมศรี"


def test_transfer_keeps_the_original_issue_time() -> None:
    q, clock = make_queue(), Clock()
    open_all(q, clock)
    a1 = q.issue("reg", now=clock()).ticket
    q.issue("tax", now=clock())  # B001, issued after A001
    q.call_next("c2", now=clock())
    q.start("c2", now=clock())
    effects = q.transfer("c2", "tax", now=clock())
    assert effects.transitions[-1].to_service == "tax" and effects.transitions[-1].service == "reg"
    assert a1 is not None and a1.state is TicketState.waiting and a1.service == "tax"
    assert [t.number for t in q.waiting(["tax"])] == ["A001", "B001"]
    assert q.call_next("c3", now=clock()).ticket is a1
    with pytest.raises(QueueError) as excinfo:
        q.start("c3", now=clock())
        q.transfer("c3", "tax", now=clock())
    assert codes_of(excinfo) == "same_service"


def test_park_frees_the_counter_and_resume_puts_the_ticket_back_in_its_place() -> None:
    q, clock = make_queue(), Clock()
    open_all(q, clock)
    q.issue("reg", now=clock())  # A001
    q.issue("reg", now=clock())  # A002
    q.call_next("c2", now=clock())
    q.park("c2", now=clock())
    assert [t.number for t in q.parked_at("c2")] == ["A001"]
    assert q.call_next("c2", now=clock()).ticket.number == "A002"  # type: ignore[union-attr]
    q.no_show("c2", now=clock())
    q.resume("c1", "A001", now=clock())
    assert q.parked_at("c2") == []
    assert q.call_next("c1", now=clock()).ticket.number == "A001"  # type: ignore[union-attr]


def test_counter_rules_busy_closed_and_no_current_ticket() -> None:
    q, clock = make_queue(), Clock()
    q.issue("reg", now=clock())
    with pytest.raises(QueueError) as excinfo:
        q.call_next("c1", now=clock())
    assert codes_of(excinfo) == "counter_closed"
    q.open_counter("c1", now=clock())
    with pytest.raises(QueueError) as excinfo:
        q.recall("c1", now=clock())
    assert codes_of(excinfo) == "no_current_ticket"
    q.call_next("c1", now=clock())
    for action in (lambda: q.call_next("c1", now=clock()), lambda: q.close_counter("c1", now=clock())):
        with pytest.raises(QueueError) as excinfo:
            action()
        assert codes_of(excinfo) == "busy"
    with pytest.raises(QueueError) as excinfo:
        q.start("c1", now=clock(), number="A999")
    assert codes_of(excinfo) == "invalid_transition"
    with pytest.raises(QueueError) as excinfo:
        q.open_counter("c9", now=clock())
    assert codes_of(excinfo) == "unknown_counter"


def test_cancel_only_a_waiting_ticket() -> None:
    q, clock = make_queue(), Clock()
    q.issue("reg", now=clock())
    q.cancel("A001", now=clock())
    assert q.waiting_count("reg") == 0
    with pytest.raises(QueueError) as excinfo:
        q.cancel("A001", now=clock())
    assert codes_of(excinfo) == "invalid_transition"
    with pytest.raises(QueueError) as excinfo:
        q.cancel("Z001", now=clock())
    assert codes_of(excinfo) == "unknown_ticket"


def test_issuing_rules_hours_holidays_caps_and_disabled_services() -> None:
    nine_to_four = (dt.time(8, 30), dt.time(16, 0))
    calendar = WeeklyCalendar(hours=dict.fromkeys(range(5), nine_to_four), holidays=frozenset({DAY}))
    services = (
        ServiceRule("reg", "A", daily_cap=2),
        ServiceRule("tax", "B", enabled=False),
        ServiceRule("app", "C"),
    )
    q = make_queue(QueueRules(calendar=calendar), services)
    assert q.availability("reg", T0).code == "holiday"
    q.rules = QueueRules(calendar=WeeklyCalendar(hours=dict.fromkeys(range(5), nine_to_four)))
    evening = T0.replace(hour=10)  # 17:00 local
    saturday = T0 + dt.timedelta(days=2)
    assert q.availability("reg", evening).code == "office_closed"
    assert q.availability("reg", saturday).code == "office_closed"
    assert q.availability("tax", T0).code == "service_disabled"
    q.issue("reg", now=T0)
    q.issue("reg", now=T0)
    with pytest.raises(QueueError) as excinfo:
        q.issue("reg", now=T0)
    assert codes_of(excinfo) == "daily_cap_reached"
    assert q.service_availability(T0) == {
        "reg": q.availability("reg", T0),
        "tax": q.availability("tax", T0),
        "app": q.availability("app", T0),
    }
    assert q.service_availability(T0)["app"].accepting
    with pytest.raises(QueueError) as excinfo:
        q.issue("nope", now=T0)
    assert codes_of(excinfo) == "unknown_service"
    # staff may issue outside hours, never past the cap
    assert q.issue("app", now=evening, check_hours=False).ticket is not None
    with pytest.raises(QueueError):
        q.issue("tax", now=T0, check_hours=False)


def test_offline_tickets_are_slotted_by_issue_time_and_unique() -> None:
    q, clock = make_queue(), Clock()
    q.open_counter("c2", now=clock())
    early = clock()
    q.issue("reg", now=clock())  # A001, after the kiosk printed AX01
    effects = q.take_offline("reg", number="AX01", issued_at=early, now=clock(), series="X")
    assert effects.ticket is not None and effects.ticket.offline and effects.ticket.seq is None
    assert q.call_next("c2", now=clock()).ticket.number == "AX01"  # type: ignore[union-attr]
    refusals = {
        "AX01": "duplicate_number",
        "BX02": "invalid",  # not this service's prefix
        "AY02": "invalid",  # another kiosk's series
        "A002": "invalid",  # a server number
    }
    for number, code in refusals.items():
        with pytest.raises(QueueError) as excinfo:
            q.take_offline("reg", number=number, issued_at=early, now=clock(), series="X")
        assert codes_of(excinfo) == code, number
    with pytest.raises(QueueError) as excinfo:
        q.take_offline("reg", number="AX03", issued_at=early - dt.timedelta(days=1), now=clock(), series="X")
    assert codes_of(excinfo) == "offline_expired"
    future = q.take_offline("reg", number="AX04", issued_at=clock(3600), now=clock(), series="X").ticket
    assert future is not None and future.issued_at <= clock.now
    assert q.issued_today("reg") == 3


def test_end_of_day_cancels_or_keeps_per_policy() -> None:
    for policy in ("cancel", "keep"):
        q, clock = make_queue(rules(end_of_day=policy)), Clock()
        open_all(q, clock)
        for _ in range(5):
            q.issue("reg", now=clock())
        q.call_next("c1", now=clock())  # A001 called
        q.call_next("c2", now=clock())  # A002 serving
        q.start("c2", now=clock())
        q.open_counter("c3", now=clock())
        effects = q.roll_over(DAY + dt.timedelta(days=1), now=clock())
        q.check()
        states = {t.number: t.state for t in q}
        if policy == "cancel":
            assert {tr.to_state for tr in effects.transitions} == {TicketState.cancelled, TicketState.no_show}
            assert states == {"A002": TicketState.serving}
        else:
            assert effects.transitions == []
            assert states["A003"] is TicketState.waiting and states["A001"] is TicketState.called
        assert not q.desks["c3"].open and q.desks["c2"].open
        # yesterday's serving ticket is still finished by its counter; today's numbers start at 1
        q.complete("c2", Outcome.completed, now=clock())
        assert q.issue("reg", now=clock()).ticket.number == "A001"  # type: ignore[union-attr]


def test_rebuilding_from_loaded_records_gives_the_same_queue() -> None:
    q, clock = make_queue(), Clock()
    open_all(q, clock)
    for i in range(6):
        q.issue(
            ("reg", "tax", "app")[i % 3], now=clock(), priority=Priority.elderly if i == 4 else Priority.none
        )
    q.call_next("c1", now=clock())
    q.call_next("c3", now=clock())
    q.start("c3", now=clock())
    q.call_next("c2", now=clock())
    q.park("c2", now=clock())
    rebuilt = make_queue()
    for ticket in q:
        rebuilt.load_ticket(dataclasses.replace(ticket))
    for desk in q.desks.values():
        rebuilt.load_counter(desk.id, open=desk.open, staff=desk.staff, priority_streak=desk.priority_streak)
    rebuilt.check()
    assert rebuilt.digest() == q.digest()
