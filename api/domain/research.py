"""Researchers' view of the stored data: pseudonymized scores, item analysis of the
stored answers, and the versioned norm tables in ``data/norms/`` (files, never
invented: a table exists only if ``proforient build-norms --write`` made it)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import instruments
import scoring
from api import scoring_facade as facade
from api.db.tables import Administration, Answer, Beneficiary, Result
from scoring import research

from . import audit
from .access import Principal
from .errors import Invalid, NotFound
from .retention import personal_fields


def norms_root() -> Path:
    return instruments.data_dir() / "norms"


def pseudonym(key: bytes | str, study: str, code: str) -> str:
    """A per-study keyed hash (HMAC-SHA-256 under the research key): stable within a study, unlinkable
    across studies, and unknown to anyone without the key."""
    raw = key.encode() if isinstance(key, str) else key
    return hmac.new(raw + b"|" + study.encode(), code.encode(), hashlib.sha256).hexdigest()[:16]


AGE_BANDS: tuple[tuple[int, int | None], ...] = ((0, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, None))
"""The age bands research exports give instead of a birth year (age in the year of scoring)."""


def age_band(birth_year: int | None, year: int) -> str | None:
    """The band of the age reached in ``year``: ``"18-24"``, …, ``"65+"``; ``"<18"`` below 18; None unknown.

    >>> age_band(2000, 2026), age_band(2009, 2026), age_band(1950, 2026), age_band(None, 2026)
    ('25-34', '<18', '65+', None)
    """
    if birth_year is None:
        return None
    age = year - birth_year
    for lo, hi in AGE_BANDS:
        if hi is None:
            return f"{lo}+"
        if age <= hi:
            return f"<{hi + 1}" if lo == 0 else f"{lo}-{hi}"
    raise AssertionError("unreachable: the last band is open")


def research_record(r: Result) -> dict[str, Any]:
    """A stored result's record for researchers: an intake form's ``personal`` fields left out."""
    record = dict(r.record)
    if isinstance(record.get("values"), dict):
        personal = personal_fields(r.instrument, r.instrument_version)
        record["values"] = {k: v for k, v in record["values"].items() if k not in personal}
    return record


def _current_results(instrument: str) -> Any:
    return (
        select(Result, Beneficiary)
        .join(Beneficiary, Beneficiary.id == Result.beneficiary_id)
        .where(
            Result.instrument == instrument,
            Result.id.not_in(select(Result.supersedes_id).where(Result.supersedes_id.is_not(None))),
        )
    )


def _month(at: dt.datetime, zone: str) -> str:
    """``YYYY-MM`` of a stored (UTC) time in the service's time zone."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m")


def _quasi(b: Beneficiary, r: Result, zone: str) -> tuple[str | None, str | None, str]:
    """(gender, age band, month scored): the quasi-identifiers an export carries, coarsened."""
    month = _month(r.created_at, zone)
    return b.gender, age_band(b.birth_year, int(month[:4])), month


@dataclass(frozen=True)
class ResearchResults:
    """One page (or all) of an instrument's current results for a study, and the export's k."""

    items: list[dict[str, Any]]
    total: int
    smallest_group: int
    """k-anonymity of the whole export: the fewest results sharing one (gender, age band, month)."""


def results(
    session: Session,
    principal: Principal,
    key: bytes | str,
    instrument: str,
    study: str,
    offset: int,
    limit: int,
    ip: str | None = None,
    zone: str = "Asia/Tbilisi",
) -> ResearchResults:
    """Current scores of one instrument, each under a study pseudonym; no names, codes or contacts.

    Quasi-identifiers are coarsened: birth year → age band (``age_band``, the age reached in the
    year scored), the scoring time → its month in ``zone``. ``smallest_group`` reports the
    export's k (over every current result, not just this page).
    """
    principal.require("research.read")
    q = _current_results(instrument)
    every = session.execute(
        select(Beneficiary.gender, Beneficiary.birth_year, Result.created_at)
        .join(Beneficiary, Beneficiary.id == Result.beneficiary_id)
        .where(Result.id.in_(select(q.subquery().c.id)))
    ).all()
    groups = Counter((g, age_band(y, int(_month(at, zone)[:4])), _month(at, zone)) for g, y, at in every)
    rows = session.execute(q.order_by(Result.created_at, Result.id).offset(offset).limit(limit)).all()
    items = []
    for r, b in rows:  # the personal (free-text) fields of a form never leave in an export
        gender, band, month = _quasi(b, r, zone)
        items.append(
            {
                "pseudonym": pseudonym(key, study, b.code),
                "gender": gender,
                "age_band": band,
                "scored_month": month,
                "instrument_version": r.instrument_version,
                "engine_version": r.engine_version,
                "record": research_record(r),
            }
        )
    audit.append(
        session,
        principal.actor,
        "research_export",
        "result",
        None,
        None,
        ip,
        {"instrument": instrument, "study": study, "rows": len(items)},
    )
    return ResearchResults(items, len(every), min(groups.values(), default=0))


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """Dotted columns of a JSON record: lists of objects with an ``id`` keyed by it, other lists joined."""
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v for v in value):
        for v in value:
            _flatten(f"{prefix}.{v['id']}", {k: x for k, x in v.items() if k != "id"}, out)
    elif isinstance(value, list):
        out[prefix] = ";".join("".join(map(str, v)) if isinstance(v, list) else str(v) for v in value)
    else:
        out[prefix] = value


