"""An office file for simulations, tests and benchmarks: the example office (or another), renamed to the
broker's site, taking tickets at any hour of any day (a demo or a benchmark runs at night and on
Sundays too), without daily caps, listing the devices that will play it."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomli_w

from common.paths import EXAMPLE_CONFIG

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def always_open_office(
    *,
    site: str,
    base: Path = EXAMPLE_CONFIG,
    counters: int | None = None,
    kiosks: Sequence[str] = (),
    counter_terminals: Mapping[str, str] | None = None,
    surveys: Sequence[str] = (),
    displays: Sequence[str] = (),
) -> dict[str, Any]:
    """The office of `base` as TOML data, open all day every day. With `counters`, the counter list is
    cut or extended to that many (extra counters c5, c6, ... repeat the first ones' services).
    `counter_terminals` maps terminal device ids to counter ids."""
    raw: dict[str, Any] = tomllib.loads(base.read_text("utf-8"))
    raw["office"]["id"] = site
    for service in raw["services"]:
        service.pop("hours", None)
        service.pop("daily_cap", None)
    if counters is not None:
        base_counters = list(raw["counters"])
        raw["counters"] = base_counters[:counters]
        while len(raw["counters"]) < counters:
            n = len(raw["counters"]) + 1
            template = base_counters[(n - 1) % len(base_counters)]
            raw["counters"].append(
                {
                    "id": f"c{n}",
                    "name_th": f"ช่องบริการ {n}",
                    "name_en": f"Counter {n}",
                    "number": n,
                    "services": list(template["services"]),
                }
            )
        served = {code for c in raw["counters"] for code in c["services"]}
        for service in raw["services"]:
            if service["code"] not in served:
                service["enabled"] = False
    all_day = {"open": "00:00", "close": "23:59"}
    queue = raw.setdefault("queue", {})
    queue["holidays"] = []
    queue["issuing_hours"] = dict.fromkeys(WEEKDAYS, all_day)
    devices: list[dict[str, Any]] = []
    for i, device in enumerate(kiosks, 1):
        devices.append({"id": device, "role": "kiosk", "name_th": f"ตู้กดบัตรคิว {i}", "name_en": f"Kiosk {i}"})
    for device, counter in (counter_terminals or {}).items():
        devices.append(
            {
                "id": device,
                "role": "counter",
                "name_th": f"เครื่องเรียกคิว {counter}",
                "name_en": f"Terminal of {counter}",
                "counter": counter,
            }
        )
    for i, device in enumerate(surveys, 1):
        devices.append(
            {"id": device, "role": "survey", "name_th": f"แท็บเล็ตประเมิน {i}", "name_en": f"Survey tablet {i}"}
        )
    for i, device in enumerate(displays, 1):
        devices.append({"id": device, "role": "display", "name_th": f"จอแสดงคิว {i}", "name_en": f"Board {i}"})
    raw["devices"] = devices
    return raw


def write_office(path: Path, raw: Mapping[str, Any]) -> Path:
    """Write office TOML data to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(dict(raw)), "utf-8")
    return path
