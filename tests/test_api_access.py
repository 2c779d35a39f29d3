"""Every role against every endpoint: allowed, or refused with 401/403/404, never a leak.

The expectations below are written out by hand from DESIGN.md's role list, not
derived from the code's policy table, so a wrong policy entry fails here.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

import reports
from api.domain import accounts
from api.domain.access import SYSTEM
from tests.api_helpers import answers_for

WHO = (
    "anonymous",
    "admin",
    "psychologist",
    "social_worker",
    "employment_officer",
    "researcher",
    "scorer",
    "reader",
    "partner",
    "manager",
    "employer",
)
CARE = {"psychologist", "social_worker"}
"""Who works with beneficiaries' data. The admin runs the service and reads none of it (DESIGN.md §5),
except through the audited emergency read (break-glass)."""
PEOPLE = {"admin", "psychologist", "social_worker", "employment_officer", "researcher", "manager"}
OUTCOMES = {"social_worker", "employment_officer", "employer"}
"""Who records and reads outcomes: the social worker for every case; the employment officer and an
employment system's client (scope outcomes:write) for a consented case of their organisation."""

# (method, path template) → who may use it (beyond that: 401 for anonymous, 403/404 for others)
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("POST", "/v1/auth/login"): set(WHO),
    ("POST", "/v1/auth/logout"): set(WHO),
    ("GET", "/v1/auth/me"): set(WHO) - {"anonymous"},
    ("POST", "/v1/auth/password"): PEOPLE,  # one's own password; an API client has none
    ("POST", "/v1/auth/reset"): set(WHO),  # a one-time link's token is the key
    ("GET", "/v1/instruments"): PEOPLE | {"scorer", "reader"},
    ("GET", "/v1/instruments/{instrument_id}"): PEOPLE | {"scorer", "reader"},
    ("POST", "/v1/score"): {"psychologist", "researcher", "scorer"},
    ("POST", "/v1/beneficiaries"): CARE,
    ("GET", "/v1/beneficiaries"): CARE,
    ("GET", "/v1/beneficiaries/{code}"): CARE,
    ("PATCH", "/v1/beneficiaries/{code}"): CARE,  # where the person lives
    ("GET", "/v1/regions"): PEOPLE | {"scorer", "reader"},  # a catalogue, no one's data
    ("GET", "/v1/beneficiaries/{code}/export"): {"social_worker"},
    ("POST", "/v1/beneficiaries/{code}/break-glass"): {"admin"},
    ("POST", "/v1/beneficiaries/{code}/close"): {"social_worker"},
    ("GET", "/v1/beneficiaries/{code}/results"): {"psychologist"},
    ("GET", "/v1/beneficiaries/{code}/profile"): {"psychologist"},  # psychologist audience by default
    ("GET", "/v1/results/{result_id}/report"): {"psychologist"},
    ("GET", "/v1/packets/{packet_id}/report"): {"social_worker", "employment_officer", "partner"},
    ("POST", "/v1/administrations"): {"psychologist"},  # a VDQ: not the social worker's
    ("GET", "/v1/administrations/{admin_id}"): {"psychologist"},
    ("PATCH", "/v1/administrations/{admin_id}/answers"): {"psychologist"},
    ("POST", "/v1/administrations/{admin_id}/submit"): {"psychologist"},
    ("GET", "/v1/respond/{token}"): set(WHO),
    ("PATCH", "/v1/respond/{token}/answers"): set(WHO),
    ("POST", "/v1/respond/{token}/submit"): set(WHO),
    ("GET", "/v1/results/{result_id}"): {"psychologist"},
    ("POST", "/v1/results/{result_id}/rescore"): {"psychologist"},
    ("POST", "/v1/results/{result_id}/corrections"): {"psychologist"},
    ("POST", "/v1/administrations/{admin_id}/discard"): {"psychologist"},
    ("POST", "/v1/beneficiaries/{code}/consents"): {"social_worker"},
    ("GET", "/v1/beneficiaries/{code}/consents"): {"social_worker"},
    ("POST", "/v1/consents/{consent_id}/withdraw"): {"social_worker"},
    ("POST", "/v1/packets"): {"social_worker"},
    ("GET", "/v1/packets/{packet_id}"): {"social_worker", "employment_officer", "partner"},
    ("POST", "/v1/packets/{packet_id}/send"): {"social_worker"},
    ("GET", "/v1/registry"): {"social_worker"},
    ("GET", "/v1/inbox"): {"employment_officer", "partner"},
    ("GET", "/v1/norms"): {"admin", "psychologist", "researcher"},
    ("GET", "/v1/norms/{instrument}/{norm_id}"): {"admin", "psychologist", "researcher"},
    ("GET", "/v1/research/item-analysis"): {"researcher"},
    ("GET", "/v1/research/results"): {"researcher"},
    ("GET", "/v1/users"): {"admin"},
    ("POST", "/v1/users"): {"admin"},
    ("GET", "/v1/users/{user_id}"): {"admin"},
    ("PATCH", "/v1/users/{user_id}"): {"admin"},
    ("POST", "/v1/users/{user_id}/disable"): {"admin"},
    ("POST", "/v1/users/{user_id}/enable"): {"admin"},
    ("POST", "/v1/users/{user_id}/reset-password"): {"admin"},
    ("DELETE", "/v1/users/{user_id}/totp"): {"admin"},
    ("GET", "/v1/api-clients"): {"admin"},
    ("POST", "/v1/api-clients"): {"admin"},
    ("POST", "/v1/api-clients/{client_id}/revoke"): {"admin"},
    ("GET", "/v1/audit"): {"admin"},
    ("GET", "/v1/audit/verify"): {"admin"},
    ("GET", "/v1/schemas/record"): set(WHO),
    ("POST", "/v1/beneficiaries/{code}/trainings"): OUTCOMES,
    ("POST", "/v1/trainings/{training_id}/finish"): OUTCOMES,
    ("POST", "/v1/beneficiaries/{code}/placements"): OUTCOMES,
    ("GET", "/v1/placements/{placement_id}"): OUTCOMES,
    ("POST", "/v1/placements/{placement_id}/follow-ups"): OUTCOMES,
    ("GET", "/v1/beneficiaries/{code}/outcomes"): OUTCOMES,
    ("GET", "/v1/follow-ups/schedule"): {"social_worker"},
    ("GET", "/v1/beneficiaries/{code}/timeline"): CARE,
    ("GET", "/v1/indicators"): {"manager"},
    # group reports: whoever may have reports asks; only the one who asked follows and downloads them
    ("POST", "/v1/report-batches"): {"psychologist", "social_worker"},
    ("GET", "/v1/report-batches/{batch_id}"): {"psychologist"},
    ("GET", "/v1/report-batches/{batch_id}/archive"): {"psychologist"},
    ("GET", "/v1/research/retention"): {"researcher"},
    ("GET", "/v1/studies"): {"researcher"},
    ("POST", "/v1/studies"): {"researcher"},
    ("GET", "/v1/studies/{study_id}"): {"researcher"},
    ("POST", "/v1/studies/{study_id}/links"): {"researcher"},
    ("POST", "/v1/studies/{study_id}/enrolments"): {"social_worker"},  # a fund beneficiary's consent
    ("GET", "/v1/studies/{study_id}/export"): {"researcher"},
    ("GET", "/v1/studies/{study_id}/analysis"): {"researcher"},
    ("POST", "/v1/studies/{study_id}/norm-tables"): {"researcher"},
    ("GET", "/v1/studies/{study_id}/norm-tables"): {"researcher"},
    ("POST", "/v1/studies/{study_id}/norm-tables/{table_id}/publish"): {"researcher"},
    ("POST", "/v1/studies/{study_id}/submissions"): {"researcher"},  # a field tool's export (multipart)
}


