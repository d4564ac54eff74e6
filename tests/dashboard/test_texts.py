"""Every string the dashboard's pages ask for exists in Thai and English: a missing key would be an error
page in front of a manager, not a blank."""

from __future__ import annotations

import re
from pathlib import Path

from common.vocabulary import DeviceRole, PrinterState
from server.web.dashboard.state import TEMPLATE_DIR
from server.web.dashboard.texts import TEXTS
from server.web.texts import TEXTS as WEB_TEXTS

THAI = re.compile(r"[\u0E00-\u0E7F]")
SOURCES = [
    *TEMPLATE_DIR.glob("*.html"),
    *(p for p in Path(TEMPLATE_DIR.parent).glob("*.py") if p.name != "texts.py"),
]
BUILT_KEYS = ("device_", "printer_", "level_", "quarter_months_", "outcome_", "role_")
"""Keys the templates put together from a value (`"device_" ~ role`): checked one by one below."""


def test_every_key_used_by_the_pages_exists() -> None:
    used: set[str] = set()
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_0-9]+)["']""", source))
        used |= set(
            re.findall(r"""(?:_flash|text)\([^)]*?["'](?:ok|error)["'],\s*["']([a-z_0-9]+)["']""", source)
        )
        used |= set(re.findall(r"""\b(?:key|done_key)\s*=\s*["']([a-z_0-9]+)["']""", source))
    missing = sorted(
        k for k in used if k not in TEXTS and k not in WEB_TEXTS and not k.startswith(BUILT_KEYS)
    )
    assert not missing, f"keys used but in neither catalog: {missing}"
    assert len(used) > 100, "the scan found the pages' keys"


def test_keys_built_from_values_exist() -> None:
    for role in DeviceRole:
        assert f"device_{role.value}" in TEXTS
    for state in PrinterState:
        assert f"printer_{state.value}" in TEXTS
    for level in range(1, 6):
        assert f"level_{level}" in TEXTS
    for quarter in range(1, 5):
        assert f"quarter_months_{quarter}" in TEXTS


def test_every_string_has_thai_and_english() -> None:
    for key, (th, en) in TEXTS.items():
        assert th.strip() and en.strip(), key
        if not key.startswith(("export_", "p90")):
            assert THAI.search(th), f"{key}: the Thai text has no Thai"
        assert not THAI.search(en), f"{key}: the English text has Thai"
