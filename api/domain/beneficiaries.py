"""Beneficiaries: pseudonymous codes, encrypted names, the data-subject export,
retention and key rotation (Georgian Law on Personal Data Protection, No. 3144
of 2023: trafficking-victim status is special-category data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import service
from api.db.tables import Administration, Answer, Beneficiary, Consent, Packet, Result, Sending
from api.security import Vault, new_code

from . import audit
from .access import Principal
from .errors import Invalid, NotFound


def _view(b: Beneficiary, principal: Principal, vault: Vault) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": b.code,
        "gender": b.gender,
        "birth_year": b.birth_year,
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
) -> dict[str, Any]:
    principal.require("beneficiaries.create")
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
    audit.append(
        session,
        principal.actor,
        "list",
        "beneficiary",
        None,
        None,
        ip,
        {"codes": [b.code for b in rows], "search": search},
    )
    return [_view(b, principal, vault) for b in rows], total


def close(session: Session, principal: Principal, code: str, ip: str | None = None) -> None:
    """The case's purpose has ended; retention starts counting from now."""
    principal.require("beneficiaries.close")
    b = find(session, code)
    b.closed_at = b.closed_at or dt.datetime.now(dt.UTC)
    audit.append(session, principal.actor, "close", "beneficiary", code, code, ip)


def export(session: Session, principal: Principal, vault: Vault, code: str, ip: str | None = None) -> dict[str, Any]:
    """Everything held on one person (a data-subject access request), in one document."""
    principal.require("beneficiaries.export")
    b = find(session, code)
    admins = session.execute(select(Administration).where(Administration.beneficiary_id == b.id)).scalars().all()
    answers = {
        a.id: {
            x.item: x.value for x in session.execute(select(Answer).where(Answer.administration_id == a.id)).scalars()
        }
        for a in admins
    }
    results = session.execute(select(Result).where(Result.beneficiary_id == b.id)).scalars().all()
    consents = session.execute(select(Consent).where(Consent.beneficiary_id == b.id)).scalars().all()
    packets = session.execute(select(Packet).where(Packet.beneficiary_id == b.id)).scalars().all()
    sendings = session.execute(select(Sending).where(Sending.beneficiary_id == b.id)).scalars().all()
    trail = (
        session.execute(
            select(audit.AuditEntry).where(audit.AuditEntry.beneficiary == code).order_by(audit.AuditEntry.seq)
        )
        .scalars()
        .all()
    )
    audit.append(session, principal.actor, "export", "beneficiary", code, code, ip)
    return {
        "beneficiary": {
            **_view(b, principal, vault),
            "name": vault.open(b.name_enc),
            "contact": vault.open(b.contact_enc),
        },
        "administrations": [
            {
                "id": a.id,
                "instrument": a.instrument,
                "version": a.instrument_version,
                "status": a.status,
                "created_at": a.created_at,
                "submitted_at": a.submitted_at,
                "answers": answers[a.id],
            }
            for a in admins
        ],
        "results": [
            {
                "id": r.id,
                "instrument": r.instrument,
                "version": r.instrument_version,
                "engine_version": r.engine_version,
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
                "expires_at": c.expires_at,
                "withdrawn_at": c.withdrawn_at,
            }
            for c in consents
        ],
        "packets": [
            {"id": p.id, "addressee": p.addressee, "parts": p.parts, "created_at": p.created_at, "sent_at": p.sent_at}
            for p in packets
        ],
        "registry": [{"packet": s.packet_id, "addressee": s.addressee, "sent_at": s.sent_at} for s in sendings],
        "access_log": [{"at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity} for e in trail],
        "audit_head": audit.head(session, session.info.get(audit.KEY)),
    }


def apply_retention(session: Session, principal: Principal, days: int, now: dt.datetime | None = None) -> list[str]:
    """Depersonalize cases closed more than ``days`` ago: names, contacts and free-text
    answers go; scores stay under the pseudonymous code. The audit chain is untouched
    (it never held names)."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=days)
    due = (
        session.execute(
            select(Beneficiary).where(Beneficiary.closed_at.is_not(None), Beneficiary.depersonalized_at.is_(None))
        )
        .scalars()
        .all()
    )
    done = []
    for b in due:
        closed = b.closed_at if b.closed_at.tzinfo else b.closed_at.replace(tzinfo=dt.UTC)
        if closed > cutoff:
            continue
        b.name_enc = b.contact_enc = None
        b.birth_year = None
        for a in session.execute(select(Administration).where(Administration.beneficiary_id == b.id)).scalars():
            a.resume_hash = None
            a.aspirations = None
            if (
                service.instrument(a.instrument, a.instrument_version).model == "intake"
            ):  # free text about the person's life
                for ans in session.execute(select(Answer).where(Answer.administration_id == a.id)).scalars():
                    if ans.item in ("profession", "interests", "notes"):
                        ans.value = None
        b.depersonalized_at = now
        audit.append(
            session,
            principal.actor,
            "depersonalize",
            "beneficiary",
            b.code,
            b.code,
            detail={"closed_at": closed.isoformat(), "retention_days": days},
        )
        done.append(b.code)
    return done
