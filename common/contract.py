"""The wire contract: one typed, frozen model per message type of DESIGN.md, and `decode`, which turns
any payload into a message or a `DecodeFailure` with a reason: it never raises.

Every message has `type`, `v` (schema version 1), `id` (UUID: the event id) and `ts` (RFC 3339 UTC).
Extra fields are allowed (a newer sender may add some); an unknown `type` or `v` is rejected.
`docs/mqtt.md` documents every type with an example; tests/common/test_contract_docs.py keeps the two
in step."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from common.vocabulary import (
    DEVICE_ID_PATTERN,
    ITEM_ID_PATTERN,
    PREFIX_PATTERN,
    SERVICE_CODE_PATTERN,
    TICKET_NUMBER_PATTERN,
    CounterAction,
    DeviceRole,
    Lang,
    Outcome,
    PrinterState,
    Priority,
    ServiceGroup,
    ServiceKind,
    TicketState,
)

VERSION: Literal[1] = 1
MAX_PAYLOAD_BYTES = 256 * 1024
"""Larger payloads are refused before parsing. The catalog of a big office is about 30 KB."""

DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
ServiceCode = Annotated[str, Field(pattern=SERVICE_CODE_PATTERN)]
TicketNumber = Annotated[str, Field(pattern=TICKET_NUMBER_PATTERN)]
ItemId = Annotated[str, Field(pattern=ITEM_ID_PATTERN)]
ShortText = Annotated[str, Field(max_length=200)]
Score = Annotated[int, Field(ge=1, le=5)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Part(BaseModel):
    """A structured part of a message. Lenient like the envelope: extra fields are kept."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Message(BaseModel):
    """The envelope every message shares."""

    model_config = ConfigDict(extra="allow", frozen=True)

    TYPE: ClassVar[str] = ""
    type: str
    v: Literal[1] = VERSION
    id: uuid.UUID = Field(default_factory=uuid.uuid4, description="event id; resends keep it")
    ts: AwareDatetime = Field(default_factory=utcnow, description="when the sender made it (UTC)")

    @field_validator("ts")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_serializer("ts")
    def _rfc3339(self, value: datetime) -> str:
        return rfc3339(value)

    def encode(self) -> bytes:
        return encode(self)


def rfc3339(value: datetime) -> str:
    """`2026-11-26T03:04:05.123456Z`: UTC, fraction kept so a decoded message equals the one sent."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Reply(Message):
    """A reply to a request: `request_id` is the request's `id`, null when the request could not be read."""

    request_id: uuid.UUID | None


class Rejection(Reply):
    """Every rejection: a stable machine `code` and a message in Thai and English."""

    code: Annotated[str, Field(pattern=r"^[a-z_]{2,40}$")]
    message_th: str
    message_en: str


# ---------------------------------------------------------------------------------------------- catalog


class CatalogOffice(Part):
    id: DeviceId
    name_th: str
    name_en: str
    lao_type: str
    public_url: str | None = None


class CatalogService(Part):
    code: ServiceCode
    prefix: Annotated[str, Field(pattern=PREFIX_PATTERN)]
    name_th: str
    name_en: str
    group: ServiceGroup
    kind: ServiceKind
    agency_th: str = ""
    agency_en: str = ""
    standard_minutes: int = Field(ge=0)
    documents_th: list[str] = []
    documents_en: list[str] = []
    accepting: bool = True
    """False when no ticket can be issued now (outside hours, holiday, daily cap); the reason says why."""
    closed_reason_th: str | None = None
    closed_reason_en: str | None = None


class CatalogCounter(Part):
    id: DeviceId
    number: int
    name_th: str
    name_en: str
    services: list[ServiceCode]


class CatalogSurveyItem(Part):
    id: ItemId
    text_th: str
    text_en: str


class CatalogSurveySection(Part):
    id: ItemId
    title_th: str
    title_en: str
    items: list[CatalogSurveyItem]


class CatalogChoice(Part):
    id: ItemId
    label_th: str
    label_en: str


class CatalogDemographic(Part):
    id: ItemId
    label_th: str
    label_en: str
    options: list[CatalogChoice]


