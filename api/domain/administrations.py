"""Administrations: start, autosave (one row per answer, so concurrent saves never
lose one), pause for days, resume on another device with a token, submit → result.
Results are immutable; re-scoring adds a new result that points to the old one.

Answering time (for the "too fast" validity flag) is *active* time measured by the
browser: only while the page is visible, at most ``ACTIVE_SECONDS_CAP`` per answer
interval, sent as increments with the autosaves and added up here, so a resume on
another device continues the sum and a pause of days adds nothing. Answers saved
without a measurement (no script, paper entry) make the total unknown: ``seconds``
becomes NULL and the flag is not computed rather than computed wrongly."""

from __future__ import annotations

import datetime as dt
import math
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

import instruments
import scoring
from api import scoring_facade as facade
from api.db.tables import Administration, Answer, Beneficiary, Result, Sitting, TimeIncrement
from api.security import hash_token

from . import accounts, audit, results, throttle
from .access import SOCIAL_WORKER_MODELS, Principal
from .beneficiaries import find
from .errors import CodeExpired, Conflict, Forbidden, Invalid, NotFound

MODES = ("respondent", "read_aloud", "paper")
CODES = "beneficiary_codes"
"""``Session.info`` key: beneficiary id → code, read once per unit of work (``code_of``)."""
LOCKED = "locked_administrations"
"""``Session.info`` key: (transaction, {id: administration}) of the rows ``get(lock=True)`` holds."""

ACTIVE_SECONDS_CAP = 120.0
"""One answer interval counts at most this much active time (the browser caps each interval;
a request may carry at most this much per answer it saves, or once when it saves none)."""
MAX_ACTIVE_SECONDS = ACTIVE_SECONDS_CAP * 500
"""The most one request can carry at all (an autosave holds at most 500 answers)."""
_NOT_SUMMED = ("incomplete", "given")


def check_instrument_role(principal: Principal, instrument_id: str, version: str | None = None) -> None:
    """A social worker administers intake forms (by the instrument's model); the rest are the psychologist's."""
    if principal.kind == "user" and principal.role == "social_worker":
        model = load_instrument(instrument_id, version).model
        if model not in SOCIAL_WORKER_MODELS:
            raise Forbidden("a social worker administers the intake only; the instruments are the psychologist's")


def load_instrument(instrument_id: str, version: str | None) -> instruments.Instrument:
    try:
        return facade.instrument(instrument_id, version)
    except instruments.InstrumentError as exc:
        raise NotFound(str(exc.problems[0].message), field="instrument", value=instrument_id) from exc


def start(
    session: Session,
    principal: Principal,
    code: str,
    instrument_id: str,
    version: str | None = None,
    mode: str = "respondent",
    ip: str | None = None,
) -> tuple[Administration, str]:
    """Open an administration; returns it and the resume token (shown once, stored hashed)."""
    principal.require("administrations.write")
    check_instrument_role(principal, instrument_id, version)
    if mode not in MODES:
        raise Invalid(f"mode must be one of {', '.join(MODES)}", field="mode", value=mode)
    inst = load_instrument(instrument_id, version)
    b = find(session, code)
    if b.depersonalized_at is not None:
        raise Conflict(f"the case {code} is closed and depersonalized")
    token = secrets.token_urlsafe(18)
    adm = Administration(
        id=str(uuid.uuid4()),
        beneficiary_id=b.id,
        instrument=inst.id,
        instrument_version=inst.version,
        mode=mode,
        resume_hash=hash_token(token),
        administered_by=principal.id if principal.kind == "user" else None,
    )
    session.add(adm)
    session.flush()
    audit.append(
        session, principal.actor, "start", "administration", adm.id, code, ip, {"instrument": inst.ref, "mode": mode}
    )
    return adm, token


_GET = select(Administration).where(Administration.id == bindparam("id"))
_LOCK = _GET.with_for_update().execution_options(populate_existing=True)
_ANSWERS = select(Answer.item, Answer.value).where(Answer.administration_id == bindparam("id"))
_CODE = select(Beneficiary.code).where(Beneficiary.id == bindparam("id"))
"""Built once: every autosave and submit runs these, and building a statement (and its cache key)
costs about as much as running it."""


