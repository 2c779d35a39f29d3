"""Studies: norm collection with anonymous participation codes, study norm tables (draft → published)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:40:00.000000

- ``studies``: title, purpose and consent text (ka/en), instruments and versions, demographic
  questions, quotas, dates, the protocol's choice on quasi-identifiers, the study's own sealed key.
- ``study_participants``: one row per participation code (hashed), anonymous unless a social worker
  recorded a fund beneficiary's consent.
- ``study_norm_tables``: norm tables built from a study, drafts until published.
- ``administrations``: ``participant_id``; ``beneficiary_id`` may be NULL (a study participant).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title_ka", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("purpose_ka", sa.Text(), nullable=False),
        sa.Column("purpose_en", sa.Text(), nullable=False),
        sa.Column("consent_ka", sa.Text(), nullable=False),
        sa.Column("consent_en", sa.Text(), nullable=False),
        sa.Column("instruments", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("quotas", sa.JSON(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("exact_quasi_identifiers", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "study_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.String(length=36), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("beneficiary_id", sa.Integer(), nullable=True),
        sa.Column("consent_recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("consented_at", UTC, nullable=True),
        sa.Column("declined_at", UTC, nullable=True),
        sa.Column("completed_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"]),
        sa.ForeignKeyConstraint(["beneficiary_id"], ["beneficiaries.id"]),
        sa.ForeignKeyConstraint(["consent_recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("study_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_participants_study_id"), ["study_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_study_participants_beneficiary_id"), ["beneficiary_id"], unique=False)
    op.create_table(
        "study_norm_tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.String(length=36), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("instrument_version", sa.String(length=16), nullable=False),
        sa.Column("norm_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("table_csv", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("published_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["published_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instrument", "norm_id", "version"),
    )
    with op.batch_alter_table("study_norm_tables", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_norm_tables_study_id"), ["study_id"], unique=False)
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("participant_id", sa.Integer(), nullable=True))
        batch_op.alter_column("beneficiary_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            "fk_administrations_participant_id", "study_participants", ["participant_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_administrations_participant_id"), ["participant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_administrations_participant_id"))
        batch_op.drop_constraint("fk_administrations_participant_id", type_="foreignkey")
        batch_op.alter_column("beneficiary_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("participant_id")
    op.drop_table("study_norm_tables")
    op.drop_table("study_participants")
    op.drop_table("studies")
