"""A small office for sequencer and MQTT tests: its config, a settable clock, a recording publisher."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from common.config import OfficeConfig, config_from_dict
from common.contract import Message, decode
from server.office import Office
from server.store import Store

SITE = "test-office"
THURSDAY_9AM = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # 09:00 in Bangkok
OFFLINE_SERIES = {f"kiosk-{i}": chr(ord("D") + i - 1) for i in range(1, 13)}
"""Each test kiosk's offline letter (D..O: none is a service prefix)."""


def office_dict(**queue: Any) -> dict[str, Any]:
    services = [
        {
            "code": "reg",
            "prefix": "A",
            "name_th": "ทะเบียนราษฎร",
            "name_en": "Civil registration",
            "group": "citizen",
            "kind": "complete",
            "agency_th": "งานทะเบียน",
            "agency_en": "Registration",
            "standard_minutes": 15,
        },
        {
            "code": "tax",
            "prefix": "B",
            "name_th": "ชำระภาษี",
            "name_en": "Tax payment",
            "group": "local",
            "kind": "complete",
            "agency_th": "กองคลัง",
            "agency_en": "Finance Division",
            "standard_minutes": 10,
            "daily_cap": 500,
        },
        {
            "code": "grant",
            "prefix": "C",
            "name_th": "เงินอุดหนุนเด็กแรกเกิด",
            "name_en": "Newborn child grant",
            "group": "citizen",
            "kind": "forward",
            "agency_th": "กรมกิจการเด็กและเยาวชน",
            "agency_en": "Department of Children and Youth",
            "standard_minutes": 7 * 1440,
        },
    ]
    counters = [
        {
            "id": f"c{i}",
            "number": i,
            "name_th": f"ช่องบริการ {i}",
            "name_en": f"Counter {i}",
            "services": ["reg", "tax", "grant"] if i % 2 else ["reg", "grant"],
        }
        for i in range(1, 13)
    ]
    devices = [
        {"id": d, "role": "kiosk", "name_th": f"ตู้ {d}", "name_en": d, "offline_series": s}
        for d, s in OFFLINE_SERIES.items()
    ]
    devices += [
        {
            "id": f"counter-{i}",
            "role": "counter",
            "name_th": f"เครื่อง {i}",
            "name_en": f"Terminal {i}",
            "counter": f"c{i}",
        }
        for i in range(1, 13)
    ]
    all_day = {"open": "00:00", "close": "23:59"}
    return {
        "office": {
            "id": SITE,
            "name_th": "สำนักงานทดสอบ",
            "name_en": "Test Office",
            "lao_type": "sao",
            "province_th": "ขอนแก่น",
            "district_th": "เมือง",
            "address_th": "1 หมู่ 1",
            "public_url": "http://127.0.0.1:8000",
        },
        "services": services,
        "counters": counters,
        "devices": devices,
        "survey": {
            "overall_item": "result.overall",
            "sections": [
                {
                    "id": "staff",
                    "title_th": "ด้านเจ้าหน้าที่",
                    "title_en": "Staff",
                    "items": [{"id": "staff.polite", "text_th": "สุภาพ", "text_en": "Polite"}],
                },
                {
                    "id": "result",
                    "title_th": "ด้านผลการให้บริการ",
                    "title_en": "Result",
                    "items": [{"id": "result.overall", "text_th": "พึงพอใจโดยรวม", "text_en": "Overall"}],
                },
            ],
            "demographics": {
                "gender": {
                    "label_th": "เพศ",
                    "label_en": "Gender",
                    "options": [
                        {"id": "female", "label_th": "หญิง", "label_en": "Female"},
                        {"id": "male", "label_th": "ชาย", "label_en": "Male"},
                    ],
                }
            },
        },
        "queue": {
            "issuing_hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), all_day),
            **queue,
        },
    }


def office_config(**queue: Any) -> OfficeConfig:
    return config_from_dict(office_dict(**queue))


class FakeClock:
    """The server's clock in a test: moves only when told."""

    def __init__(self, start: dt.datetime = THURSDAY_9AM) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> dt.datetime:
        with self._lock:
            self.now += dt.timedelta(**delta)
            return self.now

    def set(self, moment: dt.datetime) -> None:
        with self._lock:
            self.now = moment


class Recorder:
    """A publisher that keeps everything the office published."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()

    def __call__(self, topic: str, payload: bytes, retain: bool) -> None:
        with self._lock:
            self.sent.append((topic, payload, retain))

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [p for t, p, _ in self.sent if t == topic]

    def messages(self, topic: str) -> list[Message]:
        out = []
        for payload in self.on(topic):
            message = decode(payload)
            assert isinstance(message, Message), message
            out.append(message)
        return out

    def last(self, topic: str) -> Any:
        messages = self.messages(topic)
        assert messages, f"nothing published on {topic}"
        return messages[-1]

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()


def start_office(
    store: Store, config: OfficeConfig | None = None, clock: FakeClock | None = None, **kwargs: Any
) -> tuple[Office, Recorder, FakeClock]:
    recorder = Recorder()
    clock = clock or FakeClock()
    kwargs.setdefault("state_interval_s", 0.0)  # every state at once: tests read them right after
    office = Office(config or office_config(), store, publish=recorder, clock=clock, **kwargs)
    office.start()
    return office, recorder, clock


def barrier(office: Office) -> None:
    """Wait until everything handed to the office before this call has been applied and published."""
    office.call(lambda _connection: None).result(timeout=30)


Publish = Callable[[str, bytes, bool], None]
