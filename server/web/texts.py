"""Every string of the web pages, Thai first and English beside it. Templates call `t("key")`; a key
missing here is an error in the tests (tests/web/test_texts.py), never a blank on a staff screen."""

from __future__ import annotations

from collections.abc import Callable

from common.vocabulary import Lang, Outcome, Priority, TicketState

LANG_COOKIE = "khiu_lang"

TEXTS: dict[str, tuple[str, str]] = {
    # frame
    "app_name": ("คิว", "Khiu"),
    "app_tagline": ("ระบบบัตรคิวและประเมินความพึงพอใจ", "Queue and satisfaction survey"),
    "nav_console": ("ช่องบริการ", "Counter"),
    "nav_users": ("ผู้ใช้", "Users"),
    "nav_audit": ("บันทึกการใช้งาน", "Audit log"),
    "logout": ("ออกจากระบบ", "Log out"),
    "switch_lang": ("English", "ภาษาไทย"),
    "signed_in_as": ("ผู้ใช้", "Signed in as"),
    "skip_to_content": ("ข้ามไปยังเนื้อหา", "Skip to content"),
    # roles
    "role_staff": ("เจ้าหน้าที่", "Staff"),
    "role_manager": ("หัวหน้า", "Manager"),
    "role_admin": ("ผู้ดูแลระบบ", "Administrator"),
    # login
    "login_title": ("เข้าสู่ระบบ", "Log in"),
    "username": ("ชื่อผู้ใช้", "Username"),
    "password": ("รหัสผ่าน", "Password"),
    "login_button": ("เข้าสู่ระบบ", "Log in"),
    "login_failed": ("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", "Wrong username or password."),
    "login_locked": (
        "ใส่รหัสผ่านผิดหลายครั้งเกินไป กรุณารอ {minutes} นาทีแล้วลองใหม่",
        "Too many wrong passwords. Please wait {minutes} min and try again.",
    ),
    "login_required": ("กรุณาเข้าสู่ระบบก่อน", "Please log in first."),
    "logged_out": ("ออกจากระบบแล้ว", "You are logged out."),
    "no_users_yet": (
        "ยังไม่มีผู้ใช้ในระบบ: ตั้งค่าผู้ดูแลระบบคนแรกก่อน",
        "There are no users yet: set up the first administrator.",
    ),
    "go_to_setup": ("ไปหน้าตั้งค่าครั้งแรก", "Go to first-time setup"),
    # first start
    "setup_title": ("ตั้งค่าครั้งแรก: สร้างผู้ดูแลระบบ", "First-time setup: create the administrator"),
    "setup_intro": (
        "ใส่รหัสตั้งค่าครั้งเดียวที่แสดงในบันทึกของเครื่องแม่ข่าย (หรือในไฟล์ {path}) แล้วตั้งชื่อผู้ใช้และรหัสผ่านของผู้ดูแลระบบคนแรก",
        "Enter the one-time setup code printed in the server log (also in the file {path}), then choose "
        "the first administrator's username and password.",
    ),
    "setup_token": ("รหัสตั้งค่าครั้งเดียว", "One-time setup code"),
    "setup_bad_token": ("รหัสตั้งค่าไม่ถูกต้อง", "The setup code is not correct."),
    "setup_done_already": (
        "ตั้งค่าครั้งแรกเรียบร้อยแล้ว กรุณาเข้าสู่ระบบ",
        "Setup is already done: please log in.",
    ),
    "setup_button": ("สร้างผู้ดูแลระบบ", "Create administrator"),
    "setup_ok": ("สร้างผู้ดูแลระบบแล้ว กรุณาเข้าสู่ระบบ", "Administrator created: please log in."),
    "display_name": ("ชื่อที่แสดง", "Display name"),
    "password_again": ("ยืนยันรหัสผ่าน", "Password again"),
    "password_mismatch": ("รหัสผ่านสองช่องไม่ตรงกัน", "The two passwords differ."),
    "password_too_short": (
        "รหัสผ่านต้องยาวอย่างน้อย {n} ตัวอักษร",
        "The password needs at least {n} characters.",
    ),
    "password_is_username": ("รหัสผ่านต้องไม่เหมือนชื่อผู้ใช้", "The password must differ from the username."),
    "username_invalid": (
        "ชื่อผู้ใช้ใช้ได้เฉพาะ a-z 0-9 . _ - ยาว 2-40 ตัว",
        "Usernames use a-z 0-9 . _ - only, 2 to 40 characters.",
    ),
    "username_taken": ("มีชื่อผู้ใช้นี้แล้ว", "This username is taken."),
    # errors
    "forbidden_title": ("ไม่มีสิทธิ์เข้าถึง", "Not allowed"),
    "forbidden_text": (
        "บัญชีนี้ไม่มีสิทธิ์ใช้หน้านี้ หากต้องใช้ กรุณาติดต่อผู้ดูแลระบบ",
        "Your account may not use this page. Ask the administrator if you need it.",
    ),
    "csrf_title": ("แบบฟอร์มหมดอายุ", "The form has expired"),
    "csrf_text": (
        "กรุณาเปิดหน้านั้นใหม่แล้วลองอีกครั้ง (เพื่อความปลอดภัย แบบฟอร์มใช้ได้เฉพาะจากหน้าของระบบนี้)",
        "Please reload the page and try again (for safety, forms work only from this system's own pages).",
    ),
    "not_found_title": ("ไม่พบหน้านี้", "Page not found"),
    "back_home": ("กลับหน้าหลัก", "Back to the start"),
    "internal_error": (
        "ระบบขัดข้อง กรุณาลองใหม่หรือแจ้งผู้ดูแลระบบ",
        "Something went wrong: try again or tell the administrator.",
    ),
    "server_busy": (
        "ระบบตอบช้า กรุณาลองใหม่อีกครั้ง",
        "The server did not answer in time: please try again.",
    ),
    # counter choice
    "choose_counter": ("เลือกช่องบริการ", "Choose your counter"),
    "counter_open": ("เปิดให้บริการ", "Open"),
    "counter_closed": ("ปิด", "Closed"),
    "waiting_n": ("รอ {n} คิว", "{n} waiting"),
    "staffed_by": ("เจ้าหน้าที่: {name}", "Staff: {name}"),
    "services_label": ("บริการ", "Services"),
    # console
    "console_title": ("{counter}", "{counter}"),
    "change_counter": ("เปลี่ยนช่องบริการ", "Change counter"),
    "open_counter": ("เปิดช่องบริการ", "Open counter"),
    "close_counter": ("ปิดช่องบริการ", "Close counter"),
    "counter_closed_hint": (
        "ช่องบริการนี้ยังปิดอยู่ กดเปิดช่องบริการเพื่อเริ่มเรียกคิว",
        "This counter is closed: open it to start calling.",
    ),
    "current_ticket": ("คิวปัจจุบัน", "Current ticket"),
    "no_current": ("ยังไม่มีคิวที่เรียก", "No ticket called"),
    "call_next": ("เรียกคิวถัดไป", "Call next"),
    "recall": ("เรียกซ้ำ", "Recall"),
    "start": ("เริ่มให้บริการ", "Start service"),
    "complete": ("จบการให้บริการ", "Complete"),
    "no_show": ("ไม่มาตามเรียก", "No-show"),
    "transfer": ("ย้ายไปบริการอื่น", "Move to service"),
    "transfer_to": ("เลือกบริการที่จะย้ายไป", "Choose the service to move to"),
    "park": ("พักคิว", "Park"),
    "resume": ("กลับเข้าคิว", "Resume"),
    "outcome": ("ผลการให้บริการ", "Outcome"),
    "reference": ("เลขที่อ้างอิงของหน่วยงาน", "Agency reference"),
    "reference_hint": ("กรอกเมื่อส่งต่อหน่วยงาน", "For forwarded cases"),
    "calls_n": ("เรียกแล้ว {n} จาก {max} ครั้ง", "Called {n} of {max} times"),
    "since": ("เรียกเมื่อ {time} น.", "at {time}"),
    "choose": ("-- เลือก --", "-- choose --"),
    "parked_list": ("คิวที่พักไว้", "Parked tickets"),
    "none_parked": ("ไม่มีคิวที่พักไว้", "No parked tickets"),
    "waiting_list": ("คิวที่รอ", "Waiting"),
    "none_waiting": ("ไม่มีคิวรอ", "Nobody waiting"),
    "col_number": ("หมายเลข", "Number"),
    "col_service": ("บริการ", "Service"),
    "col_priority": ("กลุ่มเร่งด่วน", "Priority"),
    "col_waited": ("รอ (นาที)", "Waited (min)"),
    "col_issued": ("ออกบัตร", "Issued"),
    "live_updated": ("อัปเดต {time}", "Updated {time}"),
    "live_offline": ("ขาดการติดต่อกับเครื่องแม่ข่าย กำลังลองใหม่", "Lost contact with the server, retrying"),
    "broker_lost_console": (
        "จอแสดงคิวไม่ได้รับการเรียกคิว: เครื่องแม่ข่ายติดต่อระบบรับส่งข้อความ (MQTT) ไม่ได้ ตั้งแต่ {when} "
        "กรุณาขานหมายเลขคิวด้วยเสียง",
        "The hall board gets no calls: the server has not reached the message broker (MQTT) since {when}. "
        "Call the number out loud.",
    ),
    "state_changed": (
        "สถานะช่องบริการเปลี่ยนไป (อาจมาจากเครื่องที่ช่องบริการ) กดเพื่อโหลดใหม่",
        "The counter changed (perhaps from the counter terminal): tap to reload.",
    ),
    "reload": ("โหลดใหม่", "Reload"),
    "done_ok": ("ทำรายการแล้ว", "Done."),
    "choose_outcome": ("กรุณาเลือกผลการให้บริการ", "Choose an outcome."),
    "choose_service": ("กรุณาเลือกบริการที่จะย้ายไป", "Choose the service to move the ticket to."),
    "confirm_no_show": ("ยืนยัน: หมายเลข {number} ไม่มาตามเรียก?", "Mark {number} as not come?"),
    "did_open": ("เปิดช่องบริการแล้ว", "Counter opened."),
    "did_close": ("ปิดช่องบริการแล้ว", "Counter closed."),
    "did_call_next": ("เรียกหมายเลข {number} แล้ว", "Called {number}."),
    "did_recall": ("เรียกหมายเลข {number} ซ้ำแล้ว", "Called {number} again."),
    "did_start": ("เริ่มให้บริการหมายเลข {number}", "Serving {number}."),
    "did_complete": ("จบการให้บริการหมายเลข {number} แล้ว", "{number} completed."),
    "did_no_show": ("บันทึกว่าหมายเลข {number} ไม่มาตามเรียก", "{number} marked as no-show."),
    "did_transfer": (
        "ย้ายหมายเลข {number} ไปรอคิวบริการ “{service}” แล้ว",
        "{number} now waits for “{service}”.",
    ),
    "did_park": ("พักคิวหมายเลข {number} แล้ว", "{number} parked."),
    "did_resume": ("หมายเลข {number} กลับเข้าคิวแล้ว", "{number} is back in the queue."),
    "today": ("วันนี้", "Today"),
    # forwarded cases
    "cases_title": ("เรื่องที่ส่งต่อหน่วยงาน", "Forwarded cases"),
    "none_cases": ("ไม่มีเรื่องที่ต้องติดตาม", "No cases to follow up"),
    "col_agency": ("หน่วยงาน", "Agency"),
    "col_reference": ("เลขอ้างอิง", "Reference"),
    "col_opened": ("วันที่ส่ง", "Sent"),
    "col_due": ("กำหนดเสร็จ", "Due"),
    "col_status": ("สถานะ", "Status"),
    "col_note": ("หมายเหตุการติดตาม", "Follow-up note"),
    "overdue": ("เกินกำหนด", "Overdue"),
    "save": ("บันทึก", "Save"),
    "case_saved": ("บันทึกการติดตามเรื่องแล้ว", "Case updated."),
    "case_open": ("รับเรื่องแล้ว", "Open"),
    "case_in_progress": ("กำลังดำเนินการ", "In progress"),
    "case_done": ("เสร็จแล้ว", "Done"),
    "case_unknown": ("ไม่พบเรื่องนี้", "This case was not found."),
    "show_done_cases": ("แสดงเรื่องที่เสร็จแล้ว", "Show finished cases"),
    # users (admin)
    "users_title": ("ผู้ใช้ระบบ", "Users"),
    "add_user": ("เพิ่มผู้ใช้", "Add user"),
    "role": ("บทบาท", "Role"),
    "active": ("ใช้งานได้", "Active"),
    "disabled": ("ระงับแล้ว", "Disabled"),
    "last_login": ("เข้าระบบล่าสุด", "Last login"),
    "never": ("ยังไม่เคย", "never"),
    "disable_user": ("ระงับผู้ใช้", "Disable"),
    "enable_user": ("เปิดใช้ผู้ใช้", "Enable"),
    "reset_password": ("ตั้งรหัสผ่านใหม่", "Set new password"),
    "new_password": ("รหัสผ่านใหม่", "New password"),
    "user_added": ("เพิ่มผู้ใช้ {name} แล้ว", "User {name} added."),
    "user_updated": ("แก้ไขผู้ใช้ {name} แล้ว", "User {name} updated."),
    "cannot_disable_self": ("ระงับบัญชีของตนเองไม่ได้", "You cannot disable your own account."),
    "last_admin": (
        "ต้องมีผู้ดูแลระบบที่ใช้งานได้อย่างน้อยหนึ่งคน",
        "At least one active administrator must remain.",
    ),
    "user_unknown": ("ไม่พบผู้ใช้นี้", "This user was not found."),
    # audit
    "audit_title": ("บันทึกการใช้งาน", "Audit log"),
    "col_when": ("เวลา", "When"),
    "col_who": ("ผู้ใช้", "Who"),
    "col_what": ("รายการ", "What"),
    "col_detail": ("รายละเอียด", "Detail"),
    "col_from": ("จากเครื่อง", "From"),
    "older": ("เก่ากว่า", "Older"),
}

