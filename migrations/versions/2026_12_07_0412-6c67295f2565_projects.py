"""projects: s.yaml projects, their revisions, targets (project x account) and deployments

Revision ID: 6c67295f2565
Revises: 4d8c76b167f5
Create Date: 2026-12-07 04:12:22.887733
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '6c67295f2565'
down_revision: str | None = '4d8c76b167f5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('head_revision', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('name', name=op.f('uq_projects_name'))
    )
    op.create_table('project_deployments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('environment', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('strategy', sa.String(length=16), nullable=False),
    sa.Column('resolved', sa.JSON(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('error', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_project_deployments_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_deployments_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_deployments'))
    )
    with op.batch_alter_table('project_deployments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_deployments_project_id'), ['project_id'], unique=False)

    op.create_table('project_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('main', sa.String(length=255), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('code', sa.JSON(), nullable=False),
    sa.Column('env_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('env_shown', sa.JSON(), nullable=False),
    sa.Column('environments', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_revisions_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_revisions')),
    sa.UniqueConstraint('project_id', 'number', name=op.f('uq_project_revisions_project_id'))
    )
    with op.batch_alter_table('project_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_revisions_project_id'), ['project_id'], unique=False)

    op.create_table('project_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('resources', sa.JSON(), nullable=False),
    sa.Column('claim_id', sa.String(length=36), nullable=True),
    sa.Column('claim_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_project_targets_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_targets_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_targets')),
    sa.UniqueConstraint('project_id', 'account_id', name=op.f('uq_project_targets_project_id'))
    )
    with op.batch_alter_table('project_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_targets_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('project_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_targets_project_id'))

    op.drop_table('project_targets')
    with op.batch_alter_table('project_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_revisions_project_id'))

    op.drop_table('project_revisions')
    with op.batch_alter_table('project_deployments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_deployments_project_id'))

    op.drop_table('project_deployments')
    op.drop_table('projects')
