"""Bookings: no overlapping confirmed bookings per instructor; delivery state; phone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

PostgreSQL gets an exclusion constraint on tstzrange(starts_at, ends_at) (btree_gist for the
instructor equality); SQLite gets triggers doing the same check inside the write. A later
batch migration of ``bookings`` on SQLite recreates the table and must recreate the triggers.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_SQLITE_OVERLAP = """
CREATE TRIGGER bookings_no_overlap_{event} BEFORE {what} ON bookings
WHEN NEW.status = 'confirmed' AND EXISTS (
    SELECT 1 FROM bookings AS other
    WHERE other.instructor_id = NEW.instructor_id AND other.status = 'confirmed'
      AND other.id IS NOT NEW.id
      AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at)
BEGIN SELECT RAISE(ABORT, 'bookings_no_overlap: overlapping confirmed booking'); END
"""
_TRIGGERS = {
    "insert": "INSERT",
    "update": "UPDATE OF instructor_id, starts_at, ends_at, status",
}


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_phone', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('delivery_state', sa.Enum('pending', 'delivered', 'failed', name='delivery_state', native_enum=False, create_constraint=True, length=32), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('schedule_only', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.alter_column('customer_phone', server_default=None)
        batch_op.alter_column('delivery_state', server_default=None)
        batch_op.alter_column('schedule_only', server_default=None)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist "
            "(instructor_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            "WHERE (status = 'confirmed')"
        )
    elif op.get_bind().dialect.name == 'sqlite':
        for event, what in _TRIGGERS.items():
            op.execute(_SQLITE_OVERLAP.format(event=event, what=what))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap')
    elif op.get_bind().dialect.name == 'sqlite':
        for event in _TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS bookings_no_overlap_{event}')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_bookings_delivery_state'), type_='check')
        batch_op.drop_column('schedule_only')
        batch_op.drop_column('delivery_state')
        batch_op.drop_column('customer_phone')