class CatalogSurvey(Part):
    sections: list[CatalogSurveySection]
    overall_item: ItemId
    demographics: list[CatalogDemographic] = []


class Catalog(Message):
    """Retained on `khiu/{site}/catalog`: what devices need to show the office's services."""

    TYPE: ClassVar[str] = "catalog"
    type: Literal["catalog"] = "catalog"
    business_date: date
    office: CatalogOffice
    services: list[CatalogService]
    counters: list[CatalogCounter]
    survey: CatalogSurvey


# ---------------------------------------------------------------------------------------------- tickets


class TicketRequest(Message):
    """A citizen tapped a service at a kiosk."""

    TYPE: ClassVar[str] = "ticket.request"
    type: Literal["ticket.request"] = "ticket.request"
    service: ServiceCode
    priority: Priority = Priority.none
    lang: Lang = Lang.th


class BootMark(Part):
    """A moment on a device's own boot clock: which boot (`/proc/sys/kernel/random/boot_id`) and how long
    after it. Wrong or unset wall clocks do not move it, so the server can place a moment of the device's
    on its own clock from a live `device.status` of the same boot."""

    id: Annotated[str, Field(min_length=1, max_length=64)]
    uptime_s: float = Field(ge=0)


class TicketOffline(Message):
    """A ticket a kiosk issued and printed while the server was unreachable; the server takes it in."""

    TYPE: ClassVar[str] = "ticket.offline"
    type: Literal["ticket.offline"] = "ticket.offline"
    service: ServiceCode
    priority: Priority = Priority.none
    lang: Lang = Lang.th
    number: TicketNumber
    issued_at: AwareDatetime
    replaces: uuid.UUID | None = None
    """The `ticket.request` the kiosk gave up waiting for: if the server did issue a ticket for it, that
    ticket is cancelled, so one citizen never holds two places."""
    printed: BootMark | None = None
    """When it was printed, on the kiosk's boot clock: `issued_at` is the kiosk's wall clock, which a
    kiosk switched on without a time server reads from the evening before."""

    @field_serializer("issued_at")
    def _issued(self, value: datetime) -> str:
        return rfc3339(value)


class TicketIssued(Reply):
    TYPE: ClassVar[str] = "ticket.issued"
    type: Literal["ticket.issued"] = "ticket.issued"
    ticket_id: Annotated[str, Field(min_length=1, max_length=64)]
    number: TicketNumber
    service: ServiceCode
    priority: Priority
    issued_at: AwareDatetime
    business_date: date
    waiting_ahead: int = Field(ge=0)
    estimated_wait_min: int = Field(ge=0)
    offline: bool = False
    """True when this acknowledges a `ticket.offline`."""
    status_url: str | None = None
    """The ticket's page on the server (status now, survey after service): the QR on the ticket."""

    @field_serializer("issued_at")
    def _issued(self, value: datetime) -> str:
        return rfc3339(value)


class TicketRejected(Rejection):
    TYPE: ClassVar[str] = "ticket.rejected"
    type: Literal["ticket.rejected"] = "ticket.rejected"


# ---------------------------------------------------------------------------------------------- survey


class SurveyResponse(Message):
    """A citizen's rating of the service they just had. No personal data: demographics are optional
    bands, the comment comes only from the phone page."""

    TYPE: ClassVar[str] = "survey.response"
    type: Literal["survey.response"] = "survey.response"
    ticket: TicketNumber
    ticket_id: Annotated[str, Field(max_length=64)] | None = None
    """Known when the terminal is bound to the counter or the ticket's QR was scanned."""
    answers: dict[ItemId, Score] = Field(min_length=1, max_length=60)
    demographics: dict[ItemId, ItemId] = Field(default_factory=dict, max_length=10)
    comment: Annotated[str, Field(max_length=1000)] | None = None
    channel: Literal["terminal", "counter", "phone", "staff"] = "terminal"


class SurveyAccepted(Reply):
    TYPE: ClassVar[str] = "survey.accepted"
    type: Literal["survey.accepted"] = "survey.accepted"
    ticket: TicketNumber


class SurveyRejected(Rejection):
    TYPE: ClassVar[str] = "survey.rejected"
    type: Literal["survey.rejected"] = "survey.rejected"


