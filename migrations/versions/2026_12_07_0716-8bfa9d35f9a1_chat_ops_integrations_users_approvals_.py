"""chat-ops: integrations, users, approvals, audit events, receipts

Revision ID: 8bfa9d35f9a1
Revises: ee075553ca5a
Create Date: 2026-12-07 07:16:39.119739
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8bfa9d35f9a1"
down_revision: str | None = "ee075553ca5a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "chat_integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("verification_token_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("app_id", sa.String(length=128), nullable=True),
        sa.Column("app_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("api_base_url", sa.String(length=300), nullable=True),
        sa.Column("default_scope", sa.String(length=16), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=True),
        sa.Column("require_second_approver", sa.Boolean(), nullable=False),
        sa.Column("approval_ttl_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_integrations")),
        sa.UniqueConstraint("name", name=op.f("uq_chat_integrations_name")),
    )
    op.create_table(
        "chat_approvals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_by_name", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reply_to", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["chat_integrations.id"],
            name=op.f("fk_chat_approvals_integration_id_chat_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_approvals")),
    )
    with op.batch_alter_table("chat_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_approvals_integration_id"), ["integration_id"], unique=False
        )
        batch_op.create_index(
            "ix_chat_approvals_status_expiry", ["status", "expires_at"], unique=False
        )

    op.create_table(
        "chat_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("user_name", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("command", sa.String(length=500), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("approval_id", sa.String(length=36), nullable=True),
        sa.Column("deployment_id", sa.String(length=36), nullable=True),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["chat_integrations.id"],
            name=op.f("fk_chat_events_integration_id_chat_integrations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_events")),
    )
    with op.batch_alter_table("chat_events", schema=None) as batch_op:
        batch_op.create_index("ix_chat_events_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_chat_events_integration_id"), ["integration_id"], unique=False
        )

    op.create_table(
        "chat_receipts",
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["chat_integrations.id"],
            name=op.f("fk_chat_receipts_integration_id_chat_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", "key", name=op.f("pk_chat_receipts")),
    )
    with op.batch_alter_table("chat_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_receipts_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "chat_users",
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("platform_user_id", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["chat_integrations.id"],
            name=op.f("fk_chat_users_integration_id_chat_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", "platform_user_id", name=op.f("pk_chat_users")),
    )


def downgrade() -> None:

    op.drop_table("chat_users")
    with op.batch_alter_table("chat_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_receipts_received_at"))

    op.drop_table("chat_receipts")
    with op.batch_alter_table("chat_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_events_integration_id"))
        batch_op.drop_index("ix_chat_events_created")

    op.drop_table("chat_events")
    with op.batch_alter_table("chat_approvals", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_approvals_status_expiry")
        batch_op.drop_index(batch_op.f("ix_chat_approvals_integration_id"))

    op.drop_table("chat_approvals")
    op.drop_table("chat_integrations")
