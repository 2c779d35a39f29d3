"""Region: where a beneficiary lives (one of Georgia's regions), for the programme indicators

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:00:00.000000

- ``beneficiaries.region``: an id of ``instruments/data/regions.toml`` (NULL: not recorded).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("beneficiaries") as batch:
        batch.add_column(sa.Column("region", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("beneficiaries") as batch:
        batch.drop_column("region")
