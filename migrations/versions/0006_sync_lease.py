"""One calendar sync run per connection at a time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Two runs of one connection (two workers, or a push kick beside the beat sweep) could each see
a busy period as missing and both create a Bookly block for it. A run now holds a short,
renewed lease on its connection row; another run finding it held leaves its notifications to
the holder, which looks for new ones before letting go. A lease left by a killed worker
expires by itself.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sync_lease_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('calendar_connections', schema=None) as batch_op:
        batch_op.drop_column('sync_lease_until')
