"""Hypothesis strategies for hostile input: JSON of every shape, text that breaks naive code, valid
messages of the contract with a few fields broken, and payloads that are not JSON at all."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from common.contract import MAX_PAYLOAD_BYTES

NASTY_TEXT = (
    "",
    " ",
    "\u0000",
    "\ud800",
    "'; DROP TABLE tickets; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://127.0.0.1/x}",
    "%s%s%s%n",
    "../../etc/passwd",
    "A001",
    "AX01",
    "A0001",
    "a" * 201,
    "ก" * 1001,
    "น้ำ",
    "🙂" * 50,
    "null",
    "NaN",
    "\r\nSet-Cookie: x=1",
    "c1/../c2",
    "+",
    "#",
)
"""Strings that have broken systems before: SQL and template injection, log forging, paths, limits."""

texts = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=60), st.text(max_size=1200))
"""Free text as a hostile sender writes it (the valid messages' own text fields are drawn from this)."""

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)

json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=12,
)

MESSAGE_TYPES = (
    "ticket.request",
    "ticket.offline",
    "ticket.issued",
    "survey.response",
    "counter.command",
    "counter.result",
    "device.status",
    "board.state",
    "catalog",
)


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], *, keep_valid: float = 0.3) -> dict[str, Any]:
    """`base` with one to four fields dropped, replaced by junk, retyped, or junk fields added; sometimes
    unchanged (so the valid path runs between the broken ones)."""
    message = dict(base)
    if draw(st.floats(0, 1)) < keep_valid:
        return message
    keys = sorted(message)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("drop", "junk", "junk", "extra", "type", "v", "id", "ts")))
        if kind == "drop" and keys:
            message.pop(draw(st.sampled_from(keys)), None)
        elif kind == "junk" and keys:
            message[draw(st.sampled_from(keys))] = draw(json_values)
        elif kind == "extra":
            message[draw(st.text(max_size=20))] = draw(json_values)
        elif kind == "type":
            message["type"] = draw(st.one_of(st.sampled_from(MESSAGE_TYPES), json_values))
        elif kind == "v":
            message["v"] = draw(st.one_of(st.sampled_from((0, 2, "1", 1.0, True, None)), json_values))
        elif kind == "id":
            message["id"] = draw(
                st.one_of(
                    st.sampled_from(("", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "{}", 1)),
                    st.uuids().map(lambda u: u.hex),
                    st.uuids().map(lambda u: "urn:uuid:" + str(u)),
                    json_values,
                )
            )
        elif kind == "ts":
            message["ts"] = draw(
                st.one_of(
                    st.sampled_from(("2026-11-26T03:00:00", "2026-13-40T99:00:00Z", "yesterday", "")),
                    st.datetimes().map(lambda d: d.isoformat()),
                    json_values,
                )
            )
    return message


@st.composite
def encoded(draw: st.DrawFn, message: Any) -> bytes:
    """JSON bytes of `message`, sometimes with a byte-order mark, trailing junk, or cut short."""
    text = json.dumps(message, ensure_ascii=draw(st.booleans()), allow_nan=True)
    raw = text.encode("utf-8", "surrogatepass")
    twist = draw(st.sampled_from(("plain", "plain", "plain", "bom", "trailing", "cut")))
    if twist == "bom":
        return b"\xef\xbb\xbf" + raw
    if twist == "trailing":
        return raw + draw(st.binary(min_size=1, max_size=8))
    if twist == "cut" and len(raw) > 2:
        return raw[: draw(st.integers(1, len(raw) - 1))]
    return raw


def oversized(base: dict[str, Any]) -> bytes:
    """A valid-looking message just past the size limit."""
    message = dict(base, padding="x" * MAX_PAYLOAD_BYTES)
    return json.dumps(message).encode()


raw_payloads = st.one_of(
    st.binary(max_size=600),
    st.sampled_from(
        (
            b"",
            b"null",
            b"[]",
            b"42",
            b'"ticket.request"',
            b"NaN",
            b"[" * 50_000 + b"]" * 50_000,
            b'{"type": "ticket.request", "type": "counter.command", "v": 1}',
            b'{"type": "ticket.request", "v": 1, "id": "' + b"\xff" * 4 + b'"}',
            b"\xff\xfe{\x00}\x00",
        )
    ),
    json_values.map(lambda v: json.dumps(v).encode()),
)
"""Payloads that are not a message: bytes, JSON that is not an object, nesting past any parser's limit."""
