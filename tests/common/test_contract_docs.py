"""docs/mqtt.md is the human reference of the contract: every example must be a valid message, and every
message type must have one."""

from __future__ import annotations

import json
import re
from pathlib import Path

from common.contract import MESSAGE_TYPES, REJECTIONS, DecodeFailure, decode
from common.topics import Topics

DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt.md"


def _examples() -> list[str]:
    return re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_every_example_decodes() -> None:
    examples = _examples()
    assert examples, "docs/mqtt.md has no JSON examples"
    for text in examples:
        message = decode(text.encode())
        assert not isinstance(message, DecodeFailure), f"{message.reason}\n{text[:200]}"
        # The example has exactly the fields the code sends: none only the doc knows about, none missing.
        assert not message.model_extra, f"fields unknown to the code: {message.model_extra}"
        assert json.loads(message.encode()).keys() == json.loads(text).keys()


def test_every_message_type_is_documented() -> None:
    documented = {json.loads(text)["type"] for text in _examples()}
    missing = set(MESSAGE_TYPES) - documented
    assert not missing, f"message types without an example in docs/mqtt.md: {sorted(missing)}"


def test_every_topic_is_in_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    t = Topics("site")
    built = [
        t.catalog(),
        t.ticket_request("the-kiosk"),
        t.ticket_offline("the-kiosk"),
        t.ticket_reply("the-kiosk"),
        t.survey_response("the-terminal"),
        t.survey_reply("the-terminal"),
        t.counter_command("the-counter"),
        t.counter_reply("the-counter"),
        t.counter_state("the-counter"),
        t.board_state(),
        t.board_call(),
        t.device_status("the-device"),
        t.server_status(),
    ]
    for topic in built:
        documented = topic.replace("/site/", "/{site}/", 1)
        for name in ("kiosk", "terminal", "counter", "device"):
            documented = documented.replace(f"the-{name}", f"{{{name}}}")
        assert f"| `{documented}` |" in text, f"topic {documented} is not in the table of docs/mqtt.md"


def test_every_rejection_code_is_in_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [code for code in REJECTIONS if f"| `{code}` |" not in text]
    assert not missing, f"rejection codes missing from docs/mqtt.md: {missing}"
