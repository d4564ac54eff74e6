"""Every word of the survey terminal, Thai first and English beside it. The view-model picks the
language; layouts hold no words of their own."""

from __future__ import annotations

from common.vocabulary import Lang

LEVEL_WORDS: dict[int, tuple[str, str]] = {
    5: ("มากที่สุด", "Very satisfied"),
    4: ("มาก", "Satisfied"),
    3: ("ปานกลาง", "Neutral"),
    2: ("น้อย", "Dissatisfied"),
    1: ("น้อยที่สุด", "Very dissatisfied"),
}
"""The five levels of the LAO form (DOMAIN.md), best first as the form prints them."""

TEXTS: dict[str, tuple[str, str]] = {
    # header
    "title": ("ประเมินความพึงพอใจ", "Rate our service"),
    "switch_lang": ("English", "ภาษาไทย"),
    "large_on": ("ตัวอักษรใหญ่", "Large text"),
    "large_off": ("ตัวอักษรปกติ", "Normal text"),
    # number pad
    "pad_prompt": ("กดหมายเลขบนบัตรคิวของท่าน", "Enter the number on your ticket"),
    "scan_hint": (
        "หรือสแกนคิวอาร์โค้ดบนบัตรคิวที่เครื่องสแกน",
        "or scan the QR code on your ticket",
    ),
    "pad_letter_first": ("แตะตัวอักษรหน้าหมายเลขก่อน", "Tap the letter first"),
    "pad_placeholder": ("เช่น A012", "e.g. A012"),
    "pad_ok": ("ถัดไป", "Next"),
    "pad_delete": ("ลบ", "Delete"),
    "pad_clear": ("ล้าง", "Clear"),
    "pad_number_of_id": (
        "สแกนบัตรแล้ว กรุณากดหมายเลขบนบัตรคิวด้วย",
        "Ticket scanned: please also enter the number printed on it",
    ),
    "counter_note": (
        "เมื่อรับบริการที่{counter} เสร็จแล้ว หน้าจอนี้จะถามความพึงพอใจโดยอัตโนมัติ",
        "When your service at {counter} is done, this screen asks you by itself",
    ),
    # questions
    "ticket_label": ("บัตรคิว {number}", "Ticket {number}"),
    "after_service": ("ขอบคุณที่ใช้บริการ", "Thank you for visiting"),
    "overall_prompt": ("แตะหน้าที่ตรงกับความรู้สึกของท่าน", "Tap the face that matches how you feel"),
    "cancel": ("ยกเลิก", "Cancel"),
    "back": ("ย้อนกลับ", "Back"),
    "skip": ("ข้าม", "Skip"),
    "finish": ("ส่งคำตอบ", "Send"),
    "progress": ("ข้อ {n} จาก {total}", "Question {n} of {total}"),
    "more_title": ("ขอบคุณค่ะ ตอบคำถามเพิ่มอีกสักนิดไหมคะ", "Thank you! Would you answer a few more?"),
    "more_text": (
        "อีก {n} ข้อ ใช้เวลาประมาณ 1 นาที ช่วยให้เราปรับปรุงบริการได้ตรงจุด",
        "{n} more questions, about a minute: they show us exactly what to improve",
    ),
    "more_yes": ("ตอบเพิ่ม", "Answer more"),
    "more_no": ("ไม่ตอบ ส่งเลย", "No, send now"),
    "profile_title": ("ข้อมูลทั่วไปของผู้ตอบ (ไม่บังคับ)", "About you (optional)"),
    "profile_hint": ("ไม่ต้องระบุชื่อ ใช้สรุปผลเป็นภาพรวมเท่านั้น", "Anonymous: used only in summaries"),
    # verdict
    "sending": ("กำลังบันทึก…", "Saving…"),
    "thanks_title": ("ขอบคุณค่ะ", "Thank you!"),
    "thanks_text": (
        "ความคิดเห็นของท่านช่วยให้เราปรับปรุงการให้บริการ",
        "Your opinion helps us improve our service",
    ),
    "refused_title": ("ขออภัยค่ะ", "Sorry"),
    "already_rated": ("บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ", "This ticket has already been rated. Thank you!"),
    "ok": ("ตกลง", "OK"),
    "send_failed": (
        "บันทึกคำตอบไม่ได้ กรุณาแจ้งเจ้าหน้าที่",
        "Your answers could not be saved. Please tell a staff member.",
    ),
    "no_survey": (
        "ยังไม่มีแบบประเมิน กรุณาติดต่อเจ้าหน้าที่",
        "The survey is not set up yet. Please ask a staff member.",
    ),
}


def pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang is Lang.th else pair[1]


def text(key: str, lang: Lang, **values: object) -> str:
    """The string `key` in `lang` with `{name}` fields filled; KeyError for an unknown key."""
    template = pick(TEXTS[key], lang)
    return template.format(**values) if values else template


def level_word(level: int, lang: Lang) -> str:
    return pick(LEVEL_WORDS[level], lang)
