"""Migration 0004 on a database of the release before: flat result rows become typed records.

The release before stored each result as the flat dict of ``proforient score``'s columns. A
database at revision 0003 with such rows (made here by the service, then downgraded: the
downgrade writes the flat rows back) is upgraded to head; every result must read back as the
same typed record and render the same report as before, a 1.0 result included.
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from api.db.session import alembic_config
from tests.api_helpers import INTAKE, administer, answers_for
from tests.conftest import BACKENDS, build_service


def _results(engine) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        cols = {c["name"] for c in inspect(conn).get_columns("results")}
        col = "record" if "record" in cols else "scores"
        rows = conn.execute(text(f"SELECT id, {col} FROM results")).all()
    out = {}
    for rid, value in rows:
        if isinstance(value, str):  # JSON read back as text by some drivers
            import json

            value = json.loads(value)
        out[rid] = value
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_flat_results_of_the_release_before_become_the_same_records(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    svc = build_service(backend, tmp_path)
    sw, psy = svc.client("social_worker"), svc.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={}).json()["code"]
    administer(sw, code, "intake", INTAKE)
    made = {iid: administer(psy, code, iid, answers_for(iid, 5)) for iid in ("vdq", "sds", "ppi")}
    a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq", "version": "1.0"}).json()
    psy.patch(f"/v1/administrations/{a['id']}/answers", json={"answers": answers_for("vdq", 6)})
    old = psy.post(f"/v1/administrations/{a['id']}/submit").json()
    assert old["instrument_version"] == "1.0"

    def reports() -> dict[str, dict]:
        c = svc.client("psychologist")
        return {
            rid: c.get(f"/v1/results/{rid}/report", params={"lang": "ka", "format": "json"}).json()
            for rid in [r["id"] for r in made.values()] + [old["id"]]
        }

    before = reports()
    url = svc.settings.database_url
    svc.app.state.engine.dispose()  # type: ignore[attr-defined]
    engine = create_engine(url)
    try:
        records = _results(engine)
        cfg = alembic_config(url)
        command.downgrade(cfg, "0003")
        flat = _results(engine)
        # the release before's rows: flat columns, a scale's raw score under its own id, codes as text
        vdq = flat[made["vdq"]["id"]]
        certainty = next(s for s in records[made["vdq"]["id"]]["scales"] if s["id"] == "certainty")
        assert vdq["certainty"] == pytest.approx(certainty["score"])  # the mean of its six items
        assert certainty["raw"] == pytest.approx(certainty["score"] * 6)
        assert vdq["certainty_band"] == certainty["band"]
        assert isinstance(flat[made["sds"]["id"]]["code"], str)
        assert flat[old["id"]]["instrument_version"] == "1.0"

        command.upgrade(cfg, "head")
        assert _results(engine) == records
    finally:
        engine.dispose()
    after = reports()
    for rid, rep in before.items():
        assert after[rid] == rep, rid
    assert after[old["id"]]["provenance"][0]["version"] == "1.0"
