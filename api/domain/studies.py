"""Studies: norm collection from consent to item-level exports and study norm tables.

- A researcher defines a study: title, purpose and consent text (ka/en), the instruments and
  versions participants answer, demographic questions, target quotas by group, dates, and whether
  the protocol allows exact quasi-identifiers in exports.
- Participation codes are anonymous: a code opens a participant row with no name and no
  beneficiary record. The participant reads the consent text first and may decline; then answers
  the demographic questions and each instrument in respondent mode (the respondent pages and
  ``administrations`` machinery; a study administration has ``participant_id`` and no
  beneficiary, and its submission stores no result row: studies use the answers).
- A fund beneficiary joins only through a consent recorded by their social worker
  (``enrol_beneficiary``); their study data stays apart from their case (no result row, the
  export's pseudonym is keyed on the study's key, not on the beneficiary's code).
- Exports (CSV, XLSX, SPSS .sav with value labels, a codebook) carry the study pseudonym
  (HMAC of the participant row with the study's own key, sealed like names). Quasi-identifiers are
  coarsened unless the protocol says otherwise: birth year → age band, times → month; the codebook
  reports the smallest group of rows sharing the same quasi-identifiers (k-anonymity).
- Norm tables built from a study are drafts until a researcher publishes them; reports use only
  published tables (``published_table``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import re
import secrets
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import instruments
import scoring
from api import scoring_facade as facade
from api.db.tables import Administration, Answer, Study, StudyNormTable, StudyParticipant
from api.security import Vault, hash_token
from scoring import research as rs

from . import administrations as adm_domain
from . import audit
from .access import SOCIAL_WORKER_MODELS, Principal
from .beneficiaries import find
from .errors import Conflict, Invalid, NotFound

QUESTION_TYPES = ("choice", "birth_year")
AGE_BANDS = ((0, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 200))
"""Age bands that replace a birth year in exports (``under 18`` and ``65+`` at the ends)."""
EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "codebook": "text/markdown; charset=utf-8",
}
ANALYSIS_FORMATS = {
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "xlsx": EXPORT_FORMATS["xlsx"],
}
MAX_LINKS = 500
CODE_LENGTH = 12
_IDENT = re.compile(r"[a-z][a-z0-9_]{0,31}")
_NORM_ID = re.compile(r"[a-z0-9][a-z0-9\-]{1,40}")
_NORM_VERSION = re.compile(r"[0-9]+(\.[0-9]+){0,2}")
COMPLETED = "completed"


# -- definition --------------------------------------------------------------------------------


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    v = data.get(key)
    if not isinstance(v, str) or not v.strip():
        raise Invalid(f"{key} is required (Georgian and English texts both)", field=key, value=v)
    if len(v) > limit:
        raise Invalid(f"{key} is longer than {limit} characters", field=key, value=v[:40])
    return v.strip()


def _date(data: dict[str, Any], key: str) -> dt.date:
    v = data.get(key)
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise Invalid(f"{key} must be a date YYYY-MM-DD", field=key, value=v) from None


def study_instruments(data: Any) -> list[dict[str, str]]:
    """Check the chosen instruments (id and version, answered in this order): respondent instruments only."""
    if not isinstance(data, list) or not data:
        raise Invalid("choose at least one instrument", field="instruments", value=data)
    out: list[dict[str, str]] = []
    for k, entry in enumerate(data):
        iid = entry.get("id") if isinstance(entry, dict) else None
        version = entry.get("version") if isinstance(entry, dict) else None
        try:
            inst = facade.instrument(str(iid), str(version) if version else None)
        except instruments.InstrumentError:
            raise Invalid(
                f"instruments[{k}]: no instrument {iid!r} version {version!r}", field=f"instruments[{k}]", value=iid
            ) from None
        if inst.model in SOCIAL_WORKER_MODELS:
            raise Invalid(
                f"instruments[{k}]: {inst.ref} is filled in by a social worker, not answered by a participant",
                field=f"instruments[{k}]",
                value=iid,
            )
        if any(o["id"] == inst.id for o in out):
            raise Invalid(f"instruments[{k}]: {inst.id} is chosen twice", field=f"instruments[{k}]", value=iid)
        out.append({"id": inst.id, "version": inst.version})
    return out


def study_questions(data: Any) -> list[dict[str, Any]]:
    """Check the demographic questions: an id, ka/en labels, a type, and for a choice its options."""
    if not isinstance(data, list):
        raise Invalid("questions must be a list", field="questions", value=data)
    out: list[dict[str, Any]] = []
    for k, q in enumerate(data):
        where = f"questions[{k}]"
        if not isinstance(q, dict):
            raise Invalid(f"{where} must be an object", field=where, value=q)
        qid = q.get("id")
        if not isinstance(qid, str) or not _IDENT.fullmatch(qid):
            raise Invalid(f"{where}.id must be a short name (a-z, 0-9, _)", field=f"{where}.id", value=qid)
        if any(o["id"] == qid for o in out):
            raise Invalid(f"{where}: the question {qid} is given twice", field=f"{where}.id", value=qid)
        kind = q.get("type")
        if kind not in QUESTION_TYPES:
            raise Invalid(f"{where}.type must be one of {', '.join(QUESTION_TYPES)}", field=f"{where}.type", value=kind)
        entry: dict[str, Any] = {
            "id": qid,
            "type": kind,
            "ka": _text(q, "ka", 200),
            "en": _text(q, "en", 200),
            "options": [],
        }
        if kind == "choice":
            options = q.get("options")
            if not isinstance(options, list) or len(options) < 2:
                raise Invalid(f"{where}: a choice needs at least two options", field=f"{where}.options", value=options)
            for j, o in enumerate(options):
                value = o.get("value") if isinstance(o, dict) else None
                if not isinstance(value, str) or not _IDENT.fullmatch(value):
                    raise Invalid(
                        f"{where}.options[{j}].value must be a short name (a-z, 0-9, _)",
                        field=f"{where}.options[{j}].value",
                        value=value,
                    )
                if any(x["value"] == value for x in entry["options"]):
                    raise Invalid(f"{where}: option {value} twice", field=f"{where}.options[{j}]", value=value)
                entry["options"].append({"value": value, "ka": _text(o, "ka", 120), "en": _text(o, "en", 120)})
        out.append(entry)
    return out


def study_quotas(data: Any, questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check the quotas: each a choice question's option and a target number of completed participants."""
    if not isinstance(data, list):
        raise Invalid("quotas must be a list", field="quotas", value=data)
    out: list[dict[str, Any]] = []
    for k, q in enumerate(data):
        where = f"quotas[{k}]"
        qid = q.get("question") if isinstance(q, dict) else None
        question = next((x for x in questions if x["id"] == qid), None)
        if question is None or question["type"] != "choice":
            raise Invalid(f"{where}: {qid!r} is not a choice question of this study", field=where, value=qid)
        value = q.get("value")
        if value not in {o["value"] for o in question["options"]}:
            raise Invalid(f"{where}: {value!r} is not an option of {qid}", field=f"{where}.value", value=value)
        target = q.get("target")
        if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= 100_000:
            raise Invalid(f"{where}.target must be a whole number 1–100000", field=f"{where}.target", value=target)
        if any(x["question"] == qid and x["value"] == value for x in out):
            raise Invalid(f"{where}: a quota for {qid}={value} is given twice", field=where, value=value)
        out.append({"question": qid, "value": value, "target": target})
    return out