def test_every_published_endpoint_has_an_expectation(service):
    paths = service.app.openapi()["paths"]
    published = {(m.upper(), p) for p, ops in paths.items() for m in ops if p.startswith("/v1")}
    assert published == set(ALLOWED), f"untested: {published - set(ALLOWED)}; gone: {set(ALLOWED) - published}"


def _setup(service):  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "სანდრო", "gender": "male"}).json()["code"]
    consent = sw.post(
        f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile", "outcomes"]}
    ).json()
    a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
    psy.patch(f"/v1/administrations/{a['id']}/answers", json={"answers": answers_for("vdq")})
    result = psy.post(f"/v1/administrations/{a['id']}/submit").json()
    a2 = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
    packet = sw.post(
        "/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]}
    ).json()
    assert sw.post(f"/v1/packets/{packet['id']}/send").status_code == 201
    draft = sw.post(
        "/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]}
    ).json()
    placement = sw.post(
        f"/v1/beneficiaries/{code}/placements",
        json={"employer_kind": "private", "occupation": "7531", "start_date": STARTED},
    ).json()
    batch = psy.post("/v1/report-batches", json={"audience": "employment", "format": "html"})
    assert batch.status_code == 202, batch.text
    with service.app.state.sessions() as s, s.begin():  # an account and a client the admin may change
        target = accounts.create_user(s, SYSTEM, "target.user", "a-target-password-1", "researcher")
        client, _ = accounts.create_api_client(s, SYSTEM, "target-client", ["score"])
        target_id, client_id = target.id, client.id
    study = service.client("researcher").post("/v1/studies", json=STUDY).json()
    return {
        "study_id": study["id"],
        "table_id": 1,
        "user_id": target_id,
        "client_id": client_id,
        "code": code,
        "instrument_id": "vdq",
        "admin_id": a2["id"],
        "token": a2["resume_token"],
        "result_id": result["id"],
        "consent_id": consent["id"],
        "packet_id": packet["id"],
        "draft_id": draft["id"],
        "norm_id": "none",
        "instrument": "vdq",
        "placement_id": placement["id"],
        "batch_id": batch.json()["id"],
    }


