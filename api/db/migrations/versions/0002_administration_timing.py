"""administrations.timing: where the answering time comes from

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timing", sa.String(length=16), nullable=True))
    # a total stored before this revision was stated by the API caller
    op.execute("UPDATE administrations SET timing = 'given' WHERE seconds IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.drop_column("timing")
