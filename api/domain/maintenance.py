"""Housekeeping of the side tables: what has expired is deleted (run by ``proforient retention
--apply``; the idempotency table is also trimmed on every write that adds to it).

- ``idempotency``: records older than 24 hours;
- ``rate_limits``: counts whose window and pause ended more than a day ago;
- ``user_sessions``: sessions that ended or expired more than 30 days ago;
- ``password_resets``: links used or expired more than 30 days ago.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from api.db.tables import IdempotencyRecord, PasswordReset

from . import sessions, throttle

IDEMPOTENCY_HOURS = 24
KEEP_DAYS = 30


def _affected(result: object) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(getattr(result, "rowcount", 0) or 0)


def purge(session: Session, now: dt.datetime | None = None) -> int:
    """Delete every expired side record; returns how many."""
    now = now or dt.datetime.now(dt.UTC)
    n = _affected(
        session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - dt.timedelta(hours=IDEMPOTENCY_HOURS))
        )
    )
    n += throttle.purge(session, now)
    n += sessions.purge(session, KEEP_DAYS, now)
    cutoff = now - dt.timedelta(days=KEEP_DAYS)
    n += (
        _affected(
            session.execute(
                delete(PasswordReset).where(
                    ((PasswordReset.used_at.is_not(None)) & (PasswordReset.used_at < cutoff))
                    | (PasswordReset.expires_at < cutoff)
                )
            )
        )
        or 0
    )
    return n
