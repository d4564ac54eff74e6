"""One set of MQTT v5 property tables for every `paho.mqtt.properties.Properties`.

paho-mqtt (2.2.0, the latest release) builds its tables of property names, value types and the
packets each property applies to afresh in every `Properties(...)`: three containers and some forty
list lookups, about 7 µs on a 2-core build machine (0.55 µs shared). In MQTT v5 it makes one for every
PUBLISH and every PUBACK it receives, so a ticket's round trip (the request and its PUBACK at the
server, the reply and its PUBACK at the kiosk) spent about 14 µs on each side rebuilding the same
tables, a few per cent of the CPU a ticket costs there.

paho only reads those tables (it indexes them and iterates them, never assigns into them), so every
instance may share one set: `share_property_tables` makes `Properties.__init__` take the tables of one
instance built by paho's own constructor. It checks first that an instance still holds exactly the
attributes it sets; if a paho release changes that, it leaves paho alone and says so in the log."""

from __future__ import annotations

import logging
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

TABLES = ("types", "names", "properties")
"""What paho's constructor builds besides `packetType`: the shared, read-only tables."""

_SHARED_MARK = "_khiu_shared_tables"


def share_property_tables() -> bool:
    """Make every new `Properties` share one set of tables (idempotent). False, with paho untouched, if
    its constructor no longer builds exactly `packetType` and `TABLES`."""
    constructor: Any = Properties.__init__
    if getattr(constructor, _SHARED_MARK, False):
        return True
    prototype = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if set(vars(prototype)) != {"packetType", *TABLES}:
        log.warning(
            "paho's Properties holds %s, not what this release expects: its tables stay per instance",
            sorted(vars(prototype)),
        )
        return False
    types, names, properties = (getattr(prototype, name) for name in TABLES)

    def __init__(self: Properties, packetType: int) -> None:
        # object.__setattr__, as paho's __setattr__ does for these four names.
        object.__setattr__(self, "packetType", packetType)
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "properties", properties)

    __init__.__doc__ = constructor.__doc__
    setattr(__init__, _SHARED_MARK, True)
    setattr(__init__, "__wrapped__", constructor)  # noqa: B010 (mypy knows no __wrapped__ on a function)
    Properties.__init__ = __init__  # type: ignore[method-assign]
    return True
