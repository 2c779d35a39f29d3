r"""Retention: when a closed case's purpose has ended, depersonalize it everywhere it is stored.

What goes, for each case closed longer ago than the retention period:

| where | what |
|---|---|
| ``beneficiaries`` | name and contact (encrypted), birth year |
| ``administrations`` | the resume token's hash, aspired occupations |
| ``answers`` | the answers to the intake's ``personal`` fields (\*) |
| ``results`` | the same fields' values copied into the stored record, aspired occupations' wording (``scrub_result``) |
| ``packets`` | the same fields and the aspired occupations in the packet's stored views (``scrub_packet``) |
| ``consents`` | the social worker's note |
| ``trainings``, ``placements``, ``follow_ups`` | the free notes (the outcomes stay, for programme indicators) |
| ``corrections`` | the reason given (free text); a corrected personal field's old and new value |
| ``administrations``, ``results`` | the reason given for a discard or a correction (free text) |
| ``idempotency`` | every record about the case's beneficiary, administrations, consents and packets |
| ``audit_log`` | the address and detail of every entry about the case (``audit.redact``; the chain still verifies) |

(\*) the definition says which: the ``personal`` column of fields.csv; by default every ``text``
and ``occupations`` field.

Scores, codes and flags stay under the pseudonymous code (programme statistics, research).
Research exports never carry the ``personal`` fields in the first place.

**Bytes on disk.** A database keeps old versions of what it changes until they are cleaned up:
``compact`` does that after the transaction has committed (``proforient retention --apply`` runs it).

- SQLite runs with ``secure_delete`` (freed space is overwritten with zeros), and its write-ahead
  log is checkpointed with TRUNCATE: neither the database file nor the WAL keeps the old values.
- PostgreSQL keeps an updated row's old version in the table's file until ``VACUUM`` reclaims it,
  and plain ``VACUUM`` only marks the space free: the old bytes stay in the file until new rows
  overwrite them (measured: an erased answer was still in the ``answers`` file after ``VACUUM``).
  So ``compact`` runs ``VACUUM FULL`` on the touched tables by default: each is rewritten into a
  new file (and locked while that runs: at the fund's scale, a fraction of a second per table).
  ``full=False`` (``--no-full-vacuum``) runs plain ``VACUUM``.
- Beyond the tables: PostgreSQL's write-ahead log (``pg_wal``) and base backups hold the old values
  until they are recycled or expire, and ``ANALYZE`` may have sampled a value into
  ``pg_statistic``. Keep WAL archives and backups under the same retention period, and let
  ``ANALYZE`` run after the vacuum (autovacuum does).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

import instruments
from api import scoring_facade as facade
from api.db.tables import (
    Administration,
    Answer,
    Beneficiary,
    Consent,
    Correction,
    FollowUp,
    IdempotencyRecord,
    Packet,
    Placement,
    Result,
    Sitting,
    StudyParticipant,
    Training,
)

from . import audit
from .access import Principal

TOUCHED = (
    "beneficiaries",
    "administrations",
    "answers",
    "results",
    "packets",
    "consents",
    "corrections",
    "trainings",
    "placements",
    "follow_ups",
    "idempotency",
    "audit_log",
)
"""The tables retention changes (compacted afterwards)."""


def _affected(result: object) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(getattr(result, "rowcount", 0) or 0)


def personal_fields(instrument_id: str, version: str | None) -> frozenset[str]:
    """The fields of an intake form that hold identifying or free text (empty for other instruments)."""
    try:
        inst = facade.instrument(instrument_id, version)
    except instruments.InstrumentError:
        return frozenset()
    return inst.personal_fields if inst.model == "intake" else frozenset()


def all_personal_fields() -> frozenset[str]:
    """The personal fields of every intake version shipped (for content whose version is unknown)."""
    out: set[str] = set()
    for iid, version in instruments.available():
        out |= personal_fields(iid, version)
    return frozenset(out)


def scrub_result(result: Result, personal: frozenset[str]) -> bool:
    """Depersonalize one stored result record: the values of the ``personal`` fields copied into an
    intake record go, and so does the wording of aspired occupations (their codes stay, and so do
    the scores computed from them). The one exception to "results are immutable"; returns whether
    anything changed."""
    record = copy.deepcopy(result.record or {})
    changed = False
    values = record.get("values")
    if isinstance(values, dict):
        for k in personal:
            if values.get(k) not in (None, [], ()):
                values[k] = None
                changed = True
    for a in record.get("aspirations") or ():
        if a.get("given"):
            a["given"] = ""
            changed = True
    if changed:
        result.record = record
    return changed


def scrub_packet(packet: Packet, personal: frozenset[str]) -> bool:
    """Depersonalize one packet's stored views (every language): the ``personal`` intake fields it
    shows and the aspired occupations it names go, and so does every other place a view repeats
    their wording (the person's own trade and wishes, the summary's sentences): each such value is
    cut out of every text of the packet. (Its ``content_hash`` stays: it is the registry's record of
    what was sent.)

    >>> p = Packet(content={"views": {"en": {"intake": {"fields": [{"id": "profession", "value": "baker"}],
    ...     "aspirations": [{"name": "pilot", "code": "RIE", "note": "baker"}]}, "start": {"trade": {"name": "baker"}},
    ...     "summary": ["Works as a baker; would like to be a pilot."]}}})
    >>> scrub_packet(p, frozenset({"profession"}))
    True
    >>> p.content["views"]["en"]["start"], p.content["views"]["en"]["summary"]
    ({'trade': {'name': '…'}}, ['Works as a …; would like to be a ….'])
    """
    content = copy.deepcopy(packet.content or {})
    changed = False
    wording: set[str] = set()
    for view in (content.get("views") or {}).values():
        intake = (view or {}).get("intake") or {}
        for f in intake.get("fields") or ():
            if f.get("id") in personal and f.get("value") is not None:
                wording.update(_texts(f["value"]))
                f["value"] = None
                changed = True
        if intake.get("aspirations"):
            # the wording a person gave (or the catalogue's name for it); never its code or a note
            wording.update(t for a in intake["aspirations"] for k in ("name", "given") for t in _texts(a.get(k)))
            intake["aspirations"] = []
            changed = True
    # longest first, so that a value containing another is cut whole
    cut = sorted((w for w in wording if len(w.strip()) >= 2), key=len, reverse=True)
    if cut:
        content, n = _cut(content, cut)
        changed = changed or n > 0
    if changed:
        packet.content = content
    return changed


def _texts(value: Any) -> list[str]:
    """Every text inside a field's value (a string or a list of them), and each ``;``-separated part."""
    if isinstance(value, str):
        return [p.strip() for p in value.replace(";", "\n").splitlines() if p.strip()] + [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    return []


def _cut(value: Any, wording: list[str]) -> tuple[Any, int]:
    """``value`` with every occurrence of each of ``wording`` in its texts replaced by an ellipsis."""
    if isinstance(value, str):
        out = value
        for w in wording:
            out = out.replace(w, "…")
        return out, int(out != value)
    if isinstance(value, dict):
        n = 0
        d = {}
        for k, v in value.items():
            d[k], c = _cut(v, wording)
            n += c
        return d, n
    if isinstance(value, list):
        items = [_cut(v, wording) for v in value]
        return [v for v, _ in items], sum(c for _, c in items)
    return value, 0


def _packet_personal(packet: Packet) -> frozenset[str]:
    # the packet names, per model, the result it was built from: the intake model's instrument and version
    source = ((packet.content or {}).get("sources") or {}).get("intake") or {}
    iid, version = source.get("instrument"), source.get("instrument_version")
    return personal_fields(iid, version) if iid and version else all_personal_fields()


def depersonalize(session: Session, b: Beneficiary, now: dt.datetime) -> dict[str, int]:
    """Erase every identifying and free-text value held on one person (see the module's table)."""
    counts = dict.fromkeys(
        (
            "answers",
            "results",
            "packets",
            "consents",
            "outcome_notes",
            "reasons",
            "idempotency",
            "audit",
            "audit_legacy",
        ),
        0,
    )
    b.name_enc = b.contact_enc = None
    b.birth_year = None
    # the studies the person joined keep their anonymous answers (as consented), never the link to the case
    session.execute(update(StudyParticipant).where(StudyParticipant.beneficiary_id == b.id).values(beneficiary_id=None))
    ids: set[str] = {b.code}
    admins = list(session.execute(select(Administration).where(Administration.beneficiary_id == b.id)).scalars())
    for sitting in session.execute(select(Sitting).where(Sitting.beneficiary_id == b.id)).scalars():
        sitting.code_hash = None  # a sitting's code stops working too
    for a in admins:
        ids.add(a.id)
        a.resume_hash = None
        a.aspirations = None
        personal = personal_fields(a.instrument, a.instrument_version)
        if personal:
            for ans in session.execute(
                select(Answer).where(Answer.administration_id == a.id, Answer.item.in_(personal))
            ).scalars():
                if ans.value is not None:
                    ans.value = None
                    counts["answers"] += 1
        if a.discard_reason:
            a.discard_reason = None
            counts["reasons"] += 1
        for c in session.execute(select(Correction).where(Correction.administration_id == a.id)).scalars():
            c.reason = ""
            counts["reasons"] += 1
            if c.item in personal:
                c.old_value = c.new_value = None
    for r in session.execute(select(Result).where(Result.beneficiary_id == b.id)).scalars():
        ids.add(r.id)
        counts["results"] += scrub_result(r, personal_fields(r.instrument, r.instrument_version))
        if r.reason:
            r.reason = None
            counts["reasons"] += 1
    for p in session.execute(select(Packet).where(Packet.beneficiary_id == b.id)).scalars():
        ids.add(p.id)
        counts["packets"] += scrub_packet(p, _packet_personal(p))
    for consent in session.execute(select(Consent).where(Consent.beneficiary_id == b.id)).scalars():
        ids.add(str(consent.id))
        if consent.note is not None:
            consent.note = None
            counts["consents"] += 1
    outcome_tables: tuple[Any, ...] = (Training, Placement, FollowUp)  # each has an id and a note
    for table in outcome_tables:
        for row in session.execute(select(table).where(table.beneficiary_id == b.id)).scalars():
            ids.add(row.id)
            if row.note is not None:
                row.note = None
                counts["outcome_notes"] += 1
    counts["idempotency"] = _affected(
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.resource_id.in_(ids)))
    )
    session.flush()
    red = audit.redact(session, b.code)
    counts["audit"], counts["audit_legacy"] = red.erased, red.legacy
    b.depersonalized_at = now
    return counts


