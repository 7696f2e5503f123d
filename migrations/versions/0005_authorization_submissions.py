"""Bulk authorization results kept per submission.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Each bulk authorization keeps what became of every submitted address (sent, not valid,
not an instructor, connected individually, ...), so the admin still sees it after a reload.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('authorization_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_account_id', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['service_account_id'], ['service_accounts.id'], name=op.f('fk_authorization_submissions_service_account_id_service_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_authorization_submissions_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authorization_submissions'))
    )
    with op.batch_alter_table('authorization_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authorization_submissions_service_account_id'), ['service_account_id'], unique=False)


def downgrade():
    with op.batch_alter_table('authorization_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authorization_submissions_service_account_id'))
    op.drop_table('authorization_submissions')
