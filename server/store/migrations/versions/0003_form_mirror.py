"""The Google Form mirror's durable queue: one row per survey response to copy to the office's form.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_mirror",
        sa.Column("response_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_form_mirror_response_id_survey_responses"),
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_form_mirror")),
    )
    with op.batch_alter_table("form_mirror", schema=None) as batch_op:
        batch_op.create_index(
            "ix_form_mirror_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("form_mirror", schema=None) as batch_op:
        batch_op.drop_index("ix_form_mirror_status_next_attempt_at")
    op.drop_table("form_mirror")
