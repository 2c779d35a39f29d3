"""Beneficiaries: pseudonymous codes, encrypted names, the data-subject export,
retention and key rotation (Georgian Law on Personal Data Protection, No. 3144
of 2023: trafficking-victim status is special-category data)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import instruments
from api import scoring_facade as facade
from api.db.tables import (
    Administration,
    Answer,
    AuditEntry,
    Beneficiary,
    Consent,
    FollowUp,
    Packet,
    Placement,
    Result,
    Sending,
    Study,
    StudyParticipant,
    Training,
    User,
)
from api.security import Vault, new_code

from . import accounts, audit
from .access import Principal
from .errors import Invalid, NotFound

STRINGS = Path(__file__).resolve().parents[1] / "web" / "strings"
"""The UI strings (data files): the export's labels are there, under ``[export]``."""


def _view(b: Beneficiary, principal: Principal, vault: Vault) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": b.code,
        "gender": b.gender,
        "birth_year": b.birth_year,
        "region": b.region,
        "created_at": b.created_at,
        "closed_at": b.closed_at,
        "depersonalized": b.depersonalized_at is not None,
    }
    if principal.can("beneficiaries.names"):
        out["name"] = vault.open(b.name_enc)
        out["contact"] = vault.open(b.contact_enc)
    return out


def find(session: Session, code: str) -> Beneficiary:
    b = session.execute(select(Beneficiary).where(Beneficiary.code == code)).scalar_one_or_none()
    if b is None:
        raise NotFound(f"no beneficiary {code!r}", field="code", value=code)
    return b


