"""functions revisions deployments plans drift

Revision ID: ee56ccdab198
Revises: dd936838e6b6
Create Date: 2026-11-27 14:59:36.141652
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ee56ccdab198'
down_revision: str | None = 'dd936838e6b6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('code_packages',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('checksum', sa.String(length=32), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_code_packages'))
    )
    op.create_table('deployments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('function_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('strategy', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('base_revision', sa.Integer(), nullable=True),
    sa.Column('from_revision', sa.Integer(), nullable=False),
    sa.Column('to_revision', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('fc_request_ids', sa.JSON(), nullable=False),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.Column('plan', sa.JSON(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('pushed_state', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['function_id'], ['functions.id'], name=op.f('fk_deployments_function_id_functions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployments'))
    )
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deployments_function_id'), ['function_id'], unique=False)
        batch_op.create_index('uq_deployments_idempotency', ['function_id', 'idempotency_key'], unique=True)

    op.create_table('drift_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('function_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('deployment_id', sa.String(length=36), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['function_id'], ['functions.id'], name=op.f('fk_drift_events_function_id_functions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drift_events'))
    )
    with op.batch_alter_table('drift_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drift_events_function_id'), ['function_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drift_events_status'), ['status'], unique=False)

    op.create_table('plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('function_id', sa.Integer(), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('head_revision', sa.Integer(), nullable=False),
    sa.Column('applied_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('live_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('applied_deployment_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['function_id'], ['functions.id'], name=op.f('fk_plans_function_id_functions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_function_id'), ['function_id'], unique=False)

    op.create_table('revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('function_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('code_checksum', sa.String(length=32), nullable=True),
    sa.Column('code_sha256', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['function_id'], ['functions.id'], name=op.f('fk_revisions_function_id_functions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revisions')),
    sa.UniqueConstraint('function_id', 'number', name=op.f('uq_revisions_function_id'))
    )
    with op.batch_alter_table('functions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('head_revision', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('applied_state', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('drift_status', sa.String(length=16), nullable=False, server_default='unknown'))
        batch_op.add_column(sa.Column('drift_checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deploying_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('deploy_lease_until', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('functions', schema=None) as batch_op:
        batch_op.drop_column('deploy_lease_until')
        batch_op.drop_column('deploying_id')
        batch_op.drop_column('drift_checked_at')
        batch_op.drop_column('drift_status')
        batch_op.drop_column('applied_at')
        batch_op.drop_column('applied_state')
        batch_op.drop_column('head_revision')
        batch_op.drop_column('created_by')

    op.drop_table('revisions')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plans_function_id'))

    op.drop_table('plans')
    with op.batch_alter_table('drift_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drift_events_status'))
        batch_op.drop_index(batch_op.f('ix_drift_events_function_id'))

    op.drop_table('drift_events')
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.drop_index('uq_deployments_idempotency')
        batch_op.drop_index(batch_op.f('ix_deployments_function_id'))

    op.drop_table('deployments')
    op.drop_table('code_packages')
