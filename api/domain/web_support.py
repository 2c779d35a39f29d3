"""Domain operations the web UI needs beyond those the REST routes use.

Kept in one file apart from the other domain modules so the web UI could grow
without touching them. Everything here follows the same rules: permission
checked first, every read or write of a person's data appended to the audit
log, nothing written when a check fails.

- Hand-over codes: a respondent types the code on a phone, so it is short
  (12 letters/digits from the code alphabet, no 0/O or 1/I: 60 bits), shown in
  groups of four, and accepted with any spacing or case.
- Listings the beneficiary page shows (administrations, packets).
- Reports made from stored results (``reports`` never touches the database,
  so the rows are gathered here).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import instruments
import reports
import scoring
from api import service
from api.db.tables import Administration, Packet, Result
from api.security import CODE_ALPHABET, Vault, hash_token
from api.settings import Settings

from . import accounts, audit, reporting, results, sittings
from . import administrations as adm_domain
from .access import Principal
from .beneficiaries import find
from .errors import CodeExpired, Conflict, Forbidden, Invalid, NotFound

HANDOVER_LENGTH = 12
PROCESS_ORDER = ("intake", "decision", "holland", "bipolar")
"""Models in the order the fund's process meets them (the intake first, then the three instruments)."""


# -- hand-over codes ---------------------------------------------------------------------------


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
    adm = _staff_administration(session, principal, admin_id, write=True)
    if adm.status != "in_progress":
        raise Conflict("this administration was submitted already; it needs no new code")
    token = new_handover_code()
    adm.resume_hash = hash_token(token)
    audit.append(session, principal.actor, "reissue_code", "administration", adm.id, _code(session, adm), ip)
    return token


def reissue_code_for(
    session: Session, principal: Principal, admin_id: str, days: int, ip: str | None = None
) -> tuple[str | None, str]:
    """A new code for an administration in progress: its sitting's code when it is part of one
    (returns the sitting's id and the code), else a code of its own (None and the code)."""
    adm = _staff_administration(session, principal, admin_id, write=True)
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


def start_sitting(
    session: Session, principal: Principal, code: str, instrument_ids: list[str], days: int, ip: str | None = None
) -> tuple[Any, str]:
    """Start a sitting (``sittings.start``); returns it and its code."""
    sitting, token, _ = sittings.start(session, principal, code, instrument_ids, days, ip)
    return sitting, token


def sitting_for_handover(
    session: Session, principal: Principal, sitting_id: str, token: str, ip: str | None = None
) -> tuple[Any, list[Administration], str]:
    """A sitting, its administrations and the person's code, for the hand-over page and the printed
    slip: shown only to staff who may write them, and only while ``token`` is its current code."""
    principal.require("administrations.write")
    s = sittings.get(session, sitting_id)
    members = adm_domain.members_of(session, s.id)
    if not members or not all(_visible_instrument(principal, a.instrument) for a in members):
        raise NotFound(f"no sitting {sitting_id!r}")
    if not sittings.token_matches(s, token):
        raise Conflict("this code was replaced by a newer one", kind="code_replaced")
    code = _code(session, members[0])
    audit.append(session, principal.actor, "read", "sitting", s.id, code, ip)
    return s, members, code


def renew_sitting_code(
    session: Session, principal: Principal, sitting_id: str, days: int, ip: str | None = None
) -> str:
    return sittings.renew(session, principal, sitting_id, days, ip)


# -- what the beneficiary page lists -----------------------------------------------------------


def _code(session: Session, adm: Administration) -> str:
    return adm_domain.case_code(session, adm)


def _visible_instrument(principal: Principal, instrument_id: str) -> bool:
    try:
        adm_domain.check_instrument_role(principal, instrument_id)
    except Forbidden:
        return False
    return True


def startable_instruments(principal: Principal) -> list[str]:
    """Ids of the instruments this caller may start (a social worker: the intake), in process order."""
    if not principal.can("administrations.write"):
        return []

    def order(iid: str) -> tuple[int, str]:
        model = service.instrument(iid).model
        return (PROCESS_ORDER.index(model) if model in PROCESS_ORDER else 9, iid)

    ids = sorted({iid for iid, _ in instruments.available()}, key=order)
    return [i for i in ids if _visible_instrument(principal, i)]


def _staff_administration(session: Session, principal: Principal, admin_id: str, write: bool) -> Administration:
    principal.require("administrations.write" if write else "administrations.read")
    adm = adm_domain.not_a_study(adm_domain.get(session, admin_id, lock=write))
    if not _visible_instrument(principal, adm.instrument):  # a social worker asking for a psychologist's one
        raise NotFound(f"no administration {admin_id!r}")
    return adm


def count_answers(inst: instruments.Instrument, answers: dict[str, str | None]) -> dict[str, int]:
    """answered / skipped (saved as missing) / open (never touched) / total."""
    ids = [f.id for f in inst.fields] if inst.model == "intake" else list(inst.item_ids)
    answered = sum(1 for i in ids if answers.get(i) is not None)
    skipped = sum(1 for i in ids if i in answers and answers[i] is None)
    return {"answered": answered, "skipped": skipped, "open": len(ids) - answered - skipped, "total": len(ids)}


