"""Bookly -> calendar: appointments made in Bookly itself, and the feed cursor.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

``bookly_mirrors`` maps a Bookly appointment made outside this service to the event we keep
for it in the instructor's calendar (ids and a fingerprint only); ``sync_cursors`` keeps how
far Bookly's log has been read and when the window was last reconciled.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bookly_mirrors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bookly_appointment_id', sa.Integer(), nullable=False),
        sa.Column('instructor_id', sa.Integer(), nullable=True),
        sa.Column('calendar_id', sa.String(length=100), nullable=True),
        sa.Column('event_id', sa.String(length=100), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['instructor_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('bookly_appointment_id'),
    )
    with op.batch_alter_table('bookly_mirrors', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_bookly_mirrors_instructor_id'), ['instructor_id'], unique=False
        )
    op.create_table(
        'sync_cursors',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('polled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_repairs', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('sync_cursors')
    with op.batch_alter_table('bookly_mirrors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookly_mirrors_instructor_id'))
    op.drop_table('bookly_mirrors')
