"""The audit trail: append-only, hash-chained, with signed checkpoints kept outside it.

Every entry's hash is SHA-256 over the previous hash and the entry's canonical
JSON, so editing or deleting any entry breaks the chain from there on, and
``verify`` finds the first broken link.

``append`` only queues an entry on the session. The queued entries are written
when the unit of work commits (a ``before_commit`` hook): the single head row is
locked then, so the chain's lock is held for the COMMIT only, not for the whole
request, and any number of processes can append to one PostgreSQL without forking
the chain. A read-only unit of work hands its queued entries to a short write
transaction of their own (``drain`` + ``write``) before anything is answered.

Truncation (``TRUNCATE`` plus a reset head row) leaves a chain that is internally
consistent. To catch it, a **checkpoint** of the head (seq, hash, time, HMAC with
the audit key) is taken every ``CHECKPOINT_EVERY`` entries or ``CHECKPOINT_SECONDS``:
stored in ``audit_checkpoints`` and appended to a file outside the database
(``instance/audit-checkpoints.jsonl``). ``verify`` requires every checkpoint it
can see to be in the chain, with its hash; a chain shorter than its newest
checkpoint, or a forged checkpoint, fails. Exports and backups carry the signed head.

**Erasable address and detail.** An entry's ``ip`` and ``detail`` can be personal data (a
respondent's address). Entries written since migration 0005 chain over ``private_hash``
= SHA-256(random salt, ip, detail) instead of the two values, so ``redact`` can erase the
address, the detail and the salt of a depersonalized person's entries while every hash and
checkpoint still verifies (the salt goes too, so the remaining hash cannot be tested against
guessed addresses). Entries written before 0005 chain over the values themselves and cannot
be erased without breaking the chain; ``redact`` counts them. Entries never hold names,
contacts or search text in the first place.

**Entries that outlive a refusal.** ``append(..., keep=True)`` marks an entry (a failed
sign-in, a wrong hand-over code) that must be written even when the request fails and its
unit of work rolls back; ``api.deps.get_db`` then writes it in a short transaction of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from api.db.tables import AuditCheckpoint, AuditEntry, AuditHead

GENESIS = "0" * 64
PENDING = "audit_pending"
KEPT = "audit_kept"
KEY = "audit_key"
"""``Session.info`` key of the HMAC key for checkpoints (bytes); no key, no checkpoints."""
FILE = "audit_checkpoint_file"
"""``Session.info`` key of the checkpoint file's path (optional)."""
CHECKPOINT_EVERY = 100
CHECKPOINT_SECONDS = 60.0
_last_checkpoint: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
"""When each engine (database) last took a checkpoint, in this process."""


def _affected(result: object) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(getattr(result, "rowcount", 0) or 0)


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


def private_digest(salt: str, ip: str | None, detail: dict[str, Any]) -> str:
    """The salted hash of an entry's erasable part (its address and detail)."""
    body = json.dumps({"ip": ip, "detail": detail}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{salt}|{body}".encode()).hexdigest()


def entry_hash_v2(
    prev: str,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    beneficiary: str | None,
    private_hash: str,
) -> str:
    """The chain hash of an entry written since migration 0005: over ``private_hash``, not ip/detail."""
    body = json.dumps(
        {
            "seq": seq,
            "at": _ts(at),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "beneficiary": beneficiary,
            "private": private_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Pending:
    """An entry waiting for its unit of work to commit."""

    actor: str
    action: str
    entity: str
    entity_id: str | None
    beneficiary: str | None
    ip: str | None
    detail: dict[str, Any] = field(default_factory=dict)


def append(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None = None,
    beneficiary: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    *,
    keep: bool = False,
) -> None:
    """Queue one entry; it is written when the caller's unit of work commits (or not at all).

    ``keep``: written even if the unit of work is rolled back (a failed sign-in, a wrong code)."""
    entry = Pending(actor, action, entity, entity_id, beneficiary, ip, dict(detail or {}))
    session.info.setdefault(PENDING, []).append(entry)
    if keep:
        session.info.setdefault(KEPT, []).append(entry)


def drain(session: Session) -> list[Pending]:
    """Take the queued entries off a session (a read-only one hands them to ``write``)."""
    session.info.pop(KEPT, None)
    return list(session.info.pop(PENDING, None) or [])


def drain_kept(session: Session) -> list[Pending]:
    """The entries that must outlive a failed unit of work (to be written by a new one)."""
    session.info.pop(PENDING, None)
    return list(session.info.pop(KEPT, None) or [])


_LOG = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)
_LOCK_HEAD = _READ_HEAD.with_for_update()
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("to_seq"), hash=bindparam("to_hash"))
_APPEND = insert(_LOG)
"""Built once, and plain table statements: every write of the service appends to the log, and the
ORM's unit of work for two rows cost more than the rows themselves."""


def _head(session: Session, lock: bool = False) -> tuple[int, str] | None:
    """The chain's last (seq, hash), read from the table (never from an object the session holds);
    ``lock``: held until the transaction ends, so writers take turns."""
    row = session.execute(_LOCK_HEAD if lock else _READ_HEAD).one_or_none()
    return None if row is None else (int(row.seq), str(row.hash))


def write(session: Session, entries: Iterable[Pending]) -> None:
    """Chain ``entries`` onto the log inside ``session``'s (write) transaction, under the head lock."""
    entries = list(entries)
    if not entries:
        return
    found = _head(session, lock=True)
    if found is None:
        raise RuntimeError("the audit log has no head row: the database was not migrated")
    old_seq, prev = found
    seq = old_seq
    rows = []
    for e in entries:
        seq += 1
        at = dt.datetime.now(dt.UTC)
        salt = secrets.token_hex(16)
        private = private_digest(salt, e.ip, e.detail)
        h = entry_hash_v2(prev, seq, at, e.actor, e.action, e.entity, e.entity_id, e.beneficiary, private)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "beneficiary": e.beneficiary,
                "ip": e.ip,
                "detail": e.detail,
                "prev_hash": prev,
                "hash": h,
                "salt": salt,
                "private_hash": private,
                "redacted_at": None,
            }
        )
        prev = h
    session.execute(_APPEND, rows)
    session.execute(_MOVE_HEAD, {"to_seq": seq, "to_hash": prev})
    key = session.info.get(KEY)
    if key and _due(session, old_seq, seq):
        checkpoint(session, key)