def results_csv(items: list[dict[str, Any]]) -> str:
    """The exported results as one CSV table: the coarsened quasi-identifiers, then every field of the
    record as a dotted column (``scales.<id>.score``, ``provenance.version``, …), in first-seen order;
    a UTF-8 byte-order mark so that spreadsheets read Georgian."""
    flat: list[dict[str, Any]] = []
    for it in items:
        row = {k: v for k, v in it.items() if k != "record"}
        _flatten("", it["record"], row)
        flat.append(row)
    columns: dict[str, None] = {}
    for row in flat:
        columns.update(dict.fromkeys(row))
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(columns))
    for row in flat:
        w.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return buf.getvalue()


def stored_answers(session: Session, instrument: str, version: str) -> np.ndarray:
    """The engine's int8 matrix of every submitted administration of one instrument version."""
    inst = facade.instrument(instrument, version)
    mine = (
        Administration.instrument == instrument,
        Administration.instrument_version == version,
        Administration.status == "submitted",
    )
    ids = session.execute(select(Administration.id).where(*mine).order_by(Administration.submitted_at)).scalars().all()
    col = {item: j for j, item in enumerate(inst.item_ids)}
    block = np.full((len(ids), len(col)), None, dtype=object)
    row = {a: r for r, a in enumerate(ids)}
    if ids:
        # plain (id, item, value) rows through a join: no ORM objects and no list of ids as parameters,
        # so 10,000 administrations take well under a second rather than several
        answers = session.execute(
            select(Answer.administration_id, Answer.item, Answer.value)
            .join(Administration, Administration.id == Answer.administration_id)
            .where(*mine)
        )
        for a, item, value in answers:
            j = col.get(item)
            r = row.get(a)
            if j is not None and r is not None:
                block[r, j] = value
    return scoring.parse_block(facade.spec(instrument, version), block)


@dataclass(frozen=True)
class StoredReliability:
    """Cronbach's α and score SD per scale, from the answers this service holds for one instrument version."""

    instrument: str
    version: str
    n: int
    """Administrations the estimates come from."""
    as_of: dt.date
    """Date of the newest stored result they include."""
    scales: dict[str, tuple[float, float]]
    """Scale id → (α, SD); scales whose α or SD is undefined are absent."""


_RELIABILITY_CACHE: OrderedDict[tuple[str, str, str, int, str], StoredReliability] = OrderedDict()
_RELIABILITY_LOCK = threading.Lock()
_RELIABILITY_CACHE_SIZE = 32


def _recent_enough(
    session: Session, database: str, instrument: str, version: str, count: int
) -> StoredReliability | None:
    """The cached estimate with the most results, if they are at least 99 % of ``count`` and its
    newest result is still stored (so it describes these results, not a restored or cleared copy)."""
    with _RELIABILITY_LOCK:
        candidates = sorted(
            (
                (n, newest, value)
                for (db, iid, ver, n, newest), value in _RELIABILITY_CACHE.items()
                if db == database and iid == instrument and ver == version and 0.99 * count <= n <= count
            ),
            key=lambda c: c[0],
            reverse=True,
        )
    for _, newest, value in candidates:
        if session.get(Result, newest) is not None:
            return value
    return None


