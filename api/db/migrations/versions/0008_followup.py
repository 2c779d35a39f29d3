"""Follow-up after placement: trainings, placements and scheduled follow-ups

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:00:00.000000

- ``trainings``: an activity of the catalogue started, completed or dropped.
- ``placements``: a job or self-employment (ISCO-08 code, RIASEC code from the catalogue).
- ``follow_ups``: one per placement and scheduled month (1, 3, 6, 12, 24, 36).
Each row names the recording organisation (NULL = the fund) and who recorded it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "trainings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.Integer, sa.ForeignKey("beneficiaries.id"), nullable=False),
        sa.Column("activity", sa.String(64), nullable=False),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("finished_on", sa.Date),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("organisation", sa.String(64)),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_index("ix_trainings_beneficiary_id", "trainings", ["beneficiary_id"])
    op.create_table(
        "placements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beneficiary_id", sa.Integer, sa.ForeignKey("beneficiaries.id"), nullable=False),
        sa.Column("employer_kind", sa.String(32), nullable=False),
        sa.Column("isco", sa.String(8), nullable=False),
        sa.Column("riasec", sa.String(8)),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("hours_per_week", sa.Integer),
        sa.Column("pay_band", sa.String(16)),
        sa.Column("self_employed", sa.Boolean, nullable=False),
        sa.Column("micro_business", sa.Boolean, nullable=False),
        sa.Column("supported", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("organisation", sa.String(64)),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_index("ix_placements_beneficiary_id", "placements", ["beneficiary_id"])
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("placement_id", sa.String(36), sa.ForeignKey("placements.id"), nullable=False),
        sa.Column("beneficiary_id", sa.Integer, sa.ForeignKey("beneficiaries.id"), nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("done_on", sa.Date, nullable=False),
        sa.Column("still_employed", sa.Boolean, nullable=False),
        sa.Column("same_job", sa.Boolean),
        sa.Column("left_on", sa.Date),
        sa.Column("satisfaction", sa.Integer),
        sa.Column("difficulties", sa.JSON, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("organisation", sa.String(64)),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("placement_id", "month"),
    )
    op.create_index("ix_follow_ups_placement_id", "follow_ups", ["placement_id"])
    op.create_index("ix_follow_ups_beneficiary_id", "follow_ups", ["beneficiary_id"])


def downgrade() -> None:
    op.drop_table("follow_ups")
    op.drop_table("placements")
    op.drop_table("trainings")
