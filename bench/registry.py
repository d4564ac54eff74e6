"""The benchmark registry. To add a benchmark, create `bench/bench_<something>.py` with

```python
from bench.registry import Benchmark, BenchContext
from bench.report import BenchResult, Figure

def run(ctx: BenchContext) -> BenchResult:
    ...  # measure; ctx.quick asks for a short run, ctx.work_dir is a fresh folder
    return BenchResult(name="kiosk-start", title="Kiosk cold start", figures=[...],
                       bound="...", command=ctx.command("kiosk-start"))

BENCHMARK = Benchmark(name="kiosk-start", title="Kiosk cold start", run=run, order=50)
```

No list to edit: every `bench_*.py` module is found. `name` is also the id of the benchmark's section
in docs/benchmarks.md; `order` sorts the sections of a full run (lower first)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.report import BenchResult


@dataclass(frozen=True, slots=True)
class BenchContext:
    """What a benchmark gets from the runner."""

    work_dir: Path
    """A fresh folder of this benchmark, removed afterwards unless --keep."""
    quick: bool = False
    """A shorter run (a smoke test of the benchmark itself; its figures are not for the doc)."""
    machine: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    """`--set key=value` from the command line, for benchmark-specific knobs."""

    def command(self, name: str) -> str:
        """How to reproduce one benchmark."""
        return f'make bench ARGS="{name}"'


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    """Lowercase id with dashes; the section id in docs/benchmarks.md."""
    title: str
    run: Callable[[BenchContext], BenchResult]
    order: int = 100
    needs: tuple[str, ...] = ()
    """What must be there (`postgres`, `display`): said when it is missing, not silently skipped."""


def discover() -> list[Benchmark]:
    """Every `bench/bench_*.py` module's BENCHMARK, by order then name."""
    import bench

    found: list[Benchmark] = []
    for module in pkgutil.iter_modules(bench.__path__):
        if not module.name.startswith("bench_"):
            continue
        loaded = importlib.import_module(f"bench.{module.name}")
        benchmark = getattr(loaded, "BENCHMARK", None)
        if not isinstance(benchmark, Benchmark):
            raise TypeError(f"bench/{module.name}.py defines no BENCHMARK = Benchmark(...)")
        found.append(benchmark)
    names = [b.name for b in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"two benchmarks share the name(s) {sorted(duplicates)}")
    return sorted(found, key=lambda b: (b.order, b.name))
