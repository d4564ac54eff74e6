"""`khiu server` (the office server) and `khiu admin migrate` (bring the database schema up to date).

khiu server --config office.toml --password-file /etc/khiu/server.pass
khiu server --database-url postgresql+psycopg://khiu@db/khiu --mqtt-host 10.0.0.5 --tls-ca ca.pem
khiu admin migrate --database-url sqlite:///var/lib/khiu/khiu.db
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import threading
import tomllib
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PASSWORD_ENV = "KHIU_MQTT_PASSWORD"
DATABASE_ENV = "KHIU_DATABASE_URL"
ALREADY_RUNNING_EXIT = 3
"""`khiu server` found another server running on its database and stopped without touching anything."""


class UsageError(Exception):
    """Bad options: the message says what to pass instead."""


def register(sub: Any, admin_sub: Any) -> None:
    """Add `khiu server` and `khiu admin migrate`."""
    p = sub.add_parser(
        "server",
        help="the office server: queue, database, MQTT, web console (เครื่องแม่ข่ายของสำนักงาน)",
        description="Run the office server: the only place where ticket numbers and queue order are decided.",
    )
    p.add_argument("--config", type=Path, metavar="PATH", help="the office TOML (default: $KHIU_CONFIG)")
    _database_option(p)
    p.add_argument("--mqtt-host", default=None, metavar="H", help="broker host (default 127.0.0.1)")
    p.add_argument("--mqtt-port", type=int, default=None, metavar="P", help="broker port (default 1883)")
    p.add_argument("--username", default=None, metavar="U", help="MQTT username (default: server)")
    p.add_argument(
        "--password",
        default=None,
        metavar="PW",
        help=f"MQTT password (better: --password-file or ${PASSWORD_ENV})",
    )
    p.add_argument("--password-file", type=Path, metavar="F", help="file holding the MQTT password")
    p.add_argument(
        "--settings",
        type=Path,
        metavar="FILE",
        help="the connection settings `khiu admin device add server` printed",
    )
    p.add_argument(
        "--tls-ca", type=Path, metavar="PEM", help="the office CA certificate, to connect with TLS"
    )
    p.add_argument("--http-host", default="0.0.0.0", metavar="H", help="web app address (default 0.0.0.0)")
    p.add_argument("--http-port", type=int, default=8000, metavar="P", help="web app port (default 8000)")
    p.add_argument("--no-web", action="store_true", help="run without the web app")
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="where the server keeps its files (default: $KHIU_DATA_DIR)",
    )
    p.add_argument(
        "--request-lanes",
        type=int,
        default=None,
        metavar="N",
        help="extra MQTT connections sharing the kiosks' ticket requests (default 3; 0: one connection)",
    )
    p.set_defaults(handler=run_server)

    m = admin_sub.add_parser(
        "migrate",
        help="bring the database schema up to date (ปรับโครงสร้างฐานข้อมูล)",
        description="Apply the database migrations (the server also does this at every start).",
    )
    _database_option(m)
    m.add_argument("--data-dir", type=Path, metavar="DIR", help="data directory of the default SQLite file")
    m.set_defaults(handler=run_migrate)


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=f"SQLAlchemy URL (default: ${DATABASE_ENV}, else SQLite khiu.db in the data directory)",
    )


def _data_dir(args: argparse.Namespace) -> Path:
    if args.data_dir is not None:
        os.environ["KHIU_DATA_DIR"] = str(args.data_dir)
    from common.paths import data_dir

    return data_dir()


def _database_url(args: argparse.Namespace) -> str:
    from server.store import default_database_url

    return args.database_url or os.environ.get(DATABASE_ENV) or default_database_url()


def run_migrate(args: argparse.Namespace) -> int:
    """Held against a running server: a schema changed under it could break it mid-day (an upgrade's
    install runs this before the server restarts). The server migrates at its next start anyway."""
    from server.store import Store
    from server.store.lock import MIGRATE, ServerAlreadyRunning, ServerLock

    _data_dir(args)
    url = _database_url(args)
    lock = ServerLock(url, MIGRATE)
    try:
        lock.acquire()
    except ServerAlreadyRunning as exc:
        log.error("%s", exc)
        if exc.by_server:
            log.error(
                "the schema was left as it is: the server brings it up to date when it starts again "
                "(sudo systemctl restart khiu-server)"
            )
        return ALREADY_RUNNING_EXIT
    store = Store(url)
    try:
        store.migrate()
    finally:
        store.close()
        lock.release()
    log.info("database %s is up to date", store.describe())
    return 0


def run_server(args: argparse.Namespace) -> int:
    from common.config import ConfigError, load_config
    from common.paths import default_config_path
    from server.runtime import ServerRuntime, ServerSettings, default_web_app
    from server.store.lock import ServerAlreadyRunning

    try:
        data = _data_dir(args)
        config_path = args.config or default_config_path()
        config = load_config(config_path)
        # The admin pages edit the very file this server read (server/web/dashboard).
        os.environ["KHIU_CONFIG"] = str(Path(config_path).resolve())
        mqtt = _mqtt_settings(args)
    except (ConfigError, UsageError) as exc:
        log.error("%s", exc)
        return 2
    settings = ServerSettings(
        config=config,
        database_url=_database_url(args),
        http_host=args.http_host,
        http_port=args.http_port,
        data_dir=data,
        **mqtt,
        **({} if args.request_lanes is None else {"request_lanes": max(0, args.request_lanes)}),
    )
    stop = threading.Event()
    runtime = ServerRuntime(
        settings, web_app=None if args.no_web else default_web_app(settings), on_halt=stop.set
    )

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        runtime.start()
    except ServerAlreadyRunning as exc:
        log.error("%s", exc)
        runtime.store.close()
        return ALREADY_RUNNING_EXIT
    except Exception:
        log.exception("the server could not start")
        runtime.stop()
        return 1
    # What start-up made (the libraries' modules and tables, today's queue) lives as long as the
    # server: moved out of the collector's reach, a full collection no longer walks it all (about 90 ms
    # on a 2-core build machine, every request waiting meanwhile). Reference counting still frees any of
    # it that is dropped later; only a cycle among frozen objects would stay.
    gc.collect()
    gc.freeze()
    log.info("office %s (%s) serving; config %s", config.office.id, config.office.name_th, config_path)
    stop.wait()
    runtime.stop()
    return ALREADY_RUNNING_EXIT if runtime.halted is not None else 0


def _mqtt_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Host, port, username, password and CA from the options, the settings file and the environment."""
    table: dict[str, Any] = {}
    if args.settings is not None:
        try:
            table = tomllib.loads(args.settings.read_text(encoding="utf-8")).get("mqtt", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"cannot read the settings file {args.settings}: {exc}") from None
    password = args.password or table.get("password")
    if args.password_file is not None:
        try:
            password = args.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read the password file {args.password_file}: {exc.strerror}") from None
    elif not password and os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    if not password:
        raise UsageError(
            "no MQTT password: pass --password-file, --settings (from `khiu admin device add server`) "
            f"or set {PASSWORD_ENV}"
        )
    tls_ca = args.tls_ca or (Path(table["tls_ca"]) if table.get("tls_ca") else None)
    default_port = (
        table.get("tls_port") if tls_ca is not None and table.get("tls_port") else table.get("port", 1883)
    )
    return {
        "mqtt_host": args.mqtt_host or table.get("host") or "127.0.0.1",
        "mqtt_port": int(args.mqtt_port or default_port or 1883),
        "username": args.username or table.get("username") or "server",
        "password": password,
        "tls_ca": tls_ca,
    }
