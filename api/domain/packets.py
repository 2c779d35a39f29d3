"""Consent, packets and the registry (the fund's process #4).

A packet is what the social worker prepares for one addressee, carrying only the
parts they choose within the consent's scope. Sending checks, at that moment,
that a consent for this addressee covers every part, is not withdrawn and has
not expired; otherwise nothing is written. The addressee can read a packet only
while that consent stands.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.tables import Beneficiary, Consent, Packet, Sending
from api.settings import Settings

from . import accounts, audit
from .access import Principal
from .beneficiaries import find
from .errors import Conflict, ConsentRequired, Forbidden, Invalid, NotFound

PARTS = ("intake_summary", "profile", "activities", "clinical")
"""What a packet may carry (``reports.PACKET_PARTS``). 'clinical' (emotional strain, psychological
help, validity flags) goes only where the consent names it; what each part shows is decided by the
one audience rule in ``reports`` (``packet_audience``)."""
CONSENT_PARTS = (*PARTS, "outcomes")
"""What a consent may name: the packet's parts, and 'outcomes' (the addressee may record and read the
person's trainings, placements and follow-ups: ``api.domain.outcomes``); a packet never carries it."""
CONTENT_SCHEMA = "proforient.packet/2"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(d: dt.datetime | None) -> dt.datetime | None:
    return None if d is None else (d if d.tzinfo else d.replace(tzinfo=dt.UTC))


def consent_valid(c: Consent, at: dt.datetime) -> bool:
    expires = _aware(c.expires_at)
    return c.withdrawn_at is None and _aware(c.given_at) <= at and (expires is None or expires > at)  # type: ignore[operator]


def consent_view(c: Consent, code: str) -> dict[str, Any]:
    """A consent as the API shows it, under the beneficiary's code."""
    return {
        "id": c.id,
        "beneficiary": code,
        "addressee": c.addressee,
        "scope": c.scope,
        "given_at": c.given_at,
        "expires_at": c.expires_at,
        "withdrawn_at": c.withdrawn_at,
        "note": c.note,
        "valid_now": consent_valid(c, now()),
    }


def packet_view(p: Packet, code: str) -> dict[str, Any]:
    """A packet as the API shows it, under the beneficiary's code."""
    return {
        "id": p.id,
        "beneficiary": code,
        "addressee": p.addressee,
        "parts": p.parts,
        "content": p.content,
        "content_hash": p.content_hash,
        "created_at": p.created_at,
        "sent_at": p.sent_at,
    }


def _check_parts(parts: list[str], field: str, allowed: tuple[str, ...] = PARTS) -> list[str]:
    bad = [p for p in parts if p not in allowed]
    if bad or not parts:
        raise Invalid(f"{field} must be chosen from {', '.join(allowed)}", field=field, value=bad or parts)
    return sorted(set(parts), key=allowed.index)


def _check_addressee(settings: Settings, addressee: str) -> None:
    if settings.organisation(addressee) is None:
        known = ", ".join(o.id for o in settings.organisations)
        raise Invalid(f"unknown addressee {addressee!r} (known: {known})", field="addressee", value=addressee)