# ---------------------------------------------------------------------------------------------- counters


class CounterCommand(Message):
    """Staff at a counter ask the server to act. Which fields an action needs is checked here."""

    TYPE: ClassVar[str] = "counter.command"
    type: Literal["counter.command"] = "counter.command"
    action: CounterAction
    ticket: TicketNumber | None = None
    outcome: Outcome | None = None
    to_service: ServiceCode | None = None
    staff: ShortText | None = None
    reference: ShortText | None = None
    """The owning agency's reference when the outcome is `forwarded`."""

    @model_validator(mode="after")
    def _fields_for_action(self) -> CounterCommand:
        if self.action is CounterAction.complete and self.outcome is None:
            raise ValueError("action 'complete' needs 'outcome'")
        if self.action is CounterAction.transfer and self.to_service is None:
            raise ValueError("action 'transfer' needs 'to_service'")
        if self.action is CounterAction.resume and self.ticket is None:
            raise ValueError("action 'resume' needs 'ticket'")
        return self


class TicketView(Part):
    """A ticket as counters and boards see it."""

    ticket_id: str
    number: TicketNumber
    service: ServiceCode
    priority: Priority = Priority.none
    state: TicketState
    calls: int = 0
    issued_at: AwareDatetime | None = None
    called_at: AwareDatetime | None = None


class CounterResult(Reply):
    TYPE: ClassVar[str] = "counter.result"
    type: Literal["counter.result"] = "counter.result"
    action: CounterAction
    ticket: TicketView | None = None
    message_th: str = ""
    message_en: str = ""


class CounterRejected(Rejection):
    TYPE: ClassVar[str] = "counter.rejected"
    type: Literal["counter.rejected"] = "counter.rejected"


class CounterState(Message):
    """Retained on `khiu/{site}/counter/{counter}/state`."""

    TYPE: ClassVar[str] = "counter.state"
    type: Literal["counter.state"] = "counter.state"
    counter: DeviceId
    number: int
    name_th: str
    name_en: str
    open: bool
    staff: ShortText | None = None
    current: TicketView | None = None
    waiting: int = Field(ge=0)
    """Tickets waiting for the services this counter serves."""
    parked: list[TicketNumber] = []
    last_completed: TicketView | None = None
    """The ticket this counter completed last today, whatever it did since: the survey tablet at the
    counter asks about it. Absent from servers before this field (a tablet then infers it)."""


class BoardServing(Part):
    counter: DeviceId
    counter_number: int
    counter_name_th: str
    counter_name_en: str
    number: TicketNumber | None
    service: ServiceCode | None = None
    state: TicketState | None = None
    since: AwareDatetime | None = None


class BoardRecentCall(Part):
    number: TicketNumber
    counter: DeviceId
    counter_number: int
    service: ServiceCode
    at: AwareDatetime


class BoardWaiting(Part):
    service: ServiceCode
    prefix: str
    name_th: str
    name_en: str
    waiting: int = Field(ge=0)


class BoardState(Message):
    """Retained on `khiu/{site}/board/state`: everything a hall board shows."""

    TYPE: ClassVar[str] = "board.state"
    type: Literal["board.state"] = "board.state"
    business_date: date
    serving: list[BoardServing]
    recent_calls: list[BoardRecentCall] = Field(default_factory=list, max_length=50)
    waiting: list[BoardWaiting]
    kiosks_offline: list[DeviceId] = []
    """Kiosks whose server link is down, so staff see it on the board (never alarming to citizens)."""


class BoardCall(Message):
    """On `khiu/{site}/board/call` (not retained): announce this number now."""

    TYPE: ClassVar[str] = "board.call"
    type: Literal["board.call"] = "board.call"
    number: TicketNumber
    counter: DeviceId
    counter_number: int
    counter_name_th: str
    counter_name_en: str
    service: ServiceCode
    service_name_th: str = ""
    service_name_en: str = ""
    repeat: int = Field(0, ge=0)
    """0 for the first call, 1 for the first recall, ..."""


# ---------------------------------------------------------------------------------------------- presence


