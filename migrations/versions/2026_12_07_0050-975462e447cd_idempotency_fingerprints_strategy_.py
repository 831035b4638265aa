"""idempotency fingerprints, strategy change lists, drift resolver

deployments: the request fingerprint an Idempotency-Key retry must match, and
what a strategy left out (discarded local / overwritten remote changes);
drift_events: the deployment that resolved the event.

Revision ID: 975462e447cd
Revises: 38845e76ae2c
Create Date: 2026-12-07 00:50:45.108869
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '975462e447cd'
down_revision: str | None = '38845e76ae2c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_fingerprint', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('discarded_changes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('overwritten_changes', sa.JSON(), nullable=True))

    with op.batch_alter_table('drift_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_by_deployment_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('drift_events', schema=None) as batch_op:
        batch_op.drop_column('resolved_by_deployment_id')

    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.drop_column('overwritten_changes')
        batch_op.drop_column('discarded_changes')
        batch_op.drop_column('request_fingerprint')