def get(session: Session, admin_id: str, *, lock: bool = False) -> Administration:
    """An administration; ``lock``: hold its row until the unit of work ends (every write does),
    so a submit and an autosave of one administration take turns and each sees the other's result."""
    held = _held(session) if lock else {}
    if admin_id in held:  # locked and re-read earlier in this unit of work: nobody else can have changed it
        return held[admin_id]
    adm = session.execute(_LOCK if lock else _GET, {"id": admin_id}).scalar_one_or_none()
    if adm is None:
        raise NotFound(f"no administration {admin_id!r}", field="administration", value=admin_id)
    if lock and not session.in_nested_transaction():  # a savepoint's rollback could lose the lock
        held[admin_id] = adm
    return adm


def _held(session: Session) -> dict[str, Administration]:
    """The administrations locked (and re-read) in ``session``'s current transaction."""
    txn = session.get_transaction()
    entry = session.info.get(LOCKED)
    if entry is None or entry[0] is not txn:
        entry = session.info[LOCKED] = (txn, {})
    held: dict[str, Administration] = entry[1]
    return held


def not_a_study(adm: Administration) -> Administration:
    """Refuse staff access to a study participant's administration (it belongs to a study, not to a case)."""
    if adm.participant_id is not None:
        raise NotFound(f"no administration {adm.id!r}", field="administration", value=adm.id)
    return adm


def by_token(session: Session, token: str, *, lock: bool = False) -> Administration:
    """The administration a respondent's code opens: its own code, or a sitting's code (then the
    sitting's current administration: ``current_of``). A sitting's code that has passed its
    expiry is refused with ``CodeExpired``."""
    h = hash_token(token)
    q = select(Administration).where(Administration.resume_hash == h)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    adm = session.execute(q).scalar_one_or_none()
    if adm is not None:
        return adm
    sitting = session.execute(select(Sitting).where(Sitting.code_hash == h)).scalar_one_or_none()
    if sitting is None:
        raise NotFound("this link or code is not valid (any more)")
    expires = sitting.code_expires_at
    if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=dt.UTC)) <= dt.datetime.now(
        dt.UTC
    ):
        raise CodeExpired("this code has expired; the psychologist can give a new one")
    current = current_of(session, sitting.id)
    return get(session, current.id, lock=True) if lock else current


def members_of(session: Session, sitting_id: str) -> list[Administration]:
    """A sitting's administrations in the chosen order."""
    return list(
        session.execute(
            select(Administration)
            .where(Administration.sitting_id == sitting_id)
            .order_by(Administration.sitting_position, Administration.created_at)
        ).scalars()
    )


def current_of(session: Session, sitting_id: str) -> Administration:
    """Where a sitting's code leads: its first administration still in progress, else its last
    finished one (the end page). Discarded ones are passed over."""
    live = [a for a in members_of(session, sitting_id) if a.status != "discarded"]
    if not live:
        raise NotFound("this link or code is not valid (any more)")
    return next((a for a in live if a.status == "in_progress"), live[-1])


def by_code(session: Session, token: str, ip: str | None, *, lock: bool = False) -> Administration:
    """The administration a respondent's code or link opens, throttled: an address that sent too
    many wrong codes is paused (``TooManyAttempts``), and so is an administration whose code was
    used too often in the window (a leaked or scripted code). A wrong code is counted even though
    the request fails."""
    code_allowed(session, ip)
    try:
        adm = by_token(session, token, lock=lock)
    except CodeExpired:  # a real code, only too old: not a guess
        raise
    except NotFound:
        code_wrong(session, ip)
        raise
    code_used(session, adm)
    return adm


def code_allowed(session: Session, ip: str | None) -> None:
    """Refuse an address that sent too many wrong codes lately (``TooManyAttempts``)."""
    throttle.check(session, ("code_address", ip), what="wrong codes")


def code_wrong(session: Session, ip: str | None) -> None:
    """Count (and audit) a wrong code from ``ip``, even though the request fails."""
    throttle.hit(session, "code_address", ip, keep=True)
    audit.append(session, "respondent", "code_wrong", "administration", ip=ip, keep=True)


def code_used(session: Session, adm: Administration) -> None:
    """Count a use of ``adm``'s code; refuse when it was used too often in the window."""
    throttle.check(session, ("code_administration", adm.id), what="requests with this code")
    throttle.hit(session, "code_administration", adm.id)