class DeviceStatus(Message):
    """Retained on `khiu/{site}/device/{device}/status`; the MQTT will publishes `online: false`."""

    TYPE: ClassVar[str] = "device.status"
    type: Literal["device.status"] = "device.status"
    device: DeviceId
    role: DeviceRole
    online: bool
    version: str = ""
    printer: PrinterState | None = None
    printer_message_th: str | None = None
    printer_message_en: str | None = None
    server_reachable: bool | None = None
    """A kiosk's view: False while it issues offline tickets."""
    outbox_pending: int = Field(0, ge=0)
    boot: BootMark | None = None
    """The device's boot clock when it sent this status (a kiosk's offline tickets are placed by it)."""


class ServerStatus(Message):
    """Retained on `khiu/{site}/server/status`; the MQTT will publishes `online: false`."""

    TYPE: ClassVar[str] = "server.status"
    type: Literal["server.status"] = "server.status"
    online: bool
    version: str = ""
    business_date: date | None = None
    instance: str | None = None
    """This run of the server (a random id for each start, the will's included): a live status of
    another instance means a second server on the office's broker."""


MESSAGE_TYPES: dict[str, type[Message]] = {
    m.TYPE: m
    for m in (
        Catalog,
        TicketRequest,
        TicketOffline,
        TicketIssued,
        TicketRejected,
        SurveyResponse,
        SurveyAccepted,
        SurveyRejected,
        CounterCommand,
        CounterResult,
        CounterRejected,
        CounterState,
        BoardState,
        BoardCall,
        DeviceStatus,
        ServerStatus,
    )
}


# ---------------------------------------------------------------------------------------------- codec


@dataclass(frozen=True, slots=True)
class DecodeFailure:
    """Why a payload is not a message we accept. `message_id` is the payload's `id` when readable, so a
    reply can still name the request."""

    code: str
    """`too_large`, `not_json`, `not_object`, `unknown_type`, `unknown_version`, `invalid`, `wrong_type`."""
    reason: str
    type: str | None = None
    message_id: uuid.UUID | None = None


def encode(message: Message) -> bytes:
    return message.model_dump_json(exclude_none=False).encode()


