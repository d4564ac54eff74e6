"""The statistics of the reports, as pure functions on plain numbers (DESIGN.md principle 3).

Standard library only: no database, no report layout. Every figure is computed unrounded; rounding
happens only when a figure is displayed (`format_percent`, `format_score`), because the LAO form
derives percent satisfaction from the *unrounded* mean (DOMAIN.md: mean 4.58 → 91.6 %).

Definitions used throughout:

- **percentile**: linear interpolation between the closest ranks, the same as numpy's default
  (`method="linear"`, Hyndman & Fan type 7): for sorted values x[0..n-1] and p in [0, 100], the rank is
  h = (n - 1) * p / 100 and the result is x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]).
  The median is the 50th percentile (the mean of the two middle values when n is even).
- **satisfaction**: answers on five levels มากที่สุด (5) … น้อยที่สุด (1); mean = total score / answers;
  percent satisfaction = mean / 5 × 100.
- **pooled satisfaction** (a section, or the whole form): the mean of *all answers* to the items
  pooled together (sum of every score / number of answers), not the mean of the item means. The two
  differ only when items have different numbers of answers (an item left unanswered).
- **share**: part / whole as a fraction 0..1; None when the whole is zero (nothing to divide, shown as
  "-" rather than a made-up 0 %).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

LEVELS: tuple[int, ...] = (5, 4, 3, 2, 1)
"""The five levels, best first, in the order the form prints them."""

LEVEL_LABELS_TH: dict[int, str] = {5: "มากที่สุด", 4: "มาก", 3: "ปานกลาง", 2: "น้อย", 1: "น้อยที่สุด"}
LEVEL_LABELS_EN: dict[int, str] = {5: "Very high", 4: "High", 3: "Moderate", 2: "Low", 1: "Very low"}


# ------------------------------------------------------------------------------------------- durations


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    if not values:
        return None
    return math.fsum(values) / len(values)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0..100) by linear interpolation between closest ranks (numpy's default);
    None for no values. The values need not be sorted."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100 (got {p})")
    if not values:
        return None
    return percentile_of_sorted(sorted(values), p)


def percentile_of_sorted(ordered: Sequence[float], p: float) -> float | None:
    """`percentile` of values already sorted in ascending order (a report sorts each group's once and
    reads its median and 90th percentile from the same list)."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100 (got {p})")
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    fraction = rank - low
    return ordered[low] + fraction * (ordered[high] - ordered[low])


def median(values: Sequence[float]) -> float | None:
    """The 50th percentile; None for no values."""
    return percentile(values, 50)


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """Wait or service times of a set of tickets, in seconds, unrounded. `count` is how many tickets
    had a time; every other figure is None when count is 0."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None
    max_s: float | None


EMPTY_DURATIONS = DurationSummary(count=0, mean_s=None, median_s=None, p90_s=None, max_s=None)


def summarize_durations(values: Iterable[float | None]) -> DurationSummary:
    """Mean, median, 90th percentile and maximum of the known durations (None values are skipped:
    a ticket never called has no wait time). A negative duration is a clock error upstream and is
    refused rather than averaged in."""
    return summarize_sorted_durations(sorted(float(v) for v in values if v is not None))


def summarize_sorted_durations(ordered: Sequence[float]) -> DurationSummary:
    """`summarize_durations` of known durations already sorted in ascending order: the same figures
    without sorting again."""
    if not ordered:
        return EMPTY_DURATIONS
    if ordered[0] < 0:
        raise ValueError("a duration is negative: check the clock of the transitions")
    return DurationSummary(
        count=len(ordered),
        mean_s=mean(ordered),
        median_s=percentile_of_sorted(ordered, 50),
        p90_s=percentile_of_sorted(ordered, 90),
        max_s=ordered[-1],
    )


# -------------------------------------------------------------------------------------------- shares


def share(part: int, whole: int) -> float | None:
    """part / whole as a fraction 0..1; None when whole is 0."""
    if part < 0 or whole < 0 or part > whole:
        raise ValueError(f"a share needs 0 <= part <= whole (got {part}/{whole})")
    if whole == 0:
        return None
    return part / whole


def share_true(flags: Iterable[bool | None]) -> float | None:
    """Share of True among the known flags (None is unknown and left out of the whole), e.g. the
    share of served tickets done within the standard time."""
    known = [f for f in flags if f is not None]
    return share(sum(1 for f in known if f), len(known))


def no_show_rate(no_show: int, done: int) -> float | None:
    """No-shows among the tickets that were called and reached an end: no_show / (no_show + done).
    Cancelled tickets were never called and stay out of it; tickets still in the queue too."""
    return share(no_show, no_show + done)


# -------------------------------------------------------------------------------------- satisfaction


@dataclass(frozen=True, slots=True)
class LevelCounts:
    """Raw counts of answers at each of the five levels: the only thing stored or summed; every
    satisfaction figure is derived from these (DOMAIN.md)."""

    n5: int = 0
    """มากที่สุด (very high)"""
    n4: int = 0
    """มาก (high)"""
    n3: int = 0
    """ปานกลาง (moderate)"""
    n2: int = 0
    """น้อย (low)"""
    n1: int = 0
    """น้อยที่สุด (very low)"""

    def __post_init__(self) -> None:
        if min(self.n5, self.n4, self.n3, self.n2, self.n1) < 0:
            raise ValueError("a count of answers cannot be negative")

    @classmethod
    def of_scores(cls, scores: Iterable[int]) -> LevelCounts:
        """Count individual answers (each 1..5)."""
        tally = dict.fromkeys(LEVELS, 0)
        for score in scores:
            if score not in tally:
                raise ValueError(f"a satisfaction answer must be 1..5 (got {score!r})")
            tally[score] += 1
        return cls(n5=tally[5], n4=tally[4], n3=tally[3], n2=tally[2], n1=tally[1])

    def count(self, level: int) -> int:
        """Answers at one level (5..1)."""
        if level not in LEVELS:
            raise ValueError(f"no satisfaction level {level!r}: levels are 1..5")
        value: int = getattr(self, f"n{level}")
        return value

    def by_level(self) -> tuple[int, int, int, int, int]:
        """(n5, n4, n3, n2, n1): best first, as the form prints them."""
        return (self.n5, self.n4, self.n3, self.n2, self.n1)

    @property
    def answers(self) -> int:
        """How many answers in all."""
        return self.n5 + self.n4 + self.n3 + self.n2 + self.n1

    @property
    def total_score(self) -> int:
        """Sum of every answer's score."""
        return 5 * self.n5 + 4 * self.n4 + 3 * self.n3 + 2 * self.n2 + self.n1

    def __add__(self, other: LevelCounts) -> LevelCounts:
        return LevelCounts(
            n5=self.n5 + other.n5,
            n4=self.n4 + other.n4,
            n3=self.n3 + other.n3,
            n2=self.n2 + other.n2,
            n1=self.n1 + other.n1,
        )


