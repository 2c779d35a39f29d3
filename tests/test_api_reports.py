"""Reports through the API: per result, the integrated profile, and a packet as its addressee sees it."""

from __future__ import annotations

import io

from pypdf import PdfReader

import instruments
from tests.api_helpers import INTAKE, administer, answers_for


def _strained_vdq() -> dict[str, str]:
    import instruments

    vdq = instruments.load("vdq")
    # every barrier strong, emotional strain included; certainty low
    return {i.id: ("4" if (i.scale != "certainty") == (i.keyed == 1) else "1") for i in vdq.items}


def test_reports_profile_and_packet(service):
    sw, psy = service.client("social_worker"), service.client("psychologist")
    officer = service.client("employment_officer")
    code = sw.post("/v1/beneficiaries", json={"name": "ეკა <script>alert(1)</script>"}).json()["code"]
    administer(sw, code, "intake", INTAKE)
    vdq = administer(psy, code, "vdq", _strained_vdq())
    sds = administer(psy, code, "sds", answers_for("sds", 2), aspirations=["hairdresser", "cook", "SAE"])
    administer(psy, code, "ppi", answers_for("ppi", 3))
    strain = instruments.load("vdq").scale("emotional_strain").name.en

    r = psy.get(f"/v1/results/{sds['id']}/report", params={"lang": "en", "audience": "psychologist"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert sds["record"]["codes"][0] in r.text
    r = psy.get(f"/v1/results/{vdq['id']}/report", params={"lang": "en", "audience": "psychologist"})
    assert strain.lower() in r.text.lower()

    prof = psy.get(f"/v1/beneficiaries/{code}/profile", params={"lang": "ka", "format": "pdf"})
    assert prof.status_code == 200 and prof.content[:4] == b"%PDF"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(prof.content)).pages)
    assert code in text and any("\u10d0" <= ch <= "\u10ff" for ch in text)
    js = psy.get(f"/v1/beneficiaries/{code}/profile", params={"lang": "en", "format": "json"}).json()
    assert js

    # the social worker sees only the employment version; never the beneficiary or clinical ones
    assert sw.get(f"/v1/beneficiaries/{code}/profile", params={"audience": "psychologist"}).status_code == 403
    emp = sw.get(f"/v1/beneficiaries/{code}/profile", params={"audience": "employment", "lang": "en"})
    assert emp.status_code == 200 and strain.lower() not in emp.text.lower()
    assert "<script>alert(1)</script>" not in emp.text

    packet = sw.post(
        "/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]}
    ).json()
    sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile"]})
    assert sw.post(f"/v1/packets/{packet['id']}/send").status_code == 201
    rep = officer.get(f"/v1/packets/{packet['id']}/report", params={"lang": "en"})
    assert rep.status_code == 200
    assert strain.lower() not in rep.text.lower()
    pdf = officer.get(f"/v1/packets/{packet['id']}/report", params={"lang": "ka", "format": "pdf"})
    assert pdf.content[:4] == b"%PDF" and "attachment" in pdf.headers["content-disposition"]
    assert service.client("other_officer").get(f"/v1/packets/{packet['id']}/report").status_code == 404
    assert officer.get(f"/v1/beneficiaries/{code}/profile").status_code == 403


def test_a_chosen_norm_table_is_used_and_named(service, tmp_path, monkeypatch):
    import datetime as dt

    import numpy as np

    import scoring
    from api.domain import reporting
    from scoring import research

    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "ნორმა"}).json()["code"]
    result = administer(psy, code, "sds", answers_for("sds", 5))
    spec = instruments.scoring_spec(instruments.load("sds"))
    rng = np.random.default_rng(1)
    sample = scoring.score(spec, (rng.random((300, len(spec.items))) < 0.5).astype(np.int8)).scales.score
    table = research.build_norms(
        spec,
        sample,
        norm_id="pilot",
        version="1.0",
        population="pilot sample",
        collected_from=dt.date(2027, 1, 1),
        collected_to=dt.date(2027, 3, 1),
    )
    research.write_norms(table, tmp_path)
    monkeypatch.setattr(reporting, "norms_root", lambda: tmp_path)
    plain = psy.get(f"/v1/results/{result['id']}/report", params={"lang": "en"})
    normed = psy.get(f"/v1/results/{result['id']}/report", params={"lang": "en", "norm": "sds/pilot"})
    assert normed.status_code == 200, normed.text
    assert "pilot@1.0" in normed.text and "pilot@1.0" not in plain.text
    missing = psy.get(f"/v1/results/{result['id']}/report", params={"norm": "sds/none"})
    assert missing.status_code == 404 and missing.json()["field"] == "norm"
