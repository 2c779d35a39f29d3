"""sittings: several instruments answered one after another with one hand-over code

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:45:00.000000

- ``sittings``: one row per sitting (the code's hash and when it stops working).
- ``administrations.sitting_id`` / ``sitting_position``: the sitting an administration belongs to
  and its place in the chosen order (NULL for an administration with a code of its own).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sittings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), sa.ForeignKey("beneficiaries.id"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", UTC, nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_sittings_beneficiary_id", "sittings", ["beneficiary_id"])
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sitting_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("sitting_position", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_administrations_sitting_id", "sittings", ["sitting_id"], ["id"])
        batch_op.create_index("ix_administrations_sitting_id", ["sitting_id"])


def downgrade() -> None:
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.drop_index("ix_administrations_sitting_id")
        batch_op.drop_constraint("fk_administrations_sitting_id", type_="foreignkey")
        batch_op.drop_column("sitting_position")
        batch_op.drop_column("sitting_id")
    op.drop_index("ix_sittings_beneficiary_id", table_name="sittings")
    op.drop_table("sittings")
