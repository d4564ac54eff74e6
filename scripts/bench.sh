#!/usr/bin/env bash
# Runs the benchmarks (bench/bench_*.py) and updates docs/benchmarks.md: `make bench`,
# `make bench ARGS="ticket-round-trip"`, `make bench ARGS="--list"`.
# Under a virtual display, like the tests, so benchmarks of Kivy screens can run too.
set -euo pipefail
cd "$(dirname "$0")/.."
export KIVY_NO_ARGS=1 KIVY_NO_FILELOG=1
export KIVY_HOME=${KIVY_HOME:-$(mktemp -d)}
export PYTHONDONTWRITEBYTECODE=1
mkdir -p build/bench
if command -v xvfb-run >/dev/null 2>&1; then
    exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m bench "$@"
fi
exec .venv/bin/python -m bench "$@"
