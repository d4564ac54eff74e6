"""What a simulation run needs: where the broker is, which devices to play and their passwords, how
fast, how many citizens. The demo and the chaos run build a `SimulatorSettings` in Python; `khiu
simulate` builds one from its arguments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from server.simulation.day import HOURLY_ARRIVALS, SURVEY_SHARE, DayProfile


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    """One simulated office day played through the real MQTT contract.

    Each device id is also its MQTT username (broker_config/); `credentials` maps it to its password.
    The simulated clock only paces the citizens: the server stamps everything with its own clock, so at
    `speed` 60 a 10-minute service is stored as 10 seconds."""

    host: str
    port: int
    site: str
    credentials: Mapping[str, str]
    """Device id -> password, for every device below."""
    kiosks: tuple[str, ...]
    """Kiosk device ids; each arriving citizen uses one of them."""
    counters: Mapping[str, str]
    """Counter terminal device id -> the counter id it is bound to (c1, c2, ...). Counters the catalog
    does not list are left out."""
    surveys: tuple[str, ...] = ()
    """Survey tablet device ids; without any, citizens rate the service at a kiosk."""
    speed: float | None = 60.0
    """Simulated seconds per real second; None runs as fast as the server answers (events are played in
    order, each once every request before it has its reply)."""
    tickets: int = 150
    """Citizens in the day (one ticket request each), spread over the day's arrival profile. A counter
    serves 30 to 50 citizens a day."""
    day: dt.date | None = None
    """The simulated calendar day (only names the day; the server decides the business date)."""
    start: dt.time = dt.time(8, 0)
    """Simulated time the run starts at."""
    duration: dt.timedelta | None = None
    """Simulated time to play; None plays until every counter has closed for the day."""
    opens: dt.time = dt.time(8, 30)
    """When counters open and the first tickets are taken."""
    closes: dt.time = dt.time(16, 0)
    """When issuing closes; counters go on serving who is waiting, then close."""
    profile: DayProfile = field(default_factory=lambda: DayProfile(HOURLY_ARRIVALS))
    service_weights: Mapping[str, float] = field(default_factory=dict)
    """Service code -> relative demand; services not named get their group's weight."""
    max_calls: int = 3
    """The office's `queue.max_calls_before_no_show`: after this many calls staff give up."""
    lunch_breaks: bool = True
    """Every second counter closes from 12:00 to 13:00 (staff eat in turns; the hall stays served)."""
    survey_share: float = SURVEY_SHARE
    seed: int | None = None
    workdir: Path | None = None
    """Where the devices keep their outboxes; a fresh temporary folder (removed after) when None. A
    folder from an earlier run resends whatever that run left unanswered."""
    tls_ca: Path | None = None
    staff_prefix: str = "staff"
    catalog_timeout_s: float = 20.0
    """How long to wait for the server's retained catalog (and so for the server) before giving up."""
    reply_grace_s: float = 30.0
    """At the end, how long to wait for the last replies before counting them missing."""
    stall_timeout_s: float = 120.0
    """Give up when requests are outstanding and no reply at all came for this long."""
    wall_timeout_s: float | None = None
    """Stop the run after this much real time, whatever the simulated clock says."""

    def __post_init__(self) -> None:
        if not self.kiosks:
            raise ValueError("a simulation needs at least one kiosk")
        if not self.counters:
            raise ValueError("a simulation needs at least one counter terminal")
        if self.speed is not None and self.speed <= 0:
            raise ValueError("speed must be positive (or None: as fast as the server answers)")
        if self.tickets < 0:
            raise ValueError("tickets must be >= 0")
        missing = [d for d in self.devices if d not in self.credentials]
        if missing:
            raise ValueError(f"no password for device(s): {', '.join(missing)}")
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")

    @property
    def devices(self) -> list[str]:
        return [*self.kiosks, *self.counters, *self.surveys]
