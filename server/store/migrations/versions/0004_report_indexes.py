"""Indexes for the reports: the tickets' report columns by date, and the cases by date.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TICKET_FACTS = [
    "business_date",
    "service",
    "state",
    "priority",
    "counter",
    "outcome",
    "offline",
    "issued_at",
    "called_at",
    "started_at",
    "ended_at",
    "number",
    "id",
]
"""As `server.store.models.REPORT_FACTS` when this revision was written (a migration never changes
with the models)."""


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_business_date_facts", TICKET_FACTS, unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_business_date", ["business_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_business_date")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_business_date_facts")
