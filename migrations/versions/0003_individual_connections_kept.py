"""Individual connections kept apart from Enterprise Connect.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

An authorization replaces an instructor's own connection only when the admin asked for it
(replace_individual); the connection records when its grant was stored and when the
organisation replaced the instructor's own connection (so the instructor's page can say so).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_account_authorizations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('replace_individual', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('calendar_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('connected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('replaced_individual_at', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('calendar_connections', schema=None) as batch_op:
        batch_op.drop_column('replaced_individual_at')
        batch_op.drop_column('connected_at')
    with op.batch_alter_table('service_account_authorizations', schema=None) as batch_op:
        batch_op.drop_column('replace_individual')
