"""paho's MQTT v5 property tables shared by every `Properties` (common/paho_tables.py)."""

from __future__ import annotations

from typing import Any

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import MQTTException, Properties

import common.link  # noqa: F401  (shares the tables on import, as every Khiu process does)
from common.paho_tables import TABLES, share_property_tables


def paho_built(packet_type: int) -> Properties:
    """An instance made by paho's own constructor, tables and all."""
    instance = Properties.__new__(Properties)
    Properties.__init__.__wrapped__(instance, packet_type)  # type: ignore[attr-defined]
    return instance


def test_instances_share_tables_equal_to_what_paho_builds() -> None:
    a, b = Properties(PacketTypes.PUBLISH), Properties(PacketTypes.PUBACK)
    own = paho_built(PacketTypes.PUBACK)
    for name in TABLES:
        assert getattr(a, name) is getattr(b, name)
        assert getattr(b, name) == getattr(own, name)
    assert (a.packetType, b.packetType) == (PacketTypes.PUBLISH, PacketTypes.PUBACK)


def test_properties_pack_unpack_and_validate_as_before() -> None:
    sent = Properties(PacketTypes.PUBLISH)
    sent.UserProperty = ("request", "ticket")
    sent.MessageExpiryInterval = 30
    sent.CorrelationData = b"\x00\x01"
    reference = paho_built(PacketTypes.PUBLISH)
    reference.UserProperty = ("request", "ticket")
    reference.MessageExpiryInterval = 30
    reference.CorrelationData = b"\x00\x01"
    assert sent.pack() == reference.pack()

    received = Properties(PacketTypes.PUBLISH)
    received.unpack(sent.pack())
    assert received.json() == reference.json()
    assert not hasattr(Properties(PacketTypes.PUBLISH), "MessageExpiryInterval")  # nothing leaks
    with pytest.raises(MQTTException):  # validation reads the shared tables
        Properties(PacketTypes.PUBACK).MessageExpiryInterval = 30
    received.clear()
    assert received.isEmpty()


def test_a_paho_that_builds_something_else_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    paho_init: Any = Properties.__init__.__wrapped__  # type: ignore[attr-defined]

    def changed(self: Properties, packetType: int) -> None:
        paho_init(self, packetType)
        object.__setattr__(self, "cache", {})

    monkeypatch.setattr(Properties, "__init__", changed)
    assert share_property_tables() is False
    assert Properties.__init__ is changed
    assert Properties(PacketTypes.PUBLISH).names is not Properties(PacketTypes.PUBLISH).names
