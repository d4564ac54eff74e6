"""Every string of the citizen's phone page (`/t/{ticket_id}`), Thai first and English beside it.

The page's templates call `tx("key")` (the staff pages' `t()` reads `server/web/texts.py`); a key missing
here is an error in tests/survey/test_phone_page.py, never a blank on a citizen's phone."""

from __future__ import annotations

from collections.abc import Callable

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
    "page_title": ("บัตรคิว {number}", "Ticket {number}"),
    "your_ticket": ("บัตรคิวของท่าน", "Your ticket"),
    "switch_lang": ("English", "ภาษาไทย"),
    "not_found_title": ("ไม่พบบัตรคิวนี้", "Ticket not found"),
    "not_found_text": (
        "ลิงก์นี้อาจไม่ครบ หรือบัตรคิวเก่าเกินไป กรุณาสแกนคิวอาร์โค้ดบนบัตรคิวอีกครั้ง",
        "The link may be incomplete or the ticket too old. Please scan the QR code on the ticket again.",
    ),
    # status
    "state_waiting": ("รอเรียกคิว", "Waiting"),
    "ahead_n": ("มีผู้รอก่อนหน้า {n} คิว", "{n} ahead of you"),
    "ahead_none": ("ท่านเป็นคิวถัดไป", "You are next"),
    "wait_minutes": ("รอประมาณ {n} นาที", "About {n} min"),
    "wait_soon": ("อีกไม่นาน", "Very soon"),
    "state_called": ("ถึงคิวของท่านแล้ว", "It's your turn"),
    "go_to_counter": ("เชิญที่{counter}", "Please go to {counter}"),
    "state_serving": ("กำลังให้บริการ", "Being served"),
    "at_counter": ("ที่{counter}", "at {counter}"),
    "state_parked": ("พักคิวไว้ชั่วคราว", "Set aside for now"),
    "parked_text": ("เจ้าหน้าที่จะเรียกท่านอีกครั้ง", "Staff will call you again."),
    "state_done": ("รับบริการเสร็จแล้ว", "Service completed"),
    "state_no_show": ("ไม่มาตามเรียก", "Not present when called"),
    "no_show_text": (
        "หากท่านยังต้องการรับบริการ กรุณาติดต่อเจ้าหน้าที่หรือรับบัตรคิวใหม่",
        "If you still need the service, please ask a staff member or take a new ticket.",
    ),
    "state_cancelled": ("บัตรคิวนี้ถูกยกเลิก", "This ticket was cancelled"),
    "cancelled_text": (
        "หากท่านยังต้องการรับบริการ กรุณารับบัตรคิวใหม่",
        "If you still need the service, please take a new ticket.",
    ),
    "updated_at": ("ข้อมูล ณ เวลา {time} น. หน้านี้ปรับปรุงเองทุก {n} วินาที", "As of {time}; refreshes every {n} s"),
    "refresh": ("ดูสถานะล่าสุด", "Check again"),
    # survey
    "survey_title": ("แบบประเมินความพึงพอใจ", "Satisfaction survey"),
    "survey_intro": (
        "กรุณาให้คะแนนการให้บริการที่ท่านเพิ่งได้รับ ไม่ต้องระบุชื่อ ใช้เวลาไม่ถึง 1 นาที",
        "Please rate the service you just had. It is anonymous and takes less than a minute.",
    ),
    "required_mark": ("(จำเป็น)", "(required)"),
    "optional_part": ("ข้อมูลทั่วไปของผู้ตอบ (ไม่บังคับ)", "About you (optional)"),
    "optional_intro": (
        "ใช้เพื่อสรุปผลเป็นภาพรวมเท่านั้น ไม่สามารถระบุตัวตนของท่านได้",
        "Used only in summaries; it cannot identify you.",
    ),
    "not_say": ("ไม่ระบุ", "Skip"),
    "comment": ("ข้อเสนอแนะเพิ่มเติม (ไม่บังคับ)", "Other comments (optional)"),
    "comment_hint": (
        "กรุณาอย่าใส่ชื่อ เบอร์โทรศัพท์ หรือเลขประจำตัวประชาชน",
        "Please do not write your name, phone number or ID number.",
    ),
    "send": ("ส่งแบบประเมิน", "Send"),
    "need_overall": ("กรุณาตอบข้อ “{item}”", "Please answer “{item}”"),
    "thanks_title": ("ขอบคุณสำหรับการประเมินค่ะ", "Thank you for your rating!"),
    "thanks_text": (
        "ความคิดเห็นของท่านช่วยให้เราปรับปรุงการให้บริการ",
        "Your opinion helps us improve our service.",
    ),
    "already_rated": ("บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ", "This ticket has already been rated. Thank you!"),
    "rating_expired": (
        "หมดเวลาประเมินบัตรคิวนี้แล้ว (ประเมินได้ภายใน {days} วัน)",
        "The time to rate this ticket has passed (within {days} days).",
    ),
    "not_rated_yet": (
        "ท่านจะประเมินความพึงพอใจได้ที่หน้านี้ เมื่อรับบริการเสร็จแล้ว",
        "You can rate the service on this page once it is completed.",
    ),
    "privacy": (
        "หน้านี้ไม่เก็บข้อมูลส่วนบุคคล เฉพาะผู้ที่มีบัตรคิวนี้เท่านั้นที่เปิดได้",
        "This page keeps no personal data; only the holder of this ticket can open it.",
    ),
}


def pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang is Lang.th else pair[1]


def text(key: str, lang: Lang, **values: object) -> str:
    """The string `key` in `lang` with `{name}` fields filled; KeyError for an unknown key."""
    template = pick(TEXTS[key], lang)
    return template.format(**values) if values else template


def translator(lang: Lang) -> Callable[..., str]:
    """`tx("key", n=3)` for the phone page's templates."""

    def tx(key: str, **values: object) -> str:
        return text(key, lang, **values)

    return tx


def level_word(level: int, lang: Lang) -> str:
    return pick(LEVEL_WORDS[level], lang)