TODAY = reports.today()
STARTED = (TODAY - dt.timedelta(days=45)).isoformat()
"""A placement this old has its one-month follow-up due (recordable today)."""
STUDY = {
    "title_ka": "კვლევა",
    "title_en": "Study",
    "purpose_ka": "ნორმები",
    "purpose_en": "Norms",
    "consent_ka": "თანხმობა",
    "consent_en": "Consent",
    "instruments": [{"id": "vdq"}],
    "opens_on": "2026-01-01",
    "closes_on": "2036-01-01",
}
BODIES = {
    "/v1/studies": STUDY,
    "/v1/studies/{study_id}/links": {"count": 1},
    "/v1/studies/{study_id}/enrolments": {"beneficiary": "{code}"},
    "/v1/studies/{study_id}/norm-tables": {"instrument": "vdq", "norm_id": "n-1", "version": "1.0", "population": "p"},
    "/v1/auth/login": {"username": "nobody", "password": "wrong-password"},
    "/v1/score": {"instrument": "vdq", "administrations": [{"answers": {"VDQ01": 3}}]},
    "/v1/beneficiaries": {"name": "ტესტი"},
    "/v1/administrations": {"beneficiary": "{code}", "instrument": "vdq"},
    "/v1/administrations/{admin_id}/answers": {"answers": {"VDQ01": 2}},
    "/v1/respond/{token}/answers": {"answers": {"VDQ02": 2}},
    "/v1/beneficiaries/{code}/consents": {"addressee": "ssa-employment", "scope": ["profile"]},
    "/v1/packets": {"beneficiary": "{code}", "addressee": "ssa-employment", "parts": ["profile"]},
    "/v1/users": {"username": "new.user", "full_name": "ნინო ახალაძე", "role": "researcher"},
    "/v1/users/{user_id}": {"full_name": "სხვა სახელი"},
    "/v1/users/{user_id}/reset-password": {"method": "link"},
    "/v1/auth/password": {"current_password": "not-the-password", "new_password": "a-new-long-passphrase"},
    "/v1/auth/reset": {"token": "x" * 40, "new_password": "a-new-long-passphrase"},
    "/v1/beneficiaries/{code}/break-glass": {"reason": "a court order asks for the whole file today"},
    "/v1/api-clients": {"name": "partner-x", "scopes": ["score"]},
    "/v1/results/{result_id}/corrections": {"answers": {"VDQ03": 1}, "reason": "keyed in wrongly from paper"},
    "/v1/administrations/{admin_id}/discard": {"reason": "started by mistake"},
    "/v1/beneficiaries/{code}/trainings": {"activity": "career_counselling", "started_on": TODAY.isoformat()},
    "/v1/trainings/{training_id}/finish": {"outcome": "completed", "finished_on": TODAY.isoformat()},
    "/v1/beneficiaries/{code}/placements": {
        "employer_kind": "public",
        "occupation": "7531",
        "start_date": TODAY.isoformat(),
    },
    "/v1/placements/{placement_id}/follow-ups": {"month": 1, "done_on": TODAY.isoformat(), "still_employed": True},
    "/v1/report-batches": {"audience": "employment", "format": "html"},
    "/v1/beneficiaries/{code}": {"region": "imereti"},
}
QUERY = {
    "/v1/studies/{study_id}/export": {"format": "csv"},
    "/v1/studies/{study_id}/analysis": {"instrument": "vdq"},
    "/v1/research/results": {"instrument": "vdq", "study": "s-1"},
    "/v1/research/item-analysis": {"instrument": "vdq"},
}


