"""The words of the domain that every part shares: priorities, service groups and kinds, outcomes,
counter actions, ticket states. Plain enums, no behaviour (DESIGN.md, "The queue"; DOMAIN.md)."""

from __future__ import annotations

import re
from enum import StrEnum

DEVICE_ID_PATTERN = r"^[a-z0-9-]{1,64}$"
"""Device ids are also MQTT usernames: a `/` or wildcard in a username could match several topic
levels in Mosquitto 2.0 ACL patterns (REFERENCE.md), so only lowercase letters, digits and `-`."""

DEVICE_ID_RE = re.compile(DEVICE_ID_PATTERN)

SITE_ID_PATTERN = r"^[a-z0-9-]{1,64}$"

SERVICE_CODE_PATTERN = r"^[a-z0-9_-]{1,40}$"

PREFIX_PATTERN = r"^[A-Z]$"
"""A service's ticket prefix is one Latin capital; the board and the announcement read it by its
Thai letter name (A เอ, B บี)."""

TICKET_NUMBER_PATTERN = r"^[A-Z]{1,2}[0-9]{2,4}$"
"""Server numbers are `{prefix}{seq:03d}` (A012). Offline numbers a kiosk issues while the server is away
are `{prefix}{series}{seq:02d}` (AX05), where `series` is the kiosk's own offline letter: the second
character being a letter means an offline number can never equal a server number."""

ITEM_ID_PATTERN = r"^[a-z0-9_.-]{1,40}$"


class Lang(StrEnum):
    """Language of a screen, a ticket or a message."""

    th = "th"
    en = "en"


class Priority(StrEnum):
    """Why a citizen is served first (Older Persons Act 2546 s.11 and common office practice)."""

    none = "none"
    elderly = "elderly"
    disabled = "disabled"
    pregnant = "pregnant"
    monk = "monk"


class ServiceGroup(StrEnum):
    """The groups of the guideline's service manual plus the office's own and Tang Rat."""

    citizen = "citizen"
    """งานบริการเพื่อประชาชน (16 services of the manual)."""
    business = "business"
    """ผู้ประกอบการธุรกิจ/SMEs (2 services)."""
    labour = "labour"
    """ด้านแรงงานหรือส่งเสริมการมีงานทำ (4 services)."""
    local = "local"
    """The office's own services."""
    tang_rat = "tang_rat"
    """Services of the government app ทางรัฐ."""


class ServiceKind(StrEnum):
    """Every service has exactly one of the guideline's three kinds."""

    forward = "forward"
    """เฉพาะรับเรื่อง-ส่งต่อ: staff take the request; the owning agency finishes it."""
    complete = "complete"
    """แบบเบ็ดเสร็จ ณ อปท.: finished on the spot."""
    via_app = "via_app"
    """ผ่านแอปพลิเคชันทางรัฐ: staff help the citizen do it in the app."""


class Outcome(StrEnum):
    """How a service ended, recorded at completion."""

    completed = "completed"
    forwarded = "forwarded"
    via_app = "via_app"
    advice = "advice"


class CounterAction(StrEnum):
    """What staff at a counter can ask the server to do."""

    open = "open"
    close = "close"
    call_next = "call_next"
    recall = "recall"
    start = "start"
    complete = "complete"
    no_show = "no_show"
    transfer = "transfer"
    park = "park"
    resume = "resume"


class TicketState(StrEnum):
    """States of a ticket (DESIGN.md): waiting → called → serving → done, and the side roads."""

    waiting = "waiting"
    called = "called"
    serving = "serving"
    done = "done"
    no_show = "no_show"
    parked = "parked"
    cancelled = "cancelled"


class DeviceRole(StrEnum):
    """What a device is; decides what the broker lets it read and write (broker_config/)."""

    kiosk = "kiosk"
    display = "display"
    counter = "counter"
    survey = "survey"
    server = "server"


class PrinterState(StrEnum):
    """What a kiosk knows of its printer. `unknown` when the printer does not answer: python-escpos
    reports paper OK when it gets no answer at all (REFERENCE.md)."""

    ok = "ok"
    no_paper = "no_paper"
    paper_low = "paper_low"
    cover_open = "cover_open"
    offline = "offline"
    unknown = "unknown"
    none = "none"
    """No printer configured."""
