"""Results as typed records, and their lifecycle: rescore, correct, discard; "latest" is the latest
administration; a new instrument (a renamed copy under a new id and version) needs data, not code.

Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import shutil

import pytest
from pypdf import PdfReader
from sqlalchemy import select

import instruments
import scoring
from api import scoring_facade as scoring_service
from api.db.tables import AuditEntry, Correction, Result
from tests.api_helpers import INTAKE, Web, administer, answers_for


def _new(sw) -> str:  # type: ignore[no-untyped-def]
    return str(sw.post("/v1/beneficiaries", json={"name": "ლია"}).json()["code"])


def test_a_result_is_a_typed_record_that_reads_back(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = _new(sw)
    answers = answers_for("sds", 2)
    r = administer(psy, code, "sds", answers, aspirations=["hairdresser", "SAE"])
    rec = scoring.read_record(r["record"])  # validates
    assert isinstance(rec, scoring.HollandRecord)
    assert rec.provenance.ref == instruments.load("sds").ref
    assert rec.provenance.content_hash == instruments.load("sds").content_hash
    assert [a.given for a in rec.aspirations] == ["hairdresser", "SAE"]
    # the same numbers as scoring the stored answers again, independently of the service
    (again,) = scoring_service.score_answers(instruments.load("sds"), [answers], [["hairdresser", "SAE"]])
    assert again == rec
    schema = service.client("reader").get("/v1/schemas/record").json()
    assert {"DecisionRecord", "HollandRecord", "BipolarRecord", "IntakeRecord"} <= set(schema["$defs"])


def test_rescoring_an_old_administration_does_not_make_it_the_latest(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = _new(sw)
    old = administer(psy, code, "sds", answers_for("sds", 11))
    new = administer(psy, code, "sds", answers_for("sds", 12))
    assert old["record"]["codes"] != new["record"]["codes"]  # two people's worth of different answers
    again = psy.post(f"/v1/results/{old['id']}/rescore").json()
    assert again["supersedes"] == old["id"] and again["kind"] == "rescored"
    # a second rescore, named by the first result, supersedes the end of the line, not the first one
    third = psy.post(f"/v1/results/{old['id']}/rescore").json()
    assert third["supersedes"] == again["id"]
    listing = psy.get(f"/v1/beneficiaries/{code}/results").json()
    assert listing[0]["id"] == new["id"] and listing[0]["current"]  # the latest administration first
    assert [x["current"] for x in listing if x["administration"] == old["administration"]].count(True) == 1
    prof = psy.get(f"/v1/beneficiaries/{code}/profile", params={"lang": "en", "format": "json"}).json()
    assert prof["holland"]["codes"] == new["record"]["codes"]
    # the web page lists one current SDS result and collapses the older ones, marked
    page = Web(service, "psychologist").get(f"/beneficiaries/{code}").text
    assert page.count(f'href="/results/{new["id"]}"') == 1
    assert 'details class="older"' in page


def test_correcting_an_answer_makes_a_new_result_and_keeps_the_change(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = _new(sw)
    answers = answers_for("vdq", 3)
    item = next(i for i, v in answers.items() if v != "1")
    first = administer(psy, code, "vdq", answers)
    # a packet goes out before the correction
    administer(sw, code, "intake", INTAKE)
    sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile"]})
    packet = sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]})
    assert sw.post(f"/v1/packets/{packet.json()['id']}/send").status_code == 201
    sent_hash = sw.get("/v1/registry").json()["items"][0]["content_hash"]

    refused = psy.post(f"/v1/results/{first['id']}/corrections", json={"answers": {item: "1"}, "reason": ""})
    assert refused.status_code == 422
    r = psy.post(
        f"/v1/results/{first['id']}/corrections",
        json={"answers": {item: "1"}, "reason": "keyed in from paper: the person ticked 1"},
    )
    assert r.status_code == 201, r.text
    corrected = r.json()
    assert corrected["kind"] == "corrected" and corrected["supersedes"] == first["id"]
    assert corrected["reason"] == "keyed in from paper: the person ticked 1"
    # the new result is the score of the corrected answers, computed independently
    (expected,) = scoring_service.score_answers(instruments.load("vdq"), [{**answers, item: "1"}])
    assert scoring.read_record(corrected["record"]) == expected
    assert psy.get(f"/v1/results/{first['id']}").json()["current"] is False  # the old one is still readable
    stored = psy.get(f"/v1/administrations/{first['administration']}").json()["answers"]
    assert stored[item] == "1"
    with service.app.state.db.read() as s:
        (c,) = s.execute(select(Correction)).scalars().all()
        assert (c.item, c.old_value, c.new_value) == (item, answers[item], "1")
        actions = [e.action for e in s.execute(select(AuditEntry)).scalars()]
    assert "correct" in actions
    # the packet already sent keeps its content and hash; the social worker is told a newer result exists
    assert sw.get("/v1/registry").json()["items"][0]["content_hash"] == sent_hash
    page = Web(service, "social_worker").get(f"/packets/{packet.json()['id']}").text
    from tests.test_web_pages import KA

    assert KA["packet.newer_results"] in page
    # a correction that changes nothing is refused; a social worker may not correct
    same = psy.post(f"/v1/results/{corrected['id']}/corrections", json={"answers": {item: "1"}, "reason": "again"})
    assert same.status_code == 409
    body = {"answers": {item: "2"}, "reason": "a social worker tries"}
    assert sw.post(f"/v1/results/{corrected['id']}/corrections", json=body).status_code in (403, 404)
    # the psychologist's report of the corrected result says so: when, by whom, which answer, why
    rep = psy.get(f"/v1/results/{corrected['id']}/report", params={"lang": "en"})
    assert rep.status_code == 200
    assert f"({item}: {answers[item]} → 1). Reason: keyed in from paper: the person ticked 1." in rep.text
    ka = psy.get(f"/v1/results/{corrected['id']}/report", params={"lang": "ka", "format": "json"}).json()
    (note,) = ka["meta"]["history"]
    assert f"შესწორებული პასუხები: {item}: {answers[item]} → 1; მიზეზი: keyed in from paper" in note
    # the first result's report has no history; the employment version never shows the free-text reason
    assert psy.get(f"/v1/results/{first['id']}/report", params={"format": "json"}).json()["meta"]["history"] == []
    emp = psy.get(f"/v1/results/{corrected['id']}/report", params={"audience": "employment", "lang": "en"})
    assert emp.status_code == 200 and "keyed in from paper" not in emp.text


def test_a_mistaken_administration_is_discarded_with_a_reason(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = _new(sw)
    a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "ppi"}).json()
    assert psy.post(f"/v1/administrations/{a['id']}/discard", json={"reason": "x"}).status_code == 422
    r = psy.post(f"/v1/administrations/{a['id']}/discard", json={"reason": "started for the wrong person"})
    assert r.status_code == 200 and r.json()["status"] == "discarded"
    assert psy.post(f"/v1/administrations/{a['id']}/submit").status_code == 409
    assert service.client().get(f"/v1/respond/{a['resume_token']}").status_code == 404  # the code is dead
    assert psy.get(f"/v1/beneficiaries/{code}/results").json() == []
    done = administer(psy, code, "ppi", answers_for("ppi", 1))
    assert (
        psy.post(f"/v1/administrations/{done['administration']}/discard", json={"reason": "too late now"}).status_code
        == 409
    )


def test_a_renamed_copy_needs_data_not_code(service_for, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """VDQ copied as 'vdqx' 2.0 with one barrier renamed: administer, score, report ka/en, packet, registry."""
    root = tmp_path / "defs"
    target = root / "vdqx" / "2.0"
    shutil.copytree(instruments.load("vdq").path, target)
    (target / "changes.md").unlink(missing_ok=True)
    toml = (target / "instrument.toml").read_text(encoding="utf-8")
    toml = toml.replace('id = "vdq"', 'id = "vdqx"', 1).replace('version = "1.1"', 'version = "2.0"', 1)
    toml = toml.replace('id = "practical"', 'id = "circumstances"', 1)
    old_name = instruments.load("vdq").scale("practical").name
    toml = toml.replace(f'ka = "{old_name.ka}"', 'ka = "ცხოვრებისეული გარემოებები"', 1)
    toml = toml.replace(f'en = "{old_name.en}"', 'en = "Life circumstances"', 1)
    (target / "instrument.toml").write_text(toml, encoding="utf-8")
    items = (target / "items.csv").read_text(encoding="utf-8").replace(",practical,", ",circumstances,")
    (target / "items.csv").write_text(items, encoding="utf-8")
    monkeypatch.setenv("PROFORIENT_DEFINITIONS", str(root))
    scoring_service.instrument.cache_clear()
    scoring_service.spec.cache_clear()
    scoring_service.lookup.cache_clear()
    try:
        svc = service_for("sqlite")
        sw, psy, officer = svc.client("social_worker"), svc.client("psychologist"), svc.client("employment_officer")
        code = _new(sw)
        answers = dict.fromkeys(answers_for("vdq"), "4")
        r = administer(psy, code, "vdqx", answers)
        assert r["instrument"] == "vdqx" and r["instrument_version"] == "2.0"
        assert "circumstances" in {s["id"] for s in r["record"]["scales"]}
        for lang, name in (("ka", "ცხოვრებისეული გარემოებები"), ("en", "Life circumstances")):
            html = psy.get(f"/v1/beneficiaries/{code}/profile", params={"lang": lang}).text
            assert name in html
        pdf = psy.get(f"/v1/beneficiaries/{code}/profile", params={"lang": "en", "format": "pdf"})
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Life circumstances" in " ".join(text.split())
        sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile"]})
        p = sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]})
        assert p.status_code == 201 and "Life circumstances" in str(p.json()["content"]["views"]["en"])
        assert sw.post(f"/v1/packets/{p.json()['id']}/send").status_code == 201
        assert sw.get("/v1/registry").json()["total"] == 1
        assert "Life circumstances" in officer.get(f"/v1/packets/{p.json()['id']}/report", params={"lang": "en"}).text
        with svc.app.state.db.read() as s:
            assert s.execute(select(Result.instrument)).scalars().all() == ["vdqx"]
    finally:
        monkeypatch.delenv("PROFORIENT_DEFINITIONS")
        scoring_service.instrument.cache_clear()
        scoring_service.spec.cache_clear()
        scoring_service.lookup.cache_clear()


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_a_result_renders_with_the_definition_version_it_was_scored_with(service, version: str) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = _new(sw)
    a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq", "version": version}).json()
    psy.patch(f"/v1/administrations/{a['id']}/answers", json={"answers": answers_for("vdq", 2)})
    r = psy.post(f"/v1/administrations/{a['id']}/submit").json()
    assert r["instrument_version"] == version
    inst = instruments.load("vdq", version)
    rep = psy.get(f"/v1/results/{r['id']}/report", params={"lang": "ka", "format": "json"}).json()
    assert rep["provenance"][0]["version"] == version
    assert rep["decision"]["title"] == inst.title.ka
    assert rep["provenance"][0]["checksum"] == inst.content_hash[:12]
