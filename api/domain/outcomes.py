"""What happened after the packet: trainings, placements and scheduled follow-ups (issue 16).

The social worker records them for any case; an employment officer (or an employment system's API
client, scope ``outcomes:write``) only for a person whose packet was sent to their organisation and
whose consent for that organisation names the ``outcomes`` part (valid now). For everyone else the
case does not exist (404). Every entry and every read is audited; free-text notes never go into the
audit log (retention erases them from the tables).

Follow-ups are scheduled at 1, 3, 6, 12, 24 and 36 months after the placement's start. A follow-up
may be recorded from two weeks before its date; once one says the person no longer works there, the
placement has ended and no further follow-ups are due for it (a new job is a new placement).
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import instruments
from api.db.tables import Beneficiary, Consent, FollowUp, Placement, Sending, Training, User

from . import audit
from .access import Principal
from .beneficiaries import find
from .errors import Conflict, Invalid, NotFound

FOLLOW_UP_MONTHS = (1, 3, 6, 12, 24, 36)
"""The scheduled points, in months after the placement's start (seed: monitoring 12 months to 3 years)."""
EARLY_DAYS = 14
"""A follow-up may be recorded this many days before its scheduled date."""
EMPLOYER_KINDS = ("private", "public", "ngo", "social_enterprise", "own_business")
PAY_BANDS = ("up_to_500", "501_1000", "1001_1500", "over_1500")
"""Monthly pay in GEL, before tax."""
TRAINING_OUTCOMES = ("ongoing", "completed", "dropped")
DIFFICULTIES = (
    "conflict_colleagues",
    "conflict_customers",
    "adapting",
    "stress",
    "transport",
    "care_duties",
    "pay",
    "schedule",
    "employer_attitude",
    "health",
    "family",
    "confidence",
)
"""What makes keeping a job hard, in the seed's own list (keeping a job: conflicts with colleagues,
employers and customers, adapting to a new place, stress; practical barriers: child care, transport,
irregular hours; few good jobs: low pay; employers' prejudices; monitoring: family tension, health,
lack of self-confidence)."""
NOTE_MAX = 2000
MONTH_DAYS = 365.25 / 12
"""Durations are counted in days and shown in months of this length."""
OUTCOMES_PART = "outcomes"
"""The consent part that lets an organisation see and record a person's outcomes."""


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day where it is shorter).

    >>> add_months(dt.date(2026, 1, 31), 1), add_months(dt.date(2026, 11, 15), 3)
    (datetime.date(2026, 2, 28), datetime.date(2027, 2, 15))
    """
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def week_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week ``today`` lies in."""
    start = today - dt.timedelta(days=today.weekday())
    return start, start + dt.timedelta(days=6)


# -- who may see a case ----------------------------------------------------------------------------


def _aware(d: dt.datetime) -> dt.datetime:
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def _consented(session: Session, b: Beneficiary, organisation: str, at: dt.datetime) -> bool:
    """A packet was sent to ``organisation`` and a consent for it names the outcomes part, valid now."""
    from .packets import consent_valid

    sent = session.execute(
        select(Sending.id).where(Sending.beneficiary_id == b.id, Sending.addressee == organisation).limit(1)
    ).first()
    if sent is None:
        return False
    consents = session.execute(
        select(Consent).where(Consent.beneficiary_id == b.id, Consent.addressee == organisation)
    ).scalars()
    return any(OUTCOMES_PART in (c.scope or []) and consent_valid(c, at) for c in consents)


def _case(session: Session, principal: Principal, code: str, action: str) -> Beneficiary:
    """The case, if ``principal`` may use ``action`` on it; a case outside their consent is not found."""
    principal.require(action)
    b = find(session, code)
    if principal.can("outcomes.all_cases"):
        return b
    org = principal.organisation
    if not org or not _consented(session, b, org, dt.datetime.now(dt.UTC)):
        raise NotFound(f"no beneficiary {code!r}", field="code", value=code)
    return b


def _org(principal: Principal) -> str | None:
    """The recording organisation: the officer's or client's; NULL for the fund's own staff."""
    return None if principal.can("outcomes.all_cases") else principal.organisation


# -- checks ----------------------------------------------------------------------------------------


def _note(note: str | None, field: str = "note") -> str | None:
    if note is None:
        return None
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise Invalid(f"{field} is longer than {NOTE_MAX} characters", field=field, value=len(note))
    return note or None


