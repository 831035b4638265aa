"""releases: versions, aliases with revisions; alias drift events

function_versions: versions published through fcplane; aliases: each alias's
applied routing and claim, with its own numbered revisions (alias_revisions);
drift_events.alias: set when the drift is an alias's.

Revision ID: 4d8c76b167f5
Revises: da426426b08b
Create Date: 2026-12-07 01:48:22.423214
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '4d8c76b167f5'
down_revision: str | None = 'da426426b08b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('function_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('head', sa.Integer(), nullable=False),
    sa.Column('applied_state', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('drift_status', sa.String(length=16), nullable=False),
    sa.Column('claim_id', sa.String(length=36), nullable=True),
    sa.Column('claim_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['function_id'], ['functions.id'], name=op.f('fk_aliases_function_id_functions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aliases')),
    sa.UniqueConstraint('function_id', 'name', name=op.f('uq_aliases_function_id'))
    )
    with op.batch_alter_table('aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aliases_function_id'), ['function_id'], unique=False)

    op.create_table('function_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('function_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('from_revision', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['function_id'], ['functions.id'], name=op.f('fk_function_versions_function_id_functions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_function_versions')),
    sa.UniqueConstraint('function_id', 'version_id', name=op.f('uq_function_versions_function_id'))
    )
    with op.batch_alter_table('function_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_function_versions_function_id'), ['function_id'], unique=False)

    op.create_table('alias_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alias_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alias_id'], ['aliases.id'], name=op.f('fk_alias_revisions_alias_id_aliases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alias_revisions')),
    sa.UniqueConstraint('alias_id', 'number', name=op.f('uq_alias_revisions_alias_id'))
    )
    with op.batch_alter_table('drift_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alias', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('drift_events', schema=None) as batch_op:
        batch_op.drop_column('alias')

    op.drop_table('alias_revisions')
    with op.batch_alter_table('function_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_function_versions_function_id'))

    op.drop_table('function_versions')
    with op.batch_alter_table('aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aliases_function_id'))

    op.drop_table('aliases')