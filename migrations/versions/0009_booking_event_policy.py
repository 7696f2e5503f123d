"""A school's policy for booking events edited in a calendar; calendar reconciliation.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

``organisations.booking_event_policy``: when an instructor moves or deletes a booking's event
in their own calendar, either the event is put back (``bookly_wins``, the default: Bookly and
the customer keep the booked time) or the booking follows (``calendar_wins``).
``calendar_connections.reconciled_at`` / ``last_repairs``: the last full reconciliation of the
calendar with Bookly and what it repaired.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'booking_event_policy',
                sa.Enum('bookly_wins', 'calendar_wins', name='booking_event_policy',
                        native_enum=False, create_constraint=True, length=32),
                nullable=False,
                server_default='bookly_wins',
            )
        )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.alter_column('booking_event_policy', server_default=None)
    with op.batch_alter_table('calendar_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('last_repairs', sa.Integer(), nullable=False, server_default='0')
        )
    with op.batch_alter_table('calendar_connections', schema=None) as batch_op:
        batch_op.alter_column('last_repairs', server_default=None)


def downgrade():
    with op.batch_alter_table('calendar_connections', schema=None) as batch_op:
        batch_op.drop_column('last_repairs')
        batch_op.drop_column('reconciled_at')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organisations_booking_event_policy'), type_='check')
        batch_op.drop_column('booking_event_policy')
