"""Every word the kiosk shows, in Thai and English (Thai first). Plain data: the view-models pick the
language; layouts never hold words of their own, so a wording fix is one line here."""

from __future__ import annotations

from common.vocabulary import Lang, Priority, ServiceGroup, ServiceKind

TEXTS: dict[str, tuple[str, str]] = {
    # home
    "home_prompt": ("แตะเลือกประเภทบริการเพื่อรับบัตรคิว", "Tap a type of service to take a queue ticket"),
    "no_services": (
        "ขณะนี้ยังไม่มีรายการบริการ กรุณาติดต่อเจ้าหน้าที่",
        "No services are listed yet. Please ask a staff member.",
    ),
    "n_services": ("{n} บริการ", "{n} services"),
    "one_service": ("1 บริการ", "1 service"),
    # header
    "switch_lang": ("English", "ภาษาไทย"),
    "large_on": ("ตัวอักษรใหญ่", "Large text"),
    "large_off": ("ตัวอักษรปกติ", "Normal text"),
    "back": ("ย้อนกลับ", "Back"),
    "home": ("หน้าแรก", "Home"),
    # services
    "services_prompt": ("แตะเลือกบริการที่ต้องการ", "Tap the service you need"),
    "standard_time": ("ระยะเวลาดำเนินการ {time}", "Processing time: {time}"),
    "closed": ("ปิดรับบัตรคิว", "Not issuing tickets"),
    # service detail
    "documents": ("เอกสารที่ต้องเตรียม", "Documents to bring"),
    "no_documents": ("ไม่ต้องใช้เอกสาร", "No documents needed"),
    "agency": ("หน่วยงานเจ้าของเรื่อง: {agency}", "Responsible agency: {agency}"),
    "take_ticket": ("รับบัตรคิว", "Take a ticket"),
    "closed_reason_default": ("บริการนี้ปิดรับบัตรคิวชั่วคราว", "This service is not issuing tickets now"),
    "closed_ask_staff": ("สอบถามเจ้าหน้าที่ได้ที่เคาน์เตอร์", "Please ask a staff member at the counter"),
    # priority
    "priority_prompt": ("ท่านเป็นผู้รับบริการกลุ่มใด", "Who is this ticket for?"),
    "priority_hint": (
        "ผู้สูงอายุ คนพิการ หญิงตั้งครรภ์ และพระภิกษุสงฆ์ ได้รับบริการก่อน",
        "Older persons, people with disabilities, pregnant women and monks are served first",
    ),
    # ticket
    "issuing": ("กำลังออกบัตรคิว กรุณารอสักครู่", "Issuing your ticket, please wait"),
    "your_number": ("หมายเลขคิวของท่าน", "Your number"),
    "ahead_none": ("ไม่มีคิวรอก่อนหน้าท่าน", "No one is ahead of you"),
    "ahead_n": ("มีคิวรอก่อนหน้าท่าน {n} คิว", "{n} people ahead of you"),
    "ahead_one": ("มีคิวรอก่อนหน้าท่าน 1 คิว", "1 person ahead of you"),
    "estimated_wait": ("เวลารอโดยประมาณ {n} นาที", "Estimated wait: about {n} min"),
    "in_turn": ("เจ้าหน้าที่จะเรียกตามลำดับ", "Staff will call you in turn"),
    "printing": ("กำลังพิมพ์บัตรคิว", "Printing your ticket"),
    "printed": (
        "กรุณารับบัตรคิว แล้วรอเรียกหมายเลขของท่าน",
        "Please take your ticket and wait for your number to be called",
    ),
    "print_failed": (
        "พิมพ์บัตรคิวไม่ได้ กรุณาจำหมายเลขนี้ แล้วแจ้งเจ้าหน้าที่",
        "Your ticket could not be printed. Please remember this number and tell a staff member.",
    ),
    "no_printer": ("กรุณาจดหรือจำหมายเลขนี้", "Please note or remember this number"),
    "rejected_title": ("ขออภัย รับบัตรคิวไม่ได้", "Sorry, no ticket could be issued"),
    "ask_staff": ("กรุณาติดต่อเจ้าหน้าที่", "Please ask a staff member"),
    "unavailable": (
        "ขออภัย ขณะนี้ยังออกบัตรคิวไม่ได้ กรุณาติดต่อเจ้าหน้าที่",
        "Sorry, tickets cannot be issued right now. Please ask a staff member.",
    ),
    "done": ("เสร็จสิ้น", "Done"),
    # staff
    "reprinting": ("กำลังพิมพ์บัตรคิวใบล่าสุดซ้ำ", "Reprinting the last ticket"),
    # durations
    "minutes": ("{n} นาที", "{n} min"),
    "hours": ("{n} ชั่วโมง", "{n} h"),
    "days": ("{n} วัน", "{n} days"),
    "one_day": ("1 วัน", "1 day"),
}

