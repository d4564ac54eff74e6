"""The office configuration: one TOML file per office, validated at start by models that refuse
unknown keys and name the bad key (DESIGN.md principle 5).

`load_config(path)` reads the file and returns an `OfficeConfig`, or raises `ConfigError` whose message
names the file and the key path of every problem (`office.toml: services[3].prefix: ...`). The example
office is `examples/office.toml`."""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import os
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from common.vocabulary import (
    DEVICE_ID_PATTERN,
    ITEM_ID_PATTERN,
    PREFIX_PATTERN,
    SERVICE_CODE_PATTERN,
    SITE_ID_PATTERN,
    DeviceRole,
    ServiceGroup,
    ServiceKind,
)

logger = logging.getLogger(__name__)


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are an error, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PrinterConfig(StrictModel):
    """The kiosk's ticket printer (python-escpos). `none` runs a kiosk without paper."""

    kind: Literal["none", "usb", "network", "serial", "file"] = Field(
        "none", description="How the printer is attached."
    )
    usb_vendor_id: int | None = Field(None, description="USB vendor id (kind usb), e.g. 0x04b8.")
    usb_product_id: int | None = Field(None, description="USB product id (kind usb), e.g. 0x0202.")
    host: str | None = Field(None, description="Printer address (kind network).")
    port: int = Field(9100, ge=1, le=65535, description="TCP port (kind network).")
    serial_device: str | None = Field(None, description="Serial device path (kind serial).")
    baudrate: int = Field(38400, description="Serial speed (kind serial); prefer USB or Ethernet.")
    path: str | None = Field(None, description="File or device path to write to (kind file).")
    profile: str | None = Field(None, description="python-escpos capability profile, e.g. TM-T20II.")
    paper_width_dots: int = Field(576, ge=256, le=1024, description="Printable width: 576 for 80 mm.")
    timeout_s: float = Field(5.0, gt=0, le=60, description="Give up on a printer that does not answer.")


# ---------------------------------------------------------------------------------------- building blocks

Loc = tuple[str | int, ...]
"""A key path inside the file: ("services", 3, "prefix") is `services[3].prefix`."""

SiteId = Annotated[str, Field(pattern=SITE_ID_PATTERN)]
ServiceCode = Annotated[str, Field(pattern=SERVICE_CODE_PATTERN)]
ItemId = Annotated[str, Field(pattern=ITEM_ID_PATTERN)]
DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=300)]
COUNTER_ID_PATTERN = r"^[a-z0-9-]{1,32}$"
PUBLIC_URL_PATTERN = r"^https?://[^\s/]+(/\S*)?$"
GOOGLE_FORM_URL_PATTERN = r"^https://docs\.google\.com/forms/\S+$"
GOOGLE_FORM_ENTRY_PATTERN = r"^entry\.[0-9]+$"
CounterId = Annotated[str, Field(pattern=COUNTER_ID_PATTERN)]


class Problem(NamedTuple):
    """One problem a model finds across its fields. `loc` is relative to the model; `see` (also
    relative) points at the entry it clashes with."""

    loc: Loc
    msg: str
    see: Loc | None = None