def administrations_of(
    session: Session, principal: Principal, code: str, ip: str | None = None
) -> list[dict[str, Any]]:
    """One person's administrations the caller may see (a social worker: the intake only), newest first."""
    principal.require("administrations.read")
    b = find(session, code)
    rows = [
        a
        for a in session.execute(
            select(Administration)
            .where(Administration.beneficiary_id == b.id)
            .order_by(Administration.created_at.desc())
        ).scalars()
        if _visible_instrument(principal, a.instrument)
    ]
    names = accounts.display_names(session, {a.administered_by for a in rows})
    out = []
    for a in rows:
        inst = service.instrument(a.instrument, a.instrument_version)
        out.append(
            {
                "id": a.id,
                "instrument": a.instrument,
                "instrument_version": a.instrument_version,
                "model": inst.model,
                "status": a.status,
                "mode": a.mode,
                "created_at": a.created_at,
                "updated_at": a.updated_at,
                "submitted_at": a.submitted_at,
                "administered_by": names.get(a.administered_by) if a.administered_by else None,
                "sitting_id": a.sitting_id,
                "sitting_position": a.sitting_position,
                **count_answers(inst, adm_domain.answers_of(session, a)),
            }
        )
    audit.append(session, principal.actor, "list", "administration", None, code, ip, {"count": len(out)})
    return out


def open_administration(
    session: Session, principal: Principal, admin_id: str, write: bool, ip: str | None = None
) -> tuple[Administration, dict[str, str | None], str]:
    """An administration for a staff page (read-aloud, paper entry, intake form): it, its answers, the code."""
    adm = _staff_administration(session, principal, admin_id, write)
    code = _code(session, adm)
    audit.append(session, principal.actor, "read", "administration", adm.id, code, ip)
    return adm, adm_domain.answers_of(session, adm), code


def save_staff_answers(
    session: Session, principal: Principal, admin_id: str, answers: dict[str, object], ip: str | None = None
) -> Administration:
    """Answers keyed in by staff (read-aloud, paper entry, intake form); all checked before any is written."""
    adm = _staff_administration(session, principal, admin_id, write=True)
    adm_domain.save_answers(session, adm, answers, principal.actor, ip)
    return adm


def submit_staff(session: Session, principal: Principal, admin_id: str, ip: str | None = None) -> Result:
    adm = _staff_administration(session, principal, admin_id, write=True)
    result = adm_domain.submit(session, adm, principal.actor, principal.id if principal.kind == "user" else None, ip)
    assert result is not None  # a study participant's administration never reaches staff (``not_a_study``)
    return result


def answer_problems(instrument_id: str, version: str, answers: dict[str, object]) -> dict[str, str]:
    """Every answer that does not fit the definition, by item (the form shows them all at once)."""
    inst = service.instrument(instrument_id, version)
    problems: dict[str, str] = {}
    for item, value in answers.items():
        try:
            adm_domain.normalize(inst, item, value)
        except Invalid as exc:
            problems[item] = exc.detail
    return problems


def submit_problems(adm: Administration, answers: Mapping[str, object]) -> dict[str, str]:
    """What would stop a submission now (for the intake: required fields left empty), by item."""
    inst = service.instrument(adm.instrument, adm.instrument_version)
    try:
        service.score_answers(inst, [answers])
    except scoring.ResponseValidationError as err:
        return {str(p.item): str(p.reason) for p in err.problems}
    return {}


def packets_of(session: Session, principal: Principal, code: str, ip: str | None = None) -> list[dict[str, Any]]:
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


# -- reports from stored results ---------------------------------------------------------------


def report_profile(
    session: Session,
    principal: Principal,
    vault: Vault,
    settings: Settings,
    code: str,
    audience: str,
    result_ids: list[str] | None = None,
    previous_id: str | None = None,
    ip: str | None = None,
    norms: list[str] | None = None,
) -> reports.Profile:
    """The report content for one person from stored results.

    Without ``result_ids`` the newest result of each instrument is used (the
    primary career-orientation profile). ``previous_id`` adds a change section
    against an earlier result of the same instrument. The name appears only
    on the psychologist's report, and only for callers who may see names."""
    if audience not in reports.AUDIENCES:
        raise Invalid(f"audience must be one of {', '.join(reports.AUDIENCES)}", field="audience", value=audience)
    b = find(session, code)
    entries = results.of_person(session, principal, code, ip)
    by_id = {e.result.id: e.result for e in entries}
    if result_ids:
        missing = [i for i in result_ids if i not in by_id]
        if missing:
            raise NotFound(f"no result {missing[0]!r} for {code}", field="result", value=missing[0])
        chosen = [by_id[i] for i in result_ids]
    else:  # the current result of the latest administration of each instrument model
        chosen = list(results.latest(session, b.id, reporting.REPORTED).values())
    if not chosen:
        raise NotFound(f"{code} has no results yet", field="result")
    before = None
    if previous_id:
        before = by_id.get(previous_id)
        if before is None:
            raise NotFound(f"no result {previous_id!r} for {code}", field="previous", value=previous_id)
    name = None
    if audience == "psychologist" and principal.can("beneficiaries.names"):
        name = vault.open(b.name_enc)
    profile = reporting.profile_from(session, settings, code, chosen, before, name, norms=norms)
    audit.append(
        session,
        principal.actor,
        "report",
        "result",
        None,
        code,
        ip,
        {"results": [r.id for r in chosen], "previous": previous_id, "audience": audience, "norms": norms or []},
    )
    return profile
