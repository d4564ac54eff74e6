"""The survey terminal's flow as a citizen meets it, without a window: the number pad, the one-tap
rating, the optional questions, the verdict of the server (or thanks while it is away), once per
ticket, the scanner, the tablet at a counter, idle timeouts and the double-tap guard."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from common.contract import CounterState, TicketView
from common.vocabulary import TicketState
from kiosk.survey.model import RatedTickets, SurveyScreen, normalize_number
from kiosk.survey.scanner import ScanBuffer, ScannedTicket, parse_scan
from tests.survey.terminal import Terminal, make_terminal, on

OVERALL = "result.overall"
TICKET_ID = "0b8f6c9e-2d4a-4c1e-9f3b-7a6d5e4c3b2a"


@pytest.fixture
def t(tmp_path: Path) -> Terminal:
    return make_terminal(tmp_path)


def test_the_pad_takes_a_letter_then_digits(t: Terminal) -> None:
    pad = t.model.pad_view()
    assert t.model.catalog is not None
    assert pad.letters == tuple(sorted(s.prefix for s in t.model.catalog.services)), "the services' prefixes"
    assert pad.letters[:4] == ("A", "B", "C", "D")
    assert pad.entry_empty and pad.digits_enabled and not pad.can_submit
    t.tap(t.model.press_digit, "1")
    assert t.model.pad_view().notice == "แตะตัวอักษรหน้าหมายเลขก่อน" and t.model.entry == ""
    t.tap(t.model.press_letter, "A")
    t.tap(t.model.press_letter, "B")  # changed their mind
    for digit in "0012":
        t.tap(t.model.press_digit, digit)
    t.tap(t.model.press_digit, "9")  # a fifth digit is not taken
    assert t.model.entry == "B0012"
    t.tap(t.model.press_delete)
    t.tap(t.model.press_delete)
    assert t.model.pad_view().entry == "B00" and t.model.pad_view().can_submit
    t.tap(t.model.press_clear)
    t.type_number("A12")
    assert on(t) is SurveyScreen.overall
    assert t.model.chrome_view().ticket == "บัตรคิว A012"


def test_one_tap_and_done(t: Terminal) -> None:
    t.type_number("A12")
    view = t.model.question_view()
    assert view is not None and view.question == "ความพึงพอใจต่อการให้บริการในภาพรวม"
    assert [f.word for f in view.faces] == ["มากที่สุด", "มาก", "ปานกลาง", "น้อย", "น้อยที่สุด"]
    t.tap(t.model.rate, 5)
    assert on(t) is SurveyScreen.more
    assert t.model.more_view().text.startswith("อีก 14 ข้อ")
    t.tap(t.model.answer_more, False)
    (sent,) = t.channel.sent
    assert (sent.ticket, sent.ticket_id, sent.answers, sent.channel) == (
        "A012",
        None,
        {OVERALL: 5},
        "terminal",
    )
    assert sent.demographics == {} and sent.comment is None
    assert on(t) is SurveyScreen.sending
    t.accept_last()
    assert on(t) is SurveyScreen.thanks and t.model.message_view().title == "ขอบคุณค่ะ"
    t.clock.advance(6)
    assert on(t) is SurveyScreen.pad


def test_every_question_then_the_profile(t: Terminal) -> None:
    t.type_number("T7")
    t.tap(t.model.rate, 4)
    t.tap(t.model.answer_more, True)
    first = t.model.question_view()
    assert first is not None and first.heading == "ด้านกระบวนการขั้นตอนการให้บริการ"
    assert first.progress == "ข้อ 1 จาก 14"
    t.tap(t.model.rate, 5)
    t.tap(t.model.skip)
    t.tap(t.model.rate, 2)
    t.tap(t.model.back)
    again = t.model.question_view()
    assert again is not None and [f.chosen for f in again.faces] == [False, False, False, True, False]
    t.tap(t.model.rate, 3)  # changed to 3
    for _ in range(11):
        t.tap(t.model.rate, 4)
    assert on(t) is SurveyScreen.profile
    profile = t.model.profile_view()
    assert profile is not None and profile.question == "เพศ"
    assert [o.label for o in profile.options] == ["ชาย", "หญิง", "ไม่ประสงค์ระบุ"]
    t.tap(t.model.choose, "female")
    t.tap(t.model.skip)  # age
    t.tap(t.model.choose, "bachelor")
    t.tap(t.model.choose, "farmer")
    (sent,) = t.channel.sent
    assert sent.ticket == "T007" and len(sent.answers) == 14
    assert sent.answers["process.simple"] == 5 and "process.speed" not in sent.answers
    assert sent.answers["process.fair_order"] == 3
    assert sent.demographics == {"gender": "female", "education": "bachelor", "occupation": "farmer"}


def test_send_in_the_middle(t: Terminal) -> None:
    t.type_number("A1")
    t.tap(t.model.rate, 5)
    t.tap(t.model.answer_more, True)
    t.tap(t.model.rate, 1)
    t.tap(t.model.finish)
    (sent,) = t.channel.sent
    assert sent.answers == {OVERALL: 5, "process.simple": 1}


def test_a_double_tap_answers_one_question_only(t: Terminal) -> None:
    t.type_number("A1")
    t.tap(t.model.rate, 5)
    t.tap(t.model.answer_more, True)
    t.tap(t.model.rate, 4)
    t.clock.advance(0.1)
    t.model.rate(4)  # the same finger again, 0.1 s later: the next question is not answered
    t.clock.advance(0.1)
    t.model.skip()
    view = t.model.question_view()
    assert view is not None and view.progress == "ข้อ 2 จาก 14"
    assert t.model.rating is not None and t.model.rating.answers == {OVERALL: 5, "process.simple": 4}


def test_the_servers_refusal_is_shown_kindly(t: Terminal) -> None:
    t.type_number("A1")
    t.tap(t.model.rate, 5)
    t.tap(t.model.answer_more, False)
    t.refuse_last("already_rated")
    assert on(t) is SurveyScreen.refused
    message = t.model.message_view()
    assert (message.title, message.text) == ("ขอบคุณค่ะ", "บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ")
    t.model.toggle_lang()
    assert t.model.message_view().text == "This ticket has already been rated. Thank you!"
    assert t.model.refused_later == 0, "the citizen saw it"


def test_a_number_rated_here_is_refused_before_any_question(t: Terminal, tmp_path: Path) -> None:
    t.type_number("A1")
    t.tap(t.model.rate, 5)
    t.tap(t.model.answer_more, False)
    t.accept_last()
    t.clock.advance(10)
    t.type_number("A001")
    assert on(t) is SurveyScreen.refused
    assert t.model.message_view().text == "บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ"
    assert len(t.channel.sent) == 1
    again = make_terminal(tmp_path)  # the terminal restarted
    again.type_number("A1")
    assert on(again) is SurveyScreen.refused


def test_a_refused_number_may_be_tried_again(t: Terminal) -> None:
    t.type_number("A5")
    t.tap(t.model.rate, 5)
    t.tap(t.model.answer_more, False)
    t.refuse_last("ticket_not_served")
    assert (t.model.message_view().title, t.model.message_view().text) == ("ขออภัยค่ะ", "บัตรคิวนี้ยังไม่ได้รับบริการ")
    t.clock.advance(10)
    t.type_number("A5")
    assert on(t) is SurveyScreen.overall


def test_thanks_while_the_server_is_away_and_a_late_refusal_is_counted(t: Terminal) -> None:
    t.type_number("A1")
    t.tap(t.model.rate, 3)
    t.tap(t.model.answer_more, False)
    t.clock.advance(1.5)
    assert on(t) is SurveyScreen.thanks, "store and forward: thanked without the server"
    t.clock.advance(10)
    t.refuse_last("unknown_ticket")
    assert on(t) is SurveyScreen.pad, "nobody is shown a refusal meant for someone who left"
    assert t.model.refused_later == 1 and t.model.last_refusal_code == "unknown_ticket"
    assert t.channel.health[-1].refused_later == 1


def test_walking_away_keeps_what_was_answered(t: Terminal) -> None:
    t.type_number("A1")
    t.tap(t.model.rate, 5)
    t.tap(t.model.answer_more, True)
    t.tap(t.model.rate, 4)
    t.clock.advance(61)
    assert on(t) is SurveyScreen.pad
    (sent,) = t.channel.sent
    assert sent.answers == {OVERALL: 5, "process.simple": 4}
    t.type_number("B2")
    t.clock.advance(61)
    assert on(t) is SurveyScreen.pad and len(t.channel.sent) == 1, "nothing answered: nothing sent"
    t.tap(t.model.press_letter, "C")
    t.clock.advance(31)
    assert t.model.entry == "", "a half-typed number is cleared"


def test_a_scan_starts_a_rating_with_the_ticket_id(t: Terminal) -> None:
    t.model.on_scan(ScannedTicket(ticket_id=TICKET_ID, number="A012"))
    assert on(t) is SurveyScreen.overall
    t.tap(t.model.rate, 5)
    t.tap(t.model.answer_more, False)
    assert (t.channel.sent[-1].ticket, t.channel.sent[-1].ticket_id) == ("A012", TICKET_ID)


def test_a_scan_without_the_number_asks_for_it(t: Terminal) -> None:
    t.model.on_scan(ScannedTicket(ticket_id=TICKET_ID, number=None))
    assert on(t) is SurveyScreen.pad
    assert t.model.pad_view().notice == "สแกนบัตรแล้ว กรุณากดหมายเลขบนบัตรคิวด้วย"
    t.type_number("A12")
    t.tap(t.model.rate, 4)
    t.tap(t.model.answer_more, False)
    assert t.channel.sent[-1].ticket_id == TICKET_ID


def state(current: TicketView | None, parked: list[str] | None = None) -> CounterState:
    return CounterState(
        counter="c1",
        number=1,
        name_th="ช่องบริการ 1",
        name_en="Counter 1",
        open=True,
        current=current,
        waiting=3,
        parked=parked or [],
    )


def serving(number: str, ticket_id: str | None = None, s: TicketState = TicketState.serving) -> TicketView:
    return TicketView(
        ticket_id=ticket_id or str(uuid.uuid4()), number=number, service="elderly-allowance", state=s
    )


def test_a_tablet_at_a_counter_asks_about_the_ticket_just_completed(tmp_path: Path) -> None:
    t = make_terminal(tmp_path, counter="c1", counter_name_th="ช่องบริการ 1", counter_name_en="Counter 1")
    assert t.model.pad_view().notice == "เมื่อรับบริการที่ช่องบริการ 1 เสร็จแล้ว หน้าจอนี้จะถามความพึงพอใจโดยอัตโนมัติ"
    a1 = serving("A001", TICKET_ID)
    t.model.on_counter_state(state(a1))  # at start: someone is being served, nothing has ended
    t.model.on_counter_state(state(serving("A001", TICKET_ID)))
    assert on(t) is SurveyScreen.pad
    t.model.on_counter_state(state(serving("A002", s=TicketState.called)))  # A001 done, A002 called
    assert on(t) is SurveyScreen.overall
    view = t.model.question_view()
    assert view is not None and view.heading == "ขอบคุณที่ใช้บริการ" and view.ticket == "บัตรคิว A001"
    t.tap(t.model.rate, 5)
    t.tap(t.model.answer_more, False)
    sent = t.channel.sent[-1]
    assert (sent.ticket, sent.ticket_id, sent.channel) == ("A001", TICKET_ID, "counter")


def test_a_counter_ask_nobody_answers_goes_away(tmp_path: Path) -> None:
    t = make_terminal(tmp_path, counter="c1")
    t.model.on_counter_state(state(None))
    t.model.on_counter_state(state(serving("A003")))
    t.model.on_counter_state(state(None, parked=["A003"]))
    assert on(t) is SurveyScreen.pad, "a parked ticket is not done"
    t.model.on_counter_state(state(serving("A004")))
    t.model.on_counter_state(state(None))
    assert on(t) is SurveyScreen.overall
    t.clock.advance(91)
    assert on(t) is SurveyScreen.pad and t.channel.sent == []
    t.model.on_counter_state(state(serving("A005")))
    t.model.on_counter_state(state(serving("A005"), parked=[]).model_copy(update={"counter": "c2"}))
    assert on(t) is SurveyScreen.pad, "another counter's state is not ours"


def test_a_tablet_asks_about_what_the_server_says_was_completed_and_not_a_transfer(tmp_path: Path) -> None:
    t = make_terminal(tmp_path, counter="c1")
    earlier = serving("A007", s=TicketState.done)
    a8 = serving("A008", TICKET_ID)
    t.model.on_counter_state(state(a8).model_copy(update={"last_completed": earlier}))
    assert on(t) is SurveyScreen.pad, "at start: what was completed before is not asked about"
    t.model.on_counter_state(state(serving("A009")).model_copy(update={"last_completed": earlier}))
    assert on(t) is SurveyScreen.pad, "A008 moved on (a transfer) without being completed"
    # A009 completed and A010 already being served: the two changes came as one state.
    a9_done = serving("A009", TICKET_ID, s=TicketState.done)
    t.model.on_counter_state(state(serving("A010")).model_copy(update={"last_completed": a9_done}))
    assert on(t) is SurveyScreen.overall
    view = t.model.question_view()
    assert view is not None and view.ticket == "บัตรคิว A009"
    t.tap(t.model.rate, 4)
    t.tap(t.model.answer_more, False)
    assert (t.channel.sent[-1].ticket, t.channel.sent[-1].channel) == ("A009", "counter")
    t.model.on_counter_state(state(None).model_copy(update={"last_completed": a9_done}))
    assert on(t) is not SurveyScreen.overall and len(t.channel.sent) == 1, "the same completion asks once"


def test_english(t: Terminal) -> None:
    t.model.toggle_lang()
    assert t.model.pad_view().prompt == "Enter the number on your ticket"
    t.type_number("A1")
    view = t.model.question_view()
    assert view is not None and view.question == "Overall satisfaction with the service"
    assert view.faces[0].word == "Very satisfied"
    assert t.model.chrome_view().lang_button == "ภาษาไทย"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("http://192.168.1.10:8000/t/" + TICKET_ID, ScannedTicket(TICKET_ID, None)),
        ("https://oss.example.go.th/t/" + TICKET_ID + "?n=a012", ScannedTicket(TICKET_ID, "A012")),
        ("http://10.0.0.2/t/" + TICKET_ID.upper() + "#B007", ScannedTicket(TICKET_ID, "B007")),
        ("A012", ScannedTicket(None, "A012")),
        ("ax05", ScannedTicket(None, "AX05")),
        (TICKET_ID, ScannedTicket(TICKET_ID, None)),
        ("http://evil.example/x/" + TICKET_ID, None),
        ("8850999320014", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_what_a_scan_can_hold(code: str, expected: ScannedTicket | None) -> None:
    assert parse_scan(code) == expected


def test_only_a_fast_burst_ending_with_enter_is_a_scan() -> None:
    buffer = ScanBuffer()
    at = 10.0
    for ch in "A012":
        buffer.key(ch, at)
        at += 0.01
    assert buffer.enter(at) == ScannedTicket(None, "A012")
    for ch in "A012":  # a person typing
        buffer.key(ch, at)
        at += 0.3
    assert buffer.enter(at) is None
    for ch in "x" * 400:
        buffer.key(ch, at)
        at += 0.001
    assert buffer.enter(at) is None


def test_numbers_from_the_pad() -> None:
    assert [normalize_number(e) for e in ("A1", "A12", "A012", "A1000", "AX5", "AX05", "A", "1", "")] == [
        "A001",
        "A012",
        "A012",
        "A1000",
        "AX05",
        "AX05",
        None,
        None,
        None,
    ]


def test_the_memory_of_rated_numbers_forgets_old_days(tmp_path: Path) -> None:
    rated = RatedTickets(tmp_path / "rated.json", keep_days=3)
    rated.add(dt.date(2026, 11, 20), "A001")
    rated.add(dt.date(2026, 11, 26), "A002")
    again = RatedTickets(tmp_path / "rated.json", keep_days=3)
    assert again.has(dt.date(2026, 11, 26), "A002")
    assert not again.has(dt.date(2026, 11, 20), "A001")
    assert not again.has(dt.date(2026, 11, 27), "A002"), "numbers start again each day"