class CrossCheckError(ValueError):
    """Problems a model finds across its fields. `load_config` puts the model's own key path in front,
    so every message names the exact key."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("; ".join(f"{key_path(p.loc)}: {describe(p)}" for p in self.problems))


def describe(problem: Problem, prefix: Loc = ()) -> str:
    """The problem's message, with the clashing entry's full key path."""
    if problem.see is None:
        return problem.msg
    return f"{problem.msg} (already used at {key_path(prefix + problem.see)})"


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise CrossCheckError(problems)


def _duplicates(values: Iterable[tuple[Loc, Any]], what: str) -> list[Problem]:
    """One problem per repeated value, naming where it was first seen."""
    first: dict[Any, Loc] = {}
    problems: list[Problem] = []
    for loc, value in values:
        if value in first:
            problems.append(Problem(loc, f"duplicate {what} {_show(value)}", see=first[value]))
        else:
            first[value] = loc
    return problems


# ------------------------------------------------------------------------------------------------ office


class LaoType(StrEnum):
    """The four forms of local administrative organisation (องค์กรปกครองส่วนท้องถิ่น)."""

    pao = "pao"
    """องค์การบริหารส่วนจังหวัด (อบจ.), provincial administrative organisation."""
    municipality = "municipality"
    """เทศบาล (นคร, เมือง or ตำบล)."""
    sao = "sao"
    """องค์การบริหารส่วนตำบล (อบต.), subdistrict administrative organisation."""
    pattaya = "pattaya"
    """เมืองพัทยา, Pattaya City."""


class Office(StrictModel):
    """Who the office is: shown on every screen and ticket, and the site id of every MQTT topic."""

    id: SiteId = Field(description="Office id: lowercase letters, digits, '-'; also the MQTT `{site}`.")
    name_th: Text = Field(description="Name in Thai, e.g. เทศบาลตำบลบ้านสวนงาม.")
    name_en: Text = Field(description="Name in English, e.g. Ban Suan Ngam Subdistrict Municipality.")
    lao_type: LaoType = Field(description="pao (อบจ.), municipality (เทศบาล), sao (อบต.) or pattaya.")
    province_th: Text = Field(description="Province (จังหวัด), in Thai.")
    district_th: Text = Field(description="District (อำเภอ), in Thai.")
    address_th: Text = Field(description="Postal address in Thai, printed on reports.")
    phone: str | None = Field(None, max_length=40, description="Public phone number, printed on tickets.")
    public_url: str | None = Field(
        None,
        pattern=PUBLIC_URL_PATTERN,
        description="Base URL of the server as citizens' phones reach it (ticket QR codes), "
        "e.g. http://192.168.1.10:8000. Without it tickets carry no QR code.",
    )
    timezone: Literal["Asia/Bangkok"] = Field(
        "Asia/Bangkok", description="Local time of the office: always Asia/Bangkok."
    )

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value


# ------------------------------------------------------------------------------------------ issuing hours

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Keys of `WeeklyHours`, in `date.weekday()` order."""


class DayHours(StrictModel):
    """When new tickets can be taken on one weekday: `{ open = "08:30", close = "16:00" }`, or
    `"closed"`. `close` is the cutoff for new tickets; citizens already waiting are still served."""

    closed: bool = Field(False, description='No tickets this day (written as the string "closed").')
    open: dt.time | None = Field(None, description="First time a ticket can be taken, local time.")
    close: dt.time | None = Field(None, description="Last time a ticket can be taken, local time.")

    @model_validator(mode="after")
    def _open_before_close(self) -> DayHours:
        problems: list[Problem] = []
        if self.closed:
            if self.open is not None or self.close is not None:
                problems.append(Problem((), "a closed day has no open/close times"))
        else:
            if self.open is None:
                problems.append(Problem(("open",), 'required key is missing (or write "closed")'))
            if self.close is None:
                problems.append(Problem(("close",), 'required key is missing (or write "closed")'))
            if self.open is not None and self.close is not None and self.open >= self.close:
                problems.append(
                    Problem(
                        ("close",), f"closes at {self.close:%H:%M}, not after it opens at {self.open:%H:%M}"
                    )
                )
        _raise_if(problems)
        return self

    def window(self) -> tuple[dt.time, dt.time] | None:
        """(open, close), or None on a closed day."""
        if self.closed or self.open is None or self.close is None:
            return None
        return (self.open, self.close)


STANDARD_DAY = DayHours(open=dt.time(8, 30), close=dt.time(16, 0))
"""Monday to Friday 08:30-16:00, the usual cutoff for new tickets at a government office."""
CLOSED_DAY = DayHours(closed=True)


