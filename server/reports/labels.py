"""Thai and English names of the domain words the reports print (groups, kinds, outcomes, states,
priorities). Thai first; the wording follows the guideline (DOMAIN.md)."""

from __future__ import annotations

from common.vocabulary import Outcome, Priority, ServiceGroup, ServiceKind, TicketState

GROUP_LABELS: dict[ServiceGroup, tuple[str, str]] = {
    ServiceGroup.citizen: ("งานบริการเพื่อประชาชน", "Services for citizens"),
    ServiceGroup.business: ("งานบริการผู้ประกอบการธุรกิจ/SMEs", "Services for business/SMEs"),
    ServiceGroup.labour: ("ด้านแรงงานหรือส่งเสริมการมีงานทำ", "Labour and employment"),
    ServiceGroup.local: ("งานบริการของ อปท.", "The office's own services"),
    ServiceGroup.tang_rat: ("บริการผ่านแอปพลิเคชันทางรัฐ", "Tang Rat app services"),
}

KIND_LABELS: dict[ServiceKind, tuple[str, str]] = {
    ServiceKind.forward: ("เฉพาะรับเรื่อง-ส่งต่อ", "Receive and forward"),
    ServiceKind.complete: ("แบบเบ็ดเสร็จ ณ อปท.", "Completed at the LAO"),
    ServiceKind.via_app: ("ผ่านแอปพลิเคชันทางรัฐ", "Via the Tang Rat app"),
}

OUTCOME_LABELS: dict[Outcome, tuple[str, str]] = {
    Outcome.completed: ("ให้บริการแล้วเสร็จ ณ อปท.", "Completed at the office"),
    Outcome.forwarded: ("รับเรื่องและส่งต่อหน่วยงาน", "Forwarded to the agency"),
    Outcome.via_app: ("ดำเนินการผ่านแอปทางรัฐ", "Done in the Tang Rat app"),
    Outcome.advice: ("ให้คำแนะนำ/ข้อมูล", "Advice only"),
}

STATE_LABELS: dict[TicketState, tuple[str, str]] = {
    TicketState.waiting: ("รอเรียก", "Waiting"),
    TicketState.called: ("เรียกแล้ว", "Called"),
    TicketState.serving: ("กำลังให้บริการ", "Serving"),
    TicketState.done: ("ให้บริการแล้ว", "Served"),
    TicketState.no_show: ("ไม่มาตามเรียก", "No-show"),
    TicketState.parked: ("พักคิว", "Parked"),
    TicketState.cancelled: ("ยกเลิก", "Cancelled"),
}

PRIORITY_LABELS: dict[Priority, tuple[str, str]] = {
    Priority.none: ("ทั่วไป", "Normal"),
    Priority.elderly: ("ผู้สูงอายุ", "Elderly"),
    Priority.disabled: ("คนพิการ", "Person with disability"),
    Priority.pregnant: ("หญิงตั้งครรภ์", "Pregnant woman"),
    Priority.monk: ("พระภิกษุสงฆ์", "Monk"),
}

UNKNOWN_LABEL: tuple[str, str] = ("ไม่ระบุ", "Not stated")
"""For a service or counter no longer in the office file, or a ticket no counter handled."""

REPORT_TITLE_TH = "แบบรายงานการให้บริการของศูนย์ OSS ของ อปท."
REPORT_TITLE_EN = "Service report of the One Stop Service centre of the local administrative organisation"
