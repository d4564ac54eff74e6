"""The benchmark's bare MQTT kiosks (bench/bare.py) speak enough MQTT 5 to take tickets through the real
broker and server, and fail loudly on anything else; the round trip never times a refusal."""

from __future__ import annotations

import dataclasses
import re
import socket
import uuid
from pathlib import Path

import pytest

from bench import bare
from bench.bench_ticket_round_trip import issued_numbers
from bench.clients import Answer
from bench.harness import start_office
from bench.responder import canned_reply
from common.contract import TicketIssued, TicketRejected
from server.simulation.summary import numbering_problems


def test_packets_are_framed_across_reads_and_long_lengths() -> None:
    left, right = socket.socketpair()
    try:
        kiosk = bare.BareKiosk("kiosk-1", left, b"", ("x",))
        long_body = bytes(range(256)) * 80  # 20,480 bytes: a three-byte length
        stream = bare._packet(0x30, b"ab") + bare._packet(0x40, long_body)
        kiosk.buffer = stream[:3]
        assert kiosk.packets() == []
        kiosk.buffer += stream[3:5000]
        assert kiosk.packets() == [(0x30, b"ab")]
        kiosk.buffer += stream[5000:]
        assert kiosk.packets() == [(0x40, long_body)]
        assert kiosk.buffer == b""
    finally:
        left.close()
        right.close()


@pytest.mark.broker
def test_bare_kiosks_take_gapless_tickets_and_a_wrong_password_is_refused(tmp_path: Path) -> None:
    with start_office(tmp_path, kiosks=3) as office:
        assert office.catalog is not None
        services = [s.code for s in office.catalog.services if s.accepting]
        kiosks = [bare.connect(office, f"kiosk-{i}", services, i) for i in (1, 2, 3)]
        try:
            bare.closed_loop(kiosks, 0.3)
        finally:
            bare.close(kiosks)
        numbers = [n for k in kiosks for n in k.numbers]
        assert len(numbers) == sum(len(k.latencies_ms) for k in kiosks) > 3
        assert numbering_problems(numbers) == []
        # The services in turn, as a fleet of kiosk links takes them: several prefixes.
        assert len({n[0] for n in numbers}) > 3
        assert all(not k.sent for k in kiosks)

        wrong = dataclasses.replace(office, passwords={**office.passwords, "kiosk-1": "not-its-password"})
        with pytest.raises(bare.BareProtocolError, match="refused the connection"):
            bare.connect(wrong, "kiosk-1", services)

        refused = bare.connect(office, "kiosk-2", ["no-such-service"])
        try:
            with pytest.raises(bare.BareProtocolError, match=r"refused a ticket \(unknown_service\)"):
                bare.closed_loop([refused], 0.3)
        finally:
            bare.close([refused])


def test_a_round_trip_refused_by_the_server_is_not_timed() -> None:
    issued = TicketIssued.model_validate(canned_reply("elderly-allowance"))  # number A001
    refused = TicketRejected(
        request_id=uuid.uuid4(), code="daily_cap_reached", message_th="หมด", message_en="Run out."
    )
    assert issued_numbers([Answer(issued, 1.0)]) == ["A001"]
    with pytest.raises(RuntimeError, match=re.escape("refused 2 requests: {'daily_cap_reached': 2}")):
        issued_numbers([Answer(issued, 1.0), Answer(refused, 0.5), Answer(refused, 0.5)])
