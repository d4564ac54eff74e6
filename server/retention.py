"""Retention of what the office database keeps about people, and the audit of command-line administration.

`khiu admin purge` applies the office's `[retention]` settings (common/config.py, `RetentionPolicy`):
- survey comments (free text a citizen typed on the phone page) are erased after `comments_days`; the
  ratings and demographic bands of the same response stay, since every report is computed from them;
- audit log entries are deleted after `audit_days`;
- stored replies of applied requests (`processed_events`) are deleted after `events_days`.

It runs beside a running server: one short transaction (on SQLite it waits for the sequencer's write lock
like any writer, `busy_timeout`). The daily maintenance timer in deploy/ runs it after the backup.

`audit_cli()` records an administration done from the command line in the same audit log the web app
writes, so the log tells the whole story (`khiu admin backup|restore|purge` use it)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from common.config import RetentionPolicy

log = logging.getLogger(__name__)

CLI_MARK = "(command line)"
"""Appended to the detail of every audit entry written by a `khiu admin` command (no web user acted)."""


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What one purge removed, and the cut-off times it used (UTC)."""

    comments_erased: int
    audit_deleted: int
    events_deleted: int
    comments_before: dt.datetime
    audit_before: dt.datetime
    events_before: dt.datetime

    def summary(self) -> str:
        return (
            f"comments erased {self.comments_erased} (before {self.comments_before:%Y-%m-%d}), "
            f"audit entries deleted {self.audit_deleted} (before {self.audit_before:%Y-%m-%d}), "
            f"stored replies deleted {self.events_deleted} (before {self.events_before:%Y-%m-%d})"
        )


def purge(engine: Engine, policy: RetentionPolicy, *, now: dt.datetime, dry_run: bool = False) -> PurgeResult:
    """Apply `policy` as of `now` in one transaction (rolled back with `dry_run`: counts only)."""
    from sqlalchemy import Table, delete, update

    from server.store.models import ProcessedEventRow, SurveyResponseRow
    from server.web.models import AuditEntry

    comments_before = now - dt.timedelta(days=policy.comments_days)
    audit_before = now - dt.timedelta(days=policy.audit_days)
    events_before = now - dt.timedelta(days=policy.events_days)
    responses = SurveyResponseRow.__table__
    assert isinstance(responses, Table)
    with engine.connect() as connection, connection.begin() as transaction:
        comments = connection.execute(
            update(responses)
            .where(responses.c.at < comments_before, responses.c.comment.is_not(None))
            .values(comment=None)
        ).rowcount
        audit = connection.execute(delete(AuditEntry).where(AuditEntry.at < audit_before)).rowcount
        events = connection.execute(
            delete(ProcessedEventRow).where(ProcessedEventRow.at < events_before)
        ).rowcount
        if dry_run:
            transaction.rollback()
    return PurgeResult(
        comments_erased=max(comments, 0),
        audit_deleted=max(audit, 0),
        events_deleted=max(events, 0),
        comments_before=comments_before,
        audit_before=audit_before,
        events_before=events_before,
    )


def audit_cli(engine: Engine, action: str, detail: str = "") -> None:
    """Record a command-line administration in the audit log (no web user: the username stays empty)."""
    from sqlalchemy import Table

    from server.web.models import AuditEntry

    entry = AuditEntry.__table__
    assert isinstance(entry, Table)
    with engine.begin() as connection:
        connection.execute(
            entry.insert().values(
                at=dt.datetime.now(dt.UTC),
                username=None,
                action=action[:60],
                detail=f"{detail} {CLI_MARK}".strip(),
                ip="",
            )
        )


# ----------------------------------------------------------------------------------------------- command line


class AdminError(Exception):
    """A problem the operator can fix; the message says how. Printed without a traceback, exit code 1."""


