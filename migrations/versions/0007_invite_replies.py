"""The customer's answer to their Smart Invite.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Cronofy calls the invite's callback URL when the customer accepts, tentatively accepts or
declines it from their calendar; the booking keeps that status and when it came (never the
customer's comment).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_reply', sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column('customer_replied_at', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('customer_replied_at')
        batch_op.drop_column('customer_reply')