def normalize(inst: instruments.Instrument, item: str, value: object) -> str | None:
    """Check one answer against the definition; return its stored form (None = skipped)."""
    if inst.model == "intake":
        try:
            f = next(x for x in instruments.intake_spec(inst).fields if x.id == item)
        except StopIteration:
            raise Invalid(f"{item!r} is not a field of {inst.ref}", field=item, value=value) from None
        try:
            parsed = scoring.parse_field(f.__class__(f.id, f.type, False, f.options), value)
        except ValueError as exc:
            raise Invalid(f"{item}: {value!r} {exc}", field=item, value=value) from exc
        if parsed is None:
            return None
        return ";".join(parsed) if isinstance(parsed, tuple) else str(value).strip()
    if item not in inst.item_ids:
        raise Invalid(f"{item!r} is not an item of {inst.ref}", field=item, value=value)
    key = "" if value is None else str(value).strip().lower()
    code = facade.lookup(inst.id, inst.version).get(key)
    if code is None:
        raise Invalid(f"{item}: {value!r} is not an accepted answer", field=item, value=value)
    return None if code == int(scoring.MISSING) else str(code)


def save_answers(
    session: Session,
    adm: Administration,
    answers: Mapping[str, object],
    actor: str,
    ip: str | None = None,
    *,
    timed: bool = False,
) -> int:
    """Upsert the given answers only; every answer is checked before anything is written.

    ``timed``: the request carries an answering-time statement. An untimed save that changes
    an answer leaves the total time unknown (``timing`` = 'incomplete')."""
    adm = get(session, adm.id, lock=True)
    if adm.status != "in_progress":
        raise Conflict("this administration was submitted already; its answers cannot change")
    inst = load_instrument(adm.instrument, adm.instrument_version)
    rows = [(item, normalize(inst, item, value)) for item, value in answers.items()]
    now = dt.datetime.now(dt.UTC)
    if rows and not timed and adm.timing not in _NOT_SUMMED:
        before = answers_of(session, adm)
        if any(item not in before or before[item] != value for item, value in rows):
            _time_unknown(session, adm)
    if rows:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = insert(Answer).values(
            [{"administration_id": adm.id, "item": i, "value": v, "saved_at": now} for i, v in rows]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["administration_id", "item"],
            set_={"value": stmt.excluded.value, "saved_at": stmt.excluded.saved_at},
        )
        session.execute(stmt)
    adm.updated_at = now
    audit.append(
        session, actor, "autosave", "administration", adm.id, code_of(session, adm), ip, {"items": [i for i, _ in rows]}
    )
    return len(rows)


def answers_of(session: Session, adm: Administration) -> dict[str, str | None]:
    """Item → stored value (None: skipped). Read as plain rows: a submit reads every answer, and
    building an ORM object per item cost more than the scoring itself."""
    rows = session.execute(_ANSWERS, {"id": adm.id})
    return dict(rows.all())


def code_of(session: Session, adm: Administration) -> str | None:
    """The beneficiary's pseudonymous code (never the name) for audit lines and API answers; None
    for a study participant's administration (anonymous)."""
    if adm.beneficiary_id is None:
        return None
    codes: dict[int, str] = session.info.setdefault(CODES, {})  # a code never changes: read it once per unit of work
    if adm.beneficiary_id not in codes:
        codes[adm.beneficiary_id] = session.execute(_CODE, {"id": adm.beneficiary_id}).scalar_one()
    return codes[adm.beneficiary_id]


def case_code(session: Session, adm: Administration) -> str:
    """``code_of`` on a staff path: a study participant's administration belongs to no case (404)."""
    code = code_of(session, adm)
    if code is None:
        raise NotFound(f"no administration {adm.id!r}", field="administration", value=adm.id)
    return code


def get_visible(session: Session, principal: Principal, admin_id: str, *, write: bool) -> Administration:
    """The administration if this caller may read (or change) it; a social worker asking for a
    psychologist's administration is told it does not exist."""
    principal.require("administrations.write" if write else "administrations.read")
    adm = not_a_study(get(session, admin_id, lock=write))  # a study's answers never reach staff
    try:
        check_instrument_role(principal, adm.instrument)
    except Forbidden as exc:
        raise NotFound(f"no administration {admin_id!r}") from exc
    return adm


