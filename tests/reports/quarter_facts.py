"""A small office and a quarter of hand-made facts whose every figure is worked out by hand in
the comments here and in test_model.py, so the tests compare the report with arithmetic a person did,
not with the code's own output."""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.vocabulary import Outcome, Priority, TicketState
from server.reports.model import CaseFacts, Period, SurveyFacts, TicketFacts

MIN = 60.0

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
            "code": "tax",
            "name_th": "ชำระภาษีที่ดินและสิ่งปลูกสร้าง",
            "name_en": "Land and building tax",
            "group": "local",
            "kind": "complete",
            "prefix": "B",
            "agency_th": "กองคลัง",
            "agency_en": "Finance division",
            "standard_minutes": 20,
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
        {
            "id": "c1",
            "name_th": "ช่องบริการ 1",
            "name_en": "Counter 1",
            "number": 1,
            "services": ["birth", "tax"],
        },
        {
            "id": "c2",
            "name_th": "ช่องบริการ 2",
            "name_en": "Counter 2",
            "number": 2,
            "services": ["permit", "tax"],
        },
    ],
    "survey": {
        "overall_item": "result.overall",
        "sections": [
            {
                "id": "process",
                "title_th": "ด้านกระบวนการขั้นตอนการให้บริการ",
                "title_en": "Process and steps",
                "items": [
                    {"id": "process.steps", "text_th": "ขั้นตอนไม่ยุ่งยากซับซ้อน", "text_en": "Simple steps"},
                    {"id": "process.time", "text_th": "ระยะเวลารอคอยเหมาะสม", "text_en": "Reasonable wait"},
                ],
            },
            {
                "id": "staff",
                "title_th": "ด้านเจ้าหน้าที่ผู้ให้บริการ",
                "title_en": "Staff",
                "items": [
                    {"id": "staff.polite", "text_th": "เจ้าหน้าที่สุภาพ เต็มใจให้บริการ", "text_en": "Polite staff"},
                    {"id": "staff.advice", "text_th": "ให้คำแนะนำได้ชัดเจน", "text_en": "Clear advice"},
                ],
            },
            {
                "id": "result",
                "title_th": "ด้านคุณภาพการให้บริการ",
                "title_en": "Result of the service",
                "items": [
                    {
                        "id": "result.overall",
                        "text_th": "ความพึงพอใจโดยรวม",
                        "text_en": "Overall satisfaction",
                    },
                ],
            },
        ],
    },
}

QUARTER = Period.fiscal_quarter(2569, 1)  # 1 Oct 2025 (2568 B.E.) - 31 Dec 2025
D1 = dt.date(2025, 10, 1)
D2 = dt.date(2025, 11, 14)
D3 = dt.date(2025, 12, 31)


def _t(
    number: str,
    service: str,
    state: TicketState,
    *,
    hour: int,
    day: dt.date = D1,
    counter: str | None = None,
    wait: float | None = None,
    service_min: float | None = None,
    total: float | None = None,
    outcome: Outcome | None = None,
    priority: Priority = Priority.none,
    offline: bool = False,
) -> TicketFacts:
    return TicketFacts(
        ticket_id=f"t-{number}",
        number=number,
        service=service,
        business_date=day,
        hour_issued=hour,
        priority=priority,
        state=state,
        counter=counter,
        wait_s=None if wait is None else wait * MIN,
        service_s=None if service_min is None else service_min * MIN,
        total_s=None if total is None else total * MIN,
        outcome=outcome,
        offline=offline,
    )


done, no_show, cancelled = TicketState.done, TicketState.no_show, TicketState.cancelled

# Ten tickets; times in minutes.                                  within standard?
TICKETS = [
    _t("A001", "birth", done, hour=8, counter="c1", wait=5, service_min=10, total=15,
       outcome=Outcome.completed),                                  # 15 <= 15 yes
    _t("A002", "birth", done, hour=9, counter="c1", wait=10, service_min=8, total=18,
       outcome=Outcome.completed),                                  # 18 > 15 no
    _t("A003", "birth", no_show, hour=9, counter="c1", wait=20),
    _t("B001", "tax", done, hour=8, counter="c2", wait=2, service_min=5, total=7,
       outcome=Outcome.completed, priority=Priority.elderly),       # yes
    _t("B002", "tax", done, hour=10, day=D2, counter="c1", wait=4, service_min=6, total=12,
       outcome=Outcome.via_app),                                    # yes
    _t("B003", "tax", cancelled, hour=10, day=D2),
    _t("C001", "permit", done, hour=9, day=D2, counter="c2", wait=15, service_min=20, total=35,
       outcome=Outcome.forwarded),                                  # not timed (agency finishes)
    _t("C002", "permit", done, hour=11, day=D2, counter="c2", wait=30, service_min=25, total=55,
       outcome=Outcome.advice),                                     # not timed (advice)
    _t("A004", "birth", done, hour=8, day=D3, counter="c1", wait=1, service_min=12, total=13,
       outcome=Outcome.completed, offline=True),                    # yes
    _t("B004", "tax", no_show, hour=11, day=D3, counter="c2", wait=8, priority=Priority.monk),
]  # fmt: skip

# Five responses (process.steps ps, process.time pt, staff.polite sp, staff.advice sa, result.overall ro).
RESPONSES = [
    SurveyFacts("r1", D1, {"process.steps": 5, "process.time": 4, "staff.polite": 5, "staff.advice": 5,
                           "result.overall": 5}),
    SurveyFacts("r2", D1, {"process.steps": 4, "process.time": 3, "staff.polite": 5, "staff.advice": 4,
                           "result.overall": 4}),
    SurveyFacts("r3", D2, {"process.steps": 5, "process.time": 5, "staff.polite": 4, "staff.advice": 5,
                           "result.overall": 5}),
    SurveyFacts("r4", D2, {"process.steps": 3, "process.time": 4, "staff.polite": 5, "result.overall": 4}),
    SurveyFacts("r5", D3, {"staff.polite": 3, "staff.advice": 4, "result.overall": 5}),
]  # fmt: skip

CASES = [
    CaseFacts("K1", "permit", D1, dt.date(2025, 10, 8), closed_on=dt.date(2025, 10, 7), status="เสร็จแล้ว"),
    CaseFacts("K2", "permit", dt.date(2025, 11, 3), dt.date(2025, 11, 10), closed_on=dt.date(2025, 11, 14),
              reference="สธ 0001/123", status="เสร็จแล้ว"),  # closed 4 days late
    # K3: open, 4 days overdue on 31 Dec
    CaseFacts("K3", "permit", dt.date(2025, 12, 20), dt.date(2025, 12, 27), status="รอหน่วยงาน"),
    CaseFacts("K4", "permit", dt.date(2025, 12, 29), dt.date(2026, 1, 5), status="รอหน่วยงาน"),  # not yet due
    CaseFacts("K5", "permit", dt.date(2025, 12, 1), dt.date(2025, 12, 8), closed_on=dt.date(2026, 1, 2),
              status="เสร็จแล้ว"),  # open on 31 Dec: 23 days overdue
]  # fmt: skip

GENERATED = dt.datetime(2025, 12, 31, 9, 30, tzinfo=dt.UTC)
