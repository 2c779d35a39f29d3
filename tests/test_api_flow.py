"""The fund's processes through the API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from api.db.tables import Answer, Beneficiary, Packet, Sending
from tests.api_helpers import INTAKE, administer, answers_for

NAME = "ნინო ბერიძე"


def new_beneficiary(client) -> str:  # type: ignore[no-untyped-def]
    r = client.post(
        "/v1/beneficiaries", json={"name": NAME, "contact": "+995 555 000 111", "gender": "female", "birth_year": 1994}
    )
    assert r.status_code == 201, r.text
    return r.json()["code"]


def test_names_are_encrypted_at_rest_and_shown_to_staff_only(service):
    sw = service.client("social_worker")
    code = new_beneficiary(sw)
    assert sw.get(f"/v1/beneficiaries/{code}").json()["name"] == NAME
    with service.app.state.sessions() as s:
        raw = s.execute(select(Beneficiary.name_enc).where(Beneficiary.code == code)).scalar_one()
    assert NAME.encode() not in raw and b"555" not in raw
    researcher = service.client("researcher")
    assert researcher.get(f"/v1/beneficiaries/{code}").status_code == 403
    officer = service.client("employment_officer")
    assert officer.get(f"/v1/beneficiaries/{code}").status_code == 403


def test_full_process_consent_gates_the_packet(service):
    sw, psy = service.client("social_worker"), service.client("psychologist")
    officer, other = service.client("employment_officer"), service.client("other_officer")
    code = new_beneficiary(sw)
    administer(sw, code, "intake", INTAKE)
    administer(psy, code, "vdq", answers_for("vdq", 1))
    sds = administer(psy, code, "sds", answers_for("sds", 2), aspirations=["hairdresser", "SAE", "cook"])
    assert sds["record"]["codes"] and sds["record"]["congruence"]["m"]["min"] is not None
    administer(psy, code, "ppi", answers_for("ppi", 3))

    r = sw.post(
        "/v1/packets",
        json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["intake_summary", "profile", "activities"]},
    )
    assert r.status_code == 201, r.text
    packet = r.json()
    assert packet["content"]["views"]["en"]["holland"]["codes"] == sds["record"]["codes"]
    assert "emotional_strain" not in str(packet["content"])

    # no consent yet: refused, nothing written
    r = sw.post(f"/v1/packets/{packet['id']}/send")
    assert r.status_code == 409 and r.json()["type"].endswith("consent-required")
    assert sw.get("/v1/registry").json()["total"] == 0
    assert officer.get("/v1/inbox").json() == []

    # consent for another scope only: still refused
    r = sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile"]})
    assert r.status_code == 201
    r = sw.post(f"/v1/packets/{packet['id']}/send")
    assert r.status_code == 409 and "intake_summary" in r.json()["detail"]

    r = sw.post(
        f"/v1/beneficiaries/{code}/consents",
        json={
            "addressee": "ssa-employment",
            "scope": ["intake_summary", "profile", "activities"],
            "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).isoformat(),
        },
    )
    consent = r.json()
    r = sw.post(f"/v1/packets/{packet['id']}/send")
    assert r.status_code == 201, r.text
    reg = sw.get("/v1/registry").json()
    assert reg["total"] == 1
    entry = reg["items"][0]
    assert (entry["beneficiary"], entry["sender"], entry["addressee"]) == (code, "social_worker", "ssa-employment")
    csv = sw.get("/v1/registry?format=csv")
    assert csv.status_code == 200 and code in csv.text and csv.text.startswith("\ufeffBeneficiary,Sender,Date sent")

    inbox = officer.get("/v1/inbox").json()
    assert [i["packet"] for i in inbox] == [packet["id"]]
    got = officer.get(f"/v1/packets/{packet['id']}")
    assert got.status_code == 200 and NAME not in got.text
    assert other.get("/v1/inbox").json() == []
    assert other.get(f"/v1/packets/{packet['id']}").status_code == 404

    # withdrawal stops access and further sending
    assert sw.post(f"/v1/consents/{consent['id']}/withdraw").status_code == 200
    assert officer.get("/v1/inbox").json() == []
    assert officer.get(f"/v1/packets/{packet['id']}").status_code == 404
    second = sw.post(
        "/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["intake_summary"]}
    ).json()
    assert sw.post(f"/v1/packets/{second['id']}/send").status_code == 409
    with service.app.state.sessions() as s:
        assert s.execute(select(Sending)).scalars().all().__len__() == 1
        assert s.get(Packet, second["id"]).sent_at is None


def test_clinical_detail_only_with_consent_scope(service):
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = new_beneficiary(sw)
    answers = dict.fromkeys(answers_for("vdq"), "4")
    administer(psy, code, "vdq", answers)
    plain = sw.post(
        "/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile", "activities"]}
    ).json()
    assert "emotional_strain" not in str(plain["content"])
    assert "psychological_support" not in [a["id"] for a in plain["content"]["views"]["en"]["activities"]]
    clinical = sw.post(
        "/v1/packets",
        json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile", "activities", "clinical"]},
    ).json()
    assert "emotional_strain" in str(clinical["content"])
    sw.post(
        f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile", "activities"]}
    )
    assert sw.post(f"/v1/packets/{clinical['id']}/send").status_code == 409
    assert sw.post(f"/v1/packets/{plain['id']}/send").status_code == 201


def test_researcher_sees_pseudonyms_only(service):
    sw, psy, res = service.client("social_worker"), service.client("psychologist"), service.client("researcher")
    code = new_beneficiary(sw)
    administer(psy, code, "sds", answers_for("sds", 4))
    r = res.get("/v1/research/results", params={"instrument": "sds", "study": "norms-2027"})
    assert r.status_code == 200
    assert r.json()["total"] == 1
    assert code not in r.text and NAME not in r.text
    other = res.get("/v1/research/results", params={"instrument": "sds", "study": "another-study"})
    assert other.json()["items"][0]["pseudonym"] != r.json()["items"][0]["pseudonym"]
    assert res.get(f"/v1/beneficiaries/{code}/results").status_code == 403


def test_respondent_pauses_and_resumes_with_the_token(service):
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = new_beneficiary(sw)
    start = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "ppi"}).json()
    token = start["resume_token"]
    phone, tablet = service.client(), service.client()  # two devices, nobody signed in
    items = list(answers_for("ppi", 5).items())
    assert phone.patch(f"/v1/respond/{token}/answers", json={"answers": dict(items[:10])}).status_code == 200
    state = tablet.get(f"/v1/respond/{token}").json()
    assert len(state["answers"]) == 10 and "scores" not in state
    tablet.patch(f"/v1/respond/{token}/answers", json={"answers": {**dict(items[10:]), items[0][0]: None}})
    done = tablet.post(f"/v1/respond/{token}/submit")
    assert done.json() == {"status": "submitted"}
    assert tablet.post(f"/v1/respond/{token}/submit").status_code == 409
    result = psy.get(f"/v1/beneficiaries/{code}/results").json()[0]
    assert result["record"]["validity"]["n_missing"] == 1  # the skipped pair is missing, not a default
    assert service.client().get("/v1/respond/not-a-token").status_code == 404


def test_rescoring_keeps_the_old_result(service):
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = new_beneficiary(sw)
    first = administer(psy, code, "vdq", answers_for("vdq", 6))
    second = psy.post(f"/v1/results/{first['id']}/rescore").json()
    assert second["supersedes"] == first["id"] and second["record"] == first["record"]
    assert second["kind"] == "rescored" and second["current"]
    assert not psy.get(f"/v1/results/{first['id']}").json()["current"]
    assert psy.get(f"/v1/results/{first['id']}").status_code == 200
    for key in ("instrument", "instrument_version", "instrument_hash", "engine_version"):
        assert second[key]


def test_data_subject_export_retention_and_key_rotation(service):
    from cryptography.fernet import Fernet

    from api.domain import beneficiaries
    from api.domain.access import SYSTEM
    from api.security import Vault

    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = new_beneficiary(sw)
    administer(sw, code, "intake", INTAKE)
    export = sw.get(f"/v1/beneficiaries/{code}/export").json()
    assert export["beneficiary"]["name"] == NAME
    answers = {a["item"]: a for a in export["administrations"][0]["answers"]}
    assert answers["profession"]["value"] == "მკერავი"
    assert answers["profession"]["label"] == {
        "ka": "პროფესია ან სპეციალობა (თუ აქვს)",
        "en": "Profession or trade (if any)",
    }
    assert any(e["action"] == "create" for e in export["access_log"])
    assert psy.get(f"/v1/beneficiaries/{code}/export").status_code == 403

    old_keys = service.settings.fernet_keys
    new_key = Fernet.generate_key()
    new_vault = Vault([new_key, *old_keys])
    from api.domain import keys

    assert keys.reencrypt(service.app.state.db, SYSTEM, new_vault) == 1
    assert keys.usage(service.app.state.db, new_vault) == keys.Usage(records=1, older=0)
    with service.app.state.sessions() as s:
        blob = s.execute(select(Beneficiary.name_enc).where(Beneficiary.code == code)).scalar_one()
    assert Vault([new_key]).open(blob) == NAME  # the old key can now be retired

    assert sw.post(f"/v1/beneficiaries/{code}/close").status_code == 204
    with service.app.state.sessions() as s, s.begin():
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
        assert beneficiaries.apply_retention(s, SYSTEM, 30, now=later) == []
        assert beneficiaries.apply_retention(s, SYSTEM, 5, now=later) == [code]
    with service.app.state.sessions() as s:
        b = s.execute(select(Beneficiary).where(Beneficiary.code == code)).scalar_one()
        assert b.name_enc is None and b.contact_enc is None and b.depersonalized_at is not None
        prof = s.execute(select(Answer.value).where(Answer.item == "profession")).scalar_one()
        assert prof is None
    admin = service.client("admin")
    assert admin.get("/v1/audit/verify").json()["ok"] is True


def test_audit_log_detects_tampering(service):
    sw = service.client("social_worker")
    code = new_beneficiary(sw)
    sw.get(f"/v1/beneficiaries/{code}")
    admin = service.client("admin")
    log = admin.get("/v1/audit", params={"beneficiary": code}).json()
    assert {e["action"] for e in log["items"]} >= {"create", "read"}
    assert admin.get("/v1/audit/verify").json()["ok"]
    engine = service.app.state.engine
    with engine.begin() as conn:  # the triggers refuse edits outright
        try:
            conn.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 2"))
            refused = False
        except Exception:
            refused = True
    assert refused
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:  # an attacker with database rights drops them first
        if pg:
            conn.execute(text("DROP TRIGGER audit_append_only ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_no_update"))
            conn.execute(text("DROP TRIGGER audit_no_delete"))
        conn.execute(text("UPDATE audit_log SET actor = 'user:someone_else' WHERE seq = 2"))
    v = admin.get("/v1/audit/verify").json()
    assert not v["ok"] and v["seq"] == 2 and "altered" in v["problem"]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    v = admin.get("/v1/audit/verify").json()
    assert not v["ok"] and "missing" in v["problem"]


def test_researcher_item_analysis_of_stored_answers(service):
    import numpy as np

    import instruments

    sw, psy, res = service.client("social_worker"), service.client("psychologist"), service.client("researcher")
    code = new_beneficiary(sw)
    vdq = instruments.load("vdq")
    rng = np.random.default_rng(11)
    rows = []
    for _ in range(12):
        level = rng.integers(1, 5)
        answers = {i: str(int(np.clip(level + rng.integers(-1, 2), 1, 4))) for i in vdq.item_ids}
        administer(psy, code, "vdq", answers)
        rows.append([int(answers[i]) for i in vdq.item_ids])
    r = res.get("/v1/research/item-analysis", params={"instrument": "vdq"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["n"] == 12 and code not in r.text
    # Cronbach's alpha by its textbook formula on the keyed certainty items
    x = np.array(rows, dtype=float)
    cols = [j for j, it in enumerate(vdq.items) if it.scale == "certainty"]
    keyed = np.array([x[:, j] if vdq.items[j].keyed == 1 else 5 - x[:, j] for j in cols]).T
    k = keyed.shape[1]
    alpha = k / (k - 1) * (1 - keyed.var(axis=0, ddof=1).sum() / keyed.sum(axis=1).var(ddof=1))
    got = next(s for s in body["scales"] if s["scale"] == "certainty")["alpha"]
    assert abs(got - alpha) < 1e-10
    assert res.get("/v1/norms").json() == []  # no norm table is shipped: none is invented
    assert res.get("/v1/norms/vdq/fund-2027").status_code == 404