def create(
    session: Session,
    principal: Principal,
    vault: Vault,
    name: str | None,
    contact: str | None,
    gender: str | None = None,
    birth_year: int | None = None,
    ip: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    principal.require("beneficiaries.create")
    check_region(region)
    if gender not in (None, "female", "male", "other"):
        raise Invalid("gender must be female, male or other", field="gender", value=gender)
    this_year = dt.date.today().year
    if birth_year is not None and not this_year - 100 <= birth_year <= this_year - 14:
        raise Invalid(
            f"birth_year must lie between {this_year - 100} and {this_year - 14}", field="birth_year", value=birth_year
        )
    for _ in range(5):  # codes are random; retry on the rare collision
        b = Beneficiary(
            code=new_code(),
            name_enc=vault.seal(name),
            contact_enc=vault.seal(contact),
            gender=gender,
            birth_year=birth_year,
            region=region,
            created_by=principal.id if principal.kind == "user" else None,
        )
        try:
            with session.begin_nested():
                session.add(b)
                session.flush()
            break
        except IntegrityError:
            continue
    audit.append(session, principal.actor, "create", "beneficiary", b.code, b.code, ip)
    return _view(b, principal, vault)


def check_region(region: str | None) -> None:
    """A region is one of ``instruments.regions()`` by its id, or None (not recorded)."""
    known = [r.id for r in instruments.regions()]
    if region is not None and region not in known:
        raise Invalid(f"region must be one of {', '.join(known)}", field="region", value=region)


def set_region(
    session: Session, principal: Principal, vault: Vault, code: str, region: str | None, ip: str | None = None
) -> dict[str, Any]:
    """Record (or correct, or clear with None) where the person lives; whoever may register a person
    may do it. Audited with the old and the new value (a region is coarse: no one is named by it)."""
    principal.require("beneficiaries.create")
    check_region(region)
    b = find(session, code)
    if b.depersonalized_at is not None:
        raise Invalid("the case is depersonalized: its record is not changed any more", field="code", value=code)
    before, b.region = b.region, region
    audit.append(session, principal.actor, "update", "beneficiary", code, code, ip, {"region": [before, region]})
    return _view(b, principal, vault)


def read(session: Session, principal: Principal, vault: Vault, code: str, ip: str | None = None) -> dict[str, Any]:
    principal.require("beneficiaries.read")
    b = find(session, code)
    audit.append(
        session, principal.actor, "read", "beneficiary", code, code, ip, {"names": principal.can("beneficiaries.names")}
    )
    return _view(b, principal, vault)


def listing(
    session: Session,
    principal: Principal,
    vault: Vault,
    search: str | None,
    offset: int,
    limit: int,
    ip: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of beneficiaries, searchable by (the start of) the pseudonymous code."""
    principal.require("beneficiaries.read")
    q = select(Beneficiary)
    if search:
        q = q.where(or_(Beneficiary.code.startswith(search.upper()), Beneficiary.code == search))
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(q.order_by(Beneficiary.id.desc()).offset(offset).limit(limit)).scalars().all()
    # that a search happened, never its text (someone may type a name into the box)
    audit.append(
        session,
        principal.actor,
        "list",
        "beneficiary",
        None,
        None,
        ip,
        {"codes": [b.code for b in rows], "searched": bool(search)},
    )
    return [_view(b, principal, vault) for b in rows], total


def close(session: Session, principal: Principal, code: str, ip: str | None = None) -> None:
    """The case's purpose has ended; retention starts counting from now."""
    principal.require("beneficiaries.close")
    b = find(session, code)
    b.closed_at = b.closed_at or dt.datetime.now(dt.UTC)
    audit.append(session, principal.actor, "close", "beneficiary", code, code, ip)


def export_labels() -> dict[str, dict[str, str]]:
    """The data-subject export's labels in Georgian and English (the web UI's strings, ``[export]``)."""
    out: dict[str, dict[str, str]] = {}
    for lang in ("ka", "en"):
        table = tomllib.loads((STRINGS / f"{lang}.toml").read_text(encoding="utf-8"))["export"]
        out[lang] = {k: v for k, v in table.items() if isinstance(v, str)}
    return out


def _item_labels(instrument_id: str, version: str) -> dict[str, dict[str, str | None]]:
    """What each answer was an answer to, in both languages (intake field labels, item texts)."""
    try:
        inst = facade.instrument(instrument_id, version)
    except instruments.InstrumentError:
        return {}
    if inst.model == "intake":
        return {f.id: {"ka": f.label.ka, "en": f.label.en} for f in inst.fields}
    out: dict[str, dict[str, str | None]] = {}
    for it in inst.items:
        if it.text is not None:
            out[it.id] = {"ka": it.text.ka, "en": it.text.en}
        elif it.left is not None and it.right is not None:
            out[it.id] = {"ka": f"{it.left.ka} / {it.right.ka}", "en": f"{it.left.en} / {it.right.en}"}
    return out


def subject_document(session: Session, vault: Vault, b: Beneficiary) -> dict[str, Any]:
    """Everything held on one person, in one document with Georgian and English labels: the
    record, every administration (metadata and answers, each with what it answered), results,
    consents (with notes), packets (with the content that was sent), the registry, trainings,
    jobs and follow-ups after placement, the studies the person joined, and who accessed what
    (the audit log's entries about the person)."""
    admins = (
        session.execute(
            select(Administration).where(Administration.beneficiary_id == b.id).order_by(Administration.created_at)
        )
        .scalars()
        .all()
    )
    results = (
        session.execute(select(Result).where(Result.beneficiary_id == b.id).order_by(Result.created_at)).scalars().all()
    )
    consents = (
        session.execute(select(Consent).where(Consent.beneficiary_id == b.id).order_by(Consent.id)).scalars().all()
    )
    packets = (
        session.execute(select(Packet).where(Packet.beneficiary_id == b.id).order_by(Packet.created_at)).scalars().all()
    )
    sendings = session.execute(select(Sending).where(Sending.beneficiary_id == b.id)).scalars().all()
    trainings = session.execute(select(Training).where(Training.beneficiary_id == b.id)).scalars().all()
    placements = session.execute(select(Placement).where(Placement.beneficiary_id == b.id)).scalars().all()
    follow_ups = session.execute(select(FollowUp).where(FollowUp.beneficiary_id == b.id)).scalars().all()
    joined = session.execute(
        select(StudyParticipant, Study)
        .join(Study, Study.id == StudyParticipant.study_id)
        .where(StudyParticipant.beneficiary_id == b.id)
    ).all()
    trail = (
        session.execute(select(AuditEntry).where(AuditEntry.beneficiary == b.code).order_by(AuditEntry.seq))
        .scalars()
        .all()
    )
    users = accounts.display_names(
        session,
        {a.administered_by for a in admins}
        | {c.recorded_by for c in consents}
        | {c.withdrawn_by for c in consents}
        | {p.created_by for p in packets}
        | {s.sender_id for s in sendings}
        | {r.created_by for r in results}
        | {b.created_by},
    )
    usernames = {
        u.username: (u.full_name or u.username)
        for u in session.execute(select(User).where(User.id.in_(set(users)))).scalars()
    }

    def who(actor: str) -> str:
        kind, _, name = actor.partition(":")
        return usernames.get(name, name) if kind == "user" else actor

    def answers_of(a: Administration) -> list[dict[str, Any]]:
        labels = _item_labels(a.instrument, a.instrument_version)
        rows = session.execute(select(Answer).where(Answer.administration_id == a.id).order_by(Answer.item)).scalars()
        return [{"item": x.item, "label": labels.get(x.item), "value": x.value, "saved_at": x.saved_at} for x in rows]

    def title(instrument_id: str) -> dict[str, str | None] | None:
        try:
            t = facade.instrument(instrument_id).title
        except instruments.InstrumentError:
            return None
        return {"ka": t.ka, "en": t.en}

    return {
        "labels": export_labels(),
        "made_at": dt.datetime.now(dt.UTC),
        "beneficiary": {
            "code": b.code,
            "name": vault.open(b.name_enc),
            "contact": vault.open(b.contact_enc),
            "gender": b.gender,
            "birth_year": b.birth_year,
            "region": b.region,
            "registered_by": users.get(b.created_by) if b.created_by else None,
            "created_at": b.created_at,
            "closed_at": b.closed_at,
            "depersonalized_at": b.depersonalized_at,
        },
        "administrations": [
            {
                "id": a.id,
                "instrument": a.instrument,
                "title": title(a.instrument),
                "version": a.instrument_version,
                "mode": a.mode,
                "status": a.status,
                "administered_by": users.get(a.administered_by) if a.administered_by else None,
                "created_at": a.created_at,
                "updated_at": a.updated_at,
                "submitted_at": a.submitted_at,
                "aspirations": a.aspirations,
                "answering_seconds": a.seconds,
                "answers": answers_of(a),
            }
            for a in admins
        ],
        "results": [
            {
                "id": r.id,
                "instrument": r.instrument,
                "version": r.instrument_version,
                "engine_version": r.engine_version,
                "norm_table": r.norm_table,
                "created_at": r.created_at,
                "kind": r.kind,
                "reason": r.reason,
                "supersedes": r.supersedes_id,
                "record": r.record,
            }
            for r in results
        ],
        "consents": [
            {
                "id": c.id,
                "addressee": c.addressee,
                "scope": c.scope,
                "given_at": c.given_at,
                "recorded_by": users.get(c.recorded_by) if c.recorded_by else None,
                "expires_at": c.expires_at,
                "withdrawn_at": c.withdrawn_at,
                "withdrawn_by": users.get(c.withdrawn_by) if c.withdrawn_by else None,
                "note": c.note,
            }
            for c in consents
        ],
        "packets": [
            {
                "id": p.id,
                "addressee": p.addressee,
                "parts": p.parts,
                "prepared_by": users.get(p.created_by) if p.created_by else None,
                "created_at": p.created_at,
                "sent_at": p.sent_at,
                "content": p.content,
            }
            for p in packets
        ],
        "registry": [
            {"packet": s.packet_id, "addressee": s.addressee, "sender": users.get(s.sender_id), "sent_at": s.sent_at}
            for s in sendings
        ],
        "trainings": [
            {
                "activity": t.activity,
                "started_on": t.started_on,
                "finished_on": t.finished_on,
                "outcome": t.outcome,
                "note": t.note,
                "organisation": t.organisation,
                "recorded_by": who(t.recorded_by),
            }
            for t in sorted(trainings, key=lambda t: t.started_on)
        ],
        "placements": [
            {
                "id": p.id,
                "employer_kind": p.employer_kind,
                "isco": p.isco,
                "start_date": p.start_date,
                "hours_per_week": p.hours_per_week,
                "pay_band": p.pay_band,
                "self_employed": p.self_employed,
                "micro_business": p.micro_business,
                "supported": p.supported,
                "note": p.note,
                "organisation": p.organisation,
                "recorded_by": who(p.recorded_by),
            }
            for p in sorted(placements, key=lambda p: p.start_date)
        ],
        "follow_ups": [
            {
                "placement": f.placement_id,
                "month": f.month,
                "done_on": f.done_on,
                "still_employed": f.still_employed,
                "same_job": f.same_job,
                "left_on": f.left_on,
                "satisfaction": f.satisfaction,
                "difficulties": list(f.difficulties or []),
                "note": f.note,
                "recorded_by": who(f.recorded_by),
            }
            for f in sorted(follow_ups, key=lambda f: (f.placement_id, f.month))
        ],
        "studies": [
            {
                "study": {"ka": s.title_ka, "en": s.title_en},
                "status": sp.status,
                "consented_at": sp.consented_at,
                "declined_at": sp.declined_at,
                "completed_at": sp.completed_at,
                "consent_recorded_by": users.get(sp.consent_recorded_by) if sp.consent_recorded_by else None,
                "answers": sp.answers,
            }
            for sp, s in joined
        ],
        "access_log": [
            {
                "at": e.at,
                "who": who(e.actor),
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "alert": e.action in audit.ALERT_ACTIONS,
            }
            for e in trail
        ],
        "audit_head": audit.head(session, session.info.get(audit.KEY)),
    }


def export(session: Session, principal: Principal, vault: Vault, code: str, ip: str | None = None) -> dict[str, Any]:
    """Everything held on one person (a data-subject access request), in one document."""
    principal.require("beneficiaries.export")
    b = find(session, code)
    doc = subject_document(session, vault, b)
    audit.append(session, principal.actor, "export", "beneficiary", code, code, ip)
    return doc


def break_glass(
    session: Session, principal: Principal, vault: Vault, code: str, reason: str, ip: str | None = None
) -> dict[str, Any]:
    """The admin's emergency read of everything held on one person. Needs a reason (kept in the
    audit log, erased with the case's other details at retention) and is logged as
    ``break_glass``, which the audit log shows as an alert."""
    principal.require("beneficiaries.break_glass")
    reason = (reason or "").strip()
    if len(reason) < 20:
        raise Invalid("say why this emergency read is needed (at least 20 characters)", field="reason")
    b = find(session, code)
    doc = subject_document(session, vault, b)
    audit.append(session, principal.actor, "break_glass", "beneficiary", code, code, ip, {"reason": reason[:1000]})
    return doc


def apply_retention(session: Session, principal: Principal, days: int, now: dt.datetime | None = None) -> list[str]:
    """Depersonalize cases closed more than ``days`` ago (``retention.apply_retention``)."""
    from . import retention

    return retention.apply_retention(session, principal, days, now)