GROUP_TITLES: dict[ServiceGroup, tuple[str, str]] = {
    ServiceGroup.citizen: ("งานบริการประชาชน", "Services for citizens"),
    ServiceGroup.business: ("ผู้ประกอบการธุรกิจ / SMEs", "Business and SMEs"),
    ServiceGroup.labour: ("แรงงานและการมีงานทำ", "Labour and employment"),
    ServiceGroup.local: ("งานบริการของ{lao}", "{lao} services"),
    ServiceGroup.tang_rat: ("บริการผ่านแอปทางรัฐ", "Tang Rat app services"),
}
"""The guideline's groups (DOMAIN.md) in words a citizen recognises; {lao} is the office's own kind."""

LAO_NAMES: dict[str, tuple[str, str]] = {
    "pao": ("องค์การบริหารส่วนจังหวัด", "Provincial administration"),
    "municipality": ("เทศบาล", "Municipality"),
    "sao": ("องค์การบริหารส่วนตำบล", "Subdistrict administration"),
    "pattaya": ("เมืองพัทยา", "Pattaya City"),
}

KIND_TEXTS: dict[ServiceKind, tuple[str, str]] = {
    ServiceKind.forward: (
        "รับเรื่องและส่งต่อให้หน่วยงานเจ้าของเรื่องดำเนินการ",
        "We take your request and forward it to the responsible agency",
    ),
    ServiceKind.complete: ("ดำเนินการแล้วเสร็จที่สำนักงานนี้", "Completed here at this office"),
    ServiceKind.via_app: (
        "เจ้าหน้าที่ช่วยดำเนินการผ่านแอปพลิเคชันทางรัฐ",
        "Staff help you do it in the Tang Rat app",
    ),
}

PRIORITY_TEXTS: dict[Priority, tuple[str, str]] = {
    Priority.none: ("บุคคลทั่วไป", "General"),
    Priority.elderly: ("ผู้สูงอายุ (60 ปีขึ้นไป)", "Older person (60+)"),
    Priority.disabled: ("คนพิการ", "Person with disability"),
    Priority.pregnant: ("หญิงตั้งครรภ์", "Pregnant woman"),
    Priority.monk: ("พระภิกษุสงฆ์", "Monk"),
}
"""Priority as chosen on the kiosk (Older Persons Act 2546 s.11 and common office practice)."""


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The Thai or English half of a pair."""
    return pair[0] if lang is Lang.th else pair[1]


def text(key: str, lang: Lang, **values: object) -> str:
    """The kiosk's text `key` in `lang`, with `{name}` placeholders filled."""
    template = pick(TEXTS[key], lang)
    return template.format(**values) if values else template


def duration(minutes: int, lang: Lang) -> str:
    """A statutory standard time as a citizen reads it: 10 นาที, 2 ชั่วโมง, 30 วัน (1 day = 1440 min)."""
    if minutes < 60:
        return text("minutes", lang, n=minutes)
    if minutes < 1440:
        hours, rest = divmod(minutes, 60)
        out = text("hours", lang, n=hours)
        return f"{out} {text('minutes', lang, n=rest)}" if rest else out
    days = -(-minutes // 1440)  # a started day counts: 36 hours is "2 days"
    return text("one_day", lang) if days == 1 else text("days", lang, n=days)
