"""`python -m bench [NAME ...]`: run benchmarks and update docs/benchmarks.md (scripts/bench.sh, make bench).

python -m bench                  # every benchmark, in order
python -m bench ticket-round-trip call-to-board
python -m bench --list
python -m bench --quick --no-doc # a short smoke run of every benchmark, doc untouched
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.registry import BenchContext, discover
from bench.report import BenchResult, StealMeter, machine_info, merge_into_doc, now_text

log = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", help="short runs; implies --no-doc")
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--results", type=Path, default=ROOT / "build" / "bench", help="JSON results folder")
    parser.add_argument("--keep", action="store_true", help="keep each benchmark's work folder")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="benchmark option")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("bench").setLevel(logging.DEBUG if args.verbose else logging.INFO)

    benchmarks = discover()
    if args.list:
        for b in benchmarks:
            sys.stdout.write(f"{b.name:28} {b.title}\n")
        return 0
    known = {b.name for b in benchmarks}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        sys.stderr.write(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}\n")
        return 2
    chosen = [b for b in benchmarks if not args.names or b.name in args.names]
    options = dict(item.split("=", 1) for item in args.set if "=" in item)

    machine = machine_info(ROOT / "build")
    log.info("machine: %s", machine)
    args.results.mkdir(parents=True, exist_ok=True)
    done: list[BenchResult] = []
    failed: list[str] = []
    for benchmark in chosen:
        work = Path(tempfile.mkdtemp(prefix=f"khiu-bench-{benchmark.name}-"))
        ctx = BenchContext(work_dir=work, quick=args.quick, machine=machine, options=options)
        log.info("running %s (%s)", benchmark.name, benchmark.title)
        started = time.monotonic()
        steal = StealMeter()
        try:
            result = benchmark.run(ctx)
        except Exception:
            failed.append(benchmark.name)
            log.error("benchmark %s failed:\n%s", benchmark.name, traceback.format_exc())
            continue
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        taken = {"CPU the host took (steal) during the run": steal.text()}
        result.machine = result.machine or {**machine, **taken}
        result.measured_at = result.measured_at or now_text()
        done.append(result)
        if not args.quick:
            (args.results / f"{result.name}.json").write_text(result.to_json(), "utf-8")
        log.info("%s done in %.0f s", benchmark.name, time.monotonic() - started)
        for figure in result.figures:
            met = "" if figure.met is None else (" (target met)" if figure.met else " (TARGET MISSED)")
            sys.stdout.write(f"{result.name}: {figure.label}: {figure.shown()}{met}\n")
    if done and not (args.no_doc or args.quick):
        merge_into_doc(args.doc, done, {b.name: b.order for b in benchmarks})
        log.info("updated %s", args.doc)
    if failed:
        sys.stderr.write(f"failed: {', '.join(failed)} (their sections in the doc were left as they were)\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
