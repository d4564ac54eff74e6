"""Realistic messages of a municipality's OSS centre, for the board and counter tests."""

from __future__ import annotations

import datetime as dt

from common.contract import (
    BoardCall,
    BoardRecentCall,
    BoardServing,
    BoardState,
    BoardWaiting,
    Catalog,
    CatalogCounter,
    CatalogOffice,
    CatalogService,
    CatalogSurvey,
    CatalogSurveyItem,
    CatalogSurveySection,
    CounterState,
    TicketView,
)
from common.vocabulary import Priority, ServiceGroup, ServiceKind, TicketState

NOW = dt.datetime(2026, 11, 26, 3, 4, 5, tzinfo=dt.UTC)
"""10:04 in Bangkok on Thursday 26 November 2569."""

SERVICES: list[tuple[str, str, str, str]] = [
    ("elderly-allowance", "A", "ลงทะเบียนรับเงินเบี้ยยังชีพผู้สูงอายุ", "Elderly allowance registration"),
    ("disability-allowance", "B", "ลงทะเบียนรับเงินเบี้ยความพิการ", "Disability allowance registration"),
    ("newborn-child-grant", "C", "เงินอุดหนุนเพื่อการเลี้ยงดูเด็กแรกเกิด", "Newborn child support grant"),
    ("disability-card", "D", "ขึ้นทะเบียนคนพิการและออกบัตรประจำตัวคนพิการ", "Disability ID card"),
    ("land-building-tax", "T", "ชำระภาษีที่ดินและสิ่งปลูกสร้าง", "Land and building tax payment"),
    ("building-permit", "P", "ขออนุญาตก่อสร้างอาคาร (มาตรา 21)", "Building construction permit"),
    ("water-supply", "W", "ขอใช้น้ำประปาหมู่บ้าน", "Village water supply connection"),
    ("tang-rat", "R", "บริการผ่านแอปพลิเคชันทางรัฐ", "Services through the Tang Rat app"),
    ("business-registration", "E", "จดทะเบียนพาณิชย์", "Commercial registration"),
]


def catalog(counters: int = 12) -> Catalog:
    return Catalog(
        ts=NOW,
        business_date=dt.date(2026, 11, 26),
        office=CatalogOffice(
            id="test-office",
            name_th="เทศบาลตำบลบ้านสวนงาม",
            name_en="Ban Suan Ngam Subdistrict Municipality",
            lao_type="municipality",
        ),
        services=[
            CatalogService(
                code=code,
                prefix=prefix,
                name_th=th,
                name_en=en,
                group=ServiceGroup.citizen,
                kind=ServiceKind.complete,
                standard_minutes=15,
            )
            for code, prefix, th, en in SERVICES
        ],
        counters=[
            CatalogCounter(
                id=f"c{i}",
                number=i,
                name_th=f"ช่องบริการ {i}",
                name_en=f"Counter {i}",
                services=[SERVICES[(i - 1) % len(SERVICES)][0]],
            )
            for i in range(1, counters + 1)
        ],
        survey=CatalogSurvey(
            sections=[
                CatalogSurveySection(
                    id="overall",
                    title_th="ภาพรวม",
                    title_en="Overall",
                    items=[CatalogSurveyItem(id="overall", text_th="ความพึงพอใจโดยรวม", text_en="Overall")],
                )
            ],
            overall_item="overall",
        ),
    )


def _service(i: int) -> tuple[str, str, str, str]:
    return SERVICES[(i - 1) % len(SERVICES)]


def board_state(
    *,
    counters: int = 4,
    busy: int | None = None,
    numbers: dict[int, str] | None = None,
    kiosks_offline: list[str] | None = None,
    ts: dt.datetime = NOW,
    recent: list[tuple[str, int]] | None = None,
) -> BoardState:
    """`counters` counters; the first `busy` of them (all by default) are calling or serving."""
    busy = counters if busy is None else busy
    numbers = numbers or {}
    serving = []
    for i in range(1, counters + 1):
        code, prefix, _th, _en = _service(i)
        number = numbers.get(i, f"{prefix}{10 + i:03d}") if i <= busy else None
        serving.append(
            BoardServing(
                counter=f"c{i}",
                counter_number=i,
                counter_name_th=f"ช่องบริการ {i}",
                counter_name_en=f"Counter {i}",
                number=number,
                service=code if number else None,
                state=(TicketState.serving if i % 3 == 0 else TicketState.called) if number else None,
                since=ts if number else None,
            )
        )
    if recent is None:
        recent = [(s.number, s.counter_number) for s in serving if s.number][:6]
    return BoardState(
        ts=ts,
        business_date=dt.date(2026, 11, 26),
        serving=serving,
        recent_calls=[
            BoardRecentCall(number=n, counter=f"c{c}", counter_number=c, service=_service(c)[0], at=ts)
            for n, c in recent
        ],
        waiting=[
            BoardWaiting(service=code, prefix=prefix, name_th=th, name_en=en, waiting=(7 * k + 3) % 11)
            for k, (code, prefix, th, en) in enumerate(SERVICES)
        ],
        kiosks_offline=kiosks_offline or [],
    )


def board_call(number: str, counter: int, *, repeat: int = 0, ts: dt.datetime = NOW) -> BoardCall:
    code, _prefix, th, en = _service(counter)
    return BoardCall(
        ts=ts,
        number=number,
        counter=f"c{counter}",
        counter_number=counter,
        counter_name_th=f"ช่องบริการ {counter}",
        counter_name_en=f"Counter {counter}",
        service=code,
        service_name_th=th,
        service_name_en=en,
        repeat=repeat,
    )


def counter_state(
    counter: int = 2,
    *,
    open: bool = True,
    number: str | None = "A012",
    state: TicketState = TicketState.called,
    calls: int = 1,
    waiting: int = 6,
    parked: list[str] | None = None,
    ts: dt.datetime = NOW,
) -> CounterState:
    code = _service(counter)[0] if number is None else next(s[0] for s in SERVICES if s[1] == number[0])
    return CounterState(
        ts=ts,
        counter=f"c{counter}",
        number=counter,
        name_th=f"ช่องบริการ {counter}",
        name_en=f"Counter {counter}",
        open=open,
        staff="staff-07",
        current=TicketView(
            ticket_id=f"t-{number}",
            number=number,
            service=code,
            priority=Priority.none,
            state=state,
            calls=calls,
            issued_at=ts,
            called_at=ts,
        )
        if number is not None and open
        else None,
        waiting=waiting,
        parked=parked or [],
    )
