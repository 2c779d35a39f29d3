"""Server-side sessions: a signed-in browser is a row in ``user_sessions``.

The cookie carries a random token (signed, so a forged cookie is refused without a look-up);
the table holds only its SHA-256. Every request looks the row up: a session that was ended
(sign-out, the account disabled, a password change, an admin's reset), that has been idle for
longer than its idle limit, or that is older than its absolute limit is refused at once, in
every process. ``last_seen_at`` is refreshed at most once a minute (``TOUCH_SECONDS``), so a
busy page does not turn every read into a write.

A session has a **stage**: ``full`` (signed in); ``password`` (the password is temporary: only
the page that sets a new one works); ``totp`` (the password was right, the second factor is
awaited).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update
from sqlalchemy.orm import Session

from api.db.tables import User, UserSession

TOUCH_SECONDS = 60
STAGES = ("full", "password", "totp")


@dataclass(frozen=True)
class Policy:
    """How long sessions live (from the settings)."""

    hours: int = 12
    idle_minutes: int = 30
    shared_idle_minutes: int = 5


def _affected(result: object) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(getattr(result, "rowcount", 0) or 0)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(d: dt.datetime) -> dt.datetime:
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    session: Session,
    user: User,
    policy: Policy,
    *,
    stage: str = "full",
    shared: bool = False,
    ip: str | None = None,
) -> str:
    """A new session for ``user``; returns its token (for the cookie only)."""
    if stage not in STAGES:
        raise ValueError(f"unknown session stage {stage!r}")
    token = secrets.token_urlsafe(32)
    now = _now()
    idle = policy.shared_idle_minutes if shared else policy.idle_minutes
    # a partial session (password change, second factor) is short whatever the device
    if stage != "full":
        idle = min(idle, 10)
    session.add(
        UserSession(
            id=token_hash(token),
            user_id=user.id,
            stage=stage,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=policy.hours),
            idle_seconds=idle * 60,
            shared_device=shared,
            ip=ip,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class Found:
    row: Row[*tuple[Any, ...]]
    """The session's columns (``session_id``, ``stage``, …) and its user's under the user's own
    names (``id``, ``username``, ``role``, ``organisation``, ``full_name``): what a request needs
    to know who is calling."""
    touch: bool
    """True when ``last_seen_at`` is old enough to be refreshed by this request."""


_LOOKUP = (
    select(
        UserSession.id.label("session_id"),
        UserSession.stage,
        UserSession.last_seen_at,
        UserSession.expires_at,
        UserSession.idle_seconds,
        UserSession.ended_at,
        User.id,
        User.username,
        User.role,
        User.organisation,
        User.full_name,
        User.active,
    )
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.id == bindparam("id"))
)
"""Built once (building a statement costs more than running it), and columns rather than objects:
every request of a signed-in person runs it, in one round trip, on a plain read connection."""


def lookup(conn: Connection, token: str, now: dt.datetime | None = None) -> Found | None:
    """The live session of ``token`` and its (active) user, or None (``Database.connection``)."""
    now = now or _now()
    row = conn.execute(_LOOKUP, {"id": token_hash(token)}).one_or_none()
    if row is None:
        return None
    if row.ended_at is not None:
        return None
    if _aware(row.expires_at) <= now:
        return None
    if _aware(row.last_seen_at) + dt.timedelta(seconds=row.idle_seconds) <= now:
        return None
    if not row.active:
        return None
    touch = (now - _aware(row.last_seen_at)).total_seconds() >= min(TOUCH_SECONDS, row.idle_seconds / 5)
    return Found(row, touch)


def touch(session: Session, session_id: str, now: dt.datetime | None = None) -> None:
    """Mark the session as used now (in a write transaction); an ended one stays ended."""
    now = now or _now()
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def end(session: Session, session_id: str, reason: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(ended_at=_now(), ended_reason=reason)
        .execution_options(synchronize_session=False)
    )


def end_all(session: Session, user_id: int, reason: str) -> int:
    """End every open session of a user (disabled, password changed or reset); returns how many."""
    return _affected(
        session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            .values(ended_at=_now(), ended_reason=reason)
            .execution_options(synchronize_session=False)
        )
    )


def open_count(session: Session, user_id: int) -> int:
    now = _now()
    rows = session.execute(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    ).scalars()
    return sum(
        1
        for r in rows
        if _aware(r.expires_at) > now and _aware(r.last_seen_at) + dt.timedelta(seconds=r.idle_seconds) > now
    )


def purge(session: Session, days: int = 30, now: dt.datetime | None = None) -> int:
    """Delete sessions that ended (or expired) more than ``days`` ago (maintenance)."""
    from sqlalchemy import delete

    cutoff = (now or _now()) - dt.timedelta(days=days)
    return (
        _affected(
            session.execute(
                delete(UserSession).where(
                    (UserSession.ended_at.is_not(None) & (UserSession.ended_at < cutoff))
                    | (UserSession.expires_at < cutoff)
                )
            )
        )
        or 0
    )