def _aware(d: dt.datetime) -> dt.datetime:
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def apply_retention(session: Session, principal: Principal, days: int, now: dt.datetime | None = None) -> list[str]:
    """Depersonalize every case closed more than ``days`` ago; returns their codes. Run ``compact``
    after the transaction commits."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=days)
    due = session.execute(
        select(Beneficiary)
        .where(Beneficiary.closed_at.is_not(None), Beneficiary.depersonalized_at.is_(None))
        .order_by(Beneficiary.id)
    ).scalars()
    done = []
    for b in list(due):
        closed = _aware(b.closed_at)  # type: ignore[arg-type]
        if closed > cutoff:
            continue
        counts = depersonalize(session, b, now)
        # written after the redaction, so this entry keeps its detail (counts only, nothing personal)
        audit.append(
            session,
            principal.actor,
            "depersonalize",
            "beneficiary",
            b.code,
            b.code,
            detail={"closed_at": closed.isoformat(), "retention_days": days, "erased": counts},
        )
        done.append(b.code)
    return done


def compact(engine: Engine, full: bool = True) -> str:
    """After retention has committed: make the database drop the old versions of what it changed.

    SQLite: a TRUNCATE checkpoint of the write-ahead log (``secure_delete`` already zeroed the freed
    space). PostgreSQL: ``VACUUM FULL`` (plain ``VACUUM`` with ``full=False``) of the touched tables.
    Returns what was done, for the operator."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside any transaction (a checkpoint cannot run inside one)
        try:
            busy, _, _ = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            raw.close()
        if busy:
            return "sqlite: secure_delete is on; the checkpoint was blocked by a reader: run retention again"
        return "sqlite: secure_delete is on; write-ahead log checkpointed (TRUNCATE)"
    verb = "VACUUM (FULL)" if full else "VACUUM"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in TOUCHED:
            conn.execute(text(f"{verb} {table}"))
    return f"postgresql: {verb} of {', '.join(TOUCHED)}"


def export_rows(rows: list[dict[str, Any]], personal: frozenset[str]) -> list[dict[str, Any]]:
    """Research rows without the ``personal`` fields (pseudonymized exports never carry free text)."""
    return [{k: v for k, v in r.items() if k not in personal} for r in rows]