class WeeklyHours(StrictModel):
    """Issuing hours per weekday. A day left out falls back: for a service, to the office's hours; for
    the office, to the standard Monday-Friday 08:30-16:00, weekends closed."""

    mon: DayHours | None = Field(None, description="Monday.")
    tue: DayHours | None = Field(None, description="Tuesday.")
    wed: DayHours | None = Field(None, description="Wednesday.")
    thu: DayHours | None = Field(None, description="Thursday.")
    fri: DayHours | None = Field(None, description="Friday.")
    sat: DayHours | None = Field(None, description="Saturday.")
    sun: DayHours | None = Field(None, description="Sunday.")

    @field_validator(*WEEKDAYS, mode="before")
    @classmethod
    def _closed_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().lower() == "closed":
                return {"closed": True}
            raise ValueError('write a table { open = "08:30", close = "16:00" } or the string "closed"')
        return value

    def on(self, weekday: int) -> DayHours | None:
        """The day's hours as written, or None when this table leaves the day out."""
        day: DayHours | None = getattr(self, WEEKDAYS[weekday])
        return day


def standard_hours(weekday: int) -> DayHours:
    """Monday-Friday 08:30-16:00, Saturday and Sunday closed."""
    return STANDARD_DAY if weekday < 5 else CLOSED_DAY


class Holiday(StrictModel):
    """A day the office issues no tickets (public holiday, substitution day, office closure)."""

    date: dt.date = Field(description="The date (C.E. in the file: 2026-12-10).")
    name_th: Text = Field(description="Name in Thai, e.g. วันรัฐธรรมนูญ.")
    name_en: Text = Field(description="Name in English, e.g. Constitution Day.")


# ---------------------------------------------------------------------------------------------- services


class Service(StrictModel):
    """One service a citizen can queue for (DOMAIN.md): its group and kind, the owning agency, the
    statutory standard time and required documents (Licensing Facilitation Act 2558)."""

    code: ServiceCode = Field(description="Stable id: lowercase letters, digits, '_' or '-'.")
    name_th: Text = Field(description="Name in Thai, as on the kiosk button.")
    name_en: Text = Field(description="Name in English.")
    group: ServiceGroup = Field(description="citizen, business, labour, local or tang_rat.")
    kind: ServiceKind = Field(
        description="forward (รับเรื่อง-ส่งต่อ), complete (เบ็ดเสร็จ ณ อปท.) or via_app (ผ่านแอปทางรัฐ)."
    )
    prefix: str = Field(pattern=PREFIX_PATTERN, description="Ticket prefix: one capital letter, A-Z.")
    agency_th: Text = Field(description="Owning agency (หน่วยงานเจ้าของเรื่อง), in Thai.")
    agency_en: Text = Field(description="Owning agency, in English.")
    standard_minutes: int = Field(
        gt=0,
        description="Statutory standard time in minutes (1 day = 1440); a forwarded case is late after it.",
    )
    documents_th: tuple[Text, ...] = Field((), description="Documents to bring, in Thai.")
    documents_en: tuple[Text, ...] = Field((), description="Documents to bring, in English.")
    enabled: bool = Field(True, description="False hides the service from the kiosk.")
    daily_cap: int | None = Field(None, ge=1, description="At most this many tickets a day; none: no cap.")
    hours: WeeklyHours | None = Field(
        None, description="Issuing hours of this service when they differ from the office's."
    )

    @property
    def standard_time(self) -> dt.timedelta:
        """The statutory standard time: a forwarded case is due this long after it was opened."""
        return dt.timedelta(minutes=self.standard_minutes)


class Counter(StrictModel):
    """A service counter (ช่องบริการ): its number is shown on the board and announced."""

    id: CounterId = Field(description='Counter id, e.g. "c1".')
    name_th: Text = Field(description="Name in Thai, e.g. ช่องบริการ 1.")
    name_en: Text = Field(description="Name in English, e.g. Counter 1.")
    number: int = Field(ge=1, le=999, description="Number shown on the board and read in the announcement.")
    services: tuple[ServiceCode, ...] = Field(
        min_length=1, description="Codes of the services this counter calls, in order of the console."
    )


# ------------------------------------------------------------------------------------------------ survey


class SurveyItem(StrictModel):
    """One statement rated on the five levels มากที่สุด (5) .. น้อยที่สุด (1)."""

    id: ItemId = Field(description="Stable id used in stored answers and reports, e.g. staff.polite.")
    text_th: Text = Field(description="The statement in Thai.")
    text_en: Text = Field(description="The statement in English.")


