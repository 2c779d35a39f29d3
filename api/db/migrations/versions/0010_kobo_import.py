"""Study import of ODK Collect / KoboToolbox submissions: one participant per submission

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:10:00.000000

- ``study_participants.submission_key``: for a participant imported from a field tool's export,
  SHA-256 of the study and the submission's id (``_uuid`` / ``meta/instanceID``); a unique index on
  (study, key) makes importing the same file twice add nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("study_participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_index("uq_study_participants_submission", ["study_id", "submission_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("study_participants", schema=None) as batch_op:
        batch_op.drop_index("uq_study_participants_submission")
        batch_op.drop_column("submission_key")
