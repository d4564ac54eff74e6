"""docs/benchmarks.md is shared: a benchmark run replaces its own sections and nothing else."""

from __future__ import annotations

from pathlib import Path

from bench.report import BenchResult, Figure, StealMeter, merge_into_doc

ORDER = {"alpha": 10, "beta": 20, "gamma": 30}


def result(name: str, value: float) -> BenchResult:
    return BenchResult(
        name=name,
        title=f"The {name} benchmark",
        figures=[Figure("latency p99", value, "ms", "<= 10 ms", value <= 10)],
        bound="the disk",
        command=f'make bench ARGS="{name}"',
        machine={"nproc": "2"},
        measured_at="2026-11-26 10:00 +07",
    )


def test_sections_are_replaced_in_place_and_hand_text_is_kept(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    merge_into_doc(doc, [result("gamma", 12.0), result("alpha", 5.0)], ORDER)
    text = doc.read_text()
    assert text.index("bench:alpha") < text.index("bench:gamma")
    assert "| latency p99 | 12.00 ms | <= 10 ms | **no** |" in text

    doc.write_text(text.replace("<!-- bench:gamma -->", "A note someone wrote.\n\n<!-- bench:gamma -->"))
    merge_into_doc(doc, [result("beta", 7.0)], ORDER)
    merge_into_doc(doc, [result("gamma", 9.0)], ORDER)
    text = doc.read_text()
    assert "A note someone wrote." in text
    positions = [text.index(s) for s in ("bench:alpha", "bench:beta", "A note", "bench:gamma")]
    assert positions == sorted(positions)
    assert "12.00 ms" not in text and "| latency p99 | 9.00 ms | <= 10 ms | yes |" in text
    assert text.count("<!-- bench:gamma -->") == 1
    assert text.startswith("# Benchmarks")


def test_adjacent_sections_are_put_in_order(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    merge_into_doc(doc, [result("gamma", 1.0)], {})
    merge_into_doc(doc, [result("alpha", 1.0)], {})
    text = doc.read_text()
    assert text.index("bench:gamma") < text.index("bench:alpha")
    merge_into_doc(doc, [result("beta", 1.0)], ORDER)
    text = doc.read_text()
    assert text.index("bench:alpha") < text.index("bench:beta") < text.index("bench:gamma")


def test_steal_is_the_hosts_share_of_the_cpu_time_between_two_readings(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    #                user nice system idle iowait irq softirq steal
    stat.write_text("cpu  1000 0 500 8000 100 0 0 400 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
    meter = StealMeter(stat)
    assert meter.text() == "unknown"  # no time has passed between the readings
    stat.write_text("cpu  1300 0 600 8400 100 0 0 600 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
    assert meter.percent() == 20.0
    assert meter.text() == "20 %"
    assert StealMeter(tmp_path / "missing").text() == "unknown"