class SurveySection(StrictModel):
    """A section of the form, e.g. ด้านเจ้าหน้าที่ผู้ให้บริการ (staff)."""

    id: ItemId = Field(description="Stable id of the section, e.g. staff.")
    title_th: Text = Field(description="Title in Thai.")
    title_en: Text = Field(description="Title in English.")
    items: tuple[SurveyItem, ...] = Field(min_length=1, description="The section's statements, in order.")


class Choice(StrictModel):
    """One option of a demographic question."""

    id: ItemId = Field(description="Stable id stored with the answer, e.g. farmer.")
    label_th: Text = Field(description="Label in Thai.")
    label_en: Text = Field(description="Label in English.")


class DemographicQuestion(StrictModel):
    """An optional question about the respondent, answered by picking a band; never personal data."""

    label_th: Text = Field(description="The question in Thai, e.g. อาชีพ.")
    label_en: Text = Field(description="The question in English, e.g. Occupation.")
    options: tuple[Choice, ...] = Field(min_length=1, description="The choices, in order.")

    @model_validator(mode="after")
    def _unique_options(self) -> DemographicQuestion:
        _raise_if(_duplicates(((("options", i, "id"), c.id) for i, c in enumerate(self.options)), "id"))
        return self


DEMOGRAPHICS: tuple[str, ...] = ("gender", "age_band", "education", "occupation")


class Demographics(StrictModel):
    """The usual optional questions of the LAO form; a question left out is not asked. Answering any
    of them is always optional (PDPA: collect only what is needed)."""

    gender: DemographicQuestion | None = Field(None, description="เพศ / gender.")
    age_band: DemographicQuestion | None = Field(None, description="อายุ / age band.")
    education: DemographicQuestion | None = Field(None, description="ระดับการศึกษา / education.")
    occupation: DemographicQuestion | None = Field(None, description="อาชีพ / occupation.")

    def questions(self) -> list[tuple[str, DemographicQuestion]]:
        """(id, question) of the questions asked, in the form's order."""
        asked: list[tuple[str, DemographicQuestion]] = []
        for name in DEMOGRAPHICS:
            question: DemographicQuestion | None = getattr(self, name)
            if question is not None:
                asked.append((name, question))
        return asked


class GoogleForm(StrictModel):
    """Copy each response to the office's Google Form too (the guideline's online channel)."""

    url: str = Field(
        pattern=GOOGLE_FORM_URL_PATTERN,
        description="The form's formResponse URL.",
    )
    entries: dict[str, Annotated[str, Field(pattern=GOOGLE_FORM_ENTRY_PATTERN)]] = Field(
        default_factory=dict,
        description="Item id (or gender, age_band, education, occupation, comment) -> the form's "
        "`entry.NNN` field id.",
    )
    enabled: bool = Field(False, description="Send responses to the form.")


class Survey(StrictModel):
    """The satisfaction form (the guideline's attachment 6), as data an office can edit."""

    sections: tuple[SurveySection, ...] = Field(min_length=1, description="The sections, in order.")
    overall_item: ItemId = Field(
        description="Id of the item asked alone on a one-tap screen (overall satisfaction)."
    )
    demographics: Demographics = Field(
        default_factory=Demographics, description="Optional questions about the respondent."
    )
    days_valid: int = Field(3, ge=1, le=90, description="A ticket may be rated within this many days.")
    google_form: GoogleForm | None = Field(None, description="Optional copy to a Google Form.")

    @model_validator(mode="after")
    def _cross_check(self) -> Survey:
        problems = _duplicates(((("sections", i, "id"), s.id) for i, s in enumerate(self.sections)), "id")
        problems += _duplicates(
            (
                (("sections", i, "items", j, "id"), item.id)
                for i, section in enumerate(self.sections)
                for j, item in enumerate(section.items)
            ),
            "item id",
        )
        item_ids = [item.id for item in self.items()]
        if self.overall_item not in item_ids:
            problems.append(
                Problem(
                    ("overall_item",),
                    f"no survey item has id {self.overall_item!r}{_suggest(self.overall_item, item_ids)}",
                )
            )
        if self.google_form is not None:
            known = [*item_ids, *DEMOGRAPHICS, "comment"]
            for key in self.google_form.entries:
                if key not in known:
                    problems.append(
                        Problem(
                            ("google_form", "entries", key), f"no survey item {key!r}{_suggest(key, known)}"
                        )
                    )
            problems += _duplicates(
                ((("google_form", "entries", k), v) for k, v in self.google_form.entries.items()), "entry"
            )
        _raise_if(problems)
        return self

    def items(self) -> list[SurveyItem]:
        """Every rated item, in the form's order."""
        return [item for section in self.sections for item in section.items]

    def item_by_id(self, item_id: str) -> SurveyItem | None:
        return next((item for item in self.items() if item.id == item_id), None)

    def section_of(self, item_id: str) -> SurveySection | None:
        """The section an item belongs to (reports group scores by section)."""
        return next((s for s in self.sections if any(i.id == item_id for i in s.items)), None)


