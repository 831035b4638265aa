"""operate: invocations audit, job live figures and artifacts, request ids

Revision ID: ee075553ca5a
Revises: b7d1c0a5e2f4
Create Date: 2026-12-07 07:13:03.130981
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ee075553ca5a"
down_revision: str | None = "b7d1c0a5e2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "invocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("function_name", sa.String(length=128), nullable=False),
        sa.Column("qualifier", sa.String(length=128), nullable=True),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("fc_request_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_invocations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invocations")),
    )
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invocations_function", ["account_id", "function_name", "id"], unique=False
        )

    op.create_table(
        "job_artifacts",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_artifacts_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "name", name=op.f("pk_job_artifacts")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("request_id")
        batch_op.drop_column("live")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_column("request_id")

    op.drop_table("job_artifacts")
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.drop_index("ix_invocations_function")

    op.drop_table("invocations")
