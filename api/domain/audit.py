"""The audit trail: append-only and hash-chained.

Every entry's hash is SHA-256 over the previous hash and the entry's canonical
JSON, so editing or deleting any entry breaks the chain from there on, and
``verify`` finds the first broken link. Appending locks the single head row,
so any number of processes can append to one PostgreSQL without forking the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.tables import AuditEntry, AuditHead

GENESIS = "0" * 64


def _ts(d: dt.datetime) -> str:
    if d.tzinfo is not None:
        d = d.astimezone(dt.UTC).replace(tzinfo=None)
    return d.isoformat(timespec="microseconds")


def entry_hash(
    prev: str,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    beneficiary: str | None,
    ip: str | None,
    detail: dict[str, Any],
) -> str:
    body = json.dumps(
        {
            "seq": seq,
            "at": _ts(at),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "beneficiary": beneficiary,
            "ip": ip,
            "detail": detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def append(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None = None,
    beneficiary: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one entry inside the caller's transaction (it commits or rolls back with the work)."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    at = dt.datetime.now(dt.UTC)
    seq = head.seq + 1
    detail = detail or {}
    h = entry_hash(head.hash, seq, at, actor, action, entity, entity_id, beneficiary, ip, detail)
    session.add(
        AuditEntry(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            beneficiary=beneficiary,
            ip=ip,
            detail=detail,
            prev_hash=head.hash,
            hash=h,
        )
    )
    head.seq, head.hash = seq, h
    session.flush()


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    problem: str | None = None
    seq: int | None = None


def verify(session: Session) -> Verification:
    """Recompute the chain; report the first edited, inserted or deleted entry."""
    prev, expected, n = GENESIS, 1, 0
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        if e.seq != expected:
            return Verification(False, n, f"entry {expected} is missing (deleted?)", expected)
        if e.prev_hash != prev:
            return Verification(False, n, f"entry {e.seq} does not follow entry {e.seq - 1}", e.seq)
        h = entry_hash(prev, e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.beneficiary, e.ip, e.detail)
        if h != e.hash:
            return Verification(False, n, f"entry {e.seq} was altered after it was written", e.seq)
        prev, expected, n = e.hash, expected + 1, n + 1
    head = session.get(AuditHead, 1)
    if head is None or head.seq != n or head.hash != prev:
        return Verification(
            False,
            n,
            f"the log ends at entry {n} but {head.seq if head else '?'} were written (entries deleted from the end?)",
            n + 1,
        )
    return Verification(True, n)