# ----------------------------------------------------------------------------------------------- devices

_COUNTER_ROLES = (DeviceRole.counter, DeviceRole.survey, DeviceRole.display)


class Device(StrictModel):
    """A device of the office; its id is also its MQTT username (broker_config/)."""

    id: DeviceId = Field(description="Device id: lowercase letters, digits, '-'; also its MQTT username.")
    role: DeviceRole = Field(description="kiosk, display, counter, survey or server.")
    name_th: Text = Field(description="Name in Thai, e.g. ตู้กดบัตรคิว 1.")
    name_en: Text = Field(description="Name in English, e.g. Kiosk 1.")
    counter: CounterId | None = Field(
        None,
        description="Counter id this device belongs to: required for counter terminals, optional for "
        "survey tablets and displays at a counter.",
    )
    offline_series: str | None = Field(
        None,
        pattern=PREFIX_PATTERN,
        description="Kiosks: one capital letter for numbers issued while the server is away (AX05); "
        "without it the kiosk issues no ticket offline.",
    )
    printer: PrinterConfig = Field(default_factory=PrinterConfig, description="Ticket printer (kiosks).")

    @model_validator(mode="after")
    def _fits_role(self) -> Device:
        problems: list[Problem] = []
        if self.role is DeviceRole.counter and self.counter is None:
            problems.append(Problem(("counter",), "a counter terminal needs the id of its counter"))
        if self.counter is not None and self.role not in _COUNTER_ROLES:
            problems.append(Problem(("counter",), f"a {self.role.value} device is not bound to a counter"))
        if self.offline_series is not None and self.role is not DeviceRole.kiosk:
            problems.append(Problem(("offline_series",), "only a kiosk issues offline numbers"))
        p = self.printer
        needed: dict[str, list[tuple[str, object]]] = {
            "network": [("host", p.host)],
            "usb": [("usb_vendor_id", p.usb_vendor_id), ("usb_product_id", p.usb_product_id)],
            "serial": [("serial_device", p.serial_device)],
            "file": [("path", p.path)],
        }
        for key, value in needed.get(p.kind, []):
            if value is None:
                problems.append(Problem(("printer", key), f"required for a printer of kind {p.kind!r}"))
        _raise_if(problems)
        return self


# ------------------------------------------------------------------------------------------------- queue