def pool(counts: Iterable[LevelCounts]) -> LevelCounts:
    """All answers of several items as one set (a section, the whole form)."""
    total = LevelCounts()
    for c in counts:
        total = total + c
    return total


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """Satisfaction figures derived from raw counts, unrounded. mean and percent are None when
    nobody answered (shown as "-", never as 0)."""

    counts: LevelCounts
    answers: int
    mean: float | None
    """Mean score 1..5."""
    percent: float | None
    """Percent satisfaction = mean / 5 × 100 (0..100)."""


def satisfaction(counts: LevelCounts) -> Satisfaction:
    """Mean score and percent satisfaction of a set of answers, from the unrounded mean."""
    answers = counts.answers
    if answers == 0:
        return Satisfaction(counts=counts, answers=0, mean=None, percent=None)
    mean_score = counts.total_score / answers
    return Satisfaction(counts=counts, answers=answers, mean=mean_score, percent=mean_score / 5 * 100)


def pooled_satisfaction(counts: Iterable[LevelCounts]) -> Satisfaction:
    """Satisfaction of a section or of the whole form: the mean of all answers to its items."""
    return satisfaction(pool(counts))


def satisfaction_level(mean_score: float | None) -> int | None:
    """The level (5..1) a mean falls in, by the usual equal-width bands of 0.8 used in Thai
    satisfaction reports: 4.21-5.00 มากที่สุด, 3.41-4.20 มาก, 2.61-3.40 ปานกลาง, 1.81-2.60 น้อย,
    1.00-1.80 น้อยที่สุด. Bands are decided on the unrounded mean."""
    if mean_score is None:
        return None
    if not 1 <= mean_score <= 5:
        raise ValueError(f"a mean score is within 1..5 (got {mean_score})")
    for level, floor in ((5, 4.2), (4, 3.4), (3, 2.6), (2, 1.8)):
        if mean_score > floor:
            return level
    return 1


# ------------------------------------------------------------------------------------------- display


def round_half_up(value: float, digits: int) -> float:
    """Round as people do on paper (2.675 → 2.68 at 2 digits), not banker's rounding, and without
    binary surprises (works on the shortest decimal that reads back as the float)."""
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return float(exact)


def format_number(value: float | None, digits: int = 2, *, empty: str = "-") -> str:
    """A figure for display: rounded half up to `digits`, with thousands separators; `empty` for None."""
    if value is None:
        return empty
    return f"{round_half_up(value, digits):,.{digits}f}"


def format_percent(percent: float | None, digits: int = 2, *, empty: str = "-") -> str:
    """A percentage 0..100 for display, e.g. 91.6 → "91.60"; `empty` for None."""
    return format_number(percent, digits, empty=empty)


def format_minutes(seconds: float | None, digits: int = 1, *, empty: str = "-") -> str:
    """A duration in seconds shown in minutes, e.g. 750 → "12.5"."""
    return format_number(None if seconds is None else seconds / 60, digits, empty=empty)
