"""Integrity: one original result per administration, idempotent time increments, audit checkpoints

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 21:00:00.000000

Databases written by an earlier release may already hold several results for one
administration (three simultaneous submits on PostgreSQL each stored one). Before the
unique index is created, such extra results are chained: each later one is marked as
superseding the one before it, so nothing is deleted and "latest" stays well defined.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _chain_duplicate_results() -> None:
    """Link every extra original result to the end of the line before it (oldest first)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, administration_id, supersedes_id FROM results ORDER BY administration_id, created_at, id")
    ).all()
    by_admin: dict[str, list[tuple[str, str | None]]] = {}
    for rid, aid, sup in rows:
        by_admin.setdefault(aid, []).append((rid, sup))
    for results in by_admin.values():
        supersedes = dict(results)
        originals = [rid for rid, sup in results if sup is None]
        for dup in originals[1:]:
            # the line that starts at ``dup`` must not be the one it is linked to
            own = {dup}
            grew = True
            while grew:
                grew = False
                for rid, sup in supersedes.items():
                    if sup in own and rid not in own:
                        own.add(rid)
                        grew = True
            superseded = {sup for sup in supersedes.values() if sup is not None}
            tails = [rid for rid, _ in results if rid not in superseded and rid not in own]
            tail = tails[-1]
            supersedes[dup] = tail
            conn.execute(sa.text("UPDATE results SET supersedes_id = :p WHERE id = :r"), {"p": tail, "r": dup})


def upgrade() -> None:
    _chain_duplicate_results()
    op.create_index(
        "uq_results_one_original",
        "results",
        ["administration_id"],
        unique=True,
        sqlite_where=sa.text("supersedes_id IS NULL"),
        postgresql_where=sa.text("supersedes_id IS NULL"),
    )
    op.create_index("uq_results_supersedes", "results", ["supersedes_id"], unique=True)
    op.create_table(
        "time_increments",
        sa.Column("administration_id", sa.String(length=36), sa.ForeignKey("administrations.id"), nullable=False),
        sa.Column("increment_id", sa.String(length=64), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("administration_id", "increment_id"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_checkpoints_seq", "audit_checkpoints", ["seq"])
    # The head only moves forward, and the log cannot be truncated (a database owner can still
    # drop these triggers: the signed checkpoints outside the tables catch that).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate()"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate()"
        )
        op.execute(
            "CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq THEN "
            "RAISE EXCEPTION 'the audit head only moves forward'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head "
            "FOR EACH ROW EXECUTE FUNCTION audit_head_forward()"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head WHEN NEW.seq < OLD.seq "
            "BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
            "BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END"
        )
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_checkpoints_no_{verb.lower()} BEFORE {verb} ON audit_checkpoints "
                "BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints")
        op.execute("DROP TRIGGER IF EXISTS audit_head_forward ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_head_forward()")
        op.execute("DROP FUNCTION IF EXISTS audit_no_truncate()")
    else:
        for name in ("audit_head_forward", "audit_head_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_audit_checkpoints_seq", table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_table("time_increments")
    op.drop_index("uq_results_supersedes", table_name="results")
    op.drop_index("uq_results_one_original", table_name="results")
