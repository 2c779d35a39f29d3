"""Accounts and sessions: full names, server-side sessions, throttling, one-time reset links,
TOTP, API clients' last use; idempotency records without bodies; erasable audit details

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 10:00:00.000000

- ``users``: full name, forced password change, TOTP, disabled/last sign-in times.
- ``user_sessions``: one row per signed-in browser (the cookie holds a token, the row its hash).
- ``password_resets``: one-time links; ``rate_limits``: failed attempts per account, address and
  administration, shared by every process.
- ``idempotency`` is made anew: the old table held request and response bodies (names, contacts,
  whole API keys). Its records live 24 hours, so nothing a client can still rely on is lost.
- ``audit_log``: ``salt``/``private_hash``/``redacted_at``. New entries chain over a salted hash of
  their address and detail, so retention can erase those two from a person's entries and the chain
  still verifies; the append-only triggers (same names) now allow exactly that erasure and nothing else.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)

_SAME = (
    "NEW.id IS OLD.id AND NEW.seq IS OLD.seq AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor "
    "AND NEW.action IS OLD.action AND NEW.entity IS OLD.entity AND NEW.entity_id IS OLD.entity_id "
    "AND NEW.beneficiary IS OLD.beneficiary AND NEW.prev_hash IS OLD.prev_hash AND NEW.hash IS OLD.hash "
    "AND NEW.private_hash IS OLD.private_hash"
)
REDACTION_ONLY = (
    f"OLD.private_hash IS NOT NULL AND {_SAME} AND NEW.salt IS NULL AND NEW.ip IS NULL AND NEW.redacted_at IS NOT NULL"
)
"""The one UPDATE the audit log allows: erasing the address, detail and salt of a chained entry."""


def _audit_triggers_upgrade() -> None:
    """The triggers keep their names (``audit_append_only`` / ``audit_no_update``) and now let a
    redaction through."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit_log")
        same = REDACTION_ONLY.replace(" IS OLD.", " IS NOT DISTINCT FROM OLD.")
        op.execute(
            "CREATE FUNCTION audit_redact_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND {same} THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'audit log is append-only (only retention may erase an entry''s address and detail)'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_redact_only()"
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_no_update")
        op.execute(
            f"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log WHEN NOT ({REDACTION_ONLY}) "
            "BEGIN SELECT RAISE(ABORT, 'audit log is append-only (only retention may erase an entry''s "
            "address and detail)'); END"
        )


def _audit_triggers_downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_redact_only()")
        op.execute(
            "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_no_update")
        op.execute(
            "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
        )


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy): SQLite keeps the tables' triggers
    op.add_column("users", sa.Column("full_name", sa.String(length=200), nullable=True))
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("password_changed_at", UTC, nullable=True))
    op.add_column("users", sa.Column("totp_secret_enc", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("totp_active", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column("users", sa.Column("disabled_at", UTC, nullable=True))
    op.add_column("users", sa.Column("last_sign_in_at", UTC, nullable=True))

    with op.batch_alter_table("api_clients") as batch:  # no triggers on this one
        batch.add_column(sa.Column("created_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_used_at", UTC, nullable=True))
        batch.add_column(sa.Column("revoked_at", UTC, nullable=True))
        batch.create_foreign_key("fk_api_clients_created_by_users", "users", ["created_by"], ["id"])

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("idle_seconds", sa.Integer(), nullable=False),
        sa.Column("shared_device", sa.Boolean(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("ended_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_table(
        "password_resets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", UTC, nullable=False),
        sa.Column("blocked_until", UTC, nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_rate_limits_window_start", "rate_limits", ["window_start"])

    op.drop_table("idempotency")
    op.create_table(
        "idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("principal", "key"),
    )
    op.create_index("ix_idempotency_created_at", "idempotency", ["created_at"])
    op.create_index("ix_idempotency_resource_id", "idempotency", ["resource_id"])

    op.add_column("audit_log", sa.Column("salt", sa.String(length=32), nullable=True))
    op.add_column("audit_log", sa.Column("private_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("redacted_at", UTC, nullable=True))
    _audit_triggers_upgrade()


def downgrade() -> None:
    _audit_triggers_downgrade()
    # SQLite: DROP COLUMN (3.35+) keeps the table and its triggers
    for col in ("redacted_at", "private_hash", "salt"):
        op.drop_column("audit_log", col)
    op.drop_index("ix_idempotency_resource_id", table_name="idempotency")
    op.drop_index("ix_idempotency_created_at", table_name="idempotency")
    op.drop_table("idempotency")
    op.create_table(
        "idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("principal", "key"),
    )
    op.drop_index("ix_rate_limits_window_start", table_name="rate_limits")
    op.drop_table("rate_limits")
    op.drop_index("ix_password_resets_user_id", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_constraint("fk_api_clients_created_by_users", type_="foreignkey")
        for col in ("revoked_at", "last_used_at", "created_by"):
            batch.drop_column(col)
    for col in (
        "last_sign_in_at",
        "disabled_at",
        "totp_last_step",
        "totp_active",
        "totp_secret_enc",
        "password_changed_at",
        "must_change_password",
        "full_name",
    ):
        op.drop_column("users", col)
