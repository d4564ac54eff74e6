"""Whether the office's backups run, for the manager's today page. `khiu admin backup` records each
archive it writes and each failure in the audit log (the nightly timer's journal is read by nobody),
so a backup that stopped, or fails every night on a full disk, is seen the next morning."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection

from server.backup import BACKUP_CREATED, BACKUP_FAILED
from server.retention import CLI_MARK
from server.web.models import AuditEntry

BACKUP_DUE = dt.timedelta(hours=36)
"""The nightly timer runs at 02:30 (or at the next boot of a machine that was off then): a backup older
than this means one night was missed, and the alert shows by the next afternoon."""
LOOK_BACK = dt.timedelta(days=30)
"""How far back the audit log is read (by its time index): one poll of the today page stays cheap."""


class BackupAlertKind(StrEnum):
    failed = "backup_failed"
    """The last backup failed (after the last one that worked)."""
    overdue = "backup_overdue"
    """The last backup worked, but longer ago than `BACKUP_DUE`."""
    none = "backup_none"
    """No backup within `LOOK_BACK`, and the office is older than `BACKUP_DUE`."""


@dataclass(frozen=True, slots=True)
class BackupAlert:
    kind: BackupAlertKind
    at: dt.datetime
    """The failure, the last backup, or since when none was made."""
    reason: str = ""
    """Why it failed (the command's message)."""


def backup_alert(connection: Connection, *, now: dt.datetime) -> BackupAlert | None:
    """What the today page says of backups; None while they run every night."""
    audit = AuditEntry.__table__
    assert isinstance(audit, Table)
    since = now - LOOK_BACK

    def last(action: str) -> tuple[dt.datetime, str] | None:
        row = connection.execute(
            select(audit.c.at, audit.c.detail)
            .where(audit.c.at >= since, audit.c.action == action)
            .order_by(audit.c.at.desc())
            .limit(1)
        ).first()
        return None if row is None else (row.at, row.detail)

    made, failed = last(BACKUP_CREATED), last(BACKUP_FAILED)
    if failed is not None and (made is None or failed[0] > made[0]):
        reason = failed[1].removesuffix(CLI_MARK).strip()
        return BackupAlert(BackupAlertKind.failed, failed[0], reason)
    if made is not None:
        return BackupAlert(BackupAlertKind.overdue, made[0]) if now - made[0] > BACKUP_DUE else None
    first: dt.datetime | None = connection.execute(select(func.min(audit.c.at))).scalar()
    if first is None or now - first <= BACKUP_DUE:
        return None  # a new office: its first night has not come yet
    return BackupAlert(BackupAlertKind.none, max(first, since))
