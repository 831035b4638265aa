"""jobs without a function (build jobs): jobs.account_id, jobs.function_id nullable

Revision ID: b7d1c0a5e2f4
Revises: 6c67295f2565
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d1c0a5e2f4"
down_revision: str | None = "6c67295f2565"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
    # Every existing job is about a function: its account is the function's.
    op.execute(
        "UPDATE jobs SET account_id = "
        "(SELECT functions.account_id FROM functions WHERE functions.id = jobs.function_id)"
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("function_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_jobs_account_id"), ["account_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_jobs_account_id_accounts"),
            "accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    # Jobs without a function (builds) cannot exist in the older schema.
    op.execute("DELETE FROM jobs WHERE function_id IS NULL")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_jobs_account_id_accounts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_jobs_account_id"))
        batch_op.alter_column("function_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("account_id")
