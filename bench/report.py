"""Benchmark results and `docs/benchmarks.md`.

Each benchmark owns one section of the page, between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`.
A run replaces the sections of the benchmarks it ran and leaves everything else alone: sections of
benchmarks not run this time, and anything anyone wrote by hand outside the markers. Each result is
also kept as JSON in `build/bench/NAME.json`."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DOC_HEADER = """# Benchmarks

Measured by `make bench` (`scripts/bench.sh`): every benchmark starts its own Mosquitto (configured by
`broker_config/`) on a free loopback port and the real server on a fresh database, drives it through
the real MQTT contract, and writes its section below. `make bench ARGS="NAME ..."` runs only some;
`python -m bench --list` names them. A section is replaced only when its benchmark runs again; text
outside the `<!-- bench:... -->` markers is kept.

Figures are from the machine named in each section; what bounds each figure is said under its table.
Each section also gives the disk's SQLite commit rate and the load average when it started: on a
machine busy with other work (as a shared 2-core build machine often is), every figure is pessimistic.
Rows marked *diagnostic* run a variant of the office setup to show what bounds a figure; they are not
what an office gets.
"""


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number and, when there is one, its target."""

    label: str
    value: float | str
    unit: str = ""
    target: str = ""
    met: bool | None = None
    """True or False against the target; None when there is no target."""

    def shown(self) -> str:
        if isinstance(self.value, float):
            text = f"{self.value:,.2f}" if abs(self.value) < 100 else f"{self.value:,.0f}"
        else:
            text = f"{self.value:,}" if isinstance(self.value, int) else str(self.value)
        return f"{text} {self.unit}".strip()


@dataclass(slots=True)
class BenchResult:
    """What one benchmark measured: a table of figures, what bounds them, how to reproduce."""

    name: str
    title: str
    figures: list[Figure]
    bound: str
    """A sentence or two: what limits these figures (fsync, the broker, Python, the cores)."""
    command: str
    notes: list[str] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)
    measured_at: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    """Raw numbers for whoever wants more than the table."""

    @property
    def targets_met(self) -> bool:
        return all(f.met is not False for f in self.figures)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, default=str)

    @classmethod
    def from_json(cls, text: str) -> BenchResult:
        raw = json.loads(text)
        raw["figures"] = [Figure(**f) for f in raw["figures"]]
        return cls(**raw)

    def markdown(self) -> str:
        """The section of docs/benchmarks.md, markers included."""
        has_targets = any(f.target for f in self.figures)
        lines = [f"<!-- bench:{self.name} -->", f"## {self.title}", ""]
        if has_targets:
            lines += ["| figure | measured | target | met |", "| --- | ---: | --- | --- |"]
        else:
            lines += ["| figure | measured |", "| --- | ---: |"]
        for f in self.figures:
            if has_targets:
                met = "" if f.met is None else ("yes" if f.met else "**no**")
                lines.append(f"| {f.label} | {f.shown()} | {f.target} | {met} |")
            else:
                lines.append(f"| {f.label} | {f.shown()} |")
        lines += ["", f"**What bounds it.** {self.bound}", ""]
        for note in self.notes:
            lines.append(f"- {note}")
        if self.notes:
            lines.append("")
        machine = ", ".join(f"{k}: {v}" for k, v in self.machine.items())
        lines += [
            f"Measured {self.measured_at} on {machine}.",
            "",
            f"Reproduce: `{self.command}`",
            f"<!-- /bench:{self.name} -->",
        ]
        return "\n".join(lines)


_SECTION_RE = r"<!-- bench:{name} -->.*?<!-- /bench:{name} -->"
_ANY_SECTION = re.compile(r"<!-- bench:(?P<name>[a-z0-9-]+) -->.*?<!-- /bench:(?P=name) -->", re.DOTALL)


def merge_into_doc(doc: Path, results: list[BenchResult], order: dict[str, int] | None = None) -> None:
    """Replace each result's section in `doc` where it stands, or insert a new one after the last
    section of an earlier benchmark (`order`: name -> rank; unknown names sort last), keeping the rest.
    Sections with nothing but blank lines between them are put in order too; text anyone wrote between
    sections pins them where they are."""
    order = order or {}
    text = doc.read_text("utf-8") if doc.exists() else DOC_HEADER

    def rank(name: str) -> int:
        return order.get(name, 10_000)

    for result in results:
        section = result.markdown()
        pattern = re.compile(_SECTION_RE.format(name=re.escape(result.name)), re.DOTALL)
        if pattern.search(text):
            text = pattern.sub(lambda _m, s=section: s, text, count=1)  # type: ignore[misc]
            continue
        sections = list(_ANY_SECTION.finditer(text))
        earlier = [m for m in sections if rank(m["name"]) <= rank(result.name)]
        later = [m for m in sections if rank(m["name"]) > rank(result.name)]
        if earlier and later:
            at = earlier[-1].end()
            text = text[:at] + "\n\n" + section + text[at:]
        elif later:
            at = later[0].start()
            text = text[:at] + section + "\n\n" + text[at:]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    text = _sorted_runs(text, rank)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text if text.endswith("\n") else text + "\n", "utf-8")