def create(session: Session, principal: Principal, vault: Vault, data: dict[str, Any], ip: str | None = None) -> Study:
    """A new study; every field is checked before anything is written."""
    principal.require("studies.manage")
    questions = study_questions(data.get("questions") or [])
    study = Study(
        id=str(uuid.uuid4()),
        title_ka=_text(data, "title_ka", 200),
        title_en=_text(data, "title_en", 200),
        purpose_ka=_text(data, "purpose_ka", 4000),
        purpose_en=_text(data, "purpose_en", 4000),
        consent_ka=_text(data, "consent_ka", 20000),
        consent_en=_text(data, "consent_en", 20000),
        instruments=study_instruments(data.get("instruments")),
        questions=questions,
        quotas=study_quotas(data.get("quotas") or [], questions),
        opens_on=_date(data, "opens_on"),
        closes_on=_date(data, "closes_on"),
        exact_quasi_identifiers=bool(data.get("exact_quasi_identifiers", False)),
        key_enc=vault.seal(secrets.token_hex(32)),
        created_by=principal.id if principal.kind == "user" else None,
    )
    if study.closes_on < study.opens_on:
        raise Invalid("the study closes before it opens", field="closes_on", value=str(study.closes_on))
    session.add(study)
    session.flush()
    audit.append(session, principal.actor, "create", "study", study.id, None, ip, {"title": study.title_en})
    return study


def get(session: Session, principal: Principal, study_id: str) -> Study:
    principal.require("studies.manage")
    return _study(session, study_id)


def get_for_enrolment(session: Session, principal: Principal, study_id: str) -> Study:
    principal.require("studies.enrol")
    return _study(session, study_id)


def _study(session: Session, study_id: str) -> Study:
    s = session.get(Study, study_id)
    if s is None:
        raise NotFound(f"no study {study_id!r}", field="study", value=study_id)
    return s


def all_studies(session: Session, principal: Principal) -> list[Study]:
    principal.require("studies.manage")
    return list(session.execute(select(Study).order_by(Study.created_at.desc())).scalars())


def title(study: Study, lang: str) -> str:
    return study.title_ka if lang == "ka" else study.title_en


def describe(study: Study) -> dict[str, Any]:
    """The study's definition as the API returns it (never its key)."""
    return {
        "id": study.id,
        "title": {"ka": study.title_ka, "en": study.title_en},
        "purpose": {"ka": study.purpose_ka, "en": study.purpose_en},
        "consent": {"ka": study.consent_ka, "en": study.consent_en},
        "instruments": study.instruments,
        "questions": study.questions,
        "quotas": study.quotas,
        "opens_on": study.opens_on.isoformat(),
        "closes_on": study.closes_on.isoformat(),
        "exact_quasi_identifiers": study.exact_quasi_identifiers,
        "created_at": study.created_at.isoformat(),
    }


# -- participation codes -----------------------------------------------------------------------


def _new_code() -> str:
    from api.security import CODE_ALPHABET

    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def make_links(session: Session, principal: Principal, study_id: str, count: int, ip: str | None = None) -> list[str]:
    """``count`` new anonymous participation codes (shown once; stored hashed)."""
    study = get(session, principal, study_id)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_LINKS:
        raise Invalid(f"ask for 1–{MAX_LINKS} codes at a time", field="count", value=count)
    codes = [_new_code() for _ in range(count)]
    session.add_all(StudyParticipant(study_id=study.id, code_hash=hash_token(c), status="invited") for c in codes)
    session.flush()
    audit.append(session, principal.actor, "make_links", "study", study.id, None, ip, {"count": count})
    return codes


def enrol_beneficiary(session: Session, principal: Principal, study_id: str, code: str, ip: str | None = None) -> str:
    """A fund beneficiary joins a study: the social worker records the consent the person gave;
    returns the person's participation code (shown once). The participant row keeps the link for
    retention and withdrawal only; exports never carry it."""
    principal.require("studies.enrol")
    study = _study(session, study_id)
    b = find(session, code)
    if b.depersonalized_at is not None:
        raise Conflict(f"the case {code} is closed and depersonalized")
    exists = session.execute(
        select(StudyParticipant.id).where(
            StudyParticipant.study_id == study.id, StudyParticipant.beneficiary_id == b.id
        )
    ).first()
    if exists is not None:
        raise Conflict(f"{code} has joined this study already", field="beneficiary", value=code)
    token = _new_code()
    now = dt.datetime.now(dt.UTC)
    session.add(
        StudyParticipant(
            study_id=study.id,
            code_hash=hash_token(token),
            status="consented",
            beneficiary_id=b.id,
            consent_recorded_by=principal.id if principal.kind == "user" else None,
            consented_at=now,
        )
    )
    session.flush()
    audit.append(session, principal.actor, "study_consent", "study", study.id, code, ip, {"study": study.id})
    return token


