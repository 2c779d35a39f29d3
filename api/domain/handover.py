"""Hand-over codes, and what a code opens.

A respondent types the code on a phone, so it is short (12 letters/digits from the code
alphabet, no 0/O or 1/I: 60 bits), shown in groups of four, and accepted with any spacing or
case. Every use of a code is throttled (``administrations.by_code``), and opening a respondent
page is logged: the holder of a code reads a person's answers.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy.orm import Session

from api.db.tables import Administration
from api.security import CODE_ALPHABET, hash_token

from . import administrations as adm_domain
from . import audit, sittings
from .access import Principal
from .errors import CodeExpired, Conflict, NotFound

HANDOVER_LENGTH = 12


def new_handover_code() -> str:
    """A resume token a person can type: 12 characters of the code alphabet."""
    return sittings.new_code()


def normalize_code(text: str) -> str:
    """What the person typed → the stored form: capitals, no spaces or dashes."""
    return re.sub(r"[\s\-–_.]", "", text).upper()


def group_code(token: str) -> str:
    """'K7Q2MX4PRT9A' → 'K7Q2 MX4P RT9A' (easier to read out and copy); other tokens unchanged."""
    if len(token) == HANDOVER_LENGTH and all(c in CODE_ALPHABET for c in token):
        return " ".join(token[k : k + 4] for k in range(0, HANDOVER_LENGTH, 4))
    return token


def start_for_handover(
    session: Session,
    principal: Principal,
    code: str,
    instrument_id: str,
    mode: str,
    ip: str | None = None,
) -> tuple[Administration, str]:
    """Start an administration (``administrations.start``) whose resume token is a typeable code."""
    adm, _ = adm_domain.start(session, principal, code, instrument_id, None, mode, ip)
    token = new_handover_code()
    adm.resume_hash = hash_token(token)
    session.flush()
    return adm, token


def reissue_code(session: Session, principal: Principal, admin_id: str, ip: str | None = None) -> str:
    """A new hand-over code for an administration in progress; the old code stops working."""
    adm = adm_domain.staff_administration(session, principal, admin_id, write=True)
    if adm.status != "in_progress":
        raise Conflict("this administration was submitted already; it needs no new code")
    token = new_handover_code()
    adm.resume_hash = hash_token(token)
    audit.append(
        session, principal.actor, "reissue_code", "administration", adm.id, adm_domain.case_code(session, adm), ip
    )
    return token


def reissue_code_for(
    session: Session, principal: Principal, admin_id: str, days: int, ip: str | None = None
) -> tuple[str | None, str]:
    """A new code for an administration in progress: its sitting's code when it is part of one
    (returns the sitting's id and the code), else a code of its own (None and the code)."""
    adm = adm_domain.staff_administration(session, principal, admin_id, write=True)
    if adm.sitting_id is not None:
        return adm.sitting_id, sittings.renew(session, principal, adm.sitting_id, days, ip)
    return None, reissue_code(session, principal, admin_id, ip)


def token_matches(adm: Administration, token: str) -> bool:
    """Whether ``token`` is this administration's current code (the hand-over page shows it only then)."""
    return adm.resume_hash is not None and secrets.compare_digest(adm.resume_hash, hash_token(token))


def find_by_code(session: Session, text: str, ip: str | None = None) -> tuple[Administration, str]:
    """The administration a typed code or a pasted link token opens, and the token in stored form
    (throttled like every use of a code: ``administrations.by_code``)."""
    raw = text.strip()
    adm_domain.code_allowed(session, ip)
    for candidate in dict.fromkeys((raw, normalize_code(raw))):
        if candidate:
            try:
                adm = adm_domain.by_token(session, candidate)
            except CodeExpired:
                raise
            except NotFound:
                continue
            adm_domain.code_used(session, adm)
            return adm, candidate
    adm_domain.code_wrong(session, ip)
    raise NotFound("this link or code is not valid (any more)")


def respondent_open(
    session: Session, token: str, page: str, ip: str | None = None
) -> tuple[Administration, dict[str, str | None]]:
    """What a respondent page shows: the administration and the answers saved so far.

    Opening a respondent page is logged (the holder of a code reads a person's answers)."""
    adm = adm_domain.by_code(session, token, ip)
    # a study participant's administration has no case: its entry names no beneficiary
    code = adm_domain.code_of(session, adm)
    audit.append(session, "respondent", "open", "administration", adm.id, code, ip, {"page": page})
    return adm, adm_domain.answers_of(session, adm)


def respondent_place(
    session: Session, token: str, page: str, ip: str | None = None
) -> tuple[sittings.Place, dict[str, dict[str, str | None]]]:
    """``respondent_open`` for a page that shows the whole sitting: where the code leads now, the
    sitting around it, and the answers of each of its administrations (by administration id)."""
    adm, _ = respondent_open(session, token, page, ip)
    place = sittings.place_of(session, adm)
    return place, {a.id: adm_domain.answers_of(session, a) for a in place.members}
