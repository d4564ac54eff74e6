#!/usr/bin/env bash
# Runs the test suite under a virtual display (Kivy screens need one; browser tests use headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export KIVY_NO_ARGS=1 KIVY_NO_FILELOG=1
# As the kiosk and the displays run (common/kivy_env.py), so the screenshots show what they show.
export KCFG_GRAPHICS_MULTISAMPLES=${KCFG_GRAPHICS_MULTISAMPLES:-0}
export KIVY_HOME=${KIVY_HOME:-$(mktemp -d)}
export PYTHONDONTWRITEBYTECODE=1
mkdir -p build/screenshots
exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