def give_consent(
    session: Session,
    principal: Principal,
    settings: Settings,
    code: str,
    addressee: str,
    scope: list[str],
    expires_at: dt.datetime | None,
    note: str | None = None,
    ip: str | None = None,
) -> Consent:
    principal.require("consents.write")
    _check_addressee(settings, addressee)
    scope = _check_parts(scope, "scope", CONSENT_PARTS)
    if expires_at is not None and _aware(expires_at) <= now():  # type: ignore[operator]
        raise Invalid("expires_at lies in the past", field="expires_at", value=str(expires_at))
    b = find(session, code)
    c = Consent(
        beneficiary_id=b.id,
        addressee=addressee,
        scope=scope,
        expires_at=expires_at,
        note=note,
        recorded_by=principal.id if principal.kind == "user" else None,
    )
    session.add(c)
    session.flush()
    audit.append(
        session,
        principal.actor,
        "give",
        "consent",
        str(c.id),
        code,
        ip,
        {"addressee": addressee, "scope": scope, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return c


def withdraw_consent(session: Session, principal: Principal, consent_id: int, ip: str | None = None) -> Consent:
    principal.require("consents.write")
    if not 0 < consent_id < 2**31:  # no such row can exist (and the database could not even compare it)
        raise NotFound(f"no consent {consent_id}", field="consent", value=consent_id)
    # the consent's row stays locked until the withdrawal commits: a send that locked it first has
    # committed (dated before this withdrawal); one that comes after finds it withdrawn
    c = session.execute(
        select(Consent).where(Consent.id == consent_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if c is None:
        raise NotFound(f"no consent {consent_id}", field="consent", value=consent_id)
    if c.withdrawn_at is None:
        c.withdrawn_at = now()
        c.withdrawn_by = principal.id if principal.kind == "user" else None
    code = find_code(session, c.beneficiary_id)
    audit.append(session, principal.actor, "withdraw", "consent", str(c.id), code, ip)
    return c


def consents_of(session: Session, principal: Principal, code: str, ip: str | None = None) -> list[Consent]:
    principal.require("consents.read")
    b = find(session, code)
    audit.append(session, principal.actor, "list", "consent", None, code, ip)
    return list(session.execute(select(Consent).where(Consent.beneficiary_id == b.id).order_by(Consent.id)).scalars())


def find_code(session: Session, beneficiary_id: int) -> str:
    return session.get(Beneficiary, beneficiary_id).code  # type: ignore[union-attr]


def build_content(
    session: Session, settings: Settings, beneficiary_id: int, code: str, addressee: str, parts: list[str]
) -> dict[str, Any]:
    """The packet as data: the employment department's view of the chosen parts (in Georgian and
    English), built from the current result of each instrument's latest administration. The addressee
    reads exactly this view; the registry hashes it."""
    import reports

    from . import reporting, results  # reporting reads packets (find_code, read_packet)

    org = settings.organisation(addressee)
    chosen = results.latest(session, beneficiary_id, reporting.REPORTED)
    if not chosen:
        raise Conflict(f"{code} has no results yet: there is nothing to send", field="beneficiary", value=code)
    profile = reporting.profile_from(session, settings, code, list(chosen.values()), reliability=False)
    return {
        "schema": CONTENT_SCHEMA,
        "beneficiary": code,
        "fund": {"ka": settings.fund_name_ka, "en": settings.fund_name_en},
        "addressee": {
            "id": addressee,
            "ka": org.name_ka if org else addressee,
            "en": org.name_en if org else addressee,
        },
        "parts": parts,
        "prepared_at": now().isoformat(),
        "sources": {
            model: {
                "result": r.id,
                "instrument": r.instrument,
                "instrument_version": r.instrument_version,
                "engine_version": r.engine_version,
                "norm_table": r.norm_table,
                "scored_at": r.created_at.isoformat(),
            }
            for model, r in chosen.items()
        },
        "views": {lang: reports.jsonable_view(reports.packet_view(profile, lang, parts)) for lang in reports.LANGS},
    }


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def build_packet(
    session: Session,
    principal: Principal,
    settings: Settings,
    code: str,
    addressee: str,
    parts: list[str],
    ip: str | None = None,
) -> Packet:
    """A draft packet (preview): nothing leaves until ``send``."""
    principal.require("packets.write")
    _check_addressee(settings, addressee)
    parts = _check_parts(parts, "parts")
    b = find(session, code)
    content = build_content(session, settings, b.id, code, addressee, parts)
    p = Packet(
        id=str(uuid.uuid4()),
        beneficiary_id=b.id,
        addressee=addressee,
        parts=parts,
        content=content,
        content_hash=content_hash(content),
        created_by=principal.id if principal.kind == "user" else None,
    )
    session.add(p)
    session.flush()
    audit.append(session, principal.actor, "build", "packet", p.id, code, ip, {"addressee": addressee, "parts": parts})
    return p


def send_packet(session: Session, principal: Principal, packet_id: str, ip: str | None = None) -> Sending:
    """Send: only with a consent valid now, for this addressee, covering every part."""
    principal.require("packets.write")
    if principal.kind != "user":
        raise Forbidden("packets are sent by a signed-in social worker")
    p = session.execute(
        select(Packet).where(Packet.id == packet_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if p is None:
        raise NotFound(f"no packet {packet_id!r}", field="packet", value=packet_id)
    if p.sent_at is not None:
        raise Conflict("this packet was sent already; build a new one to send again", packet=p.id)
    # The consents are checked under their row locks, and the sending is dated after the locks
    # are held: a withdrawal either committed before (and is seen here) or waits for this send.
    consents = (
        session.execute(
            select(Consent)
            .where(Consent.beneficiary_id == p.beneficiary_id, Consent.addressee == p.addressee)
            .order_by(Consent.given_at.desc(), Consent.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )
    t = now()
    usable = [c for c in consents if consent_valid(c, t) and set(p.parts) <= set(c.scope)]
    if not usable:
        why = "no consent from the beneficiary for this addressee"
        if consents:
            why = "the consent for this addressee was withdrawn or has expired, or does not cover: " + ", ".join(
                sorted(set(p.parts) - set().union(*[set(c.scope) for c in consents if consent_valid(c, t)]))
            )
        raise ConsentRequired(f"not sent: {why}", packet=p.id, addressee=p.addressee)
    c = usable[0]
    p.sent_at, p.consent_id = t, c.id
    s = Sending(
        packet_id=p.id,
        beneficiary_id=p.beneficiary_id,
        sender_id=principal.id,
        addressee=p.addressee,
        sent_at=t,
        content_hash=p.content_hash,
        consent_id=c.id,
    )
    session.add(s)
    session.flush()
    code = find_code(session, p.beneficiary_id)
    audit.append(
        session,
        principal.actor,
        "send",
        "packet",
        p.id,
        code,
        ip,
        {"addressee": p.addressee, "consent": c.id, "content_hash": p.content_hash},
    )
    return s


def registry(
    session: Session, principal: Principal, offset: int, limit: int, ip: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The registry of sendings: beneficiary, sender, date sent, addressee (and what, by hash)."""
    principal.require("packets.registry")

    rows = session.execute(select(Sending).order_by(Sending.sent_at.desc())).scalars().all()
    users = accounts.display_names(session, {s.sender_id for s in rows})
    out = [
        {
            "beneficiary": find_code(session, s.beneficiary_id),
            "sender": users.get(s.sender_id, "?"),
            "sent_at": s.sent_at,
            "addressee": s.addressee,
            "packet": s.packet_id,
            "content_hash": s.content_hash,
        }
        for s in rows
    ]
    audit.append(session, principal.actor, "list", "registry", None, None, ip, {"count": len(out)})
    return out[offset : offset + limit], len(out)


REGISTRY_COLUMNS = ("beneficiary", "sender", "sent_at", "addressee", "packet", "content_hash")
REGISTRY_HEADERS = {
    "ka": ("ბენეფიციარი", "გამგზავნი", "გაგზავნის თარიღი ({zone})", "ადრესატი", "პაკეტი", "შიგთავსის SHA-256"),
    "en": ("Beneficiary", "Sender", "Date sent ({zone})", "Addressee", "Packet", "Content SHA-256"),
}
"""The registry file's column headings (the fund's own words: ბენეფიციარი, გამგზავნი, გაგზავნის თარიღი,
ადრესატი), in the language asked for."""


def registry_csv(rows: list[dict[str, Any]], settings: Settings, lang: str = "en") -> str:
    """The registry as a spreadsheet opens it: a UTF-8 byte-order mark (so Excel reads Georgian), the
    time sent in the configured zone as ``2026-12-06 21:15`` (read as a date and time), the
    addressee's name in ``lang`` (not its id), the sender's full name, headings in ``lang``."""
    import reports

    if lang not in REGISTRY_HEADERS:
        raise Invalid("lang must be ka or en", field="lang", value=lang)
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow([h.format(zone=settings.time_zone) for h in REGISTRY_HEADERS[lang]])
    for r in rows:
        org = settings.organisation(r["addressee"])
        name = (org.name_ka if lang == "ka" else org.name_en) if org is not None else r["addressee"]
        values = {**r, "sent_at": reports.spreadsheet_time(r["sent_at"], settings.time_zone), "addressee": name}
        w.writerow([values[c] for c in REGISTRY_COLUMNS])
    return buf.getvalue()


def _visible_to(session: Session, principal: Principal, s: Sending, t: dt.datetime) -> bool:
    if principal.organisation is None or s.addressee != principal.organisation:
        return False
    c = session.get(Consent, s.consent_id)
    return c is not None and consent_valid(c, t)


def inbox(session: Session, principal: Principal, ip: str | None = None) -> list[dict[str, Any]]:
    """Packets sent to the caller's organisation whose consent still stands."""
    principal.require("packets.inbox")
    t = now()
    rows = (
        session.execute(
            select(Sending).where(Sending.addressee == (principal.organisation or "")).order_by(Sending.sent_at.desc())
        )
        .scalars()
        .all()
    )
    out = [
        {"packet": s.packet_id, "beneficiary": find_code(session, s.beneficiary_id), "sent_at": s.sent_at}
        for s in rows
        if _visible_to(session, principal, s, t)
    ]
    audit.append(session, principal.actor, "list", "inbox", None, None, ip, {"count": len(out)})
    return out


def read_packet(session: Session, principal: Principal, packet_id: str, ip: str | None = None) -> Packet:
    """A sent packet, for its addressee; a draft or another organisation's packet does not exist for them."""
    p = session.get(Packet, packet_id)
    if principal.can("packets.write"):  # the social worker previewing a draft or a sent packet
        if p is None:
            raise NotFound(f"no packet {packet_id!r}", field="packet", value=packet_id)
    else:
        principal.require("packets.inbox")
        s = session.execute(select(Sending).where(Sending.packet_id == packet_id)).scalar_one_or_none()
        if p is None or s is None or not _visible_to(session, principal, s, now()):
            raise NotFound(f"no packet {packet_id!r}", field="packet", value=packet_id)
    audit.append(session, principal.actor, "read", "packet", p.id, find_code(session, p.beneficiary_id), ip)
    return p


def of_person(session: Session, principal: Principal, code: str, ip: str | None = None) -> list[dict[str, Any]]:
    """One person's packets (drafts and sent), newest first, for the social worker's page."""
    principal.require("packets.write")
    b = find(session, code)
    rows = (
        session.execute(select(Packet).where(Packet.beneficiary_id == b.id).order_by(Packet.created_at.desc()))
        .scalars()
        .all()
    )
    audit.append(session, principal.actor, "list", "packet", None, code, ip, {"count": len(rows)})
    return [
        {"id": p.id, "addressee": p.addressee, "parts": p.parts, "created_at": p.created_at, "sent_at": p.sent_at}
        for p in rows
    ]
