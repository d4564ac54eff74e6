"""A small office and a hand-built store around fiscal quarter 1 of FY 2569 (1 Oct - 31 Dec 2025), with
every figure the queries must find worked out by hand below. Rows are written the way the sequencer
writes them (tickets hold the latest call; the transitions keep every call), straight into the tables.

Q1 FY 2569 holds tickets T1..T8 (2025-10-01 and 2025-12-31); T0 is on 30 Sep 2025 (Q4 of FY 2568) and
T9 on 2 Jan 2026 (Q2 of FY 2569).

    ticket service issued  called  started done    state      outcome    wait  service total
    T1     birth   09:00   09:05   09:06   09:10   done       completed   300   240     600  (<= 900: within)
    T2     birth   09:02   09:12   09:13   09:25   done       completed   600   720    1380  (not within)
    T3     birth   10:00   10:20   -       10:25   no_show                1200
    T4     permit  10:30   10:40   10:41   10:51   done       forwarded   600   600    (forwarded: not timed)
    T5     birth   06:45   -       -       08:30   cancelled              (issued 2025-09-30 23:45 UTC)
    T6     permit  13:00   13:10   13:11   ...                            600 (first call; called again 13:30
           -> moved to birth at 13:15, called 13:30, started 13:31, done 13:40 completed: service 540,
              total 2400, not within)
    T7     birth   15:00   15:01   15:02   15:07   done       completed    60   300     420  (within)
    T8     permit  15:30   15:40   15:41   15:50   done       forwarded   600   540   (T7, T8: 31 Dec)

Q1: issued 8, served 6 (T1 T2 T4 T6 T7 T8), no-show 1, cancelled 1; no-show rate 1/7.
Waits (7): 60 300 600 600 600 600 1200 -> mean 3960/7 = 565.714..., median 600,
p90: rank 6 x 0.9 = 5.4 -> 600 + 0.4 x (1200 - 600) = 840.
Within the standard time: T1 yes, T2 no, T6 no, T7 yes -> 2 of 4 = 0.5.
Hours issued: 6 (T5), 9 (T1 T2), 10 (T3 T4), 13 (T6), 15 (T7 T8).

Survey (items: process.speed in section process, staff.polite in staff, result.overall in result):
    R1 (T1): speed 5, polite 5, overall 4
    R2 (T2): speed 3, polite 4, overall 4
    R3 (T7): speed 4,           overall 5      (polite left unanswered)
    R0 (T0, FY 2568 Q4): all 1 -- outside Q1
process.speed 12/3 = 4 -> 80 %; staff.polite 9/2 = 4.5 -> 90 %; result.overall 13/3 = 4.333... -> 86.666...%;
overall pooled 34/8 = 4.25 -> 85 %. Respondents: process 3, staff 2, result 3; responses 3.

Cases: T4's, opened 2025-10-01, due 2025-10-06 (permit's 7,200 minutes = 5 days), closed 2025-10-10 ->
closed late by 4 days. T8's, opened 2025-12-31, due 2026-01-05, still open: not yet due on 31 Dec
(the quarter's own report), 15 days overdue as of 2026-01-20.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import insert

from common.config import OfficeConfig, config_from_dict
from server.store import Store
from server.store.records import answers_t, cases_t, responses_t, tickets_t, transitions_t

BKK = dt.timezone(dt.timedelta(hours=7))

OFFICE: dict[str, Any] = {
    "office": {
        "id": "test-office",
        "name_th": "เทศบาลตำบลบ้านสวนงาม",
        "name_en": "Ban Suan Ngam Subdistrict Municipality",
        "lao_type": "municipality",
        "province_th": "ขอนแก่น",
        "district_th": "เมืองขอนแก่น",
        "address_th": "99 หมู่ 1 ตำบลบ้านสวนงาม",
    },
    "services": [
        {
            "code": "birth",
            "name_th": "แจ้งเกิด",
            "name_en": "Birth registration",
            "group": "citizen",
            "kind": "complete",
            "prefix": "A",
            "agency_th": "สำนักทะเบียนท้องถิ่น",
            "agency_en": "Local registry",
            "standard_minutes": 15,
        },
        {
            "code": "permit",
            "name_th": "ขออนุญาตประกอบกิจการที่เป็นอันตรายต่อสุขภาพ",
            "name_en": "Licence for a business hazardous to health",
            "group": "business",
            "kind": "forward",
            "prefix": "C",
            "agency_th": "กองสาธารณสุข",
            "agency_en": "Public health division",
            "standard_minutes": 7200,
        },
    ],
    "counters": [
        {"id": "c1", "name_th": "ช่องบริการ 1", "name_en": "Counter 1", "number": 1, "services": ["birth"]},
        {"id": "c2", "name_th": "ช่องบริการ 2", "name_en": "Counter 2", "number": 2, "services": ["permit"]},
    ],
    "survey": {
        "overall_item": "result.overall",
        "sections": [
            {
                "id": "process",
                "title_th": "ด้านกระบวนการขั้นตอนการให้บริการ",
                "title_en": "Process and steps",
                "items": [{"id": "process.speed", "text_th": "ความรวดเร็ว", "text_en": "Speed"}],
            },
            {
                "id": "staff",
                "title_th": "ด้านเจ้าหน้าที่ผู้ให้บริการ",
                "title_en": "Staff",
                "items": [{"id": "staff.polite", "text_th": "ความสุภาพ", "text_en": "Politeness"}],
            },
            {
                "id": "result",
                "title_th": "ด้านผลของการให้บริการ",
                "title_en": "Result",
                "items": [{"id": "result.overall", "text_th": "ภาพรวม", "text_en": "Overall"}],
            },
        ],
    },
}


def office_config() -> OfficeConfig:
    return config_from_dict(OFFICE, source="store_facts")


def at(day: str, clock: str) -> dt.datetime:
    """A Bangkok local time as the aware UTC time the store keeps."""
    local = dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=BKK)
    return local.astimezone(dt.UTC)


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"khiu-test/{name}"))


Step = tuple[str | None, str, str, str | None]
"""(from, to, local clock time, counter) of one transition."""


def _ticket(
    rows: dict[str, list[dict[str, Any]]],
    name: str,
    *,
    day: str,
    number: str,
    issued_service: str,
    service: str,
    state: str,
    steps: list[Step],
    outcome: str | None = None,
    transfer_to: str | None = None,
) -> None:
    ticket_id = _id(name)
    calls = [s for s in steps if s[:2] == ("waiting", "called")]  # a recall keeps called_at
    starts = [s for s in steps if s[1] == "serving"]
    ends = [s for s in steps if s[1] in ("done", "no_show", "cancelled")]
    issued = at(day, steps[0][2])
    last_counter = next((s[3] for s in reversed(steps) if s[3]), None)
    rows["tickets"].append(
        {
            "id": ticket_id,
            "business_date": dt.date.fromisoformat(day),
            "number": number,
            "seq": int(number[1:]),
            "service": service,
            "issued_service": issued_service,
            "priority": "none",
            "state": state,
            "lang": "th",
            "offline": False,
            "source": "kiosk-1",
            "issued_at": issued,
            "calls": 1 if calls else 0,
            "counter": last_counter if calls else None,
            "staff": None,
            "called_at": at(day, calls[-1][2]) if calls else None,  # the latest call from the queue
            "started_at": at(day, starts[-1][2]) if starts else None,
            "ended_at": at(day, ends[-1][2]) if ends else None,
            "outcome": outcome,
            "updated_at": at(day, steps[-1][2]),
        }
    )
    current = issued_service
    for from_state, to_state, clock, counter in steps:
        moved = to_state == "waiting" and from_state == "serving"
        rows["transitions"].append(
            {
                "ticket_id": ticket_id,
                "business_date": dt.date.fromisoformat(day),
                "number": number,
                "service": current,
                "from_state": from_state,
                "to_state": to_state,
                "at": at(day, clock),
                "counter": counter,
                "staff": None,
                "event_id": None,
                "outcome": outcome if to_state == "done" else None,
                "to_service": transfer_to if moved else None,
                "reason": None,
            }
        )
        if moved and transfer_to:
            current = transfer_to


def _served(t: tuple[str, str, str, str], counter: str) -> list[Step]:
    issued, called, started, done = t
    return [
        (None, "waiting", issued, None),
        ("waiting", "called", called, counter),
        ("called", "serving", started, counter),
        ("serving", "done", done, counter),
    ]


def _response(
    rows: dict[str, list[dict[str, Any]]], name: str, ticket: str, day: str, answers: dict[str, int]
) -> None:
    response_id = _id(name)
    rows["responses"].append(
        {
            "id": response_id,
            "ticket_id": _id(ticket),
            "business_date": dt.date.fromisoformat(day),
            "number": "A000",
            "service": "birth",
            "counter": "c1",
            "channel": "terminal",
            "at": at(day, "16:00"),
            "demographics": {},
            "comment": None,
            "event_id": None,
        }
    )
    rows["answers"] += [{"response_id": response_id, "item": k, "score": v} for k, v in answers.items()]


def _case(rows: dict[str, list[dict[str, Any]]], ticket: str, day: str, due: str, closed: str | None) -> None:
    rows["cases"].append(
        {
            "id": _id(f"case-{ticket}"),
            "ticket_id": _id(ticket),
            "business_date": dt.date.fromisoformat(day),
            "number": "C001",
            "service": "permit",
            "agency_th": "กองสาธารณสุข",
            "agency_en": "Public health division",
            "reference": f"REF-{ticket}",
            "opened_at": at(day, "11:00"),
            "due_date": dt.date.fromisoformat(due),
            "status": "done" if closed else "open",
            "note": "",
            "staff": None,
            "updated_at": at(closed or day, "12:00"),
            "closed_at": at(closed, "12:00") if closed else None,
            "history": [],
        }
    )


def fill(url: str) -> Store:
    """Migrate the database at `url` and write the hand-built quarter into it."""
    store = Store(url)
    store.migrate()
    rows: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("tickets", "transitions", "responses", "answers", "cases")
    }
    q1, last = "2025-10-01", "2025-12-31"
    q4, q2 = "2025-09-30", "2026-01-02"
    _ticket(rows, "T0", day=q4, number="A001", issued_service="birth", service="birth", state="done",
            steps=_served(("09:00", "09:01", "09:02", "09:05"), "c1"), outcome="completed")  # fmt: skip
    _ticket(rows, "T1", day=q1, number="A001", issued_service="birth", service="birth", state="done",
            steps=_served(("09:00", "09:05", "09:06", "09:10"), "c1"), outcome="completed")  # fmt: skip
    _ticket(rows, "T2", day=q1, number="A002", issued_service="birth", service="birth", state="done",
            steps=_served(("09:02", "09:12", "09:13", "09:25"), "c1"), outcome="completed")  # fmt: skip
    _ticket(rows, "T3", day=q1, number="A003", issued_service="birth", service="birth", state="no_show",
            steps=[(None, "waiting", "10:00", None), ("waiting", "called", "10:20", "c1"),
                   ("called", "called", "10:22", "c1"), ("called", "no_show", "10:25", "c1")])  # fmt: skip
    _ticket(rows, "T4", day=q1, number="C001", issued_service="permit", service="permit", state="done",
            steps=_served(("10:30", "10:40", "10:41", "10:51"), "c2"), outcome="forwarded")  # fmt: skip
    _ticket(rows, "T5", day=q1, number="A004", issued_service="birth", service="birth", state="cancelled",
            steps=[(None, "waiting", "06:45", None), ("waiting", "cancelled", "08:30", None)])  # fmt: skip
    _ticket(rows, "T6", day=q1, number="C002", issued_service="permit", service="birth", state="done",
            steps=[(None, "waiting", "13:00", None), ("waiting", "called", "13:10", "c2"),
                   ("called", "serving", "13:11", "c2"), ("serving", "waiting", "13:15", "c2"),
                   ("waiting", "called", "13:30", "c1"), ("called", "serving", "13:31", "c1"),
                   ("serving", "done", "13:40", "c1")],
            outcome="completed", transfer_to="birth")  # fmt: skip
    _ticket(rows, "T7", day=last, number="A001", issued_service="birth", service="birth", state="done",
            steps=_served(("15:00", "15:01", "15:02", "15:07"), "c1"), outcome="completed")  # fmt: skip
    _ticket(rows, "T8", day=last, number="C001", issued_service="permit", service="permit", state="done",
            steps=_served(("15:30", "15:40", "15:41", "15:50"), "c2"), outcome="forwarded")  # fmt: skip
    _ticket(rows, "T9", day=q2, number="A001", issued_service="birth", service="birth", state="done",
            steps=_served(("09:00", "09:30", "09:31", "09:40"), "c1"), outcome="completed")  # fmt: skip
    _response(rows, "R0", "T0", "2025-09-30", {"process.speed": 1, "staff.polite": 1, "result.overall": 1})
    _response(rows, "R1", "T1", q1, {"process.speed": 5, "staff.polite": 5, "result.overall": 4})
    _response(rows, "R2", "T2", q1, {"process.speed": 3, "staff.polite": 4, "result.overall": 4})
    _response(rows, "R3", "T7", last, {"process.speed": 4, "result.overall": 5})
    _case(rows, "T4", q1, "2025-10-06", "2025-10-10")
    _case(rows, "T8", last, "2026-01-05", None)
    with store.engine.begin() as connection:
        for table, name in (
            (tickets_t, "tickets"),
            (transitions_t, "transitions"),
            (responses_t, "responses"),
            (answers_t, "answers"),
            (cases_t, "cases"),
        ):
            connection.execute(insert(table), rows[name])
    return store