def _choice(value: str | None, allowed: tuple[str, ...], field: str, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if value not in allowed:
        raise Invalid(f"{field} must be one of {', '.join(allowed)}", field=field, value=value)
    return value


def _not_future(day: dt.date, today: dt.date, field: str) -> None:
    if day > today:
        raise Invalid(f"{field} lies in the future ({day.isoformat()})", field=field, value=day.isoformat())


def occupation_of(text: str) -> tuple[str, str | None]:
    """(ISCO-08 code, RIASEC code or None) of an occupation given by its catalogue name or ISCO code.

    A four-digit ISCO-08 unit-group code the catalogue does not hold is kept, without a RIASEC code."""
    text = (text or "").strip()
    occ = instruments.find_occupation(text) if text else None
    if occ is not None:
        return occ.isco, occ.riasec
    if len(text) == 4 and text.isdigit() and text[0] != "0":
        return text, None
    raise Invalid(
        f"occupation {text!r} is neither an occupation of the catalogue nor a four-digit ISCO-08 code",
        field="occupation",
        value=text,
    )


def _activity(activity: str) -> str:
    known = {a.id for a in instruments.activities()}
    if activity not in known:
        raise Invalid(f"activity {activity!r} is not in the activities catalogue", field="activity", value=activity)
    return activity


# -- trainings -------------------------------------------------------------------------------------


def record_training(
    session: Session,
    principal: Principal,
    code: str,
    *,
    activity: str,
    started_on: dt.date,
    today: dt.date,
    outcome: str = "ongoing",
    finished_on: dt.date | None = None,
    note: str | None = None,
    ip: str | None = None,
) -> Training:
    b = _case(session, principal, code, "outcomes.write")
    _activity(activity)
    _choice(outcome, TRAINING_OUTCOMES, "outcome")
    _not_future(started_on, today, "started_on")
    _check_finish(outcome, started_on, finished_on, today)
    t = Training(
        id=str(uuid.uuid4()),
        beneficiary_id=b.id,
        activity=activity,
        started_on=started_on,
        finished_on=finished_on,
        outcome=outcome,
        note=_note(note),
        organisation=_org(principal),
        recorded_by=principal.actor,
    )
    session.add(t)
    session.flush()
    audit.append(
        session, principal.actor, "record", "training", t.id, code, ip, {"activity": activity, "outcome": outcome}
    )
    return t


def _check_finish(outcome: str, started_on: dt.date, finished_on: dt.date | None, today: dt.date) -> None:
    if outcome == "ongoing":
        if finished_on is not None:
            raise Invalid("an ongoing training has no end date", field="finished_on", value=finished_on.isoformat())
        return
    if finished_on is None:
        raise Invalid(f"a {outcome} training needs the day it ended", field="finished_on", value=None)
    _not_future(finished_on, today, "finished_on")
    if finished_on < started_on:
        raise Invalid("finished_on lies before started_on", field="finished_on", value=finished_on.isoformat())


def finish_training(
    session: Session,
    principal: Principal,
    training_id: str,
    *,
    outcome: str,
    finished_on: dt.date,
    today: dt.date,
    ip: str | None = None,
) -> Training:
    """Mark an ongoing training completed or dropped."""
    t = session.execute(
        select(Training).where(Training.id == training_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if t is None:
        raise NotFound(f"no training {training_id!r}", field="training", value=training_id)
    code = session.get(Beneficiary, t.beneficiary_id).code  # type: ignore[union-attr]
    try:
        _case(session, principal, code, "outcomes.write")
    except NotFound:
        raise NotFound(f"no training {training_id!r}", field="training", value=training_id) from None
    if outcome not in ("completed", "dropped"):
        raise Invalid("outcome must be completed or dropped", field="outcome", value=outcome)
    if t.outcome != "ongoing":
        raise Conflict(f"this training was marked {t.outcome} already", field="training", value=t.id)
    _check_finish(outcome, t.started_on, finished_on, today)
    t.outcome, t.finished_on = outcome, finished_on
    audit.append(session, principal.actor, "finish", "training", t.id, code, ip, {"outcome": outcome})
    return t


# -- placements ------------------------------------------------------------------------------------


def record_placement(
    session: Session,
    principal: Principal,
    code: str,
    *,
    employer_kind: str,
    occupation: str,
    start_date: dt.date,
    today: dt.date,
    hours_per_week: int | None = None,
    pay_band: str | None = None,
    self_employed: bool = False,
    micro_business: bool = False,
    supported: bool = False,
    note: str | None = None,
    ip: str | None = None,
) -> Placement:
    b = _case(session, principal, code, "outcomes.write")
    _choice(employer_kind, EMPLOYER_KINDS, "employer_kind")
    _choice(pay_band, PAY_BANDS, "pay_band", required=False)
    isco, riasec = occupation_of(occupation)
    _not_future(start_date, today, "start_date")
    if start_date < today - dt.timedelta(days=365 * 10):
        raise Invalid("start_date lies more than ten years back", field="start_date", value=start_date.isoformat())
    if hours_per_week is not None and not 1 <= hours_per_week <= 84:
        raise Invalid("hours_per_week must lie between 1 and 84", field="hours_per_week", value=hours_per_week)
    if micro_business and not self_employed:
        raise Invalid("a micro-business is self-employment: tick self_employed too", field="micro_business", value=True)
    p = Placement(
        id=str(uuid.uuid4()),
        beneficiary_id=b.id,
        employer_kind=employer_kind,
        isco=isco,
        riasec=riasec,
        start_date=start_date,
        hours_per_week=hours_per_week,
        pay_band=pay_band,
        self_employed=self_employed,
        micro_business=micro_business,
        supported=supported,
        note=_note(note),
        organisation=_org(principal),
        recorded_by=principal.actor,
    )
    session.add(p)
    session.flush()
    audit.append(
        session,
        principal.actor,
        "record",
        "placement",
        p.id,
        code,
        ip,
        {"isco": isco, "start_date": start_date.isoformat(), "employer_kind": employer_kind},
    )
    return p


def _placement(
    session: Session, principal: Principal, placement_id: str, action: str, lock: bool = False
) -> tuple[Placement, str]:
    q = select(Placement).where(Placement.id == placement_id)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    p = session.execute(q).scalar_one_or_none()
    if p is None:
        raise NotFound(f"no placement {placement_id!r}", field="placement", value=placement_id)
    code = session.get(Beneficiary, p.beneficiary_id).code  # type: ignore[union-attr]
    try:
        _case(session, principal, code, action)
    except NotFound:
        raise NotFound(f"no placement {placement_id!r}", field="placement", value=placement_id) from None
    return p, code


def _follow_ups(session: Session, placement_id: str) -> list[FollowUp]:
    return list(
        session.execute(select(FollowUp).where(FollowUp.placement_id == placement_id).order_by(FollowUp.month))
        .scalars()
        .all()
    )


def record_follow_up(
    session: Session,
    principal: Principal,
    placement_id: str,
    *,
    month: int,
    done_on: dt.date,
    still_employed: bool,
    today: dt.date,
    same_job: bool | None = None,
    left_on: dt.date | None = None,
    satisfaction: int | None = None,
    difficulties: list[str] | None = None,
    note: str | None = None,
    ip: str | None = None,
) -> FollowUp:
    p, code = _placement(session, principal, placement_id, "outcomes.write", lock=True)
    if month not in FOLLOW_UP_MONTHS:
        raise Invalid(f"month must be one of {', '.join(map(str, FOLLOW_UP_MONTHS))}", field="month", value=month)
    _not_future(done_on, today, "done_on")
    due = add_months(p.start_date, month)
    if done_on < due - dt.timedelta(days=EARLY_DAYS):
        raise Invalid(
            f"the {month}-month follow-up is due on {due.isoformat()}: it can be recorded from "
            f"{(due - dt.timedelta(days=EARLY_DAYS)).isoformat()}",
            field="done_on",
            value=done_on.isoformat(),
        )
    if satisfaction is not None and satisfaction not in (1, 2, 3, 4):
        raise Invalid("satisfaction must be 1, 2, 3 or 4", field="satisfaction", value=satisfaction)
    chosen = list(difficulties or [])
    bad = [d for d in chosen if d not in DIFFICULTIES]
    if bad:
        raise Invalid(f"difficulties must be chosen from {', '.join(DIFFICULTIES)}", field="difficulties", value=bad)
    chosen = sorted(set(chosen), key=DIFFICULTIES.index)
    if still_employed:
        if left_on is not None:
            raise Invalid("left_on is only for a job that ended", field="left_on", value=left_on.isoformat())
    else:
        if same_job:
            raise Invalid("same_job cannot be yes when the person no longer works", field="same_job", value=True)
        if left_on is not None and not p.start_date <= left_on <= done_on:
            raise Invalid(
                "left_on must lie between the placement's start and the follow-up",
                field="left_on",
                value=left_on.isoformat(),
            )
    earlier = _follow_ups(session, p.id)
    ended = [f for f in earlier if not f.still_employed]
    if ended:
        raise Conflict(
            f"the {ended[0].month}-month follow-up found that this job had ended: record a new placement",
            field="placement",
            value=p.id,
        )
    if any(f.month == month for f in earlier):
        raise Conflict(f"the {month}-month follow-up was recorded already", field="month", value=month)
    if not still_employed and any(f.month > month for f in earlier):
        raise Conflict(
            "a later follow-up found the person still in this job", field="still_employed", value=still_employed
        )
    f = FollowUp(
        id=str(uuid.uuid4()),
        placement_id=p.id,
        beneficiary_id=p.beneficiary_id,
        month=month,
        done_on=done_on,
        still_employed=still_employed,
        same_job=same_job,
        left_on=left_on,
        satisfaction=satisfaction,
        difficulties=chosen,
        note=_note(note),
        organisation=_org(principal),
        recorded_by=principal.actor,
    )
    try:
        with session.begin_nested():
            session.add(f)
            session.flush()
    except IntegrityError as exc:  # the same month raced in from another request
        raise Conflict(f"the {month}-month follow-up was recorded already", field="month", value=month) from exc
    audit.append(
        session,
        principal.actor,
        "record",
        "follow_up",
        f.id,
        code,
        ip,
        {"placement": p.id, "month": month, "still_employed": still_employed},
    )
    return f


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    placement: str
    beneficiary: str
    month: int
    due: dt.date
    status: str
    """'overdue', 'due' (this week), 'upcoming' or 'missed' (a later one was recorded)."""


def schedule_of(p: Placement, done: list[FollowUp], today: dt.date, code: str = "") -> list[Due]:
    """The placement's scheduled follow-ups not yet recorded, with their state on ``today``."""
    if any(not f.still_employed for f in done):
        return []
    recorded = {f.month for f in done}
    last = max(recorded, default=0)
    start, end = week_of(today)
    out = []
    for m in FOLLOW_UP_MONTHS:
        if m in recorded:
            continue
        due = add_months(p.start_date, m)
        if m < last:
            status = "missed"
        elif due < start:
            status = "overdue"
        elif due <= end:
            status = "due"
        else:
            status = "upcoming"
        out.append(Due(p.id, code, m, due, status))
    return out


def _note_for(principal: Principal, row: Training | Placement | FollowUp) -> str | None:
    """Free notes: the fund's staff read every note; an organisation reads only its own."""
    if principal.can("outcomes.all_cases") or row.organisation == principal.organisation:
        return row.note
    return None


def training_view(principal: Principal, t: Training, code: str) -> dict[str, Any]:
    return {
        "id": t.id,
        "beneficiary": code,
        "activity": t.activity,
        "started_on": t.started_on,
        "finished_on": t.finished_on,
        "outcome": t.outcome,
        "note": _note_for(principal, t),
        "organisation": t.organisation,
        "created_at": t.created_at,
    }


def follow_up_view(principal: Principal, f: FollowUp, code: str) -> dict[str, Any]:
    return {
        "id": f.id,
        "placement": f.placement_id,
        "beneficiary": code,
        "month": f.month,
        "done_on": f.done_on,
        "still_employed": f.still_employed,
        "same_job": f.same_job,
        "left_on": f.left_on,
        "satisfaction": f.satisfaction,
        "difficulties": list(f.difficulties or []),
        "note": _note_for(principal, f),
        "organisation": f.organisation,
        "created_at": f.created_at,
    }


def placement_view(
    principal: Principal, p: Placement, code: str, done: list[FollowUp], today: dt.date
) -> dict[str, Any]:
    schedule = schedule_of(p, done, today, code)
    ended = next((f for f in done if not f.still_employed), None)
    nxt = next((d for d in schedule if d.status != "missed"), None)
    return {
        "id": p.id,
        "beneficiary": code,
        "employer_kind": p.employer_kind,
        "isco": p.isco,
        "riasec": p.riasec,
        "start_date": p.start_date,
        "hours_per_week": p.hours_per_week,
        "pay_band": p.pay_band,
        "self_employed": p.self_employed,
        "micro_business": p.micro_business,
        "supported": p.supported,
        "note": _note_for(principal, p),
        "organisation": p.organisation,
        "created_at": p.created_at,
        "ended_on": (ended.left_on or ended.done_on) if ended else None,
        "follow_ups": [follow_up_view(principal, f, code) for f in done],
        "next_follow_up": None if nxt is None else {"month": nxt.month, "due": nxt.due, "status": nxt.status},
        "schedule": [{"month": d.month, "due": d.due, "status": d.status} for d in schedule],
    }


def case_outcomes(
    session: Session, principal: Principal, code: str, today: dt.date, ip: str | None = None
) -> dict[str, Any]:
    """A person's trainings and placements (each with its follow-ups and schedule)."""
    b = _case(session, principal, code, "outcomes.read")
    trainings = session.execute(
        select(Training).where(Training.beneficiary_id == b.id).order_by(Training.started_on, Training.created_at)
    ).scalars()
    placements = session.execute(
        select(Placement).where(Placement.beneficiary_id == b.id).order_by(Placement.start_date, Placement.created_at)
    ).scalars()
    out = {
        "beneficiary": code,
        "trainings": [training_view(principal, t, code) for t in trainings],
        "placements": [placement_view(principal, p, code, _follow_ups(session, p.id), today) for p in placements],
    }
    audit.append(session, principal.actor, "list", "outcomes", None, code, ip)
    return out


def read_training(session: Session, principal: Principal, training_id: str, ip: str | None = None) -> dict[str, Any]:
    t = session.get(Training, training_id)
    if t is None:
        raise NotFound(f"no training {training_id!r}", field="training", value=training_id)
    code = session.get(Beneficiary, t.beneficiary_id).code  # type: ignore[union-attr]
    try:
        _case(session, principal, code, "outcomes.read")
    except NotFound:
        raise NotFound(f"no training {training_id!r}", field="training", value=training_id) from None
    audit.append(session, principal.actor, "read", "training", t.id, code, ip)
    return training_view(principal, t, code)


def read_placement(
    session: Session, principal: Principal, placement_id: str, today: dt.date, ip: str | None = None
) -> dict[str, Any]:
    p, code = _placement(session, principal, placement_id, "outcomes.read")
    audit.append(session, principal.actor, "read", "placement", p.id, code, ip)
    return placement_view(principal, p, code, _follow_ups(session, p.id), today)


def read_follow_up(session: Session, principal: Principal, follow_up_id: str, ip: str | None = None) -> dict[str, Any]:
    f = session.get(FollowUp, follow_up_id)
    if f is None:
        raise NotFound(f"no follow-up {follow_up_id!r}", field="follow_up", value=follow_up_id)
    _, code = _placement(session, principal, f.placement_id, "outcomes.read")
    audit.append(session, principal.actor, "read", "follow_up", f.id, code, ip)
    return follow_up_view(principal, f, code)


# -- the schedule ----------------------------------------------------------------------------------


def schedule(session: Session, principal: Principal, today: dt.date, ip: str | None = None) -> dict[str, Any]:
    """Follow-ups due this week and overdue, per social worker (the one who opened the case; cases
    opened by someone else are listed under no one). The caller's own list comes first."""
    principal.require("followups.schedule")
    rows = session.execute(
        select(Placement, Beneficiary)
        .join(Beneficiary, Beneficiary.id == Placement.beneficiary_id)
        .where(Beneficiary.depersonalized_at.is_(None), Beneficiary.closed_at.is_(None))
        .order_by(Placement.start_date)
    ).all()
    done: dict[str, list[FollowUp]] = {}
    ids = [p.id for p, _ in rows]
    if ids:
        for f in session.execute(
            select(FollowUp).where(FollowUp.placement_id.in_(ids)).order_by(FollowUp.month)
        ).scalars():
            done.setdefault(f.placement_id, []).append(f)
    workers = {
        u.id: u
        for u in session.execute(
            select(User).where(User.id.in_({b.created_by for _, b in rows if b.created_by is not None}))
        ).scalars()
    }
    groups: dict[int | None, dict[str, list[dict[str, Any]]]] = {}
    for p, b in rows:
        owner = workers.get(b.created_by) if b.created_by is not None else None
        key = owner.id if owner is not None and owner.role == "social_worker" else None
        for d in schedule_of(p, done.get(p.id, []), today, b.code):
            if d.status in ("due", "overdue"):
                g = groups.setdefault(key, {"due": [], "overdue": []})
                g[d.status].append({"beneficiary": b.code, "placement": p.id, "month": d.month, "due": d.due})
    start, end = week_of(today)
    me = principal.id if principal.kind == "user" else None
    out = []
    for k, g in groups.items():
        w = workers.get(k) if k is not None else None
        out.append(
            {
                "social_worker": None if w is None else (w.full_name or w.username),
                "mine": k is not None and k == me,
                "due": sorted(g["due"], key=lambda r: r["due"]),
                "overdue": sorted(g["overdue"], key=lambda r: r["due"]),
            }
        )
    out.sort(key=lambda g: (not g["mine"], g["social_worker"] is None, g["social_worker"] or ""))
    audit.append(session, principal.actor, "list", "follow_up_schedule", None, None, ip, {"groups": len(out)})
    return {"today": today, "week": {"start": start, "end": end}, "groups": out}
