#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine for Khiu: the Debian packages it needs (installed only when
# missing), then the virtual environment in .venv with the project and its test extras.
# Used by `make test`, `make demo` and friends; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  fi
fi

missing=()
while read -r pkg; do
  [ -z "$pkg" ] && continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done < <(grep -v '^\s*#' scripts/debian-packages.txt)

# The venv module and pip come separately on Debian.
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv python3-pip)
fi

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: these Debian packages are missing and apt-get is not available: ${missing[*]}" >&2
    echo "bootstrap: install them with your system's package manager, then run again." >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ] && ((${#sudo_cmd[@]} == 0)); then
    echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2
    echo "bootstrap: run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp="$VENV/.khiu-installed"
if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV with $("$PYTHON" --version)"
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing Python packages into $VENV (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e '.[test]'
  touch "$stamp"
fi
