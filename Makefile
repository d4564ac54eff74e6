# Khiu's front door. Every target prepares what it needs on a fresh Debian/Ubuntu machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.khiu-installed

.PHONY: setup test lint demo demo-check bench fuzz chaos clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/bootstrap.sh scripts/debian-packages.txt
	bash scripts/bootstrap.sh

## make test: the whole suite (unit, real Mosquitto, SQLite and PostgreSQL, Kivy under Xvfb, Chromium)
test: $(STAMP)
	bash scripts/test.sh $(ARGS)

## make lint: ruff and mypy (strict for common/ and server/)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy common server kiosk counter_display broker_config

## make demo: a whole office on this machine (broker, server, kiosk, board, counter, simulated traffic)
demo: $(STAMP)
	$(VENV)/bin/khiu demo $(ARGS)

## make bench: the benchmarks; figures go to docs/benchmarks.md
bench: $(STAMP)
	bash scripts/bench.sh $(ARGS)

## make fuzz: the fuzzers at full size (10,000+ generated cases; make test runs a smaller sample)
fuzz: $(STAMP)
	KHIU_FUZZ_EXAMPLES=500 bash scripts/test.sh tests/fuzz

## make chaos: a simulated day under broker and server kills; figures go to docs/reliability.md
chaos: $(STAMP)
	$(VENV)/bin/khiu chaos $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info

## make demo-check: the demo for 45 s, then a check that tickets went from kiosk to counter (CI smoke test)
demo-check: $(STAMP)
	xvfb-run -a -s "-screen 0 2320x1390x24" $(VENV)/bin/khiu demo --duration 45 --check --data-dir build/demo-check