def view(session: Session, adm: Administration) -> dict[str, Any]:
    """The administration as the API shows it (``schemas.AdministrationPublic``)."""
    return {
        "id": adm.id,
        "beneficiary": code_of(session, adm),
        "instrument": adm.instrument,
        "instrument_version": adm.instrument_version,
        "status": adm.status,
        "mode": adm.mode,
        "aspirations": adm.aspirations,
        "seconds": adm.seconds,
        "created_at": adm.created_at,
        "updated_at": adm.updated_at,
        "submitted_at": adm.submitted_at,
        "discarded_at": adm.discarded_at,
        "discard_reason": adm.discard_reason,
        "answers": answers_of(session, adm),
    }


MAX_ASPIRATIONS = 3
ASPIRATION_LENGTH = 120


def clean_aspirations(texts: list[str]) -> list[str]:
    """The occupations a person said they have thought about, as they said them: blanks dropped,
    at most three, each at most 120 characters. A name outside the catalogue is kept as free text
    (it is reported as said, with no code); a catalogue name, ISCO code or RIASEC code gets its code
    when the administration is scored."""
    kept = [" ".join(str(t).split()) for t in texts if t is not None and str(t).strip()]
    if len(kept) > MAX_ASPIRATIONS:
        raise Invalid("at most three aspired occupations", field="aspirations", value=kept)
    for k, text in enumerate(kept):
        if len(text) > ASPIRATION_LENGTH:
            raise Invalid(
                f"aspirations[{k}]: at most {ASPIRATION_LENGTH} characters", field=f"aspirations[{k}]", value=text
            )
    return kept


def asks_aspirations(adm: Administration) -> bool:
    """Whether the person is asked which occupations they have thought about: with a Holland
    instrument for a case (a study participant is asked only what the study's protocol names)."""
    return adm.participant_id is None and facade.instrument(adm.instrument, adm.instrument_version).model == "holland"


def set_aspirations(
    session: Session, adm: Administration, texts: list[str], actor: str, ip: str | None = None
) -> list[str]:
    """Save the aspired occupations of an administration in progress (all checked first); audited
    with their number only (what a person hopes for is theirs, not the log's)."""
    if adm.status != "in_progress":
        raise Conflict("this administration was submitted already", kind="submitted")
    if not asks_aspirations(adm):
        raise Invalid("this questionnaire does not ask about aspired occupations", field="aspirations")
    kept = clean_aspirations(texts)
    adm.aspirations = kept or None
    adm.updated_at = dt.datetime.now(dt.UTC)
    audit.append(
        session, actor, "aspirations", "administration", adm.id, code_of(session, adm), ip, {"count": len(kept)}
    )
    return kept


def set_details(adm: Administration, aspirations: list[str] | None, seconds: float | None) -> None:
    if aspirations is not None:
        adm.aspirations = clean_aspirations(aspirations)
    if seconds is not None:
        if not math.isfinite(seconds) or seconds < 0:
            raise Invalid("seconds must be a number ≥ 0", field="seconds", value=str(seconds))
        _no_paper_time(adm, "seconds", seconds)
        adm.seconds = seconds
        adm.timing = "given"


def _no_paper_time(adm: Administration, field: str, value: object) -> None:
    if adm.mode == "paper":
        raise Invalid(
            "a paper administration is keyed in afterwards: its answering time is not known and is not recorded",
            field=field,
            value=value,
        )


def check_active_seconds(value: object, answers: int) -> float:
    """An increment of active answering time as sent (JSON number or form text), checked:
    a finite number ≥ 0, at most ``ACTIVE_SECONDS_CAP`` per answer the request saves."""
    bound = ACTIVE_SECONDS_CAP * max(1, answers)
    if isinstance(value, bool):
        raise Invalid("active_seconds must be a number of seconds", field="active_seconds", value=value)
    try:
        v = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise Invalid("active_seconds must be a number of seconds", field="active_seconds", value=str(value))
    if v < 0:
        raise Invalid("active_seconds must be ≥ 0", field="active_seconds", value=value)
    if v > bound:
        raise Invalid(
            f"active_seconds may be at most {bound:g} for a save of {answers} answer(s) "
            f"({ACTIVE_SECONDS_CAP:g} s per answer interval)",
            field="active_seconds",
            value=value,
        )
    return v