def _due(session: Session, before: int, after: int) -> bool:
    if before // CHECKPOINT_EVERY != after // CHECKPOINT_EVERY:
        return True
    last = _last_checkpoint.get(_engine(session))
    return last is None or time.monotonic() - last >= CHECKPOINT_SECONDS


def _engine(session: Session) -> Any:
    bind = session.get_bind()
    return getattr(bind, "engine", bind)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """Write the queued entries of a write transaction just before it commits."""
    if session.info.get("readonly"):
        return
    if not session.info.get(PENDING):
        session.info.pop(KEPT, None)
        return
    write(session, drain(session))


@dataclass(frozen=True)
class Redaction:
    erased: int
    """Entries whose address and detail were erased now."""
    legacy: int
    """Entries written before migration 0005 that hold an address or detail and cannot be erased."""


def redact(session: Session, beneficiary: str) -> Redaction:
    """Erase the address, detail and salt of every entry about ``beneficiary`` (retention).

    The entries stay in the chain (who did what, when, to which pseudonymous code) and the chain
    still verifies. The database's triggers allow this one change to the log and no other."""
    erased = _affected(
        session.execute(
            update(AuditEntry)
            .where(
                AuditEntry.beneficiary == beneficiary,
                AuditEntry.private_hash.is_not(None),
                AuditEntry.salt.is_not(None),
            )
            .values(ip=None, detail={}, salt=None, redacted_at=dt.datetime.now(dt.UTC))
            .execution_options(synchronize_session=False)
        )
    )
    legacy = [
        e
        for e in session.execute(
            select(AuditEntry).where(AuditEntry.beneficiary == beneficiary, AuditEntry.private_hash.is_(None))
        ).scalars()
        if e.ip is not None or e.detail
    ]
    return Redaction(erased or 0, len(legacy))


# -- checkpoints ---------------------------------------------------------------------------


def _mac(key: bytes, seq: int, digest: str, at: str) -> str:
    return hmac.new(key, f"proforient-audit|{seq}|{digest}|{at}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment, signed with the audit key."""

    seq: int
    hash: str
    at: str
    mac: str

    def valid(self, key: bytes) -> bool:
        return hmac.compare_digest(self.mac, _mac(key, self.seq, self.hash, self.at))

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "at": self.at, "mac": self.mac}


def head(session: Session, key: bytes | None = None) -> dict[str, Any]:
    """The chain's current head (seq, hash), signed when a key is given: carried by exports and backups."""
    seq, digest = _head(session) or (0, GENESIS)
    at = _ts(dt.datetime.now(dt.UTC))
    out: dict[str, Any] = {"seq": seq, "hash": digest, "at": at}
    if key:
        out["mac"] = _mac(key, seq, digest, at)
    return out


def checkpoint(session: Session, key: bytes) -> Checkpoint:
    """Record the head (inside the caller's transaction; the file line is written after it commits)."""
    found = _head(session)
    if found is None:
        raise RuntimeError("the audit log has no head row: the database was not migrated")
    seq, digest = found
    at = _ts(dt.datetime.now(dt.UTC))
    cp = Checkpoint(seq, digest, at, _mac(key, seq, digest, at))
    session.add(AuditCheckpoint(seq=cp.seq, hash=cp.hash, at=cp.at, mac=cp.mac))
    _last_checkpoint[_engine(session)] = time.monotonic()
    path = session.info.get(FILE)
    if path:
        session.info.setdefault("audit_checkpoint_lines", []).append(cp)
    return cp


