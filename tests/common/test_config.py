"""The office file: the shipped example loads and means what it says; every kind of mistake stops the
start with one line naming the file and the exact key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from common.config import (
    ConfigError,
    OfficeConfig,
    config_from_dict,
    config_from_toml,
    load_config,
)
from common.paths import EXAMPLE_CONFIG
from common.vocabulary import DeviceRole, ServiceGroup, ServiceKind

EXAMPLE_TEXT = EXAMPLE_CONFIG.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def example() -> OfficeConfig:
    return load_config(EXAMPLE_CONFIG)


# ------------------------------------------------------------------------------------- the example office


def test_example_says_it_is_an_example_and_where_the_22_services_come_from() -> None:
    header = EXAMPLE_TEXT.split("[office]")[0]
    assert "EXAMPLE" in header and "ตัวอย่าง" in header
    assert "22" in header and "16" in header and "๒๒" in header


def test_example_office_is_a_municipality_with_services_of_every_group_and_kind(
    example: OfficeConfig,
) -> None:
    assert example.office.lao_type == "municipality"
    assert example.office.name_th.startswith("เทศบาลตำบล")
    assert example.office.timezone == "Asia/Bangkok"
    assert {s.group for s in example.services} == set(ServiceGroup)
    assert {s.kind for s in example.services} == set(ServiceKind)
    assert 10 <= len(example.services) <= 14
    elderly = example.service_by_code("elderly-allowance")
    assert elderly is not None and elderly.prefix == "A" and elderly.documents_th
    assert example.service_by_prefix("A") == elderly
    assert all(s.standard_minutes > 0 and s.agency_th and s.agency_en for s in example.services)


def test_example_counters_and_devices(example: OfficeConfig) -> None:
    assert [c.id for c in example.counters] == ["c1", "c2", "c3", "c4"]
    assert [c.number for c in example.counters] == [1, 2, 3, 4]
    counter4 = [s.code for s in example.services_for_counter("c4")]
    assert "job-seeker-registration" in counter4 and "elderly-allowance" in counter4
    assert {c.id for c in example.counters_for_service("elderly-allowance")} == {"c1", "c4"}
    assert example.services_for_counter("nope") == []

    kiosk = example.device_by_id("kiosk-1")
    assert kiosk is not None and kiosk.role is DeviceRole.kiosk
    assert (kiosk.printer.kind, kiosk.printer.host, kiosk.printer.port) == ("network", "127.0.0.1", 9100)
    assert kiosk.offline_series == "X"
    bound = {d.id: d.counter for d in example.devices_with_role(DeviceRole.counter)}
    assert bound == {"counter-1": "c1", "counter-2": "c2", "counter-3": "c3", "counter-4": "c4"}
    assert example.device_by_id("survey-1") is not None
    assert example.device_by_id("display-1") is not None


def test_example_survey_has_the_four_usual_sections_and_an_overall_item(example: OfficeConfig) -> None:
    survey = example.survey
    assert [s.id for s in survey.sections] == ["process", "staff", "facilities", "result"]
    assert survey.sections[0].title_th == "ด้านกระบวนการขั้นตอนการให้บริการ"
    assert all(3 <= len(s.items) <= 4 for s in survey.sections)
    overall = survey.item_by_id(survey.overall_item)
    assert overall is not None and "ภาพรวม" in overall.text_th
    section = survey.section_of(survey.overall_item)
    assert section is not None and section.id == "result"
    assert survey.days_valid == 3
    asked = dict(survey.demographics.questions())
    assert list(asked) == ["gender", "age_band", "education", "occupation"]
    occupations = {c.id for c in asked["occupation"].options}
    assert {
        "civil_servant",
        "private_employee",
        "trader",
        "farmer",
        "labourer",
        "student",
        "other",
    } <= occupations
    assert survey.google_form is not None and not survey.google_form.enabled


def test_example_issuing_hours_weekends_holidays_and_a_service_override(example: OfficeConfig) -> None:
    queue = example.queue
    permit = example.service_by_code("building-permit")
    thursday, friday, saturday = dt.date(2026, 11, 26), dt.date(2026, 11, 27), dt.date(2026, 11, 28)
    assert queue.issuing_window(thursday) == (dt.time(8, 30), dt.time(16, 0))
    assert queue.issuing_window(friday, permit) == (dt.time(8, 30), dt.time(12, 0))
    assert queue.issuing_window(thursday, permit) == (dt.time(8, 30), dt.time(16, 0))
    assert queue.issuing_window(saturday) is None
    constitution_day = dt.date(2026, 12, 10)
    holiday = queue.holiday_on(constitution_day)
    assert holiday is not None and holiday.name_th == "วันรัฐธรรมนูญ"
    assert queue.issuing_window(constitution_day) is None
    assert permit is not None and permit.daily_cap == 30
    assert permit.standard_time == dt.timedelta(days=45)


def test_disabled_service_is_not_offered_but_its_counter_still_knows_it(example: OfficeConfig) -> None:
    offered = {s.code for s in example.enabled_services()}
    assert "water-meter" not in offered and "elderly-allowance" in offered
    assert "water-meter" in {s.code for s in example.services_for_counter("c2")}


def test_defaults_of_a_minimal_office() -> None:
    config = config_from_dict(_minimal())
    queue = config.queue
    assert queue.max_calls_before_no_show == 3
    assert queue.priority_streak_limit == 3
    assert queue.end_of_day == "cancel"
    assert queue.kiosk_reply_timeout_s == 2.0
    assert queue.wait_estimate_window == 20
    monday = dt.date(2026, 11, 23)
    assert queue.issuing_window(monday) == (dt.time(8, 30), dt.time(16, 0))
    assert queue.issuing_window(monday + dt.timedelta(days=6)) is None  # Sunday
    assert config.survey.days_valid == 3
    assert config.devices == ()


def test_loaded_config_cannot_be_changed_by_accident(example: OfficeConfig) -> None:
    with pytest.raises(ValueError):
        example.office.name_th = "x"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------- broken files


def _minimal() -> dict[str, object]:
    return {
        "office": {
            "id": "tiny",
            "name_th": "อบต.ทดสอบ",
            "name_en": "Test SAO",
            "lao_type": "sao",
            "province_th": "ลำปาง",
            "district_th": "เมืองลำปาง",
            "address_th": "1 หมู่ 1",
        },
        "services": [
            {
                "code": "tax",
                "name_th": "ชำระภาษี",
                "name_en": "Pay tax",
                "group": "local",
                "kind": "complete",
                "prefix": "A",
                "agency_th": "กองคลัง",
                "agency_en": "Finance",
                "standard_minutes": 15,
            }
        ],
        "counters": [
            {"id": "c1", "name_th": "ช่อง 1", "name_en": "Counter 1", "number": 1, "services": ["tax"]}
        ],
        "survey": {
            "overall_item": "overall",
            "sections": [
                {
                    "id": "result",
                    "title_th": "ผล",
                    "title_en": "Result",
                    "items": [{"id": "overall", "text_th": "ภาพรวม", "text_en": "Overall"}],
                }
            ],
        },
    }


def _error_for(tmp_path: Path, old: str, new: str) -> str:
    """Load the example with one edit; return the error message (the edit must change the file)."""
    assert old in EXAMPLE_TEXT, old
    path = tmp_path / "office.toml"
    path.write_text(EXAMPLE_TEXT.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "Traceback" not in message
    for line in message.splitlines():
        assert line.startswith(f"{path}: "), line
    return message


BROKEN = [
    pytest.param(
        'prefix = "T"',
        'prefx = "T"',
        ["services[4].prefx: unknown key 'prefx' (did you mean 'prefix'?)", "land-building-tax"],
        id="unknown-key",
    ),
    pytest.param(
        "[office]\nid",
        "[offise]\nid",
        ["offise: unknown key 'offise' (did you mean 'office'?)", "office: required key is missing"],
        id="unknown-table",
    ),
    pytest.param(
        "standard_minutes = 15",
        'standard_minutes = "fast"',
        ["services[4].standard_minutes:", "valid integer", "(got 'fast')"],
        id="wrong-type",
    ),
    pytest.param(
        'prefix = "T"',
        'prefix = "A"',
        ["services[4].prefix: duplicate prefix 'A' (already used at services[0].prefix)"],
        id="duplicate-prefix",
    ),
    pytest.param(
        'prefix = "T"',
        'prefix = "t"',
        ["services[4].prefix: must be one capital Latin letter A-Z (got 't')"],
        id="bad-prefix",
    ),
    pytest.param(
        'services = ["land-building-tax", "water-meter"]',
        'services = ["land-building-tx", "water-meter"]',
        [
            "counters[1].services[0]: no service has code 'land-building-tx'",
            "(did you mean 'land-building-tax'?) [counters[1] is id = 'c2']",
            "services[4].code: service 'land-building-tax' is enabled but no counter serves it",
        ],
        id="counter-missing-service",
    ),
    pytest.param(
        "number = 2\n",
        "number = 2 2\n",
        ["TOML syntax error:", "line", "column"],
        id="toml-syntax",
    ),
    pytest.param(
        'offline_series = "X"',
        'offline_series = "A"',
        ["devices[0].offline_series: 'A' is already the prefix of services[0]"],
        id="offline-series-equals-prefix",
    ),
    pytest.param(
        'counter = "c4"',
        'counter = "c5"',
        ["devices[6].counter: no counter has id 'c5'"],
        id="device-missing-counter",
    ),
    pytest.param(
        'overall_item = "result.overall"',
        'overall_item = "result.overal"',
        ["survey.overall_item: no survey item has id 'result.overal' (did you mean 'result.overall'?)"],
        id="overall-item-missing",
    ),
    pytest.param(
        'sat = "closed"',
        'sat = "shut"',
        ['queue.issuing_hours.sat: write a table { open = "08:30", close = "16:00" } or the string "closed"'],
        id="hours-word",
    ),
    pytest.param(
        'tue = { open = "08:30", close = "16:00" }',
        'tue = { open = "16:30", close = "16:00" }',
        ["queue.issuing_hours.tue.close: closes at 16:00, not after it opens at 16:30"],
        id="hours-order",
    ),
    pytest.param(
        '"gender" = "entry.1000002"',
        '"gender" = "entry.1000001"',
        [
            "survey.google_form.entries.gender: duplicate entry 'entry.1000001'",
            '(already used at survey.google_form.entries."result.overall")',
        ],
        id="google-form-entry-twice",
    ),
    pytest.param(
        "{ date = 2027-04-15,",
        "{ date = 2027-04-14,",
        ["queue.holidays[17].date: duplicate date 2027-04-14 (already used at queue.holidays[16].date)"],
        id="holiday-twice",
    ),
    pytest.param(
        'host = "127.0.0.1"\n',
        "",
        ["devices[0].printer.host: required for a printer of kind 'network'", "kiosk-1"],
        id="printer-without-host",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN)
def test_broken_file_names_the_key(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    message = _error_for(tmp_path, old, new)
    for fragment in expected:
        assert fragment in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=r"nowhere\.toml: cannot read the file"):
        load_config(path)


def test_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "office.toml"
    path.write_bytes(
        EXAMPLE_TEXT.encode("utf-8").replace("ช่องบริการ 3".encode(), "ช่องบริการ 3".encode("tis-620"))
    )
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(line \d+\)"):
        load_config(path)


def test_every_problem_is_reported_at_once() -> None:
    data = _minimal()
    data["services"][0]["prefix"] = "AB"  # type: ignore[index]
    data["services"][0]["standard_minutes"] = 0  # type: ignore[index]
    data["counters"][0]["numbr"] = 2  # type: ignore[index]
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, source="office.toml")
    assert caught.value.problems == [
        "services[0].prefix: must be one capital Latin letter A-Z (got 'AB') [services[0] is code = 'tax']",
        "services[0].standard_minutes: Input should be greater than 0 (got 0) [services[0] is code = 'tax']",
        "counters[0].numbr: unknown key 'numbr' (did you mean 'number'?) [counters[0] is id = 'c1']",
    ]
    assert str(caught.value).splitlines()[0].startswith("office.toml: services[0].prefix:")


def test_kiosk_only_options_and_counter_binding_follow_the_role() -> None:
    data = _minimal()
    data["devices"] = [
        {"id": "board", "role": "display", "name_th": "จอ", "name_en": "Board", "offline_series": "Z"},
        {"id": "desk", "role": "counter", "name_th": "ช่อง", "name_en": "Desk"},
        {"id": "kiosk", "role": "kiosk", "name_th": "ตู้", "name_en": "Kiosk", "counter": "c1"},
    ]
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data)
    problems = "\n".join(caught.value.problems)
    assert "devices[0].offline_series: only a kiosk issues offline numbers" in problems
    assert "devices[1].counter: a counter terminal needs the id of its counter" in problems
    assert "devices[2].counter: a kiosk device is not bound to a counter" in problems


def test_toml_text_is_checked_like_a_file() -> None:
    with pytest.raises(ConfigError, match=r"^upload: TOML syntax error: .*line 2, column 15"):
        config_from_toml('[office]\nname_th = "x" "y"\n', source="upload")