def _fill(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), template)


def test_role_endpoint_matrix(service):
    ids = _setup(service)
    clients = {w: service.client(None if w == "anonymous" else w) for w in WHO}
    failures = []
    for (method, template), allowed in ALLOWED.items():
        if template.startswith("/v1/auth/log"):
            continue  # signing in and out is tested below; here it would sign the callers out
        for who in WHO:
            local = dict(ids)
            if template == "/v1/packets/{packet_id}/send":
                # each allowed caller gets a fresh draft, so "sent already" does not hide a refusal
                local["packet_id"] = (
                    service.client("social_worker")
                    .post(
                        "/v1/packets",
                        json={"beneficiary": ids["code"], "addressee": "ssa-employment", "parts": ["profile"]},
                    )
                    .json()["id"]
                )
            if template in (
                "/v1/administrations/{admin_id}/submit",
                "/v1/administrations/{admin_id}/discard",
            ) or template.startswith("/v1/respond/{token}"):
                a = (
                    service.client("psychologist")
                    .post("/v1/administrations", json={"beneficiary": ids["code"], "instrument": "vdq"})
                    .json()
                )
                local["admin_id"], local["token"] = a["id"], a["resume_token"]
            if template == "/v1/trainings/{training_id}/finish":
                # a fresh ongoing training each time, so "finished already" does not hide a refusal
                local["training_id"] = (
                    service.client("social_worker")
                    .post(
                        f"/v1/beneficiaries/{ids['code']}/trainings",
                        json={"activity": "career_counselling", "started_on": TODAY.isoformat()},
                    )
                    .json()["id"]
                )
            if template == "/v1/placements/{placement_id}/follow-ups":
                local["placement_id"] = (
                    service.client("social_worker")
                    .post(
                        f"/v1/beneficiaries/{ids['code']}/placements",
                        json={"employer_kind": "private", "occupation": "7531", "start_date": STARTED},
                    )
                    .json()["id"]
                )
            path = _fill(template, local)
            body = BODIES.get(template)
            if isinstance(body, dict):
                body = {k: _fill(v, local) if isinstance(v, str) else v for k, v in body.items()}
            r = clients[who].request(method, path, json=body, params=QUERY.get(template))
            ok = r.status_code < 400
            if who in allowed:
                if r.status_code in (401, 403):
                    failures.append(f"{who} refused {method} {template}: {r.status_code} {r.text[:120]}")
            else:
                expected = {401} if who == "anonymous" else {403, 404}
                if ok or r.status_code not in expected:
                    failures.append(f"{who} {method} {template}: {r.status_code}, expected {sorted(expected)}")
            if r.status_code == 500:
                failures.append(f"{who} {method} {template}: 500 {r.text[:200]}")
    assert not failures, "\n".join(failures)


def test_sign_in_and_out(service):
    c = service.client()
    assert c.post("/v1/auth/login", json={"username": "psychologist", "password": "wrong"}).status_code == 401
    assert c.get("/v1/auth/me").status_code == 401
    assert c.post("/v1/auth/login", json={"username": "psychologist", "password": "psych-pass-1"}).status_code == 200
    assert c.get("/v1/auth/me").json()["role"] == "psychologist"
    assert c.post("/v1/auth/logout").status_code == 204
    assert c.get("/v1/auth/me").status_code == 401
    forged = service.client()
    forged.cookies.set("pfo_session", "eyJ1IjoxfQ.forged.signature")
    assert forged.get("/v1/auth/me").status_code == 401
    bad_key = service.client()
    bad_key.headers["Authorization"] = "Bearer pfo_deadbeef_notakey"
    assert bad_key.get("/v1/instruments").status_code == 401


@pytest.mark.parametrize("who", ["admin", "employment_officer", "researcher", "scorer", "partner"])
def test_no_name_ever_reaches_these_callers(service, who):
    ids = _setup(service)
    c = service.client(who)
    for path in (
        "/v1/beneficiaries",
        f"/v1/beneficiaries/{ids['code']}",
        f"/v1/packets/{ids['packet_id']}",
        "/v1/inbox",
        f"/v1/beneficiaries/{ids['code']}/export",
    ):
        assert "სანდრო" not in c.get(path).text