def open_for_enrolment(session: Session, principal: Principal, today: dt.date) -> list[Study]:
    """The studies a social worker may offer a beneficiary today (open ones)."""
    principal.require("studies.enrol")
    return list(
        session.execute(
            select(Study).where(Study.opens_on <= today, Study.closes_on >= today).order_by(Study.created_at)
        ).scalars()
    )


def joined(session: Session, principal: Principal, code: str) -> list[Study]:
    """The studies a beneficiary joined through a consent their social worker recorded."""
    principal.require("studies.enrol")
    b = find(session, code)
    return list(
        session.execute(
            select(Study)
            .join(StudyParticipant, StudyParticipant.study_id == Study.id)
            .where(StudyParticipant.beneficiary_id == b.id)
            .order_by(Study.created_at)
        ).scalars()
    )


def normalize_code(text: str) -> str:
    return re.sub(r"[\s\-–_.]", "", text).upper()


def participant(
    session: Session, text: str, ip: str | None = None, *, lock: bool = False
) -> tuple[Study, StudyParticipant]:
    """The study and participant a code opens (throttled like every hand-over code). ``lock``: hold
    the participant's row until the unit of work ends (every step that changes it does), so two
    devices using one code at the same moment take turns and the second sees what the first did."""
    adm_domain.code_allowed(session, ip)
    q = select(StudyParticipant).where(StudyParticipant.code_hash == hash_token(normalize_code(text)))
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    p = session.execute(q).scalar_one_or_none()
    if p is None:
        adm_domain.code_wrong(session, ip)
        raise NotFound("this link or code is not valid (any more)")
    return _study(session, p.study_id), p


def is_open(study: Study, today: dt.date) -> bool:
    return study.opens_on <= today <= study.closes_on


def answer_consent(
    session: Session, text: str, accept: bool, today: dt.date, ip: str | None = None
) -> StudyParticipant:
    """The participant's answer to the consent text: take part, or decline (nothing more is asked)."""
    study, p = participant(session, text, ip, lock=True)
    if p.status != "invited":
        raise Conflict("this code was used already")
    if accept and not is_open(study, today):
        raise Conflict("this study is not open for participation today")
    now = dt.datetime.now(dt.UTC)
    if accept:
        p.status, p.consented_at = "consented", now
    else:
        p.status, p.declined_at = "declined", now
    audit.append(session, "participant", "consent" if accept else "decline", "study", study.id, None, ip)
    return p


def check_about(study: Study, answers: dict[str, str], this_year: int) -> dict[str, Any]:
    """The demographic answers, checked (a question left empty stays unanswered)."""
    out: dict[str, Any] = {}
    for q in study.questions:
        raw = (answers.get(q["id"]) or "").strip()
        if not raw:
            continue
        if q["type"] == "choice":
            if raw not in {o["value"] for o in q["options"]}:
                raise Invalid(f"{q['id']}: {raw!r} is not one of the options", field=q["id"], value=raw)
            out[q["id"]] = raw
        else:
            if not raw.isdigit() or not this_year - 100 <= int(raw) <= this_year - 10:
                raise Invalid(
                    f"{q['id']}: a year of birth between {this_year - 100} and {this_year - 10}",
                    field=q["id"],
                    value=raw,
                )
            out[q["id"]] = int(raw)
    return out


def save_about(
    session: Session, text: str, answers: dict[str, str], today: dt.date, ip: str | None = None
) -> StudyParticipant:
    study, p = participant(session, text, ip, lock=True)
    if p.status != "consented":
        raise Conflict("the demographic questions come after the consent, once")
    p.answers = check_about(study, answers, today.year)
    audit.append(session, "participant", "about", "study", study.id, None, ip)
    return p


def _administrations(session: Session, p: StudyParticipant) -> dict[str, Administration]:
    rows = session.execute(
        select(Administration).where(Administration.participant_id == p.id, Administration.discarded_at.is_(None))
    ).scalars()
    return {a.instrument: a for a in rows}


def next_step(session: Session, study: Study, p: StudyParticipant, today: dt.date) -> tuple[str, str | None]:
    """Where the participant goes now: 'consent', 'declined', 'closed', 'about', 'answer' (with a
    fresh respondent token for the next instrument) or 'done'. It writes (a new administration, a
    new token): call it in a write unit of work with ``p`` locked (``participant(..., lock=True)``),
    so one code opened on two devices at once starts one administration, not two."""
    if p.status == "declined":
        return "declined", None
    if p.status == "invited":
        return ("consent" if is_open(study, today) else "closed"), None
    if p.status == COMPLETED:
        return "done", None
    if p.answers is None:
        return "about", None
    started = _administrations(session, p)
    for entry in study.instruments:
        a = started.get(entry["id"])
        if a is not None and a.status == "submitted":
            continue
        if not is_open(study, today):
            return "closed", None
        token = _new_code()
        if a is None:
            a = Administration(
                id=str(uuid.uuid4()),
                beneficiary_id=None,
                participant_id=p.id,
                instrument=entry["id"],
                instrument_version=entry["version"],
                mode="respondent",
            )
            session.add(a)
        a.resume_hash = hash_token(token)  # a new token on each visit: the old one stops working
        session.flush()
        audit.append(session, "participant", "open", "administration", a.id, None, None, {"study": study.id})
        return "answer", token
    p.status, p.completed_at = COMPLETED, dt.datetime.now(dt.UTC)
    audit.append(session, "participant", "complete", "study", study.id)
    return "done", None


