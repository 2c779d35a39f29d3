"""Results and their lifecycle: immutable, typed records; rescore, correct, discard; "latest".

A result is never changed. Scoring the same answers again (**rescore**) or scoring answers
a psychologist **corrected** after submission (a reason is required; old and new values are
kept) makes a new result that supersedes the administration's current one, so the results of
one administration form a single line; the older ones stay readable. An administration
started by mistake can be **discarded** (a reason is required): it then has no result and
is left out of every profile.

"Latest" is the latest *administration* of an instrument model (by when it was submitted),
never the newest row: rescoring an old administration does not make it the latest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import instruments
import scoring
from api import scoring_facade as facade
from api.db.tables import Administration, Answer, Beneficiary, Correction, Result

from . import audit
from .access import Principal
from .beneficiaries import find
from .errors import Conflict, Invalid, NotFound


def record_of(r: Result) -> scoring.ScoreRecord:
    """The stored record, validated back into its typed model."""
    return scoring.read_record(r.record)


def definition_of(r: Result) -> instruments.Instrument:
    """The definition (id + version) the result was scored with."""
    return facade.instrument(r.instrument, r.instrument_version)


def model_of(r: Result) -> str:
    return definition_of(r).model


def store(
    session: Session,
    adm: Administration,
    record: scoring.ScoreRecord,
    created_by: int | None,
    *,
    supersedes: str | None = None,
    kind: str = "scored",
    reason: str | None = None,
) -> Result:
    """Add a result holding ``record`` (never changed afterwards)."""
    p = record.provenance
    result = Result(
        id=str(uuid.uuid4()),
        administration_id=adm.id,
        beneficiary_id=adm.beneficiary_id,
        instrument=p.instrument,
        instrument_version=p.version,
        instrument_hash=p.content_hash,
        engine_version=p.engine_version,
        norm_table=p.norm_table,
        record=record.model_dump(mode="json"),
        record_schema=record.schema_version,
        kind=kind,
        reason=reason,
        supersedes_id=supersedes,
        created_by=created_by,
    )
    session.add(result)
    session.flush()
    return result


def score_administration(session: Session, adm: Administration, answers: Mapping[str, str | None]) -> Any:
    """The record of ``answers`` (unanswered = skipped) with the administration's definition and details."""
    inst = facade.instrument(adm.instrument, adm.instrument_version)
    try:
        (record,) = facade.score_answers(
            inst,
            [{k: v for k, v in answers.items() if v is not None}],
            [adm.aspirations] if adm.aspirations else None,
            [adm.seconds] if adm.seconds is not None else None,
        )
    except scoring.ResponseValidationError as err:
        p = err.problems[0]
        raise Invalid(f"{p.item}: {p.reason}", field=p.item, value=p.value) from err
    return record


def current(session: Session, administration_id: str) -> Result | None:
    """The administration's result that no other supersedes (the end of its line)."""
    superseded = select(Result.supersedes_id).where(
        Result.administration_id == administration_id, Result.supersedes_id.is_not(None)
    )
    return session.execute(
        select(Result).where(Result.administration_id == administration_id, Result.id.not_in(superseded))
    ).scalar_one_or_none()


def _code(session: Session, beneficiary_id: int | None) -> str | None:
    """The beneficiary's code (None: a study participant's administration, which has no beneficiary)."""
    if beneficiary_id is None:
        return None
    return session.get(Beneficiary, beneficiary_id).code  # type: ignore[union-attr]


def _answers(session: Session, adm: Administration) -> dict[str, str | None]:
    return {
        a.item: a.value for a in session.execute(select(Answer).where(Answer.administration_id == adm.id)).scalars()
    }


