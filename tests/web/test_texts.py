"""Every string a page asks for exists in Thai and English: a missing key would be an error page at a
counter, not a blank."""

from __future__ import annotations

import re
from pathlib import Path

from common.vocabulary import CounterAction
from server.web.accounts import Role
from server.web.app import TEMPLATE_DIR
from server.web.port import CaseStatus
from server.web.texts import OUTCOME_TEXTS, PRIORITY_TEXTS, STATE_TEXTS, TEXTS

THAI = re.compile(r"[\u0E00-\u0E7F]")
SOURCES = [*TEMPLATE_DIR.glob("*.html"), *Path(TEMPLATE_DIR.parent, "routes").glob("*.py")]


def test_every_key_used_by_pages_and_routes_exists() -> None:
    used: set[str] = set()
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", source))
        used |= set(
            re.findall(r"""(?:flash|text)\([^)]*?["'](?:ok|error)["'],\s*["']([a-z_]+)["']""", source)
        )
    missing = sorted(
        k for k in used if k not in TEXTS and not k.startswith("role_") and not k.startswith("case_")
    )
    assert not missing, f"keys used but not in server/web/texts.py: {missing}"
    assert len(used) > 60, "the scan found the pages' keys"


def test_every_string_has_thai_and_english() -> None:
    for key, (th, en) in {**TEXTS, **{str(k): v for k, v in PRIORITY_TEXTS.items()}}.items():
        assert th.strip() and en.strip(), key
        if key not in ("console_title", "switch_lang"):
            assert THAI.search(th), f"{key}: the Thai text has no Thai"
            assert not THAI.search(en), f"{key}: the English text has Thai"
    for table in (OUTCOME_TEXTS, STATE_TEXTS):
        for th, en in table.values():
            assert THAI.search(th) and not THAI.search(en)


def test_labels_exist_for_every_role_case_status_and_counter_action() -> None:
    for role in Role:
        assert f"role_{role.value}" in TEXTS
    for status in CaseStatus:
        assert f"case_{status.value}" in TEXTS
    for action in CounterAction:
        assert f"did_{action.value}" in TEXTS, "the console confirms every action in words"
