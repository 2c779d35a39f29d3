"""Researchers' view of the stored data: pseudonymized scores, item analysis of the
stored answers, and the versioned norm tables in ``data/norms/`` (files, never
invented: a table exists only if ``proforient build-norms --write`` made it)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import instruments
import scoring
from api import service
from api.db.tables import Administration, Answer, Beneficiary, Result
from scoring import research

from . import audit
from .access import Principal
from .errors import Invalid, NotFound


def norms_root() -> Path:
    return instruments.data_dir() / "norms"


def pseudonym(secret: str, study: str, code: str) -> str:
    """A per-study salted hash: stable within a study, unlinkable across studies."""
    return hmac.new(f"{secret}:{study}".encode(), code.encode(), hashlib.sha256).hexdigest()[:16]


def results(
    session: Session,
    principal: Principal,
    secret: str,
    instrument: str,
    study: str,
    offset: int,
    limit: int,
    ip: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Scores of one instrument, each under a study pseudonym; no names, codes or contacts."""
    principal.require("research.read")
    q = (
        select(Result, Beneficiary)
        .join(Beneficiary, Beneficiary.id == Result.beneficiary_id)
        .where(Result.instrument == instrument, Result.supersedes_id.is_(None))
    )
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(q.order_by(Result.created_at).offset(offset).limit(limit)).all()
    items = [
        {
            "pseudonym": pseudonym(secret, study, b.code),
            "gender": b.gender,
            "birth_year": b.birth_year,
            "instrument_version": r.instrument_version,
            "engine_version": r.engine_version,
            "scored_at": r.created_at,
            "scores": {k: v for k, v in r.scores.items() if k != "id"},
        }
        for r, b in rows
    ]
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
    return items, total


def stored_answers(session: Session, instrument: str, version: str) -> np.ndarray:
    """The engine's int8 matrix of every submitted administration of one instrument version."""
    inst = service.instrument(instrument, version)
    ids = (
        session.execute(
            select(Administration.id)
            .where(
                Administration.instrument == instrument,
                Administration.instrument_version == version,
                Administration.status == "submitted",
            )
            .order_by(Administration.submitted_at)
        )
        .scalars()
        .all()
    )
    col = {item: j for j, item in enumerate(inst.item_ids)}
    block = np.full((len(ids), len(col)), None, dtype=object)
    row = {a: r for r, a in enumerate(ids)}
    if ids:
        for a in session.execute(select(Answer).where(Answer.administration_id.in_(ids))).scalars():
            if a.item in col:
                block[row[a.administration_id], col[a.item]] = a.value
    return scoring.parse_block(service.spec(instrument, version), block)


def item_analysis(
    session: Session, principal: Principal, instrument: str, version: str | None = None, ip: str | None = None
) -> dict[str, Any]:
    """Classical item and scale analysis of the stored answers (aggregates only)."""
    principal.require("research.read")
    inst = service.instrument(instrument, version)
    if inst.model == "intake":
        raise Invalid("the intake form has no scales to analyse", field="instrument", value=instrument)
    x = stored_answers(session, inst.id, inst.version)
    if len(x) < 3:
        raise Invalid(
            f"{len(x)} submitted administration(s) of {inst.ref}; an item analysis needs at least 3",
            field="instrument",
            value=instrument,
        )
    ia = research.item_analysis(service.spec(inst.id, inst.version), x)
    audit.append(
        session,
        principal.actor,
        "item_analysis",
        "result",
        None,
        None,
        ip,
        {"instrument": inst.ref, "rows": int(len(x))},
    )
    return {
        "instrument": inst.id,
        "instrument_version": inst.version,
        "n": ia.n_rows,
        "scales": [{k: service.json_safe(v) for k, v in r.items()} for r in ia.scales_frame().to_dict("records")],
        "items": [{k: service.json_safe(v) for k, v in r.items()} for r in ia.items.to_frame().to_dict("records")],
        "intercorrelations": {
            s: [service.json_safe(v) for v in row]
            for s, row in zip(ia.scale_ids, ia.intercorrelations.tolist(), strict=True)
        },
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
    found = [m for m in norms_root().glob(f"{instrument}-*/{norm_id}-*.json")]
    if not found:
        raise NotFound(f"no norm table {norm_id!r} for {instrument!r}", field="norm", value=norm_id)
    t = research.read_norms(sorted(found)[-1])
    rows = [{k: service.json_safe(v) for k, v in r.items()} for r in t.table.to_dict("records")]
    return {
        "ref": t.ref,
        "instrument": t.instrument,
        "instrument_version": t.instrument_version,
        "scales": list(t.scales),
        "sample": {"population": t.sample.population, "n": t.sample.n},
        "table": rows,
    }