def database_url(args: argparse.Namespace) -> str:
    """`--database-url`, else `$KHIU_DATABASE_URL`, else SQLite `khiu.db` in the data directory (the same
    order as `khiu server`)."""
    from server.cli import DATABASE_ENV
    from server.store import default_database_url

    url: str = args.database_url or os.environ.get(DATABASE_ENV) or default_database_url()
    return url


def use_data_dir(args: argparse.Namespace) -> Path:
    """Apply `--data-dir` (as `khiu server` does: through `$KHIU_DATA_DIR`) and return the data directory."""
    from common.paths import data_dir

    if getattr(args, "data_dir", None) is not None:
        os.environ["KHIU_DATA_DIR"] = str(args.data_dir)
    return data_dir()


def config_path(args: argparse.Namespace) -> Path:
    from common.paths import default_config_path

    path: Path = args.config or default_config_path()
    return path


def open_existing(url: str) -> Engine:
    """An engine on a database that must already exist with the current schema (no file is created)."""
    from sqlalchemy.engine import make_url

    from server.store.database import create_database_engine, describe_url, is_sqlite, schema_is_current

    if is_sqlite(url):
        database = make_url(url).database
        if not database or not Path(database).is_file():
            raise AdminError(
                f"ไม่พบฐานข้อมูล / no database at {database}: give --database-url or --data-dir "
                "(the server's data directory)"
            )
    engine = create_database_engine(url)
    try:
        current = schema_is_current(engine)
    except Exception as exc:
        engine.dispose()
        raise AdminError(f"cannot open the database {describe_url(url)}: {exc}") from exc
    if not current:
        engine.dispose()
        raise AdminError(
            f"ฐานข้อมูลยังไม่ได้ปรับโครงสร้าง / the database {describe_url(url)} is not at the newest schema: "
            "run `khiu admin migrate` first"
        )
    return engine


def common_options(parser: argparse.ArgumentParser) -> None:
    """--config, --database-url and --data-dir, as `khiu server` takes them."""
    parser.add_argument("--config", type=Path, metavar="PATH", help="the office TOML (default: $KHIU_CONFIG)")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="SQLAlchemy URL (default: $KHIU_DATABASE_URL, else SQLite khiu.db in the data directory)",
    )
    parser.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="the server's data directory (default: $KHIU_DATA_DIR)"
    )


def register(sub: Any, admin_sub: Any) -> None:
    """Add `khiu admin purge`."""
    p = admin_sub.add_parser(
        "purge",
        help="apply the retention settings: erase old survey comments, old audit entries (ลบข้อมูลเก่า)",
        description="Erase survey comments, audit entries and stored replies older than the office's "
        "[retention] settings. Ratings stay. Safe while the server runs.",
    )
    common_options(p)
    p.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    p.set_defaults(handler=run_purge)


def run_purge(args: argparse.Namespace) -> int:
    from common.config import ConfigError, load_config

    try:
        use_data_dir(args)
        config = load_config(config_path(args))
        engine = open_existing(database_url(args))
    except (ConfigError, AdminError) as exc:
        sys.stderr.write(f"khiu: {exc}\n")
        return 1
    try:
        result = purge(engine, config.retention, now=dt.datetime.now(dt.UTC), dry_run=args.dry_run)
        if not args.dry_run:
            audit_cli(engine, "retention.purge", result.summary())
    finally:
        engine.dispose()
    head = "จะลบ / would remove" if args.dry_run else "ลบแล้ว / removed"
    sys.stdout.write(
        f"{head}:\n"
        f"  ความคิดเห็นในแบบประเมิน / survey comments: {result.comments_erased} "
        f"(older than {config.retention.comments_days} days; ratings kept)\n"
        f"  บันทึกการใช้งาน / audit entries: {result.audit_deleted} "
        f"(older than {config.retention.audit_days} days)\n"
        f"  คำตอบที่เก็บไว้ / stored replies: {result.events_deleted} "
        f"(older than {config.retention.events_days} days)\n"
    )
    log.info("purge: %s%s", result.summary(), " (dry run)" if args.dry_run else "")
    return 0
