"""The shape of a simulated day and the checks of its summary: pure, no broker."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from common.vocabulary import Outcome, Priority, ServiceGroup, ServiceKind
from server.simulation import day
from server.simulation.summary import SimulationSummary, numbering_problems, percentile

DAY = dt.date(2026, 11, 26)


def test_arrivals_follow_a_thai_office_day() -> None:
    """Morning peak, lunch dip, nobody before issuing opens or after it closes."""
    profile = day.DayProfile().clipped(dt.time(8, 30), dt.time(16, 0))
    arrivals = profile.arrivals(DAY, 6000, random.Random(1))
    assert len(arrivals) == 6000
    assert arrivals == sorted(arrivals)
    assert min(arrivals).time() >= dt.time(8, 30)
    assert max(arrivals).time() < dt.time(16, 0)
    by_hour = Counter(a.hour for a in arrivals)
    assert by_hour[9] > by_hour[11] > by_hour[12]
    assert by_hour[10] > 2 * by_hour[12]
    assert by_hour[13] > by_hour[12]


def test_clipping_to_a_short_friday() -> None:
    profile = day.DayProfile().clipped(dt.time(8, 30), dt.time(12, 0))
    arrivals = profile.arrivals(DAY, 500, random.Random(2))
    assert max(arrivals).time() < dt.time(12, 0)


def test_same_seed_same_day() -> None:
    profile = day.DayProfile()
    assert profile.arrivals(DAY, 50, random.Random(7)) == profile.arrivals(DAY, 50, random.Random(7))


def test_a_profile_without_arrivals_is_refused() -> None:
    with pytest.raises(ValueError):
        day.DayProfile(((dt.time(8, 0), 0.0), (dt.time(9, 0), 0.0)))


SERVICES = [
    day.ServiceProfile("elderly", ServiceGroup.citizen, ServiceKind.complete, 10),
    day.ServiceProfile("permit", ServiceGroup.business, ServiceKind.complete, 64800),
    day.ServiceProfile("jobs", ServiceGroup.labour, ServiceKind.forward, 4320),
    day.ServiceProfile("app", ServiceGroup.tang_rat, ServiceKind.via_app, 10),
]


def test_service_mix_and_priorities() -> None:
    mix = day.ServiceMix(SERVICES)
    rng = random.Random(3)
    citizens = [mix.citizen(rng) for _ in range(5000)]
    services = Counter(c.service for c in citizens)
    assert services["elderly"] > services["app"] > services["permit"]
    priorities = Counter(c.priority for c in citizens)
    assert 0.12 < priorities[Priority.elderly] / 5000 < 0.18
    assert priorities[Priority.monk] > 0
    assert 0.7 < priorities[Priority.none] / 5000 < 0.85


def test_demand_follows_staffing() -> None:
    """Each counter gets the same amount of work, split among its services by group weight."""
    counters = {"c1": ["elderly"], "c2": ["permit", "jobs", "app"]}
    mix = day.ServiceMix(SERVICES, counters=counters)
    rng = random.Random(8)
    citizens = [mix.citizen(rng).service for _ in range(6000)]
    by_service = {s.code: s for s in SERVICES}
    work = Counter(
        "c1" if code == "elderly" else "c2"
        for code in citizens
        for _ in range(round(day.median_minutes(by_service[code])))
    )
    assert 0.45 < work["c1"] / (work["c1"] + work["c2"]) < 0.55
    services = Counter(citizens)
    assert services["app"] > services["jobs"] > services["permit"] > 0


def test_explicit_weights_win() -> None:
    mix = day.ServiceMix(SERVICES, weights={"permit": 100.0})
    rng = random.Random(4)
    assert Counter(mix.citizen(rng).service for _ in range(500)).most_common(1)[0][0] == "permit"


def test_outcome_matches_the_kind_of_service() -> None:
    rng = random.Random(5)
    for kind, expected in (
        (ServiceKind.forward, Outcome.forwarded),
        (ServiceKind.complete, Outcome.completed),
        (ServiceKind.via_app, Outcome.via_app),
    ):
        outcomes = Counter(day.outcome_for(kind, rng) for _ in range(1000))
        assert set(outcomes) == {expected, Outcome.advice}
        assert outcomes[expected] > 900


def test_ratings_are_skewed_positive_and_always_answer_overall() -> None:
    rng = random.Random(6)
    items = ["a.1", "a.2", "b.1", "overall"]
    ratings = [day.rating(items, "overall", {"age_band": ["under_20", "over_60"]}, rng) for _ in range(2000)]
    assert all("overall" in r.answers for r in ratings)
    assert all(1 <= v <= 5 for r in ratings for v in r.answers.values())
    overall = [r.answers["overall"] for r in ratings]
    assert 4.2 < sum(overall) / len(overall) < 4.6
    assert any(len(r.answers) == 1 for r in ratings) and any(len(r.answers) == 4 for r in ratings)
    assert any(r.demographics for r in ratings) and any(not r.demographics for r in ratings)


def test_numbering_problems_name_duplicates_and_gaps() -> None:
    assert numbering_problems(["A001", "A002", "B001", "AX01"]) == []
    assert numbering_problems(["A001", "A001"]) == ["A001 issued 2 times"]
    assert numbering_problems(["A001", "A003"]) == ["prefix A: missing A002"]


def test_summary_is_not_ok_with_a_missing_or_conflicting_reply() -> None:
    summary = SimulationSummary(numbers=["A001"])
    assert summary.ok
    summary.replies_missing = 1
    assert not summary.ok
    summary.replies_missing = 0
    summary.replies_conflicting = 1
    assert not summary.ok
    assert "NOT OK" in summary.render()


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) == 0.0
