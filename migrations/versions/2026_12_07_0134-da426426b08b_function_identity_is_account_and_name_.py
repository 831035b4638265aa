"""function identity is account and name; webhook events name the account

The same function name may now be managed in several accounts. Webhook event
streams (per-function ordering) are keyed by ``account/name``; existing events,
deliveries and stream counters are re-keyed so that ordering carries over.
Downgrading needs function names to be unique again across accounts.

Revision ID: da426426b08b
Revises: 975462e447cd
Create Date: 2026-12-07 01:34:24.015628
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'da426426b08b'
down_revision: str | None = '975462e447cd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALIAS_OF_NAME = (
    "SELECT a.alias FROM functions f JOIN accounts a ON a.id = f.account_id WHERE f.name = {}"
)


def _widen(table: str, length: int, before: int) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(
            'stream',
            existing_type=sa.String(length=before),
            type_=sa.String(length=length),
            existing_nullable=False,
        )


def upgrade() -> None:
    with op.batch_alter_table('functions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_functions_name'), type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_functions_account_id'), ['account_id', 'name']
        )
    for table in ('webhook_deliveries', 'webhook_events', 'webhook_streams'):
        _widen(table, 130, 64)
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account', sa.String(length=64), nullable=True))
    # Names were unique until now, so each name has one account.
    op.execute(
        "UPDATE webhook_events SET account = ("
        + _ALIAS_OF_NAME.format("webhook_events.function")
        + ") WHERE function IS NOT NULL"
    )
    op.execute(
        "UPDATE webhook_events SET stream = account || '/' || function WHERE account IS NOT NULL"
    )
    op.execute(
        "UPDATE webhook_deliveries SET stream = "
        "(SELECT e.stream FROM webhook_events e WHERE e.id = webhook_deliveries.event_id)"
    )
    op.execute(
        "UPDATE webhook_streams SET stream = ("
        + _ALIAS_OF_NAME.format("webhook_streams.stream")
        + ") || '/' || stream WHERE stream <> '' AND EXISTS ("
        + _ALIAS_OF_NAME.format("webhook_streams.stream")
        + ")"
    )


def downgrade() -> None:
    op.execute("UPDATE webhook_events SET stream = function WHERE account IS NOT NULL")
    op.execute(
        "UPDATE webhook_deliveries SET stream = "
        "(SELECT e.stream FROM webhook_events e WHERE e.id = webhook_deliveries.event_id)"
    )
    op.execute("DELETE FROM webhook_streams WHERE stream LIKE '%/%'")
    op.execute(
        "INSERT INTO webhook_streams (stream, last_seq) SELECT function, MAX(seq) "
        "FROM webhook_events WHERE account IS NOT NULL GROUP BY function"
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_column('account')
    for table in ('webhook_streams', 'webhook_events', 'webhook_deliveries'):
        _widen(table, 64, 130)
    with op.batch_alter_table('functions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_functions_account_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_functions_name'), ['name'])