class QueuePolicy(StrictModel):
    """How the queue behaves: no-shows, fairness, end of day, hours and holidays."""

    max_calls_before_no_show: int = Field(
        3, ge=1, le=10, description="A ticket called this many times without answer becomes a no-show."
    )
    priority_streak_limit: int = Field(
        3,
        ge=1,
        le=50,
        description="After this many priority tickets in a row at a counter, the oldest normal ticket "
        "is called next, so normal tickets are never starved.",
    )
    end_of_day: Literal["cancel", "keep"] = Field(
        "cancel",
        description="Tickets still waiting at the end of the business day: cancel them, or keep them "
        "waiting for the next day.",
    )
    issuing_hours: WeeklyHours = Field(
        default_factory=WeeklyHours,
        description="When new tickets can be taken; days left out: Mon-Fri 08:30-16:00, weekends closed.",
    )
    holidays: tuple[Holiday, ...] = Field((), description="Days without tickets (public holidays).")
    kiosk_reply_timeout_s: float = Field(
        2.0,
        gt=0,
        le=30,
        description="A kiosk waits this long for the server's reply before it issues an offline ticket.",
    )
    wait_estimate_window: int = Field(
        20, ge=1, le=500, description="Estimated waits use the last N service times of the service."
    )

    @model_validator(mode="after")
    def _unique_holidays(self) -> QueuePolicy:
        _raise_if(
            _duplicates(((("holidays", i, "date"), h.date) for i, h in enumerate(self.holidays)), "date")
        )
        return self

    def holiday_on(self, day: dt.date) -> Holiday | None:
        return next((h for h in self.holidays if h.date == day), None)

    def issuing_window(self, day: dt.date, service: Service | None = None) -> tuple[dt.time, dt.time] | None:
        """(open, close) local times for new tickets on `day` (of `service`, when it has its own
        hours), or None when the office issues none that day (weekend, holiday, closed)."""
        if self.holiday_on(day) is not None:
            return None
        weekday = day.weekday()
        hours = None
        if service is not None and service.hours is not None:
            hours = service.hours.on(weekday)
        if hours is None:
            hours = self.issuing_hours.on(weekday)
        if hours is None:
            hours = standard_hours(weekday)
        return hours.window()


# -------------------------------------------------------------------------------------------- retention


class RetentionPolicy(StrictModel):
    """How long records that say something about people are kept (PDPA: keep no longer than needed).
    `khiu admin purge` applies it; the daily maintenance timer (deploy/) runs that command."""

    comments_days: int = Field(
        365,
        ge=1,
        le=3650,
        description="Free-text survey comments are erased after this many days; the ratings stay "
        "(reports need them).",
    )
    audit_days: int = Field(
        730,
        ge=90,
        le=3650,
        description="Audit log entries (who did what in the console and administration, from where) are "
        "deleted after this many days; at least 90 (the Computer Crime Act keeps traffic data that long).",
    )
    events_days: int = Field(
        90,
        ge=30,
        le=3650,
        description="Stored replies of applied requests are deleted after this many days. A device resends "
        "an unanswered request with its first id; within this window the resend gets the same answer, so "
        "keep it well beyond the longest a device may stay switched off.",
    )


# ------------------------------------------------------------------------------------------------ office