def stored_reliability(session: Session, instrument: str, version: str, min_n: int) -> StoredReliability | None:
    """α and SD of every scale from the stored answers of ``instrument``@``version``, once at least
    ``min_n`` administrations of it are scored; None below that, for the intake form and for ipsative
    (forced-choice between scales) instruments. No access check: reports use it, and it returns only
    aggregates.

    The estimate is cached under (instrument, version, count of scored results, newest result
    id). A change of the stored results makes it stale, but an estimate from at least 99 % of the
    current results is still served (it names its own N and date, so it stays true): with
    thousands stored, a new submission does not make the next report wait for a recomputation
    that would move α in the third decimal.
    """
    inst = facade.instrument(instrument, version)
    if inst.model == "intake" or inst.ipsative:
        return None
    # one pass over the results: the newest one and (as a window) how many there are
    newest = session.execute(
        select(Result.id, Result.created_at, func.count().over())
        .where(Result.instrument == inst.id, Result.instrument_version == inst.version)
        .order_by(Result.created_at.desc(), Result.id.desc())
        .limit(1)
    ).first()
    if newest is None or newest[2] < max(min_n, 3):  # re-scorings add results: the answers decide below
        return None
    newest_id, newest_at, count = newest
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    database = engine.url.render_as_string(hide_password=True)
    key = (database, inst.id, inst.version, int(count), str(newest_id))
    with _RELIABILITY_LOCK:
        hit = _RELIABILITY_CACHE.get(key)
        if hit is not None:
            _RELIABILITY_CACHE.move_to_end(key)
    if hit is None:
        hit = _recent_enough(session, database, inst.id, inst.version, int(count))
    if hit is None:
        x = stored_answers(session, inst.id, inst.version)
        spec = facade.spec(inst.id, inst.version)
        per = research.sample_reliability(spec, scoring.score(spec, x).scales.score, x) if len(x) >= 3 else {}
        hit = StoredReliability(
            inst.id,
            inst.version,
            int(len(x)),
            newest_at.date(),
            {sid: (r.alpha, r.sd) for sid, r in per.items()},
        )
        with _RELIABILITY_LOCK:
            _RELIABILITY_CACHE[key] = hit
            while len(_RELIABILITY_CACHE) > _RELIABILITY_CACHE_SIZE:
                _RELIABILITY_CACHE.popitem(last=False)
    return hit if hit.n >= min_n else None


def item_analysis(
    session: Session,
    principal: Principal,
    instrument: str,
    version: str | None = None,
    ip: str | None = None,
    missing: str = "pairwise",
) -> dict[str, Any]:
    """Classical item and scale analysis of the stored answers (aggregates only), under the named
    missing-data policy (``pairwise``, ``listwise_scale`` or ``listwise``; ``research.describe_missing``)."""
    if missing not in research.MISSING_POLICIES:
        raise Invalid(f"missing must be one of {', '.join(research.MISSING_POLICIES)}", field="missing", value=missing)
    principal.require("research.read")
    inst = facade.instrument(instrument, version)
    if inst.model == "intake":
        raise Invalid("the intake form has no scales to analyse", field="instrument", value=instrument)
    x = stored_answers(session, inst.id, inst.version)
    if len(x) < 3:
        raise Invalid(
            f"{len(x)} submitted administration(s) of {inst.ref}; an item analysis needs at least 3",
            field="instrument",
            value=instrument,
        )
    spec = facade.spec(inst.id, inst.version)
    ia = research.item_analysis(spec, x, missing=missing)  # undefined statistics: notes
    audit.append(
        session,
        principal.actor,
        "item_analysis",
        "result",
        None,
        None,
        ip,
        {"instrument": inst.ref, "rows": int(len(x)), "missing": missing},
    )
    return {
        "instrument": inst.id,
        "instrument_version": inst.version,
        "n": int(len(x)),
        "n_analysed": ia.n_rows,
        "missing": ia.missing,
        "missing_description": research.describe_missing(ia.missing),
        "scores_policy": ia.scores,
        "scales": [{k: facade.json_safe(v) for k, v in r.items()} for r in ia.scales_frame().to_dict("records")],
        "items": [{k: facade.json_safe(v) for k, v in r.items()} for r in ia.items.to_frame().to_dict("records")],
        "intercorrelations": {
            s: [facade.json_safe(v) for v in row]
            for s, row in zip(ia.scale_ids, ia.intercorrelations.tolist(), strict=True)
        },
        "notes": list(ia.notes),
    }


def norm_tables(principal: Principal) -> list[dict[str, Any]]:
    principal.require("norms.read")
    out = []
    for meta in sorted(norms_root().glob("*/*.json")):
        t = research.read_norms(meta)
        out.append(
            {
                "id": t.norm_id,
                "version": t.version,
                "ref": t.ref,
                "instrument": t.instrument,
                "instrument_version": t.instrument_version,
                "scales": list(t.scales),
                "groups": list(t.groups),
                "sample": {
                    "population": t.sample.population,
                    "n": t.sample.n,
                    "collected_from": t.sample.collected_from,
                    "collected_to": t.sample.collected_to,
                    "groups": t.sample.groups,
                    "description": t.sample.description,
                },
            }
        )
    return out


def norm_table(principal: Principal, instrument: str, norm_id: str) -> dict[str, Any]:
    """One norm table (newest version of ``norm_id`` for the instrument)."""
    principal.require("norms.read")
    found = list(norms_root().glob(f"{instrument}-*/{norm_id}-*.json"))
    if not found:
        raise NotFound(f"no norm table {norm_id!r} for {instrument!r}", field="norm", value=norm_id)
    t = research.read_norms(sorted(found)[-1])
    rows = [{k: facade.json_safe(v) for k, v in r.items()} for r in t.table.to_dict("records")]
    return {
        "ref": t.ref,
        "instrument": t.instrument,
        "instrument_version": t.instrument_version,
        "scales": list(t.scales),
        "sample": {"population": t.sample.population, "n": t.sample.n},
        "table": rows,
    }
