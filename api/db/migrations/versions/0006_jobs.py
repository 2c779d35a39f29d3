"""Background report batches: ``report_jobs`` and their files; on PostgreSQL, procrastinate's
job-queue schema (the queue the API processes defer to and ``proforient worker`` runs).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("requested_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("audience", sa.String(32), nullable=False),
        sa.Column("fmt", sa.String(8), nullable=False),
        sa.Column("registered_from", sa.Date),
        sa.Column("registered_to", sa.Date),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("worker", sa.String(120)),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("started_at", UTC),
        sa.Column("finished_at", UTC),
    )
    op.create_index("ix_report_jobs_created_at", "report_jobs", ["created_at"])
    op.create_index("ix_report_jobs_state", "report_jobs", ["state"])
    op.create_table(
        "report_job_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.String(36), sa.ForeignKey("report_jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("beneficiary_id", sa.Integer, sa.ForeignKey("beneficiaries.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("job_id", "beneficiary_id"),
    )
    op.create_index("ix_report_job_files_job_id", "report_job_files", ["job_id"])
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # as procrastinate's own apply_schema: the driver reads % as a placeholder
        op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    op.drop_table("report_job_files")
    op.drop_table("report_jobs")
    if op.get_bind().dialect.name == "postgresql":
        # everything procrastinate's schema made: tables, then its functions and types (an upgrade
        # after this downgrade applies the schema again, which fails on any leftover)
        op.get_bind().exec_driver_sql(_DROP_PROCRASTINATE.replace("%", "%%"))


_DROP_PROCRASTINATE = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables
           WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%' LOOP
    EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(r.tablename) || ' CASCADE';
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%' LOOP
    EXECUTE 'DROP FUNCTION IF EXISTS ' || r.sig::text || ' CASCADE';
  END LOOP;
  FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%' AND t.typtype IN ('e', 'd', 'c') LOOP
    EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(r.typname) || ' CASCADE';
  END LOOP;
END $$;
"""