class OfficeConfig(StrictModel):
    """Everything one office is: read from one TOML file at start and checked as a whole."""

    office: Office = Field(description="Who the office is.")
    services: tuple[Service, ...] = Field(min_length=1, description="Services citizens can queue for.")
    counters: tuple[Counter, ...] = Field(min_length=1, description="The service counters.")
    survey: Survey = Field(description="The satisfaction form.")
    devices: tuple[Device, ...] = Field((), description="Kiosks, displays, counter terminals, tablets.")
    queue: QueuePolicy = Field(default_factory=QueuePolicy, description="Queue behaviour and hours.")
    retention: RetentionPolicy = Field(
        default_factory=RetentionPolicy,
        description="How long comments, the audit log and stored replies are kept.",
    )

    @model_validator(mode="after")
    def _cross_check(self) -> OfficeConfig:
        services = list(enumerate(self.services))
        problems = _duplicates(((("services", i, "code"), s.code) for i, s in services), "code")
        problems += _duplicates(((("services", i, "prefix"), s.prefix) for i, s in services), "prefix")

        counters = list(enumerate(self.counters))
        problems += _duplicates(((("counters", i, "id"), c.id) for i, c in counters), "id")
        problems += _duplicates(((("counters", i, "number"), c.number) for i, c in counters), "number")
        codes = [s.code for s in self.services]
        for i, counter in counters:
            problems += _duplicates(
                ((("counters", i, "services", j), code) for j, code in enumerate(counter.services)), "service"
            )
            for j, code in enumerate(counter.services):
                if code not in codes:
                    problems.append(
                        Problem(
                            ("counters", i, "services", j),
                            f"no service has code {code!r}{_suggest(code, codes)}",
                        )
                    )
        served = {code for c in self.counters for code in c.services}
        for i, service in services:
            if service.enabled and service.code not in served:
                problems.append(
                    Problem(
                        ("services", i, "code"),
                        f"service {service.code!r} is enabled but no counter serves it",
                    )
                )

        devices = list(enumerate(self.devices))
        problems += _duplicates(((("devices", i, "id"), d.id) for i, d in devices), "id")
        counter_ids = [c.id for c in self.counters]
        prefixes = {s.prefix: i for i, s in services}
        series = [(i, d.offline_series) for i, d in devices if d.offline_series is not None]
        problems += _duplicates(((("devices", i, "offline_series"), s) for i, s in series), "offline series")
        for i, device in devices:
            if device.counter is not None and device.counter not in counter_ids:
                problems.append(
                    Problem(
                        ("devices", i, "counter"),
                        f"no counter has id {device.counter!r}{_suggest(device.counter, counter_ids)}",
                    )
                )
            if device.offline_series is not None and device.offline_series in prefixes:
                problems.append(
                    Problem(
                        ("devices", i, "offline_series"),
                        f"{device.offline_series!r} is already the prefix of "
                        f"services[{prefixes[device.offline_series]}]; an offline series must differ "
                        "from every service prefix",
                    )
                )
        _raise_if(problems)
        return self

    # Lookups. Offices have tens of services and counters: a scan is as fast as a dict and never stale.

    def service_by_code(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)

    def service_by_prefix(self, prefix: str) -> Service | None:
        """The service whose tickets start with this letter (A012 -> the service with prefix A)."""
        return next((s for s in self.services if s.prefix == prefix), None)

    def enabled_services(self) -> list[Service]:
        """Services offered on the kiosk, in the file's order."""
        return [s for s in self.services if s.enabled]

    def counter_by_id(self, counter_id: str) -> Counter | None:
        return next((c for c in self.counters if c.id == counter_id), None)

    def counter_by_number(self, number: int) -> Counter | None:
        return next((c for c in self.counters if c.number == number), None)

    def services_for_counter(self, counter_id: str) -> list[Service]:
        """The services a counter calls, in the counter's order (disabled ones included: tickets
        issued before a service was disabled must still be served). Empty for an unknown counter."""
        counter = self.counter_by_id(counter_id)
        if counter is None:
            return []
        by_code = {s.code: s for s in self.services}
        return [by_code[code] for code in counter.services]

    def counters_for_service(self, code: str) -> list[Counter]:
        """The counters that call this service (the estimated wait divides by the open ones)."""
        return [c for c in self.counters if code in c.services]

    def device_by_id(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def devices_with_role(self, role: DeviceRole) -> list[Device]:
        return [d for d in self.devices if d.role is role]


# ------------------------------------------------------------------------------------------------ loading


class ConfigError(Exception):
    """The office file cannot be used. The message has one line per problem, each naming the file and
    the key path: `office.toml: services[3].prefix: must be one capital Latin letter A-Z (got 'AB')`."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


def load_config(path: str | os.PathLike[str]) -> OfficeConfig:
    """Read and check an office TOML file. Raises ConfigError (never a raw traceback) on any problem."""
    source = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(source, [f"not UTF-8 text (line {line}): save the file as UTF-8"]) from None
    config = config_from_toml(text, source=source)
    logger.info(
        "office %s from %s: %d services, %d counters, %d devices",
        config.office.id,
        source,
        len(config.services),
        len(config.counters),
        len(config.devices),
    )
    return config


def config_from_toml(text: str, *, source: str = "<config>") -> OfficeConfig:
    """Check TOML text (an upload, an editor's buffer) the way `load_config` checks a file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"TOML syntax error: {exc}"]) from None
    return config_from_dict(data, source=source)


def config_from_dict(data: Mapping[str, Any], *, source: str = "<config>") -> OfficeConfig:
    """Check already parsed data; problems are reported with their key paths."""
    try:
        return OfficeConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(source, _explain(exc, data)) from None


# --------------------------------------------------------------------------------------- error messages

_PATTERN_HINTS: dict[str, str] = {
    PREFIX_PATTERN: "must be one capital Latin letter A-Z",
    SERVICE_CODE_PATTERN: "must be 1-40 lowercase Latin letters, digits, '_' or '-'",
    SITE_ID_PATTERN: "must be 1-64 lowercase Latin letters, digits or '-'",
    DEVICE_ID_PATTERN: "must be 1-64 lowercase Latin letters, digits or '-'",
    COUNTER_ID_PATTERN: "must be 1-32 lowercase Latin letters, digits or '-'",
    ITEM_ID_PATTERN: "must be 1-40 lowercase Latin letters, digits, '_', '.' or '-'",
    GOOGLE_FORM_ENTRY_PATTERN: "must be a Google Form field id like entry.123456789",
    GOOGLE_FORM_URL_PATTERN: "must be a Google Form address starting https://docs.google.com/forms/",
    PUBLIC_URL_PATTERN: "must be an address like http://192.168.1.10:8000 (http:// or https://)",
}

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key_path(loc: Loc) -> str:
    """("services", 3, "prefix") -> `services[3].prefix`; keys that are not bare TOML keys are quoted."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if _BARE_KEY.match(part) else '"' + part.replace('"', '\\"') + '"'
            out += f".{key}" if out else key
    return out or "(top level)"


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _explain(exc: ValidationError, data: Mapping[str, Any]) -> list[str]:
    """One line per problem: `key.path: what is wrong (got value)`."""
    lines: list[str] = []
    errors = exc.errors()
    for error in errors:
        loc: Loc = tuple(error["loc"])
        if error["type"] == "too_short" and any(
            len(e["loc"]) > len(loc) and e["loc"][: len(loc)] == loc for e in errors
        ):
            continue  # "at least 1 item after validation" only echoes a bad item reported on its own
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, CrossCheckError):
            for problem in cause.problems:
                lines.append(_line(loc + problem.loc, describe(problem, loc), data))
            continue
        lines.append(_line(loc, _message(error, loc), data))
    return lines


def _message(error: Mapping[str, Any], loc: Loc) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        known = _field_names(loc[:-1])
        return f"unknown key {loc[-1]!r}{_suggest(str(loc[-1]), known)}"
    if kind == "missing":
        return "required key is missing"
    if kind == "value_error" and "error" in ctx:
        msg = str(ctx["error"])
    elif kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERN_HINTS:
        msg = _PATTERN_HINTS[ctx["pattern"]]
    else:
        msg = str(error["msg"])
    if isinstance(value, str | int | float | dt.date | dt.time):
        msg += f" (got {_show(value)})"
    return msg


def _show(value: Any) -> str:
    """A value as it would be written in TOML, shortened."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _line(loc: Loc, msg: str, data: Mapping[str, Any]) -> str:
    return f"{key_path(loc)}: {msg}{_whose(loc, data)}"


def _whose(loc: Loc, data: Mapping[str, Any]) -> str:
    """`services[3]` means little in a long file: say which entry it is by its code or id."""
    node: Any = data
    label = ""
    for i, part in enumerate(loc[:-1] if loc else ()):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and isinstance(node, dict):
            for name in ("code", "id", "date"):
                if isinstance(node.get(name), str | dt.date) and loc[i + 1 :] != (name,):
                    label = f" [{key_path(loc[: i + 1])} is {name} = {str(node[name])!r}]"
                    break
    return label


def _field_names(loc: Loc) -> list[str]:
    """The keys a table at `loc` may have, to suggest the one a typo meant."""
    annotation: Any = OfficeConfig
    for part in loc:
        model = _model_in(annotation)
        if isinstance(part, str):
            if model is None or part not in model.model_fields:
                return []
            annotation = model.model_fields[part].annotation
        else:
            annotation = _item_type(annotation)
    model = _model_in(annotation)
    return list(model.model_fields) if model is not None else []


def _item_type(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (tuple, list) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is not type(None):
                return _item_type(arg)
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class in `X`, `X | None` or `Annotated[X, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