def add_active_seconds(
    session: Session, adm: Administration, value: object, answers: int, increment_id: str | None
) -> float:
    """Add a browser's increment of active time to the administration's sum (checked first).

    Each increment carries the id its sender gave it; a retry of the same increment (the
    same id) adds nothing. Atomic in SQL, so concurrent saves from two devices both count;
    a total that is unknown ('incomplete') or stated by the caller ('given') is left as it is."""
    seconds = check_active_seconds(value, answers)
    _no_paper_time(adm, "active_seconds", value)
    if not increment_id:
        raise Invalid(
            "active_seconds needs an increment_id (any id unique to this increment, so a retry counts once)",
            field="increment_id",
        )
    adm = get(session, adm.id, lock=True)
    if adm.status != "in_progress":
        raise Conflict("this administration was submitted already; its answers cannot change")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    added = session.execute(
        insert(TimeIncrement)
        .values(administration_id=adm.id, increment_id=increment_id, seconds=seconds, at=dt.datetime.now(dt.UTC))
        .on_conflict_do_nothing(index_elements=["administration_id", "increment_id"])
        .returning(TimeIncrement.increment_id)
    ).scalar_one_or_none()
    if added is None:  # this increment was counted already (a retry)
        return 0.0
    summed = Administration.timing.is_(None) | Administration.timing.not_in(_NOT_SUMMED)
    session.execute(
        update(Administration)
        .where(Administration.id == adm.id)
        .values(
            seconds=case((summed, func.coalesce(Administration.seconds, 0.0) + seconds), else_=Administration.seconds),
            timing=case((summed, "active"), else_=Administration.timing),
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(adm, ["seconds", "timing"])
    return seconds


def record_time(
    session: Session,
    adm: Administration,
    seconds: float | None,
    active_seconds: object,
    answers: int,
    increment_id: str | None = None,
) -> bool:
    """An autosave's time statement: a stated total (``seconds``) or an increment of active time
    (``active_seconds``), never both. Returns whether the save is timed."""
    if seconds is not None and active_seconds is not None:
        raise Invalid(
            "send either seconds (the total) or active_seconds (an increment), not both",
            field="active_seconds",
            value=active_seconds,
        )
    if seconds is not None:
        set_details(adm, None, seconds)
    elif active_seconds is not None:
        add_active_seconds(session, adm, active_seconds, answers, increment_id)
    return seconds is not None or active_seconds is not None


def _time_unknown(session: Session, adm: Administration) -> None:
    """Answers arrived without a measurement: the total is incomplete, so it is dropped for good."""
    session.execute(
        update(Administration)
        .where(Administration.id == adm.id, Administration.timing.is_(None) | (Administration.timing != "given"))
        .values(seconds=None, timing="incomplete")
        .execution_options(synchronize_session=False)
    )
    session.expire(adm, ["seconds", "timing"])


def submit(
    session: Session, adm: Administration, actor: str, created_by: int | None, ip: str | None = None
) -> Result | None:
    """Score what was answered (unanswered = skipped) and store the immutable result.

    A study participant's administration is checked the same way (the answers must score) but
    stores no result: studies work from the answers, and the participant has no case file.

    The administration's row is locked first and re-read, and the answers are read inside
    that lock: of simultaneous submits exactly one scores, the others find it submitted; an
    autosave waiting behind the submit is refused, so the result always equals the stored answers."""
    adm = get(session, adm.id, lock=True)
    if adm.status != "in_progress":
        raise Conflict(f"this administration was {adm.status} already", administration=adm.id)
    record = results.score_administration(session, adm, answers_of(session, adm))
    adm.status = "submitted"
    adm.submitted_at = dt.datetime.now(dt.UTC)
    if adm.participant_id is not None:
        audit.append(session, actor, "submit", "administration", adm.id, None, ip, {"study_participant": True})
        return None
    result = results.store(session, adm, record, created_by)
    audit.append(
        session,
        actor,
        "submit",
        "administration",
        adm.id,
        code_of(session, adm),
        ip,
        {"result": result.id, "instrument": f"{adm.instrument}@{adm.instrument_version}"},
    )
    return result


# -- the staff's pages: what they list, open, key in and submit ---------------------------------

PROCESS_ORDER = ("intake", "decision", "holland", "bipolar")
"""Models in the order the fund's process meets them (the intake first, then the three instruments)."""


def visible_instrument(principal: Principal, instrument_id: str) -> bool:
    """Whether this caller may see administrations of this instrument (a social worker: the intake only)."""
    try:
        check_instrument_role(principal, instrument_id)
    except Forbidden:
        return False
    return True


def startable_instruments(principal: Principal) -> list[str]:
    """Ids of the instruments this caller may start (a social worker: the intake), in process order."""
    if not principal.can("administrations.write"):
        return []

    def order(iid: str) -> tuple[int, str]:
        model = facade.instrument(iid).model
        return (PROCESS_ORDER.index(model) if model in PROCESS_ORDER else 9, iid)

    ids = sorted({iid for iid, _ in instruments.available()}, key=order)
    return [i for i in ids if visible_instrument(principal, i)]


def staff_administration(session: Session, principal: Principal, admin_id: str, write: bool) -> Administration:
    """An administration for a staff page: permission checked, never a study participant's, and
    hidden (404) from a caller who may not see its instrument."""
    principal.require("administrations.write" if write else "administrations.read")
    adm = not_a_study(get(session, admin_id, lock=write))
    if not visible_instrument(principal, adm.instrument):  # a social worker asking for a psychologist's one
        raise NotFound(f"no administration {admin_id!r}")
    return adm


def count_answers(inst: instruments.Instrument, answers: dict[str, str | None]) -> dict[str, int]:
    """answered / skipped (saved as missing) / open (never touched) / total."""
    ids = [f.id for f in inst.fields] if inst.model == "intake" else list(inst.item_ids)
    answered = sum(1 for i in ids if answers.get(i) is not None)
    skipped = sum(1 for i in ids if i in answers and answers[i] is None)
    return {"answered": answered, "skipped": skipped, "open": len(ids) - answered - skipped, "total": len(ids)}


def of_person(session: Session, principal: Principal, code: str, ip: str | None = None) -> list[dict[str, Any]]:
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
        if visible_instrument(principal, a.instrument)
    ]
    names = accounts.display_names(session, {a.administered_by for a in rows})
    out = []
    for a in rows:
        inst = facade.instrument(a.instrument, a.instrument_version)
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
                **count_answers(inst, answers_of(session, a)),
            }
        )
    audit.append(session, principal.actor, "list", "administration", None, code, ip, {"count": len(out)})
    return out