def continue_after(session: Session, token: str, today: dt.date, ip: str | None = None) -> tuple[str, str | None]:
    """From a finished study administration (its respondent token) on to the participant's next step."""
    a = adm_domain.by_code(session, token, ip)
    if a.participant_id is None:
        raise NotFound("this link or code is not valid (any more)")
    p = session.execute(
        select(StudyParticipant)
        .where(StudyParticipant.id == a.participant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return next_step(session, _study(session, p.study_id), p, today)


# -- progress ----------------------------------------------------------------------------------


def progress(session: Session, principal: Principal, study_id: str) -> dict[str, Any]:
    """Codes given out, consents, declines, completions, and each quota's completed count."""
    study = get(session, principal, study_id)
    counts = dict(
        session.execute(
            select(StudyParticipant.status, func.count())
            .where(StudyParticipant.study_id == study.id)
            .group_by(StudyParticipant.status)
        ).all()
    )
    done = session.execute(
        select(StudyParticipant.answers).where(
            StudyParticipant.study_id == study.id, StudyParticipant.status == COMPLETED
        )
    ).scalars()
    cells = Counter((q, str(v)) for a in done for q, v in (a or {}).items())
    quotas = [
        {
            **q,
            "completed": cells[(q["question"], q["value"])],
            "percent": min(100, round(100 * cells[(q["question"], q["value"])] / q["target"])),
        }
        for q in study.quotas
    ]
    return {
        "codes": sum(counts.values()),
        "invited": counts.get("invited", 0),
        "consented": counts.get("consented", 0),
        "declined": counts.get("declined", 0),
        "completed": counts.get(COMPLETED, 0),
        "quotas": quotas,
    }


# -- data --------------------------------------------------------------------------------------


def _key(vault: Vault, study: Study) -> bytes:
    key = vault.open(study.key_enc)
    assert key is not None
    return key.encode()


def pseudonym(key: bytes, participant_id: int) -> str:
    """The participant's pseudonym in this study: HMAC-SHA256 with the study's own key (16 hex digits)."""
    return hmac.new(key, f"participant:{participant_id}".encode(), hashlib.sha256).hexdigest()[:16]


def age_band(age: int) -> str:
    for lo, hi in AGE_BANDS:
        if lo <= age <= hi:
            return f"<{hi + 1}" if lo == 0 else (f"{lo}+" if hi >= 200 else f"{lo}-{hi}")
    raise ValueError(f"age {age} outside every band")


def _completed(session: Session, study: Study) -> list[StudyParticipant]:
    return list(
        session.execute(
            select(StudyParticipant)
            .where(StudyParticipant.study_id == study.id, StudyParticipant.status == COMPLETED)
            .order_by(StudyParticipant.completed_at, StudyParticipant.id)
        ).scalars()
    )


def _answers(session: Session, ids: list[int], instrument: str) -> dict[int, dict[str, str | None]]:
    out: dict[int, dict[str, str | None]] = {i: {} for i in ids}
    if not ids:
        return out
    rows = session.execute(
        select(Administration.participant_id, Answer.item, Answer.value)
        .join(Answer, Answer.administration_id == Administration.id)
        .where(
            Administration.participant_id.in_(ids),
            Administration.instrument == instrument,
            Administration.status == "submitted",
        )
    )
    for pid, item, value in rows:
        out[cast(int, pid)][item] = value  # the query keeps participant_id IN ids
    return out


def _columns(study: Study) -> dict[str, str]:
    """Item id → export column: the item id, prefixed with the instrument where two instruments share one."""
    seen: Counter[str] = Counter()
    for e in study.instruments:
        seen.update(facade.instrument(e["id"], e["version"]).item_ids)
    cols = {}
    for e in study.instruments:
        for item in facade.instrument(e["id"], e["version"]).item_ids:
            cols[f"{e['id']}:{item}"] = f"{e['id']}_{item}" if seen[item] > 1 else item
    return cols


class Export:
    """The item-level data of a study's completed participants, as exported (coarsened unless the
    protocol allows exact quasi-identifiers), with what the codebook needs."""

    def __init__(self, session: Session, study: Study, key: bytes, lang: str) -> None:
        self.study, self.lang = study, lang
        people = _completed(session, study)
        ids = [p.id for p in people]
        exact = study.exact_quasi_identifiers
        rows: list[dict[str, Any]] = [{"pseudonym": pseudonym(key, p.id)} for p in people]
        self.labels: dict[str, str] = {"pseudonym": self._t("pseudonym")}
        self.value_labels: dict[str, dict[str, str]] = {}
        self.quasi: list[str] = []
        for q in study.questions:
            col = q["id"] if q["type"] == "choice" or exact else f"{q['id']}_age_band"
            self.labels[col] = q[lang] if q["type"] == "choice" or exact else f"{q[lang]} → {self._t('age_band')}"
            self.quasi.append(col)
            if q["type"] == "choice":
                self.value_labels[col] = {o["value"]: o[lang] for o in q["options"]}
            for row, p in zip(rows, people, strict=True):
                v = (p.answers or {}).get(q["id"])
                if v is not None and q["type"] == "birth_year" and not exact:
                    v = age_band(p.completed_at.year - int(v))  # type: ignore[union-attr]
                row[col] = v
        when = "completed" if exact else "completed_month"
        self.labels[when] = self._t("completed" if exact else "completed_month")
        self.quasi.append(when)
        for row, p in zip(rows, people, strict=True):
            at = p.completed_at
            assert at is not None
            row[when] = at.astimezone(dt.UTC).isoformat(timespec="seconds") if exact else f"{at:%Y-%m}"
        self.items: dict[str, tuple[instruments.Instrument, str]] = {}
        cols = _columns(study)
        for e in study.instruments:
            inst = facade.instrument(e["id"], e["version"])
            answers = _answers(session, ids, inst.id)
            for item in inst.items:
                col = cols[f"{inst.id}:{item.id}"]
                self.items[col] = (inst, item.id)
                text = item.text or item.left
                self.labels[col] = f"{inst.id}@{inst.version} {item.id}" + (
                    f": {getattr(text, lang)}" if text is not None and getattr(text, lang, None) else ""
                )
                labels = inst.labels_for(item.section)
                self.value_labels[col] = {str(lab.value): (getattr(lab, lang) or str(lab.value)) for lab in labels}
                for row, p in zip(rows, people, strict=True):
                    v = answers[p.id].get(item.id)
                    row[col] = None if v is None else int(v)
        columns = ["pseudonym", *self.quasi, *self.items]
        self.frame = pd.DataFrame(rows, columns=columns)
        for col in self.items:
            self.frame[col] = self.frame[col].astype("Int64")

    def _t(self, key: str) -> str:
        return CODEBOOK[self.lang][key]

    def k_anonymity(self) -> tuple[int | None, int]:
        """The smallest number of rows sharing one combination of quasi-identifiers, and the combinations."""
        if self.frame.empty:
            return None, 0
        cells = self.frame[self.quasi].astype(object)
        cells = cells.where(cells.notna(), "")  # an unanswered question is a value of its own here
        sizes = cells.astype(str).groupby(self.quasi, dropna=False).size()
        return int(sizes.min()), int(len(sizes))

    def csv(self) -> bytes:
        text: str = self.frame.to_csv(index=False)
        return text.encode("utf-8-sig")

    def xlsx(self) -> bytes:
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xl:
            self.frame.to_excel(xl, sheet_name="data", index=False)
            self.codebook_frame().to_excel(xl, sheet_name="codebook", index=False)
        return buf.getvalue()

    def sav(self) -> bytes:
        """SPSS .sav: items numeric with their answer labels; choice questions coded 1…k with labels."""
        import pyreadstat

        df = self.frame.copy()
        value_labels: dict[str, dict[int | float, str]] = {}
        for col in df.columns:
            if col in self.items:
                df[col] = df[col].astype("float64")
                value_labels[col] = {float(k): v for k, v in self.value_labels[col].items()}
            elif col in self.value_labels:
                codes = {v: k + 1 for k, v in enumerate(self.value_labels[col])}
                df[col] = df[col].map(codes).astype("float64")
                value_labels[col] = {float(codes[v]): f"{v}: {lab}" for v, lab in self.value_labels[col].items()}
            else:
                df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "study.sav"
            pyreadstat.write_sav(
                df,
                str(path),
                column_labels=[self.labels[c][:250] for c in df.columns],
                variable_value_labels=value_labels,
            )
            return path.read_bytes()

    def codebook_frame(self) -> pd.DataFrame:
        rows = []
        for col in self.frame.columns:
            vl = self.value_labels.get(col, {})
            rows.append(
                {
                    "variable": col,
                    "label": self.labels[col],
                    "values": "; ".join(f"{k} = {v}" for k, v in vl.items()),
                    "quasi_identifier": col in self.quasi,
                    "missing": int(self.frame[col].isna().sum()),
                }
            )
        return pd.DataFrame(rows)

    def codebook(self) -> bytes:
        t = CODEBOOK[self.lang]
        k, groups = self.k_anonymity()
        s = self.study
        lines = [
            f"# {t['codebook']}: {title(s, self.lang)}",
            "",
            f"- {t['rows']}: {len(self.frame)}",
            f"- {t['instruments']}: " + ", ".join(f"{e['id']}@{e['version']}" for e in s.instruments),
            f"- {t['dates']}: {s.opens_on.isoformat()} – {s.closes_on.isoformat()}",
            f"- {t['pseudonyms']}",
            f"- {t['exact'] if s.exact_quasi_identifiers else t['coarsened']}",
            f"- {t['quasi']}: " + ", ".join(self.quasi),
            f"- {t['k']}: " + (f"k = {k} ({groups} {t['groups']})" if k is not None else t["no_rows"]),
            f"- {t['missing']}",
            "",
            f"| {t['variable']} | {t['label']} | {t['values']} | {t['n_missing']} |",
            "|---|---|---|---|",
        ]
        for r in self.codebook_frame().to_dict("records"):
            cells = [str(r["variable"]), str(r["label"]), str(r["values"]), str(r["missing"])]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        return ("\n".join(lines) + "\n").encode("utf-8")


CODEBOOK = {
    "ka": {
        "codebook": "კოდების წიგნი",
        "rows": "მონაწილეები (დასრულებული)",
        "instruments": "კითხვარები",
        "dates": "კვლევის ვადა",
        "pseudonyms": "ფსევდონიმი: HMAC-SHA256 ამ კვლევის საკუთარი გასაღებით; სახელები და ბენეფიციარის კოდები არ გადის",
        "coarsened": "ქვაზი-იდენტიფიკატორები განზოგადებულია: დაბადების წელი → ასაკობრივი ჯგუფი, დრო → თვე",
        "exact": "ოქმის თანახმად ქვაზი-იდენტიფიკატორები ზუსტია (დაბადების წელი, თარიღი და დრო)",
        "quasi": "ქვაზი-იდენტიფიკატორები",
        "k": "უმცირესი ჯგუფი ერთნაირი ქვაზი-იდენტიფიკატორებით (k-ანონიმურობა)",
        "groups": "ჯგუფი",
        "no_rows": "მონაცემები ჯერ არ არის",
        "missing": "ცარიელი უჯრა: პასუხი არ არის (გამოტოვებული)",
        "variable": "ცვლადი",
        "label": "აღწერა",
        "values": "მნიშვნელობები",
        "n_missing": "ცარიელი",
        "pseudonym": "მონაწილის ფსევდონიმი",
        "age_band": "ასაკობრივი ჯგუფი",
        "completed": "დასრულების დრო (UTC)",
        "completed_month": "დასრულების თვე",
    },
    "en": {
        "codebook": "Codebook",
        "rows": "Participants (completed)",
        "instruments": "Instruments",
        "dates": "Study dates",
        "pseudonyms": "Pseudonym: HMAC-SHA256 with this study's own key; no names or beneficiary codes leave",
        "coarsened": "Quasi-identifiers coarsened: year of birth → age band, times → month",
        "exact": "The protocol keeps quasi-identifiers exact (year of birth, date and time)",
        "quasi": "Quasi-identifiers",
        "k": "Smallest group sharing the same quasi-identifiers (k-anonymity)",
        "groups": "groups",
        "no_rows": "no data yet",
        "missing": "An empty cell: no answer (skipped)",
        "variable": "Variable",
        "label": "Label",
        "values": "Values",
        "n_missing": "Missing",
        "pseudonym": "Participant pseudonym",
        "age_band": "age band",
        "completed": "Completed at (UTC)",
        "completed_month": "Month completed",
    },
}


def export(
    session: Session,
    principal: Principal,
    vault: Vault,
    study_id: str,
    fmt: str,
    lang: str = "ka",
    ip: str | None = None,
) -> tuple[bytes, str, str]:
    """The study's item-level data as ``fmt`` (csv, xlsx, sav, codebook): body, media type, file name."""
    study = get(session, principal, study_id)
    if fmt not in EXPORT_FORMATS:
        raise Invalid(f"format must be one of {', '.join(EXPORT_FORMATS)}", field="format", value=fmt)
    if lang not in ("ka", "en"):
        raise Invalid("lang must be ka or en", field="lang", value=lang)
    ex = Export(session, study, _key(vault, study), lang)
    body = {"csv": ex.csv, "xlsx": ex.xlsx, "sav": ex.sav, "codebook": ex.codebook}[fmt]()
    k, _ = ex.k_anonymity()
    audit.append(
        session,
        principal.actor,
        "study_export",
        "study",
        study.id,
        None,
        ip,
        {"format": fmt, "rows": len(ex.frame), "k": k},
    )
    suffix = "md" if fmt == "codebook" else fmt
    stem = "codebook" if fmt == "codebook" else "data"
    return body, EXPORT_FORMATS[fmt], f"study-{study.id[:8]}-{stem}.{suffix}"


# -- analysis and norm tables ----------------------------------------------------------------------


def _entry(study: Study, instrument: str) -> dict[str, str]:
    entry: dict[str, str] | None = next((e for e in study.instruments if e["id"] == instrument), None)
    if entry is None:
        raise NotFound(f"the study has no instrument {instrument!r}", field="instrument", value=instrument)
    return entry


def dataset(session: Session, vault: Vault, study: Study, instrument: str) -> tuple[rs.Dataset, list[StudyParticipant]]:
    """The completed participants' answers to one of the study's instruments as a research data set
    (ids: study pseudonyms; covariates: the choice questions)."""
    entry = _entry(study, instrument)
    inst = facade.instrument(entry["id"], entry["version"])
    spec = facade.spec(inst.id, inst.version)
    people = _completed(session, study)
    answers = _answers(session, [p.id for p in people], inst.id)
    # a participant imported from a field export of another instrument has no answers to this one
    people = [p for p in people if answers[p.id]]
    block = np.array([[answers[p.id].get(i) for i in inst.item_ids] for p in people], dtype=object).reshape(
        len(people), len(inst.item_ids)
    )
    x = scoring.parse_block(spec, block)
    key = _key(vault, study)
    choice = [q for q in study.questions if q["type"] == "choice"]
    cov = pd.DataFrame({q["id"]: [(p.answers or {}).get(q["id"]) for p in people] for q in choice})
    ds = rs.Dataset(
        spec=spec,
        responses=x,
        ids=np.array([pseudonym(key, p.id) for p in people], dtype=object),
        covariates=cov,
        source=f"study-{study.id[:8]}",
    )
    return ds, people


MIN_ANALYSIS_ROWS = 2


def analysis(
    session: Session,
    principal: Principal,
    vault: Vault,
    study_id: str,
    instrument: str,
    fmt: str = "html",
    ip: str | None = None,
    lang: str = "ka",
) -> tuple[bytes, str]:
    """The technical report (``reports.technical``) of one instrument's study data: body, media type
    (the HTML page in ``lang``; JSON and XLSX are the same in both languages)."""
    from reports import technical

    study = get(session, principal, study_id)
    if fmt not in ANALYSIS_FORMATS:
        raise Invalid(f"format must be one of {', '.join(ANALYSIS_FORMATS)}", field="format", value=fmt)
    ds, _ = dataset(session, vault, study, instrument)
    if ds.n_rows < MIN_ANALYSIS_ROWS:
        raise Conflict(
            f"{ds.n_rows} participant(s) completed {instrument}; the analysis needs at least {MIN_ANALYSIS_ROWS}",
            field="instrument",
            value=instrument,
        )
    inst = facade.instrument(ds.spec.id, ds.spec.version)
    groups = [c for c in ds.covariates.columns if ds.covariates[c].dropna().nunique() >= 2]
    with np.errstate(divide="ignore", invalid="ignore"):  # undefined statistics are named in the report's notes
        try:
            report = technical.analyze(inst, ds, groups=groups)
        except ValueError:
            report = technical.analyze(inst, ds)  # groups too small for DIF: the rest of the report still stands
    audit.append(
        session,
        principal.actor,
        "study_analysis",
        "study",
        study.id,
        None,
        ip,
        {"instrument": inst.ref, "rows": ds.n_rows},
    )
    return technical.render(report, fmt, lang), ANALYSIS_FORMATS[fmt]


def build_norm_table(
    session: Session,
    principal: Principal,
    vault: Vault,
    study_id: str,
    data: dict[str, Any],
    ip: str | None = None,
) -> StudyNormTable:
    """A draft norm table from a study's completed participants (``scoring.research.build_norms``)."""
    study = get(session, principal, study_id)
    instrument = str(data.get("instrument") or "")
    norm_id = str(data.get("norm_id") or "").strip()
    version = str(data.get("version") or "").strip()
    if not _NORM_ID.fullmatch(norm_id):
        raise Invalid("norm_id: 2–41 characters a-z, 0-9 and -", field="norm_id", value=norm_id)
    if not _NORM_VERSION.fullmatch(version):
        raise Invalid("version: numbers like 1.0", field="version", value=version)
    population = _text(data, "population", 500)
    min_group_n = data.get("min_group_n", 100)
    if isinstance(min_group_n, bool) or not isinstance(min_group_n, int) or min_group_n < 1:
        raise Invalid("min_group_n must be a whole number ≥ 1", field="min_group_n", value=min_group_n)
    ds, people = dataset(session, vault, study, instrument)
    if ds.n_rows == 0:
        raise Conflict(f"no participant completed {instrument} yet", field="instrument", value=instrument)
    taken = session.execute(
        select(StudyNormTable.id).where(
            StudyNormTable.instrument == ds.spec.id,
            StudyNormTable.norm_id == norm_id,
            StudyNormTable.version == version,
        )
    ).first()
    if taken is not None or _file_norm_exists(ds.spec.id, norm_id, version):
        raise Conflict(
            f"norm table {norm_id}@{version} exists already; give a new version", field="version", value=version
        )
    if ds.spec.ipsative:
        raise Invalid(f"{ds.spec.ref} is scored ipsatively: it cannot be normed", field="instrument", value=instrument)
    policy = scoring.MissingPolicy()
    scores = scoring.score(ds.spec, ds.responses, missing=policy).scales.score
    days = [p.completed_at.date() for p in people if p.completed_at is not None]
    # a small sample's undefined statistics (α of a scale whose items do not vary) are left out, not errors
    with np.errstate(divide="ignore", invalid="ignore"):
        table = rs.build_norms(
            ds.spec,
            scores,
            responses=ds.responses,
            norm_id=norm_id,
            version=version,
            population=population,
            collected_from=min(days),
            collected_to=max(days),
            groups={c: ds.covariates[c].to_numpy(dtype=object) for c in ds.covariates.columns},
            description=str(data.get("description") or f"study {study.title_en}"),
            min_group_n=min_group_n,
            scores_policy=policy.describe(),
        )
    with tempfile.TemporaryDirectory() as tmp:
        _, meta_path = rs.write_norms(table, tmp)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        csv = (meta_path.parent / meta["table"]).read_text(encoding="utf-8")
    row = StudyNormTable(
        study_id=study.id,
        instrument=table.instrument,
        instrument_version=table.instrument_version,
        norm_id=norm_id,
        version=version,
        meta=meta,
        table_csv=csv,
        status="draft",
        created_by=principal.id if principal.kind == "user" else None,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        principal.actor,
        "build_norms",
        "norm_table",
        str(row.id),
        None,
        ip,
        {"ref": table.ref, "n": table.sample.n},
    )
    return row


def _file_norm_exists(instrument: str, norm_id: str, version: str) -> bool:
    from .research import norms_root

    return any(norms_root().glob(f"{instrument}-*/{norm_id}-{version}.json"))


def read_table(row: StudyNormTable) -> rs.NormTable:
    """The stored table as the research toolkit's ``NormTable`` (through its own file format)."""
    with tempfile.TemporaryDirectory() as tmp:
        meta_path = Path(tmp) / "table.json"
        meta_path.write_text(json.dumps(row.meta), encoding="utf-8")
        (Path(tmp) / row.meta["table"]).write_text(row.table_csv, encoding="utf-8")
        return rs.read_norms(meta_path)


def norm_tables(session: Session, principal: Principal, study_id: str | None = None) -> list[StudyNormTable]:
    principal.require("studies.manage")
    q = select(StudyNormTable).order_by(StudyNormTable.created_at.desc(), StudyNormTable.id.desc())
    if study_id is not None:
        q = q.where(StudyNormTable.study_id == study_id)
    return list(session.execute(q).scalars())


def norm_table(session: Session, principal: Principal, study_id: str, table_id: int) -> StudyNormTable:
    principal.require("studies.manage")
    row = session.get(StudyNormTable, table_id)
    if row is None or row.study_id != study_id:
        raise NotFound(f"no norm table {table_id} in this study", field="norm_table", value=table_id)
    return row


def describe_table(row: StudyNormTable) -> dict[str, Any]:
    s = row.meta["sample"]
    return {
        "id": row.id,
        "study": row.study_id,
        "ref": f"{row.norm_id}@{row.version}",
        "choose_as": f"{row.instrument}/{row.norm_id}",
        "instrument": row.instrument,
        "instrument_version": row.instrument_version,
        "status": row.status,
        "sample": {k: s[k] for k in ("population", "n", "collected_from", "collected_to", "groups")},
        "min_group_n": row.meta["min_group_n"],
        "published_at": row.published_at.isoformat() if row.published_at else None,
    }


def publish(
    session: Session, principal: Principal, study_id: str, table_id: int, ip: str | None = None
) -> StudyNormTable:
    """Publish a draft: from now on a psychologist may choose it in a report. Published tables do not change."""
    row = norm_table(session, principal, study_id, table_id)
    if row.status != "draft":
        raise Conflict(f"{row.norm_id}@{row.version} is published already", field="norm_table", value=table_id)
    read_table(row)  # it must read back as a norm table before anyone can choose it
    row.status = "published"
    row.published_at = dt.datetime.now(dt.UTC)
    row.published_by = principal.id if principal.kind == "user" else None
    audit.append(
        session,
        principal.actor,
        "publish_norms",
        "norm_table",
        str(row.id),
        None,
        ip,
        {"ref": f"{row.norm_id}@{row.version}"},
    )
    return row


def published_table(session: Session, instrument: str, norm_id: str) -> rs.NormTable | None:
    """The newest published version of a study norm table (drafts are never returned)."""
    row = session.execute(
        select(StudyNormTable)
        .where(
            StudyNormTable.instrument == instrument,
            StudyNormTable.norm_id == norm_id,
            StudyNormTable.status == "published",
        )
        .order_by(StudyNormTable.published_at.desc(), StudyNormTable.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if row is None else read_table(row)


def published_choices(session: Session, principal: Principal, versions: set[tuple[str, str]]) -> list[dict[str, str]]:
    """Norm tables a report may use for results of these (instrument, version) pairs: published study
    tables and the real tables in data/norms/ (``value``: how a report names it, 'instrument/norm id').
    A table built for another version of the instrument is not offered (a report would refuse it)."""
    from .research import norms_root

    principal.require("norms.read")
    out: dict[str, dict[str, str]] = {}
    for meta in sorted(norms_root().glob("*/*.json")):
        t = rs.read_norms(meta)
        if not t.sample.synthetic and (t.instrument, t.instrument_version) in versions:
            out[f"{t.instrument}/{t.norm_id}"] = {
                "value": f"{t.instrument}/{t.norm_id}",
                "label": f"{t.ref} · N={t.sample.n}",
            }
    rows = session.execute(
        select(StudyNormTable).where(StudyNormTable.status == "published").order_by(StudyNormTable.published_at)
    ).scalars()
    for row in rows:
        if (row.instrument, row.instrument_version) in versions:
            sample = row.meta["sample"]
            out[f"{row.instrument}/{row.norm_id}"] = {
                "value": f"{row.instrument}/{row.norm_id}",
                "label": f"{row.norm_id}@{row.version} · {sample['population']} · N={sample['n']}",
            }
    return list(out.values())


# -- field collection: ODK Collect / KoboToolbox submissions -----------------------------------------

IMPORT_MAX_BYTES = 5_000_000
"""The largest export a study import reads (about 20,000 submissions of the longest instrument)."""
_SUBMITTED_AT = ("_submission_time", "end", "SubmissionDate", "submissiondate")


class ImportProblems(Invalid):
    """A field export failed the checks: ``checked`` holds every problem; nothing was written."""

    def __init__(self, checked: Any) -> None:
        n = len(checked.problems)
        first = checked.problems[0]
        super().__init__(
            f"{checked.filename}: {n} problem(s), nothing was imported; first: {first}",
            field="file",
            errors=[
                {
                    "row": p.row or None,
                    "item": p.column,
                    "value": None if p.value is None else str(p.value),
                    "code": p.code,
                    "reason": p.message,
                }
                for p in checked.problems
            ],
        )
        self.checked = checked


def submission_key(study: Study, submission: str) -> str:
    """The stored key of a field submission: SHA-256 of the study and the submission's id (``uuid:`` and
    case dropped, so Kobo's ``_uuid`` and ``meta/instanceID`` of one submission give the same key)."""
    text = submission.strip().lower().removeprefix("uuid:")
    return hashlib.sha256(f"{study.id}|{text}".encode()).hexdigest()


def _when(raw: Any, n: int) -> list[dt.datetime]:
    """Each row's submission time (the export's ``_submission_time`` or ``end``), else now."""
    now = dt.datetime.now(dt.UTC)
    if raw is None:
        return [now] * n
    got = pd.to_datetime(pd.Series(raw, dtype=object), errors="coerce", utc=True, format="mixed")
    return [now if pd.isna(t) else t.to_pydatetime() for t in got]


def import_submissions(
    session: Session,
    principal: Principal,
    study_id: str,
    instrument: str,
    filename: str,
    data: bytes,
    missing_codes: list[str] | None = None,
    ip: str | None = None,
    *,
    max_bytes: int = IMPORT_MAX_BYTES,
) -> dict[str, Any]:
    """Import the CSV / XLSX a field tool exported for one of the study's instruments (its XLSForm).

    Each submission becomes an anonymous completed participant with that instrument's answers (no
    code to open, no name, no beneficiary); columns named as the study's demographic questions fill
    those answers. All or nothing: any problem in the file (an answer, an id, a column, a question)
    and nothing is written; ``ImportProblems`` lists them all. Idempotent: a submission whose id
    (``_uuid`` / ``meta/instanceID``) was imported into this study before is counted, not added again.
    """
    from . import datasets

    study = get(session, principal, study_id)
    entry = _entry(study, instrument)
    inst = facade.instrument(entry["id"], entry["version"])
    if len(data) > max_bytes:
        raise Invalid(
            f"{filename}: {len(data)} bytes; a study import reads at most {max_bytes} (split the export)",
            field="file",
            value=len(data),
        )
    checked = datasets.check_upload(
        inst,
        filename,
        data,
        missing_codes=missing_codes or (),
        covariates=[q["id"] for q in study.questions],
        submissions=True,
    )
    questions = list(checked.covariates)
    about: list[dict[str, Any]] = []
    today = dt.date.today()
    if checked.raw is not None:
        columns = {q: checked.header.index(q) for q in questions}
        for r in range(checked.n_rows):
            given = {q: datasets.cell_text(checked.raw.iat[r, k]).strip() for q, k in columns.items()}
            try:
                about.append(check_about(study, given, today.year))
            except Invalid as exc:
                checked.problems.append(
                    rs.DatasetProblem(
                        "bad_answer",
                        exc.detail,
                        row=r + 1,
                        column=str(exc.extra.get("field")),
                        value=exc.extra.get("value"),
                    )
                )
    if checked.problems or checked.dataset is None:
        raise ImportProblems(checked)
    ds = checked.dataset
    keys = [submission_key(study, str(s)) for s in ds.ids]
    known = set(
        session.execute(
            select(StudyParticipant.submission_key).where(
                StudyParticipant.study_id == study.id, StudyParticipant.submission_key.in_(keys)
            )
        ).scalars()
    )
    assert checked.raw is not None
    when_col = next((c for c in _SUBMITTED_AT if c in checked.header), None)
    times = _when(None if when_col is None else checked.raw.iloc[:, checked.header.index(when_col)].tolist(), ds.n_rows)
    new = [r for r, key in enumerate(keys) if key not in known]
    try:
        with session.begin_nested():
            people = [
                StudyParticipant(
                    study_id=study.id,
                    code_hash=hash_token(_new_code()),  # never shown: an imported participant has no code to open
                    status=COMPLETED,
                    answers=about[r],
                    consented_at=times[r],
                    completed_at=times[r],
                    submission_key=keys[r],
                )
                for r in new
            ]
            session.add_all(people)
            session.flush()
            for r, p in zip(new, people, strict=True):
                a = Administration(
                    id=str(uuid.uuid4()),
                    beneficiary_id=None,
                    participant_id=p.id,
                    instrument=inst.id,
                    instrument_version=inst.version,
                    mode="field",
                    status="submitted",
                    created_at=times[r],
                    updated_at=times[r],
                    submitted_at=times[r],
                )
                session.add(a)
                row = ds.responses[r]
                session.add_all(
                    Answer(
                        administration_id=a.id,
                        item=item,
                        value=None if int(row[j]) == int(scoring.MISSING) else str(int(row[j])),
                    )
                    for j, item in enumerate(ds.spec.item_ids)
                )
            session.flush()
    except IntegrityError:
        raise Conflict(
            "the same submissions were being imported at the same moment; import the file again "
            "(what is imported already is counted, not added twice)",
            field="file",
        ) from None
    report = {
        "rows": ds.n_rows,
        "imported": len(new),
        "already": ds.n_rows - len(new),
        "instrument": inst.ref,
        "unused_columns": list(checked.unused),
        "questions": questions,
    }
    audit.append(
        session,
        principal.actor,
        "import_submissions",
        "study",
        study.id,
        None,
        ip,
        {"instrument": inst.ref, "rows": ds.n_rows, "imported": len(new)},
    )
    return report