def decode(
    payload: bytes | bytearray | str, *, expect: tuple[type[Message], ...] = ()
) -> Message | DecodeFailure:
    """Parse and validate a payload. `expect` limits the accepted types (e.g. what a topic may carry)."""
    if isinstance(payload, str):
        payload = payload.encode()
    if len(payload) > MAX_PAYLOAD_BYTES:
        return DecodeFailure("too_large", f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        raw = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return DecodeFailure("not_json", f"not UTF-8 JSON: {exc}")
    except RecursionError:
        return DecodeFailure("not_json", "JSON nested too deeply")
    if not isinstance(raw, dict):
        return DecodeFailure("not_object", f"expected a JSON object, got {type(raw).__name__}")
    message_id = _readable_id(raw.get("id"))
    type_ = raw.get("type")
    if not isinstance(type_, str):
        return DecodeFailure("invalid", "missing or non-string 'type'", None, message_id)
    model = MESSAGE_TYPES.get(type_)
    if model is None:
        return DecodeFailure("unknown_type", f"unknown type {type_[:60]!r}", type_[:60], message_id)
    if raw.get("v") != VERSION:
        return DecodeFailure("unknown_version", f"unsupported version {raw.get('v')!r}", type_, message_id)
    if expect and model not in expect:
        allowed = ", ".join(m.TYPE for m in expect)
        reason = f"type {type_!r} not accepted here (expected {allowed})"
        return DecodeFailure("wrong_type", reason, type_, message_id)
    for required in ("id", "ts"):
        if required not in raw:
            # No default may stand in for an event id: a request under an id its sender never knew would
            # be applied again on every resend.
            return DecodeFailure("invalid", f"missing {required!r}", type_, message_id)
    if _has_nul(raw):
        # PostgreSQL text cannot hold NUL, and no field of ours has a use for it.
        return DecodeFailure("invalid", "NUL character in a text field", type_, message_id)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        return DecodeFailure("invalid", _short_errors(exc), type_, message_id)


def _has_nul(value: Any) -> bool:
    """True when a NUL character stands in any key or string of a decoded JSON value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _readable_id(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _short_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(message)"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - 5
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------- rejections

REJECTIONS: dict[str, tuple[str, str]] = {
    # payloads
    "too_large": ("ข้อมูลมีขนาดใหญ่เกินไป", "The message is too large."),
    "not_json": ("อ่านข้อมูลไม่ได้", "The message could not be read."),
    "not_object": ("อ่านข้อมูลไม่ได้", "The message could not be read."),
    "unknown_type": ("ไม่รู้จักชนิดของข้อความ", "Unknown message type."),
    "unknown_version": ("ไม่รองรับรุ่นของข้อความ", "Unsupported message version."),
    "wrong_type": ("ข้อความนี้ส่งมาผิดช่องทาง", "This message type is not accepted on this topic."),
    "invalid": ("ข้อมูลไม่ถูกต้อง", "The message is not valid."),
    "wrong_site": ("ข้อความนี้เป็นของสำนักงานอื่น", "This message belongs to another office."),
    "unknown_device": ("อุปกรณ์นี้ยังไม่ได้ลงทะเบียน", "This device is not registered."),
    # tickets
    "unknown_service": ("ไม่พบบริการนี้", "This service does not exist."),
    "service_disabled": ("งดให้บริการนี้ชั่วคราว", "This service is not offered at the moment."),
    "office_closed": ("ขณะนี้ปิดรับบัตรคิว", "The office is not issuing tickets now."),
    "holiday": ("วันนี้เป็นวันหยุดราชการ", "The office is closed today (public holiday)."),
    "daily_cap_reached": ("บัตรคิวบริการนี้ของวันนี้หมดแล้ว", "Today's tickets for this service have run out."),
    "duplicate_number": ("หมายเลขคิวนี้มีอยู่แล้ว", "This ticket number already exists."),
    "superseded": (
        "คำขอนี้ถูกแทนด้วยบัตรคิวที่ตู้พิมพ์ระหว่างขาดการเชื่อมต่อ",
        "This request was replaced by a ticket the kiosk printed while offline.",
    ),
    "offline_expired": ("บัตรคิวนี้ออกก่อนวันนี้ จึงใช้ไม่ได้แล้ว", "This ticket was issued on an earlier day."),
    # counters
    "unknown_counter": ("ไม่พบช่องบริการนี้", "This counter does not exist."),
    "counter_closed": ("ช่องบริการยังไม่เปิด", "The counter is closed: open it first."),
    "queue_empty": ("ไม่มีคิวรอ", "Nobody is waiting for this counter's services."),
    "no_current_ticket": ("ยังไม่มีคิวที่เรียกอยู่", "No ticket is being called or served at this counter."),
    "busy": ("กรุณาจบคิวปัจจุบันก่อน", "Finish the current ticket first."),
    "unknown_ticket": ("ไม่พบบัตรคิวนี้", "This ticket number was not found."),
    "invalid_transition": ("ทำรายการนี้กับบัตรคิวในสถานะปัจจุบันไม่ได้", "Not possible in the ticket's current state."),
    "same_service": ("บัตรคิวอยู่ในบริการนี้อยู่แล้ว", "The ticket is already in this service."),
    # survey
    "ticket_not_served": ("บัตรคิวนี้ยังไม่ได้รับบริการ", "This ticket has not been served yet."),
    "already_rated": (
        "บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ",
        "This ticket has already been rated. Thank you!",
    ),
    "rating_expired": ("บัตรคิวนี้หมดเวลาประเมินแล้ว", "The time to rate this ticket has passed."),
    "invalid_answers": ("คำตอบไม่ครบหรือไม่ถูกต้อง", "Some answers are missing or not valid."),
    "too_many_attempts": ("กรุณารอสักครู่แล้วลองใหม่", "Please wait a moment and try again."),
    # server
    "internal_error": ("ระบบขัดข้อง กรุณาแจ้งเจ้าหน้าที่", "System error: please tell a staff member."),
}
"""Every rejection code with its Thai and English message. Codes are stable: devices may branch on them."""


def rejection_text(code: str) -> tuple[str, str]:
    """The Thai and English message for a code (an unlisted code reads as `invalid`)."""
    return REJECTIONS.get(code, REJECTIONS["invalid"])