@event.listens_for(Session, "after_commit")
def _write_checkpoint_file(session: Session) -> None:
    lines: list[Checkpoint] = session.info.pop("audit_checkpoint_lines", None) or []
    path = session.info.get(FILE)
    if not lines or not path:
        return
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, "".join(json.dumps(c.as_dict()) + "\n" for c in lines).encode())
    finally:
        os.close(fd)


@event.listens_for(Session, "after_rollback")
def _forget_checkpoint_file(session: Session) -> None:
    session.info.pop("audit_checkpoint_lines", None)


def read_checkpoint_file(path: str | Path | None) -> list[Checkpoint]:
    if not path or not Path(path).exists():
        return []
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Checkpoint(int(d["seq"]), str(d["hash"]), str(d["at"]), str(d["mac"])))
    return out


# -- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    problem: str | None = None
    seq: int | None = None
    checkpoints: int = 0


def verify(session: Session, key: bytes | None = None, extra: Iterable[Checkpoint] = ()) -> Verification:
    """Recompute the chain; report the first edited, inserted or deleted entry, and any
    checkpoint (from the table, the checkpoint file or ``extra``) the chain no longer holds."""
    key = key or session.info.get(KEY)
    prev, expected, n = GENESIS, 1, 0
    hashes: dict[int, str] = {}
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        if e.seq != expected:
            return Verification(False, n, f"entry {expected} is missing (deleted?)", expected)
        if e.prev_hash != prev:
            return Verification(False, n, f"entry {e.seq} does not follow entry {e.seq - 1}", e.seq)
        if e.private_hash is None:  # written before migration 0005
            h = entry_hash(prev, e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.beneficiary, e.ip, e.detail)
        else:
            if e.salt is None:  # erased by retention: nothing may be left but the hash
                intact = e.ip is None and not e.detail and e.redacted_at is not None
            else:
                intact = private_digest(e.salt, e.ip, e.detail) == e.private_hash
            if not intact:
                return Verification(False, n, f"entry {e.seq} was altered after it was written", e.seq)
            h = entry_hash_v2(
                prev, e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.beneficiary, e.private_hash
            )
        if h != e.hash:
            return Verification(False, n, f"entry {e.seq} was altered after it was written", e.seq)
        hashes[e.seq] = h
        prev, expected, n = e.hash, expected + 1, n + 1
    head_row = _head(session)
    if head_row is None or head_row != (n, prev):
        return Verification(
            False,
            n,
            f"the log ends at entry {n} but {head_row[0] if head_row else '?'} were written "
            "(entries deleted from the end?)",
            n + 1,
        )
    cps = [
        Checkpoint(c.seq, c.hash, c.at, c.mac)
        for c in session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).scalars()
    ]
    cps += read_checkpoint_file(session.info.get(FILE))
    cps += list(extra)
    for cp in sorted(cps, key=lambda c: c.seq):
        if key and not cp.valid(key):
            return Verification(
                False, n, f"the checkpoint of entry {cp.seq} ({cp.at}) is not genuine", cp.seq, len(cps)
            )
        if cp.seq > n:
            return Verification(
                False,
                n,
                f"the log ends at entry {n}, but a checkpoint of {cp.at} saw {cp.seq} entries "
                "(the log was truncated or replaced)",
                n + 1,
                len(cps),
            )
        if cp.seq > 0 and hashes.get(cp.seq) != cp.hash:
            return Verification(
                False,
                n,
                f"entry {cp.seq} is not the one the checkpoint of {cp.at} saw (the log was rewritten)",
                cp.seq,
                len(cps),
            )
    return Verification(True, n, checkpoints=len(cps))


# -- reading -------------------------------------------------------------------------------

ALERT_ACTIONS = frozenset({"break_glass"})
"""Actions the log shows loudly: an admin's emergency read of a person's data."""


def entry_view(e: AuditEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "beneficiary": e.beneficiary,
        "ip": e.ip,
        "detail": e.detail,
        "alert": e.action in ALERT_ACTIONS,
        "redacted": e.redacted_at is not None,
    }


def listing(
    session: Session,
    principal: Any,
    offset: int,
    limit: int,
    beneficiary: str | None = None,
    action: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the log, newest first (the admin's)."""
    from sqlalchemy import func

    principal.require("audit.read")
    q = select(AuditEntry)
    if beneficiary:
        q = q.where(AuditEntry.beneficiary == beneficiary)
    if action:
        q = q.where(AuditEntry.action == action)
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(q.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit)).scalars()
    return [entry_view(e) for e in rows], total
