"""Decode never raises: every kind of bad payload gets a reason; good messages round-trip."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from common.contract import (
    MAX_PAYLOAD_BYTES,
    CounterCommand,
    DecodeFailure,
    SurveyResponse,
    TicketOffline,
    TicketRequest,
    decode,
)
from common.topics import Topics, parse_inbound
from common.vocabulary import CounterAction, Priority

GOOD_ID = "0c6f0d6e-6d3c-4e43-9a55-5d1b6b7d5e10"


def envelope(type_: str, **fields: object) -> dict[str, object]:
    return {"type": type_, "v": 1, "id": GOOD_ID, "ts": "2026-11-26T03:04:05Z", **fields}


def as_bytes(obj: object) -> bytes:
    return json.dumps(obj).encode()


BAD_PAYLOADS = [
    ("too_large", b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", None),
    ("not_json", b"\xff\xfe not utf-8", None),
    ("not_json", b'{"type": "ticket.request", ', None),
    ("not_json", b"[" * 100_000 + b"]" * 100_000, None),
    ("not_object", b"[1, 2, 3]", None),
    ("not_object", b'"ticket.request"', None),
    ("invalid", as_bytes({"v": 1, "id": GOOD_ID}), GOOD_ID),
    ("unknown_type", as_bytes(envelope("ticket.steal")), GOOD_ID),
    ("unknown_version", as_bytes({**envelope("ticket.request", service="x"), "v": 2}), GOOD_ID),
    (
        "unknown_version",
        as_bytes({k: v for k, v in envelope("ticket.request", service="x").items() if k != "v"}),
        GOOD_ID,
    ),
    ("invalid", as_bytes(envelope("ticket.request")), GOOD_ID),  # no service
    ("invalid", as_bytes(envelope("ticket.request", service="x", priority="vip")), GOOD_ID),
    ("invalid", as_bytes(envelope("ticket.request", service="../etc")), GOOD_ID),
    ("invalid", as_bytes({**envelope("ticket.request", service="x"), "id": "not-a-uuid"}), None),
    ("invalid", as_bytes({**envelope("ticket.request", service="x"), "ts": "2026-11-26T03:04:05"}), GOOD_ID),
    ("invalid", as_bytes(envelope("survey.response", ticket="A012", answers={"q1": 6})), GOOD_ID),
    ("invalid", as_bytes(envelope("survey.response", ticket="A012", answers={})), GOOD_ID),
    ("invalid", as_bytes(envelope("survey.response", ticket="robert'); drop", answers={"q1": 5})), GOOD_ID),
    ("invalid", as_bytes(envelope("counter.command", action="complete")), GOOD_ID),
    ("invalid", as_bytes(envelope("counter.command", action="transfer", ticket="A001")), GOOD_ID),
    ("invalid", as_bytes(envelope("counter.command", action="explode")), GOOD_ID),
    (
        "invalid",
        as_bytes({k: v for k, v in envelope("ticket.request", service="x").items() if k != "id"}),
        None,
    ),
    (
        "invalid",
        as_bytes({k: v for k, v in envelope("ticket.request", service="x").items() if k != "ts"}),
        GOOD_ID,
    ),
    ("invalid", as_bytes(envelope("counter.command", action="open", staff="somchai\u0000")), GOOD_ID),
]


@pytest.mark.parametrize(("code", "payload", "readable_id"), BAD_PAYLOADS)
def test_bad_payload_is_refused_with_a_reason(code: str, payload: bytes, readable_id: str | None) -> None:
    result = decode(payload)
    assert isinstance(result, DecodeFailure)
    assert result.code == code
    assert result.reason
    assert result.message_id == (uuid.UUID(readable_id) if readable_id else None)


def test_expect_limits_types_per_topic() -> None:
    payload = as_bytes(
        envelope(
            "board.call",
            number="A001",
            counter="c1",
            counter_number=1,
            counter_name_th="ช่อง 1",
            counter_name_en="Counter 1",
            service="x",
        )
    )
    result = decode(payload, expect=(TicketRequest,))
    assert isinstance(result, DecodeFailure) and result.code == "wrong_type"


def test_round_trip_keeps_every_field_and_extras() -> None:
    message = TicketOffline(
        service="elderly_allowance",
        priority=Priority.elderly,
        number="AX05",
        issued_at=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
    )
    again = decode(message.encode())
    assert again == message
    extra = decode(as_bytes(envelope("ticket.request", service="x", from_the_future=True)))
    assert isinstance(extra, TicketRequest) and extra.model_extra == {"from_the_future": True}


def test_timestamps_are_utc_rfc3339() -> None:
    message = decode(as_bytes({**envelope("ticket.request", service="x"), "ts": "2026-11-26T10:04:05+07:00"}))
    assert isinstance(message, TicketRequest)
    assert json.loads(message.encode())["ts"] == "2026-11-26T03:04:05Z"


def test_command_fields_follow_the_action() -> None:
    ok = CounterCommand(action=CounterAction.transfer, to_service="tax")
    assert ok.to_service == "tax"
    assert SurveyResponse(ticket="A012", answers={"staff.polite": 5}).channel == "terminal"


def test_topics_build_and_parse() -> None:
    t = Topics("nong-bua")
    assert t.ticket_request("kiosk-1") == "khiu/nong-bua/kiosk/kiosk-1/ticket/request"
    parsed = parse_inbound(t.counter_command("c2"))
    assert parsed is not None and (parsed.kind, parsed.sender) == ("counter.command", "c2")
    assert parse_inbound("khiu/nong-bua/kiosk/kiosk-1/ticket/reply") is None
    with pytest.raises(ValueError):
        t.ticket_request("kiosk/+")
