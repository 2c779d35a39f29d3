"""Typed result records: every stored result re-scored into a record; corrections and discards

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 22:00:00.000000

Before this revision a result held a flat dict of strings (``scores``) that every reader
re-parsed. Now it holds the typed, versioned record the engine makes
(``scoring.ScoreRecord``). Each stored result is scored again from its administration's
stored answers with the definition (id + version) it was scored with — the engine
is deterministic, so the numbers are the ones the old row held — and the record replaces
the flat dict. A result whose definition is not shipped any more cannot be converted: the
upgrade stops and names it, so nothing is lost silently.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _records(conn: sa.engine.Connection) -> None:
    from api import scoring_facade as facade  # the engine and the definitions, as shipped with this release

    results = conn.execute(
        sa.text(
            "SELECT r.id, r.administration_id, r.instrument, r.instrument_version, r.instrument_hash, "
            "a.aspirations, a.seconds FROM results r JOIN administrations a ON a.id = r.administration_id"
        )
    ).all()
    for rid, aid, iid, version, stored_hash, aspirations, seconds in results:
        inst = facade.instrument(iid, version)
        if stored_hash and not inst.content_hash.startswith(stored_hash[:12]):
            raise RuntimeError(
                f"result {rid}: scored with another definition of {inst.ref} (checksum {stored_hash[:12]}, "
                f"shipped {inst.content_hash[:12]}); restore that definition before upgrading"
            )
        answers = {
            item: value
            for item, value in conn.execute(
                sa.text("SELECT item, value FROM answers WHERE administration_id = :a"), {"a": aid}
            ).all()
            if value is not None
        }
        if isinstance(aspirations, str):  # JSON read back as text by some drivers
            import json

            aspirations = json.loads(aspirations)
        (record,) = facade.score_answers(
            inst,
            [answers],
            [aspirations] if aspirations else None,
            [seconds] if seconds is not None else None,
        )
        conn.execute(
            sa.text("UPDATE results SET record = :r, record_schema = 1 WHERE id = :id").bindparams(
                sa.bindparam("r", type_=sa.JSON)
            ),
            {"r": record.model_dump(mode="json"), "id": rid},
        )


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch:
        batch.add_column(sa.Column("record", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("record_schema", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="scored"))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
    op.execute("UPDATE results SET kind = 'rescored' WHERE supersedes_id IS NOT NULL")
    _records(op.get_bind())
    with op.batch_alter_table("results", schema=None) as batch:
        batch.alter_column("record", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("scores")
    with op.batch_alter_table("administrations", schema=None) as batch:
        batch.add_column(sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("discarded_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_administrations_discarded_by", "users", ["discarded_by"], ["id"])
        batch.add_column(sa.Column("discard_reason", sa.Text(), nullable=True))
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("administration_id", sa.String(length=36), sa.ForeignKey("administrations.id"), nullable=False),
        sa.Column("result_id", sa.String(length=36), sa.ForeignKey("results.id"), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.String(length=255), nullable=True),
        sa.Column("new_value", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("corrected_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_corrections_administration_id", "corrections", ["administration_id"])


def _flat(conn: sa.engine.Connection) -> None:
    """The flat rows of the release before (the columns of ``proforient score``), from the answers."""
    from api import scoring_facade as facade

    rows = conn.execute(
        sa.text(
            "SELECT r.id, r.administration_id, r.instrument, r.instrument_version, a.aspirations, a.seconds "
            "FROM results r JOIN administrations a ON a.id = r.administration_id"
        )
    ).all()
    for rid, aid, iid, version, aspirations, seconds in rows:
        answers = {
            item: value
            for item, value in conn.execute(
                sa.text("SELECT item, value FROM answers WHERE administration_id = :a"), {"a": aid}
            ).all()
            if value is not None
        }
        if isinstance(aspirations, str):
            import json

            aspirations = json.loads(aspirations)
        inst = facade.instrument(iid, version)
        (flat,) = facade.score_rows(
            inst, [answers], [aspirations] if aspirations else None, [seconds] if seconds is not None else None
        )
        flat.pop("id", None)
        conn.execute(
            sa.text("UPDATE results SET scores = :s WHERE id = :id").bindparams(sa.bindparam("s", type_=sa.JSON)),
            {"s": flat, "id": rid},
        )


def downgrade() -> None:
    op.drop_index("ix_corrections_administration_id", table_name="corrections")
    op.drop_table("corrections")
    with op.batch_alter_table("administrations", schema=None) as batch:
        batch.drop_constraint("fk_administrations_discarded_by", type_="foreignkey")
        batch.drop_column("discard_reason")
        batch.drop_column("discarded_by")
        batch.drop_column("discarded_at")
    with op.batch_alter_table("results", schema=None) as batch:
        batch.add_column(sa.Column("scores", sa.JSON(), nullable=True))
    _flat(op.get_bind())
    with op.batch_alter_table("results", schema=None) as batch:
        batch.alter_column("scores", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("reason")
        batch.drop_column("kind")
        batch.drop_column("record_schema")
        batch.drop_column("record")