def _locked(session: Session, administration_id: str) -> Administration:
    adm = session.execute(
        select(Administration)
        .where(Administration.id == administration_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if adm is None:
        raise NotFound(f"no administration {administration_id!r}", field="administration", value=administration_id)
    return adm


def _result(session: Session, result_id: str) -> Result:
    r = session.get(Result, result_id)
    if r is None:
        raise NotFound(f"no result {result_id!r}", field="result", value=result_id)
    return r


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < 3:
        raise Invalid("say why (a reason of a few words is required)", field="reason", value=reason)
    if len(text) > 2000:
        raise Invalid("the reason may be at most 2000 characters", field="reason")
    return text


# -- lifecycle -----------------------------------------------------------------------------------


def rescore(session: Session, principal: Principal, result_id: str, ip: str | None = None) -> Result:
    """Score the stored answers again with this engine: a new result superseding the administration's
    current one, whichever of its results was named."""
    principal.require("results.rescore")
    named = _result(session, result_id)
    adm = _locked(session, named.administration_id)
    old = current(session, adm.id) or named
    record = score_administration(session, adm, _answers(session, adm))
    new = store(
        session, adm, record, principal.id if principal.kind == "user" else None, supersedes=old.id, kind="rescored"
    )
    audit.append(
        session,
        principal.actor,
        "rescore",
        "result",
        new.id,
        _code(session, adm.beneficiary_id),
        ip,
        {"supersedes": old.id, "engine_version": scoring.ENGINE_VERSION},
    )
    return new


def correct(
    session: Session,
    principal: Principal,
    result_id: str,
    changes: Mapping[str, object],
    reason: str | None,
    ip: str | None = None,
) -> Result:
    """Change answers of a submitted administration (each checked; a reason is required): the answers
    are updated, every change is kept (old value, new value, who, why) and a new result supersedes
    the current one. A packet already sent is not changed; its registry entry keeps its hash."""
    principal.require("results.correct")
    why = _reason(reason)
    named = _result(session, result_id)
    adm = _locked(session, named.administration_id)
    if adm.status != "submitted":
        raise Conflict("only a submitted administration's answers are corrected", administration=adm.id)
    if not changes:
        raise Invalid("name at least one answer to correct", field="answers")
    from .administrations import normalize  # one checker of answers

    inst = facade.instrument(adm.instrument, adm.instrument_version)
    before = _answers(session, adm)
    normalized = {item: normalize(inst, item, value) for item, value in changes.items()}
    changed = {item: v for item, v in normalized.items() if before.get(item) != v}
    if not changed:
        raise Conflict("the answers given are the stored ones: nothing to correct")
    old = current(session, adm.id) or named
    after = {**before, **changed}
    record = score_administration(session, adm, after)
    new = store(
        session,
        adm,
        record,
        principal.id if principal.kind == "user" else None,
        supersedes=old.id,
        kind="corrected",
        reason=why,
    )
    now = dt.datetime.now(dt.UTC)
    for item, value in changed.items():
        row = session.get(Answer, (adm.id, item))
        if row is None:
            session.add(Answer(administration_id=adm.id, item=item, value=value, saved_at=now))
        else:
            row.value, row.saved_at = value, now
        session.add(
            Correction(
                administration_id=adm.id,
                result_id=new.id,
                item=item,
                old_value=before.get(item),
                new_value=value,
                reason=why,
                corrected_by=principal.id if principal.kind == "user" else None,
                at=now,
            )
        )
    session.flush()
    audit.append(
        session,
        principal.actor,
        "correct",
        "result",
        new.id,
        _code(session, adm.beneficiary_id),
        ip,
        {"supersedes": old.id, "items": sorted(changed)},
    )
    return new


def discard(
    session: Session, principal: Principal, administration_id: str, reason: str | None, ip: str | None = None
) -> Administration:
    """An administration started by mistake: it keeps its answers for the record, gets no result
    and is left out of every profile. A submitted one cannot be discarded (correct it instead)."""
    principal.require("administrations.write")
    why = _reason(reason)
    adm = _locked(session, administration_id)
    if adm.status == "submitted":
        raise Conflict("a submitted administration has a result; correct its answers instead", administration=adm.id)
    if adm.status == "discarded":
        raise Conflict("this administration was discarded already", administration=adm.id)
    adm.status = "discarded"
    adm.discarded_at = dt.datetime.now(dt.UTC)
    adm.discarded_by = principal.id if principal.kind == "user" else None
    adm.discard_reason = why
    adm.resume_hash = None  # the hand-over code stops working
    audit.append(session, principal.actor, "discard", "administration", adm.id, _code(session, adm.beneficiary_id), ip)
    return adm


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One result of a person, as lists show it."""

    result: Result
    administration: Administration
    model: str
    superseded_by: str | None
    corrections: tuple[Correction, ...]

    @property
    def current(self) -> bool:
        return self.superseded_by is None

    @property
    def administered(self) -> dt.datetime:
        a = self.administration
        return a.submitted_at or a.created_at


def entries(session: Session, beneficiary_id: int) -> list[Entry]:
    """Every result of a person, newest administration first; within one, its line newest first."""
    rows = session.execute(
        select(Result, Administration)
        .join(Administration, Administration.id == Result.administration_id)
        .where(Result.beneficiary_id == beneficiary_id)
    ).all()
    successor = {r.supersedes_id: r.id for r, _ in rows if r.supersedes_id}
    fixes: dict[str, list[Correction]] = {}
    for c in session.execute(
        select(Correction)
        .join(Result, Result.id == Correction.result_id)
        .where(Result.beneficiary_id == beneficiary_id)
    ).scalars():
        fixes.setdefault(c.result_id, []).append(c)
    out = [
        Entry(r, a, model_of(r), successor.get(r.id), tuple(fixes.get(r.id, ())))
        for r, a in rows
        if a.status != "discarded"
    ]

    def when(e: Entry) -> tuple[float, float]:
        return (timestamp(e.administered), timestamp(e.result.created_at))

    return sorted(out, key=when, reverse=True)


def timestamp(d: dt.datetime) -> float:
    return (d if d.tzinfo else d.replace(tzinfo=dt.UTC)).timestamp()


def latest(session: Session, beneficiary_id: int, models: tuple[str, ...] | None = None) -> dict[str, Result]:
    """Per model, the current result of the latest administration (never simply the newest row)."""
    out: dict[str, Result] = {}
    for e in entries(session, beneficiary_id):  # newest administration first
        if e.current and e.model not in out and (models is None or e.model in models):
            out[e.model] = e.result
    return out


def read(session: Session, principal: Principal, result_id: str, ip: str | None = None) -> Result:
    principal.require("results.read")
    r = _result(session, result_id)
    audit.append(session, principal.actor, "read", "result", r.id, _code(session, r.beneficiary_id), ip)
    return r


def of_person(session: Session, principal: Principal, code: str, ip: str | None = None) -> list[Entry]:
    principal.require("results.read")
    b = find(session, code)
    out = entries(session, b.id)
    audit.append(session, principal.actor, "list", "result", None, code, ip, {"count": len(out)})
    return out


def newer_than(session: Session, beneficiary_id: int, result_ids: list[str]) -> list[str]:
    """Which of ``result_ids`` has been superseded since (e.g. the results a sent packet was built from)."""
    rows = session.execute(
        select(Result.supersedes_id).where(
            Result.beneficiary_id == beneficiary_id, Result.supersedes_id.in_(result_ids)
        )
    ).scalars()
    return sorted({r for r in rows if r is not None})
