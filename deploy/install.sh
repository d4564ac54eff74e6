#!/usr/bin/env bash
# Installs Khiu on a Debian 12 / Ubuntu / Raspberry Pi OS machine: the packages, a system user `khiu`, the
# program in /opt/khiu/venv, /etc/khiu (settings) and /var/lib/khiu (data), and the systemd units.
# Safe to run again (an upgrade: the program is reinstalled and the database migrated; settings stay).
#
#   sudo deploy/install.sh --role server            # the office server: broker, server, nightly backup
#   sudo deploy/install.sh --role kiosk             # a kiosk (or survey tablet) machine
#   sudo deploy/install.sh --role display           # a hall board or counter terminal machine
#   sudo deploy/install.sh --role server --enable   # ... and enable and start the services
#
# Options: --source DIR (the Khiu source tree to install; default: the tree this script is in),
# --prefix DIR (default /opt/khiu), --no-apt (the packages are already there). See docs/operations.md.
set -euo pipefail

role=""
enable=0
apt=1
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")
prefix=/opt/khiu
etc=/etc/khiu
data=/var/lib/khiu
user=khiu

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while (($#)); do
  case "$1" in
    --role) role=${2:-}; shift 2 ;;
    --enable) enable=1; shift ;;
    --no-apt) apt=0; shift ;;
    --source) source_dir=$(cd "$2" && pwd); shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "install: unknown option $1" >&2; usage ;;
  esac
done
case "$role" in server|kiosk|display) ;; *) echo "install: give --role server, kiosk or display" >&2; usage ;; esac
[ "$(id -u)" -eq 0 ] || { echo "install: run as root (sudo)" >&2; exit 1; }
[ -f "$source_dir/pyproject.toml" ] || { echo "install: no Khiu source tree at $source_dir" >&2; exit 1; }
systemd_running=0
[ -d /run/systemd/system ] && systemd_running=1
say() { printf 'install: %s\n' "$*"; }

# 1. Debian packages -----------------------------------------------------------------------------------
if ((apt)); then
  mapfile -t packages < <(grep -v '^\s*#' "$here/debian-runtime-packages.txt" | sed '/^\s*$/d')
  say "Debian packages: ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# 2. The service user ----------------------------------------------------------------------------------
if ! id "$user" >/dev/null 2>&1; then
  say "creating system user $user (home $data)"
  useradd --system --user-group --home-dir "$data" --no-create-home --shell /usr/sbin/nologin "$user"
fi
# Printers (USB via the udev rule's group, serial via dialout), sound, screen and touch for the displays.
for group in dialout lp audio video input render plugdev; do
  getent group "$group" >/dev/null && usermod -a -G "$group" "$user"
done

# 3. Folders -------------------------------------------------------------------------------------------
install -d -m 0750 -o "$user" -g "$user" "$data"
install -d -m 0770 -o root -g "$user" "$etc"
install -d -m 0750 -o root -g "$user" "$etc/devices"
[ -f "$etc/khiu.env" ] || install -m 0640 -o root -g "$user" "$here/khiu.env.example" "$etc/khiu.env"
if [ ! -f "$etc/office.toml" ]; then
  install -m 0660 -o "$user" -g "$user" "$source_dir/examples/office.toml" "$etc/office.toml"
  say "copied the EXAMPLE office to $etc/office.toml: edit it (office, services, counters, devices)"
fi

# 4. The program ---------------------------------------------------------------------------------------
install -d -m 0755 "$prefix"
if [ ! -x "$prefix/venv/bin/python" ]; then
  say "creating $prefix/venv"
  python3 -m venv "$prefix/venv"
fi
say "installing Khiu from $source_dir (first run takes a few minutes)"
"$prefix/venv/bin/python" -m pip install -q --upgrade pip
"$prefix/venv/bin/python" -m pip install -q --upgrade "$source_dir"
install -d -m 0755 "$prefix/docs"
cp "$source_dir"/docs/*.md "$prefix/docs/"
ln -sf "$prefix/venv/bin/khiu" /usr/local/bin/khiu

# 5. systemd -------------------------------------------------------------------------------------------
install -d /etc/systemd/system /etc/pam.d
install -m 0644 "$here"/systemd/*.service "$here"/systemd/*.timer /etc/systemd/system/
install -m 0644 "$here/pam/khiu-display" /etc/pam.d/khiu-display
((systemd_running)) && systemctl daemon-reload

# Run a khiu command as the service user with the paths of khiu.env (the three it needs, read, not sourced).
as_khiu() {
  local settings=()
  mapfile -t settings < <(grep -E '^(KHIU_CONFIG|KHIU_DATA_DIR|KHIU_DATABASE_URL)=' "$etc/khiu.env" | tr -d '"')
  (cd "$data" && runuser -u "$user" -- env "${settings[@]}" "$@")
}

# 6. The role ------------------------------------------------------------------------------------------
units=()
case "$role" in
  server)
    if systemctl is-enabled mosquitto.service >/dev/null 2>&1 || systemctl is-active mosquitto.service >/dev/null 2>&1; then
      say "disabling Debian's own mosquitto service (it would take port 1883)"
      systemctl disable --now mosquitto.service >/dev/null 2>&1 || true
    fi
    say "bringing the database schema up to date"
    migrated=0
    as_khiu "$prefix/venv/bin/khiu" admin migrate || migrated=$?
    if ((migrated == 3)); then  # the server runs: it migrates as it starts again
      say "the server is running: restart it to bring the schema up to date (systemctl restart khiu-server)"
    elif ((migrated != 0)); then
      exit "$migrated"
    fi
    if [ ! -f "$etc/devices/server.toml" ]; then
      say "registering the server's own broker account"
      # The command prints a line of its own first; the settings are the commented TOML after it.
      as_khiu "$prefix/venv/bin/khiu" admin device add server --role server | sed -n '/^# /,$p' \
        > "$etc/devices/server.toml"
      chown root:"$user" "$etc/devices/server.toml" && chmod 0640 "$etc/devices/server.toml"
    fi
    units=(khiu-broker.service khiu-server.service khiu-maintenance.timer)
    ;;
  kiosk) units=(khiu-kiosk.service) ;;
  display) units=(khiu-display.service) ;;
esac

if ((enable)); then
  for unit in "${units[@]}"; do
    if ((systemd_running)); then systemctl enable --now "$unit"; else systemctl enable "$unit"; fi
  done
  [ "$role" = server ] || systemctl set-default graphical.target >/dev/null
fi

say "done. Units for this role: ${units[*]}"
if ((!enable)); then say "enable them with: systemctl enable --now ${units[*]}"; fi
say "next steps: docs/operations.md (copied to $prefix/docs/operations.md)"
