"""What a simulated office day looks like, as plain numbers: when citizens arrive, which service they
come for, who gets priority, how long a service takes, whether a called citizen comes to the counter,
how a citizen rates the service. Pure: no MQTT, no clock; every draw comes from the `random.Random`
the caller passes, so a seed replays the same day.

The shape follows what Thai One Stop Service centres report: a queue before the doors open, a peak
from 9 to 11, a dip at lunch (12-13) while staff take turns to eat, a smaller afternoon wave, and the
last tickets shortly before issuing closes at 16:00 (DOMAIN.md)."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from common.vocabulary import Lang, Outcome, Priority, ServiceGroup, ServiceKind

# ------------------------------------------------------------------------------------------------ arrivals

HOURLY_ARRIVALS: tuple[tuple[dt.time, float], ...] = (
    (dt.time(8, 0), 0.0),
    (dt.time(8, 30), 1.1),  # people waiting at the door when issuing opens
    (dt.time(9, 0), 1.7),
    (dt.time(10, 0), 1.6),
    (dt.time(11, 0), 1.1),
    (dt.time(12, 0), 0.45),  # lunch
    (dt.time(13, 0), 1.0),
    (dt.time(14, 0), 0.85),
    (dt.time(15, 0), 0.55),
    (dt.time(16, 0), 0.0),
)
"""Relative arrival rate from each time to the next (the last entry ends the day). Only the shape
matters: the number of citizens is chosen separately."""


@dataclass(frozen=True, slots=True)
class DayProfile:
    """The shape of arrivals over one day: piecewise-constant rates between local times."""

    steps: tuple[tuple[dt.time, float], ...] = HOURLY_ARRIVALS

    def __post_init__(self) -> None:
        times = [t for t, _ in self.steps]
        if len(times) < 2 or times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("a day profile needs at least two strictly increasing times")
        if any(rate < 0 for _, rate in self.steps) or not any(rate > 0 for _, rate in self.steps[:-1]):
            raise ValueError("a day profile needs non-negative rates, at least one positive")

    @property
    def first_arrival(self) -> dt.time:
        """The start of the first step with a positive rate."""
        return next(t for t, rate in self.steps if rate > 0)

    @property
    def last_arrival(self) -> dt.time:
        return self.steps[-1][0]

    def clipped(self, opens: dt.time, closes: dt.time) -> DayProfile:
        """The same shape, with nobody arriving before `opens` or after `closes` (the office's
        issuing hours): citizens do not queue at a kiosk that refuses them all day."""
        points = sorted({t for t, _ in self.steps} | {opens, closes})
        steps: list[tuple[dt.time, float]] = []
        for t in points[:-1]:
            rate = self.rate_at(t) if opens <= t < closes else 0.0
            steps.append((t, rate))
        steps.append((points[-1], 0.0))
        return DayProfile(tuple(steps))

    def rate_at(self, t: dt.time) -> float:
        times = [s for s, _ in self.steps]
        i = bisect.bisect_right(times, t) - 1
        if i < 0 or i >= len(self.steps) - 1:
            return 0.0
        return self.steps[i][1]

    def arrivals(self, day: dt.date, count: int, rng: random.Random) -> list[dt.datetime]:
        """`count` arrival times on `day` (naive local times), sorted, drawn from the profile's shape:
        a Poisson process conditioned on its total."""
        if count < 0:
            raise ValueError("count must be >= 0")
        segments: list[tuple[float, float, float]] = []  # (start s, end s, weight)
        for (start, rate), (end, _) in zip(self.steps, self.steps[1:], strict=False):
            a, b = _seconds(start), _seconds(end)
            segments.append((a, b, rate * (b - a)))
        weights = [w for _, _, w in segments]
        midnight = dt.datetime.combine(day, dt.time())
        out = []
        for a, b, _ in rng.choices(segments, weights=weights, k=count):
            out.append(midnight + dt.timedelta(seconds=rng.uniform(a, b)))
        out.sort()
        return out


def _seconds(t: dt.time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


# ------------------------------------------------------------------------------------------------ citizens

GROUP_WEIGHTS: Mapping[ServiceGroup, float] = {
    ServiceGroup.citizen: 4.0,
    ServiceGroup.local: 3.0,
    ServiceGroup.tang_rat: 2.0,
    ServiceGroup.labour: 1.5,
    ServiceGroup.business: 1.0,
}
"""How often a service of each group is asked for, relative to the others: allowances, certificates
and local taxes fill the hall; business licences are few."""

PRIORITY_SHARES: Mapping[Priority, float] = {
    Priority.elderly: 0.15,
    Priority.disabled: 0.02,
    Priority.pregnant: 0.015,
    Priority.monk: 0.005,
}
"""Share of citizens with each priority (the rest: none). About one in seven visitors of a local
office is over 60 (Older Persons Act 2546 s.11 gives them speedy service)."""

ENGLISH_SHARE = 0.03
"""Citizens who choose English on the kiosk (foreign residents, migrant workers' employers)."""


@dataclass(frozen=True, slots=True)
class ServiceProfile:
    """What the day needs to know of a service (read from the catalog the server publishes)."""

    code: str
    group: ServiceGroup
    kind: ServiceKind
    standard_minutes: int


@dataclass(frozen=True, slots=True)
class Citizen:
    """One visitor: what they come for, their priority and kiosk language."""

    service: str
    priority: Priority
    lang: Lang


@dataclass(slots=True)
class ServiceMix:
    """Chooses the service and priority of each arriving citizen.

    With `counters` (counter id -> the services it calls), demand follows staffing: an office puts its
    counters where the people are, so each counter gets the same amount of work (a counter of long
    services sees fewer people), split among its services by their group's weight. Without it, the
    group weights alone decide."""

    services: Sequence[ServiceProfile]
    weights: Mapping[str, float] = field(default_factory=dict)
    """Explicit weights by service code; they replace the computed ones."""
    counters: Mapping[str, Sequence[str]] | None = None
    _computed: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not self.services:
            raise ValueError("a service mix needs at least one service")
        group = {s.code: GROUP_WEIGHTS.get(s.group, 1.0) for s in self.services}
        if self.counters is None:
            self._computed = group
            return
        minutes = {s.code: median_minutes(s) for s in self.services}
        self._computed = dict.fromkeys(group, 0.0)
        for codes in self.counters.values():
            offered = [c for c in codes if c in group]
            total = sum(group[c] for c in offered)
            if not total:
                continue
            # Citizens per unit of this counter's time: a counter of long services sees fewer people.
            per_minute = total / sum(group[c] * minutes[c] for c in offered)
            for code in offered:
                self._computed[code] += group[code] / total * per_minute
        if not any(self._computed.values()):
            self._computed = group

    def weight(self, service: ServiceProfile) -> float:
        if service.code in self.weights:
            return self.weights[service.code]
        return self._computed.get(service.code, 0.0)

    def citizen(self, rng: random.Random) -> Citizen:
        service = rng.choices(self.services, weights=[self.weight(s) for s in self.services])[0]
        priority = Priority.none
        roll = rng.random()
        for candidate, share in PRIORITY_SHARES.items():
            if roll < share:
                priority = candidate
                break
            roll -= share
        lang = Lang.en if rng.random() < ENGLISH_SHARE else Lang.th
        return Citizen(service.code, priority, lang)


# ------------------------------------------------------------------------------------------------ counters

SHOW_ON_FIRST_CALL = 0.92
"""Most called citizens walk up at once; the rest are outside, in the toilet, or gave up."""

SHOW_ON_RECALL = 0.4
"""Chance a citizen who missed the previous call answers a recall."""

ADVICE_SHARE = 0.06
"""Services that end in information only (documents missing, wrong office): outcome `advice`."""

TRANSFER_SHARE = 0.03
"""Citizens who turn out to need another service and go back to wait for it."""

PARK_SHARE = 0.03
"""Citizens sent to fetch a copy or a document while the counter serves the next one."""

WALK_SECONDS = (10.0, 50.0)
"""From the call to the citizen standing at the counter."""

RECALL_AFTER_SECONDS = (40.0, 90.0)
"""How long staff wait before calling a missing citizen again."""

PARKED_MINUTES = (4.0, 15.0)
"""How long a parked citizen is away before staff put them back in the queue."""

POLL_SECONDS = (45.0, 90.0)
"""A refused command (other than an empty queue) is tried again after this long."""

REACT_SECONDS = (5.0, 25.0)
"""An idle counter's display shows someone waiting: staff look up and press call-next."""

IDLE_CHECK_SECONDS = (300.0, 600.0)
"""An idle counter presses call-next anyway this often, in case its display missed an update."""

SURVEY_SHARE = 0.55
"""Served citizens who rate the service at the tablet on their way out."""

SURVEY_DELAY_SECONDS = (20.0, 120.0)

FULL_FORM_SHARE = 0.6
"""Raters who answer every item; the others answer only the one-tap overall item."""

DEMOGRAPHICS_SHARE = 0.4
"""Raters who also answer the optional questions about themselves."""

SCORES: tuple[tuple[int, float], ...] = ((5, 0.55), (4, 0.32), (3, 0.09), (2, 0.03), (1, 0.01))
"""How satisfied a citizen is overall: skewed positive, as LAO reports are (mean about 4.4)."""


def outcome_for(kind: ServiceKind, rng: random.Random) -> Outcome:
    """The outcome a completed service records: the service's kind, or sometimes advice only."""
    if rng.random() < ADVICE_SHARE:
        return Outcome.advice
    return {
        ServiceKind.forward: Outcome.forwarded,
        ServiceKind.complete: Outcome.completed,
        ServiceKind.via_app: Outcome.via_app,
    }[kind]


def median_minutes(service: ServiceProfile) -> float:
    """Typical minutes at the counter: forwarding means checking documents and keying the request
    (about 7 min); helping in the Tang Rat app about 8; a service finished on the spot takes half its
    standard time, between 3 and 15 minutes."""
    if service.kind is ServiceKind.forward:
        return 7.0
    if service.kind is ServiceKind.via_app:
        return 8.0
    return min(max(service.standard_minutes * 0.5, 3.0), 15.0)


def service_minutes(service: ServiceProfile, rng: random.Random) -> float:
    """Minutes at the counter for one citizen: log-normal around `median_minutes`."""
    return min(max(rng.lognormvariate(math.log(median_minutes(service)), 0.45), 1.0), 90.0)


def uniform(bounds: tuple[float, float], rng: random.Random) -> float:
    return rng.uniform(*bounds)


@dataclass(frozen=True, slots=True)
class Rating:
    """A survey response's content."""

    answers: dict[str, int]
    demographics: dict[str, str]


def rating(
    items: Sequence[str],
    overall_item: str,
    demographics: Mapping[str, Sequence[str]],
    rng: random.Random,
) -> Rating:
    """A citizen's answers: one overall mood drawn from SCORES, each item within one level of it."""
    mood = rng.choices([s for s, _ in SCORES], weights=[w for _, w in SCORES])[0]
    chosen = list(items) if rng.random() < FULL_FORM_SHARE else [overall_item]
    answers: dict[str, int] = {}
    for item in chosen:
        jitter = rng.choices((-1, 0, 1), weights=(0.15, 0.7, 0.15))[0]
        answers[item] = min(5, max(1, mood + jitter))
    answers[overall_item] = mood
    profile: dict[str, str] = {}
    if rng.random() < DEMOGRAPHICS_SHARE:
        for question, options in demographics.items():
            if options and rng.random() < 0.85:
                profile[question] = rng.choice(list(options))
    return Rating(answers, profile)