def open_for_staff(
    session: Session, principal: Principal, admin_id: str, write: bool, ip: str | None = None
) -> tuple[Administration, dict[str, str | None], str]:
    """An administration for a staff page (read-aloud, paper entry, intake form): it, its answers, the code."""
    adm = staff_administration(session, principal, admin_id, write)
    code = case_code(session, adm)
    audit.append(session, principal.actor, "read", "administration", adm.id, code, ip)
    return adm, answers_of(session, adm), code


def save_for_staff(
    session: Session, principal: Principal, admin_id: str, answers: dict[str, object], ip: str | None = None
) -> Administration:
    """Answers keyed in by staff (read-aloud, paper entry, intake form); all checked before any is written."""
    adm = staff_administration(session, principal, admin_id, write=True)
    save_answers(session, adm, answers, principal.actor, ip)
    return adm


def submit_for_staff(session: Session, principal: Principal, admin_id: str, ip: str | None = None) -> Result:
    adm = staff_administration(session, principal, admin_id, write=True)
    result = submit(session, adm, principal.actor, principal.id if principal.kind == "user" else None, ip)
    assert result is not None  # a study participant's administration never reaches staff (``not_a_study``)
    return result


def answer_problems(instrument_id: str, version: str, answers: dict[str, object]) -> dict[str, str]:
    """Every answer that does not fit the definition, by item (the form shows them all at once)."""
    inst = facade.instrument(instrument_id, version)
    problems: dict[str, str] = {}
    for item, value in answers.items():
        try:
            normalize(inst, item, value)
        except Invalid as exc:
            problems[item] = exc.detail
    return problems


def submit_problems(adm: Administration, answers: Mapping[str, object]) -> dict[str, str]:
    """What would stop a submission now (for the intake: required fields left empty), by item."""
    inst = facade.instrument(adm.instrument, adm.instrument_version)
    try:
        facade.score_answers(inst, [answers])
    except scoring.ResponseValidationError as err:
        return {str(p.item): str(p.reason) for p in err.problems}
    return {}
