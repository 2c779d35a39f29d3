"""Throttling of sign-ins and hand-over codes, counted in the database (``rate_limits``) so that
every API process sees the same counts; nothing is kept in process memory.

A **limit** counts events per key (an account, an address, an administration) in a fixed window.
When the count reaches the limit, the key is paused until the pause ends; a request for a paused
key is refused with ``TooManyAttempts`` (HTTP 429 with ``Retry-After``; the pages say it plainly,
in Georgian and English). Keys are stored as SHA-256 of ``kind|subject``: no typed user name (which
is sometimes a password typed into the wrong box) and no address is kept in clear.

Events are *queued* on the unit of work, like audit entries, and written when it commits (a read
hands them to its short write, with its audit entries). A failed attempt is queued with ``keep``:
it is written even though the request fails and its unit of work rolls back (``api.deps.get_db``).

| kind | counts | settings |
|---|---|---|
| ``signin_account`` | failed sign-ins for one account | ``signin_failures_account`` |
| ``signin_address`` | failed sign-ins from one address | ``signin_failures_address`` |
| ``code_address`` | wrong hand-over codes or links from one address | ``code_failures_address`` |
| ``code_administration`` | requests made with one administration's code | ``code_requests_administration`` |

All count within ``throttle_window_minutes`` and pause for ``throttle_block_minutes``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, delete, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.db.tables import RateLimit

from .errors import TooManyAttempts

PENDING = "throttle_pending"
KEPT = "throttle_kept"
LIMITS = "throttle_limits"
"""``Session.info`` key of the limits in force (a ``Limits``), set by the app's session factories."""


@dataclass(frozen=True)
class Limits:
    signin_account: int = 10
    signin_address: int = 30
    code_address: int = 20
    code_administration: int = 1500
    window_minutes: int = 15
    block_minutes: int = 15

    def limit(self, kind: str) -> int:
        return int(getattr(self, kind))


@dataclass(frozen=True)
class Event:
    kind: str
    subject: str
    clear: bool = False
    """True: forget this key's count (a successful sign-in clears the account's failures)."""


def _affected(result: object) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(getattr(result, "rowcount", 0) or 0)


def key_of(kind: str, subject: str) -> str:
    return hashlib.sha256(f"{kind}|{subject}".encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(d: dt.datetime | None) -> dt.datetime | None:
    return None if d is None else (d if d.tzinfo else d.replace(tzinfo=dt.UTC))


def limits(session: Session) -> Limits:
    return session.info.get(LIMITS) or Limits()


def check(session: Session, *pairs: tuple[str, str | None], what: str = "attempts") -> None:
    """Refuse (``TooManyAttempts``) if any of the (kind, subject) keys is paused now."""
    keys = {key_of(k, s): k for k, s in pairs if s}
    if not keys:
        return
    now = _now()
    paused: list[tuple[dt.datetime, str]] = [
        (_aware(r.blocked_until) or now, r.kind)
        for r in session.execute(select(RateLimit).where(RateLimit.key.in_(keys))).scalars()
        if r.blocked_until is not None and (_aware(r.blocked_until) or now) > now
    ]
    if paused:
        until = max(u for u, _ in paused)
        seconds = max(1, math.ceil((until - now).total_seconds()))
        raise TooManyAttempts(
            f"too many {what}; try again in {math.ceil(seconds / 60)} minute(s)",
            retry_after=seconds,
            kinds=sorted({k for _, k in paused}),
        )


def hit(session: Session, kind: str, subject: str | None, *, keep: bool = False) -> None:
    """Count one event for (kind, subject), written when the unit of work commits (``keep``: even if not)."""
    if not subject:
        return
    e = Event(kind, subject)
    session.info.setdefault(PENDING, []).append(e)
    if keep:
        session.info.setdefault(KEPT, []).append(e)


def clear(session: Session, kind: str, subject: str | None) -> None:
    if subject:
        session.info.setdefault(PENDING, []).append(Event(kind, subject, clear=True))


def drain(session: Session) -> list[Event]:
    session.info.pop(KEPT, None)
    return list(session.info.pop(PENDING, None) or [])


def drain_kept(session: Session) -> list[Event]:
    session.info.pop(PENDING, None)
    return list(session.info.pop(KEPT, None) or [])


def write(session: Session, events: Iterable[Event], lim: Limits | None = None) -> None:
    """Apply events inside ``session``'s write transaction: one atomic upsert per key."""
    lim = lim or limits(session)
    now = _now()
    window_start = now - dt.timedelta(minutes=lim.window_minutes)
    block = now + dt.timedelta(minutes=lim.block_minutes)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for e in events:
        key = key_of(e.kind, e.subject)
        if e.clear:
            session.execute(delete(RateLimit).where(RateLimit.key == key))
            continue
        limit = lim.limit(e.kind)
        stmt = insert(RateLimit).values(
            key=key, kind=e.kind, count=1, window_start=now, blocked_until=block if limit <= 1 else None
        )
        fresh = RateLimit.window_start < window_start
        count = case((fresh, 1), else_=RateLimit.count + 1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": count,
                "window_start": case((fresh, now), else_=RateLimit.window_start),
                "blocked_until": case((count >= limit, block), else_=RateLimit.blocked_until),
            },
        )
        session.execute(stmt)


def purge(session: Session, now: dt.datetime | None = None) -> int:
    """Forget counts whose window and pause are over (maintenance)."""
    now = now or _now()
    old = now - dt.timedelta(days=1)
    return (
        _affected(
            session.execute(
                delete(RateLimit).where(
                    RateLimit.window_start < old, (RateLimit.blocked_until.is_(None)) | (RateLimit.blocked_until < now)
                )
            )
        )
        or 0
    )


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get("readonly"):
        return
    events = drain(session)
    if events:
        write(session, events)
