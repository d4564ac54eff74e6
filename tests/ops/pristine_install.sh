#!/usr/bin/env bash
# An install of an office server on a pristine Debian 12, checked end to end as docs/operations.md tells
# it: deploy/install.sh, then the broker and the server as user khiu, the first administrator, a backup,
# its check, a restore refused while the server runs, the purge, and the systemd units verified.
# Run from the source tree, as root (a chroot shares the host's network: free ports are picked):
#   TMPDIR=/tmp/khiu-ops ../shared/tools/pristine-debian bash tests/ops/pristine_install.sh
set -euxo pipefail
bash deploy/install.sh --role server
khiu --help >/dev/null
grep -q '^\[mqtt\]' /etc/khiu/devices/server.toml

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mqtt=$(free_port)
web=$(free_port)
as_khiu() { (cd /var/lib/khiu && runuser -u khiu -- env KHIU_CONFIG=/etc/khiu/office.toml KHIU_DATA_DIR=/var/lib/khiu "$@"); }
stop() {
  [ -f /var/lib/khiu/server.pid ] && kill "$(cat /var/lib/khiu/server.pid)" 2>/dev/null || true
  sleep 2
  [ -f /var/lib/khiu/broker/mosquitto.pid ] && kill "$(cat /var/lib/khiu/broker/mosquitto.pid)" 2>/dev/null || true
}
trap stop EXIT

as_khiu khiu broker --port "$mqtt"
as_khiu bash -c "khiu server --settings /etc/khiu/devices/server.toml --mqtt-port $mqtt --http-host 127.0.0.1 \
  --http-port $web >/var/lib/khiu/server.log 2>&1 & echo \$! >/var/lib/khiu/server.pid"
for _ in $(seq 90); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$web/login', timeout=2)" 2>/dev/null && break
  sleep 1
done
python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$web/login').status)"
echo 'a long enough password' | as_khiu khiu admin user add admin --role admin --password-stdin
as_khiu khiu admin backup
archive=$(ls /var/lib/khiu/backups/khiu-backup-*.tar.gz)
as_khiu khiu admin restore "$archive" --check
if as_khiu khiu admin restore "$archive" --http-port "$web"; then echo "a restore ran while the server runs"; exit 1; fi
as_khiu khiu admin purge --dry-run
stop
trap - EXIT
apt-get install -y -qq systemd procps >/dev/null
cd /etc/systemd/system
systemd-analyze verify khiu-broker.service khiu-server.service khiu-maintenance.service khiu-maintenance.timer \
  khiu-kiosk.service khiu-display.service
echo "pristine install: OK"
