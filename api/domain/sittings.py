"""Sittings: one or more instruments a person answers one after another, in the order the
psychologist chose, with **one** hand-over code (and its QR and printable slip).

Each instrument is still its own administration with its own answers and result; the sitting only
ties them together (``administrations.sitting_id`` and ``sitting_position``). The code leads to the
first administration still in progress (``administrations.current_of``), so after one instrument is
finished the same code opens the next one, on any device, any day.

The code is stored hashed, stops working ``sitting_code_days`` after it was made (or renewed), and
can be renewed by staff: the old code dies at once. Wrong codes are throttled like every hand-over
code (``administrations.by_code``).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.tables import Administration, Beneficiary, Sitting
from api.security import CODE_ALPHABET, hash_token

from . import administrations as adm_domain
from . import audit
from .access import Principal
from .beneficiaries import find
from .errors import Conflict, Invalid, NotFound

CODE_LENGTH = 12
MAX_INSTRUMENTS = 8


def new_code() -> str:
    """A code a person can type: 12 characters of the code alphabet (no 0/O or 1/I; 60 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _expiry(days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


def start(
    session: Session,
    principal: Principal,
    code: str,
    instrument_ids: list[str],
    days: int,
    ip: str | None = None,
) -> tuple[Sitting, str, list[Administration]]:
    """Start the chosen instruments, in the given order, as one sitting; returns the sitting, its
    code (shown once, stored hashed) and the administrations. Every instrument is checked first:
    nothing is started when one of them cannot be."""
    principal.require("administrations.write")
    if not instrument_ids:
        raise Invalid("choose at least one instrument", field="instrument")
    if len(instrument_ids) > MAX_INSTRUMENTS:
        raise Invalid(f"at most {MAX_INSTRUMENTS} instruments in one sitting", field="instrument")
    if len(set(instrument_ids)) != len(instrument_ids):
        raise Invalid("an instrument is listed twice", field="instrument", value=",".join(instrument_ids))
    for iid in instrument_ids:
        adm_domain.check_instrument_role(principal, iid)
        # a form staff fill in (the intake), not a questionnaire
        if adm_domain.load_instrument(iid, None).response is None:
            raise Invalid(
                f"{iid!r} is a form filled in by staff; it cannot be handed over", field="instrument", value=iid
            )
    b = find(session, code)
    token = new_code()
    sitting = Sitting(
        id=str(uuid.uuid4()),
        beneficiary_id=b.id,
        code_hash=hash_token(token),
        code_expires_at=_expiry(days),
        created_by=principal.id if principal.kind == "user" else None,
    )
    session.add(sitting)
    session.flush()
    started = []
    for position, iid in enumerate(instrument_ids, start=1):
        adm, _ = adm_domain.start(session, principal, code, iid, None, "respondent", ip)
        adm.resume_hash = None  # the sitting's code opens it
        adm.sitting_id = sitting.id
        adm.sitting_position = position
        started.append(adm)
    session.flush()
    audit.append(
        session,
        principal.actor,
        "start",
        "sitting",
        sitting.id,
        code,
        ip,
        {
            "administrations": [a.id for a in started],
            "instruments": [f"{a.instrument}@{a.instrument_version}" for a in started],
        },
    )
    return sitting, token, started


def get(session: Session, sitting_id: str) -> Sitting:
    s = session.get(Sitting, sitting_id)
    if s is None:
        raise NotFound(f"no sitting {sitting_id!r}", field="sitting", value=sitting_id)
    return s


def renew(session: Session, principal: Principal, sitting_id: str, days: int, ip: str | None = None) -> str:
    """A new code for a sitting with an instrument still in progress; the old code stops working."""
    principal.require("administrations.write")
    s = get(session, sitting_id)
    members = adm_domain.members_of(session, s.id)
    for a in members:
        adm_domain.check_instrument_role(principal, a.instrument, a.instrument_version)
    if not any(a.status == "in_progress" for a in members):
        raise Conflict("every instrument of this sitting is finished; it needs no new code")
    token = new_code()
    s.code_hash = hash_token(token)
    s.code_expires_at = _expiry(days)
    audit.append(session, principal.actor, "reissue_code", "sitting", s.id, _code(session, s), ip)
    return token


def token_matches(s: Sitting, token: str) -> bool:
    """Whether ``token`` is this sitting's current code (the hand-over page shows it only then)."""
    return s.code_hash is not None and secrets.compare_digest(s.code_hash, hash_token(token))


def _code(session: Session, s: Sitting) -> str:
    b = session.get(Beneficiary, s.beneficiary_id)
    assert b is not None
    return b.code


@dataclass(frozen=True)
class Place:
    """Where a respondent is: the administration the code opens now, and the whole sitting."""

    adm: Administration
    members: list[Administration]
    """The sitting's administrations in order (only ``adm`` for a code of its own); discarded ones left out."""

    @property
    def position(self) -> int:
        return next(k for k, a in enumerate(self.members, start=1) if a.id == self.adm.id)

    @property
    def finished(self) -> list[Administration]:
        return [a for a in self.members if a.status == "submitted"]

    @property
    def next(self) -> Administration | None:
        """The next administration still in progress after this one, if any."""
        return next((a for a in self.members[self.position :] if a.status == "in_progress"), None)


def place_of(session: Session, adm: Administration) -> Place:
    """``adm`` with its sitting around it."""
    if adm.sitting_id is None:
        return Place(adm, [adm])
    members = [a for a in adm_domain.members_of(session, adm.sitting_id) if a.status != "discarded"]
    return Place(adm, members)


def of_person(session: Session, beneficiary_id: int) -> dict[str, Sitting]:
    """A person's sittings by id (for the beneficiary page's grouping and renewal buttons)."""
    return {s.id: s for s in session.execute(select(Sitting).where(Sitting.beneficiary_id == beneficiary_id)).scalars()}


def for_handover(
    session: Session, principal: Principal, sitting_id: str, token: str, ip: str | None = None
) -> tuple[Sitting, list[Administration], str]:
    """A sitting, its administrations and the person's code, for the hand-over page and the printed
    slip: shown only to staff who may write them, and only while ``token`` is its current code."""
    principal.require("administrations.write")
    s = get(session, sitting_id)
    members = adm_domain.members_of(session, s.id)
    if not members or not all(adm_domain.visible_instrument(principal, a.instrument) for a in members):
        raise NotFound(f"no sitting {sitting_id!r}")
    if not token_matches(s, token):
        raise Conflict("this code was replaced by a newer one", kind="code_replaced")
    code = adm_domain.case_code(session, members[0])
    audit.append(session, principal.actor, "read", "sitting", s.id, code, ip)
    return s, members, code
