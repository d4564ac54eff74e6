"""The statistics on numbers small enough to check by hand."""

from __future__ import annotations

import pytest

from server.reports import stats
from server.reports.stats import LevelCounts


def test_percentile_interpolates_between_ranks_like_numpy_default() -> None:
    values = [30, 1, 20, 2, 15, 4, 10, 5, 8]  # sorted 1 2 4 5 8 10 15 20 30
    assert stats.median(values) == 8
    # rank (9-1)*0.9 = 7.2 -> 20 + 0.2 * (30 - 20) = 22
    assert stats.percentile(values, 90) == pytest.approx(22)
    assert stats.percentile(values, 0) == 1
    assert stats.percentile(values, 100) == 30
    assert stats.median([1, 2, 3, 4]) == 2.5
    assert stats.percentile([7], 90) == 7
    assert stats.percentile([], 50) is None
    with pytest.raises(ValueError):
        stats.percentile(values, 101)


def test_durations_skip_unknown_and_refuse_negative() -> None:
    summary = stats.summarize_durations([60, None, 120, 180])
    assert (summary.count, summary.mean_s, summary.median_s, summary.max_s) == (3, 120, 120, 180)
    assert stats.summarize_durations([None]) == stats.EMPTY_DURATIONS
    with pytest.raises(ValueError, match="negative"):
        stats.summarize_durations([10, -1])


def test_shares_and_no_show_rate() -> None:
    assert stats.share(1, 4) == 0.25
    assert stats.share(0, 0) is None
    assert stats.share_true([True, None, False, True, True]) == 0.75
    assert stats.no_show_rate(no_show=2, done=7) == pytest.approx(2 / 9)
    with pytest.raises(ValueError):
        stats.share(5, 4)


def test_mean_458_gives_916_percent_from_the_unrounded_mean() -> None:
    # 30 x 5 + 19 x 4 + 1 x 3 = 229 over 50 answers = 4.58
    counts = LevelCounts(n5=30, n4=19, n3=1)
    result = stats.satisfaction(counts)
    assert result.answers == 50
    assert result.mean == pytest.approx(4.58)
    assert result.percent == pytest.approx(91.6)
    assert stats.format_percent(result.percent, 1) == "91.6"
    assert stats.format_percent(result.percent) == "91.60"
    assert stats.format_number(result.mean) == "4.58"


def test_percent_is_not_taken_from_a_rounded_mean() -> None:
    # 2 x 5 + 1 x 4 = 14 / 3 = 4.6667; from the unrounded mean 93.33 %, from "4.67" it would be 93.40 %
    result = stats.satisfaction(LevelCounts(n5=2, n4=1))
    assert stats.format_percent(result.percent) == "93.33"


def test_pooled_section_is_the_mean_of_all_answers_not_of_item_means() -> None:
    polite = LevelCounts.of_scores([5, 5, 4, 5, 3])  # 22 / 5 = 4.4
    advice = LevelCounts.of_scores([5, 4, 5, 4])  # 18 / 4 = 4.5
    pooled = stats.pooled_satisfaction([polite, advice])
    assert pooled.answers == 9
    assert pooled.mean == pytest.approx(40 / 9)  # 4.444, not (4.4 + 4.5) / 2 = 4.45
    assert pooled.counts == LevelCounts(n5=5, n4=3, n3=1)


def test_nobody_answered_is_no_figure_not_zero() -> None:
    result = stats.satisfaction(LevelCounts())
    assert (result.mean, result.percent) == (None, None)
    assert stats.format_percent(result.percent) == "-"


def test_level_counts_refuse_impossible_answers() -> None:
    with pytest.raises(ValueError):
        LevelCounts.of_scores([5, 6])
    with pytest.raises(ValueError):
        LevelCounts(n5=-1)
    assert LevelCounts(n5=1, n1=2).by_level() == (1, 0, 0, 0, 2)


def test_satisfaction_level_bands() -> None:
    assert stats.satisfaction_level(4.58) == 5
    assert stats.satisfaction_level(4.2) == 4
    assert stats.satisfaction_level(3.41) == 4
    assert stats.satisfaction_level(1.0) == 1
    assert stats.satisfaction_level(None) is None


def test_display_rounds_half_up() -> None:
    assert stats.round_half_up(2.675, 2) == 2.68
    assert stats.format_number(1234.5, 1) == "1,234.5"
    assert stats.format_minutes(750) == "12.5"