PRIORITY_TEXTS: dict[Priority, tuple[str, str]] = {
    Priority.none: ("ทั่วไป", "Normal"),
    Priority.elderly: ("ผู้สูงอายุ", "Elderly"),
    Priority.disabled: ("ผู้พิการ", "Disabled"),
    Priority.pregnant: ("หญิงตั้งครรภ์", "Pregnant"),
    Priority.monk: ("พระภิกษุสงฆ์", "Monk"),
}

OUTCOME_TEXTS: dict[Outcome, tuple[str, str]] = {
    Outcome.completed: ("เสร็จที่สำนักงาน", "Completed here"),
    Outcome.forwarded: ("รับเรื่องส่งต่อหน่วยงาน", "Forwarded to the agency"),
    Outcome.via_app: ("ผ่านแอปทางรัฐ", "Via the Tang Rat app"),
    Outcome.advice: ("ให้คำแนะนำเท่านั้น", "Advice only"),
}

STATE_TEXTS: dict[TicketState, tuple[str, str]] = {
    TicketState.waiting: ("รอเรียก", "Waiting"),
    TicketState.called: ("กำลังเรียก", "Called"),
    TicketState.serving: ("กำลังให้บริการ", "Being served"),
    TicketState.done: ("เสร็จแล้ว", "Done"),
    TicketState.no_show: ("ไม่มาตามเรียก", "No-show"),
    TicketState.parked: ("พักไว้", "Parked"),
    TicketState.cancelled: ("ยกเลิก", "Cancelled"),
}


def lang_of(value: str | None) -> Lang:
    """The language a cookie or query asks for; Thai unless English is asked for."""
    return Lang.en if value == Lang.en.value else Lang.th


def pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang is Lang.th else pair[1]


def text(key: str, lang: Lang, **values: object) -> str:
    """The string `key` in `lang`, with `{name}` fields filled. Raises KeyError for an unknown key."""
    template = pick(TEXTS[key], lang)
    return template.format(**values) if values else template


def translator(lang: Lang) -> Callable[..., str]:
    """`t("key", n=3)` for templates, bound to the page's language."""

    def t(key: str, **values: object) -> str:
        return text(key, lang, **values)

    return t