def _sorted_runs(text: str, rank: Callable[[str], int]) -> str:
    """Sort each run of sections separated only by blank lines."""
    matches = list(_ANY_SECTION.finditer(text))
    runs: list[list[re.Match[str]]] = []
    for m in matches:
        if runs and not text[runs[-1][-1].end() : m.start()].strip():
            runs[-1].append(m)
        else:
            runs.append([m])
    for run in reversed(runs):
        ordered = sorted(run, key=lambda m: rank(m["name"]))
        if ordered == run:
            continue
        joined = "\n\n".join(m.group(0) for m in ordered)
        text = text[: run[0].start()] + joined + text[run[-1].end() :]
    return text


# ---------------------------------------------------------------------------------------------- machine


def _first_line(command: list[str]) -> str:
    exe = shutil.which(command[0]) or (command[0] if os.path.exists(command[0]) else None)
    if exe is None:
        return "not found"
    try:
        out = subprocess.run([exe, *command[1:]], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def sqlite_commit_rate(directory: Path | None = None, commits: int = 300) -> float:
    """Commits per second of single-row transactions in WAL mode with synchronous=FULL on the disk of
    `directory`: the ceiling of anything that commits once per ticket."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)  # `python -m bench` on a fresh clone has no build/
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        db = sqlite3.connect(Path(tmp) / "probe.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE t (x INTEGER)")
        start = time.perf_counter()
        for i in range(commits):
            db.execute("INSERT INTO t VALUES (?)", (i,))
        elapsed = time.perf_counter() - start
        db.close()
    return commits / elapsed


def python_loop_s(additions: int = 10_000_000) -> float:
    """Seconds for a plain Python loop of `additions` additions: how fast this machine runs Python, which
    bounds most figures here. Machines that report the same CPU model have differed by half in it
    (shared hosts), so two sections' figures compare only with this beside them."""
    start = time.perf_counter()
    total = 0
    for i in range(additions):
        total += i
    return time.perf_counter() - start


def machine_info(work_dir: Path | None = None) -> dict[str, str]:
    """What a figure depends on: cores, memory, CPU, Python and its speed, Mosquitto, SQLite, the disk's
    commit rate."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    mosquitto = _first_line(["mosquitto", "-h"]).replace("mosquitto version ", "")
    if mosquitto in {"not found", "unknown"}:
        mosquitto = _first_line(["/usr/sbin/mosquitto", "-h"]).replace("mosquitto version ", "")
    return {
        "nproc": str(os.cpu_count() or "?"),
        "RAM": ram,
        "CPU": model,
        "Python": platform.python_version(),
        "Python speed": f"10 M additions in {python_loop_s():.2f} s",
        "Mosquitto": mosquitto,
        "SQLite": sqlite3.sqlite_version,
        "disk": f"{sqlite_commit_rate(work_dir):,.0f} SQLite commits/s (WAL, synchronous FULL)",
        "load before": load_average(),
    }


PROC_STAT = Path("/proc/stat")


def cpu_times(stat: Path = PROC_STAT) -> tuple[int, int] | None:
    """(steal, all) clock ticks of the machine's CPUs since boot, from /proc/stat; None where there is no
    /proc. Steal is time the host gave this machine's virtual CPUs to others while they had work."""
    try:
        fields = stat.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if fields[:1] != ["cpu"] or len(fields) < 9:
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


class StealMeter:
    """The share of the machine's CPU time the host took (steal) since the meter was made: on a shared
    virtual machine, a figure measured while the host takes a fifth of the time is a slow machine's."""

    def __init__(self, stat: Path = PROC_STAT) -> None:
        self._stat = stat
        self._start = cpu_times(stat)

    def percent(self) -> float | None:
        now = cpu_times(self._stat)
        if now is None or self._start is None or now[1] <= self._start[1]:
            return None
        return (now[0] - self._start[0]) / (now[1] - self._start[1]) * 100.0

    def text(self) -> str:
        share = self.percent()
        return "unknown" if share is None else f"{share:.0f} %"


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews every figure."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def now_text() -> str:
    return dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M %Z")
