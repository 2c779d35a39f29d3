"""The OpenAPI document describes what the API really answers.

1. Every 2xx answer of every ``/v1`` operation is documented: a JSON answer by a schema that names its
   fields (not ``{}``, not a bare ``additionalProperties: true`` object, not ``Any``), a file by its media
   types; every documented model refuses undocumented fields (``additionalProperties: false``). The checker
   itself is shown to refuse the lazy schemas FastAPI makes by default.
2. A representative call of each endpoint group, on SQLite and on PostgreSQL: the real answer validates
   against the schema the document publishes for that operation and status. Every JSON operation is
   called, except the few listed in ``NOT_CALLED`` with their reason."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from cryptography.fernet import Fernet
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

import api.schemas
import instruments
import scoring
from api.app import create_app
from api.routes.common import documented
from api.settings import Settings
from scoring import research
from tests.api_helpers import INTAKE, administer, answers_for
from tests.conftest import BACKENDS
from tests.test_api_flow import new_beneficiary
from tests.test_indicators import _fixture as indicators_fixture
from tests.test_research_uploads import ANSWERS, VDQ, kobo_csv
from tests.test_studies import study_body

JSON = "application/json"
METHODS = ("get", "post", "put", "patch", "delete")

NOT_CALLED = {
    ("post", "/v1/studies/{study_id}/norm-tables"): "needs a study's completed participants (tests/test_studies.py)",
    ("post", "/v1/studies/{study_id}/norm-tables/{table_id}/publish"): "needs a norm table built from a study",
    ("get", "/v1/studies/{study_id}/analysis"): "needs a study's completed participants (tests/test_studies.py)",
}
"""JSON operations the flow below does not reach, and why (their schemas are still checked in part 1)."""


def _document(folder: Path) -> dict[str, Any]:
    """The document of an app on a database that is never opened (the schema needs no data)."""
    url = f"sqlite:///{folder / 'unused.db'}"
    app = create_app(Settings(database_url=url, secret_key="s" * 40, data_keys=Fernet.generate_key().decode()))
    try:
        return app.openapi()
    finally:
        app.state.engine.dispose()


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def names_its_fields(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An object with named properties, an array of such, or a choice among such."""
    s = _resolve(doc, schema)
    branches = s.get("anyOf") or s.get("oneOf")
    if branches:
        real = [b for b in branches if b != {"type": "null"}]
        return bool(real) and all(names_its_fields(doc, b) for b in real)
    if s.get("type") == "array":
        return "items" in s and names_its_fields(doc, s["items"])
    return bool(s.get("properties"))


def operations(doc: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, status, response) of every 2xx answer of every /v1 operation."""
    return [
        (method, path, status, response)
        for path, ops in doc["paths"].items()
        if path.startswith("/v1/")
        for method, op in ops.items()
        if method in METHODS
        for status, response in op["responses"].items()
        if status.startswith("2")
    ]


def lazy_answers(doc: dict[str, Any]) -> list[str]:
    """What part 1 refuses: a 2xx answer without content, JSON without a schema that names its fields."""
    bad = []
    for method, path, status, response in operations(doc):
        content = response.get("content") or {}
        if status == "204":
            if content:
                bad.append(f"{method} {path} 204 with content")
            continue
        if not content:
            bad.append(f"{method} {path} {status}: no media type")
        elif JSON in content and not names_its_fields(doc, content[JSON].get("schema") or {}):
            bad.append(f"{method} {path} {status}: {content[JSON].get('schema')}")
    return bad


def test_the_checker_refuses_what_fastapi_documents_by_default() -> None:
    """The schemas a route gets without a model: ``dict[str, Any]`` (an open object), a JSONResponse
    (``{}``), ``list[dict]``; and a documented model passes."""
    router = APIRouter(prefix="/v1")

    @router.get("/open")
    def open_object() -> dict[str, Any]:
        return {}

    @router.post("/made", status_code=201)
    def made() -> JSONResponse:
        return JSONResponse({}, status_code=201)

    @router.get("/rows")
    def rows() -> list[dict[str, Any]]:
        return []

    @router.get("/typed", **documented(api.schemas.InboxEntry))
    def typed() -> dict[str, Any]:
        return {}

    app = FastAPI()
    app.include_router(router)
    bad = lazy_answers(app.openapi())
    assert sorted(b.split(":")[0] for b in bad) == ["get /v1/open 200", "get /v1/rows 200", "post /v1/made 201"]


def test_every_answer_is_documented_with_its_fields(tmp_path: Path) -> None:
    doc = _document(tmp_path)
    assert len(operations(doc)) > 70  # every /v1 operation is in the document
    assert lazy_answers(doc) == []


def test_every_answer_model_refuses_undocumented_fields(tmp_path: Path) -> None:
    """Every model of ``api.schemas`` that documents an answer (``Out``) is closed: a field a view
    gains without its model makes the real answer fail part 2."""
    doc = _document(tmp_path)
    models = {
        name
        for name, cls in inspect.getmembers(api.schemas, inspect.isclass)
        if issubclass(cls, api.schemas.Out) and cls is not api.schemas.Out
    }
    published = set(doc["components"]["schemas"]) & models
    assert len(published) > 60
    open_ = sorted(n for n in published if doc["components"]["schemas"][n].get("additionalProperties") is not False)
    assert open_ == []


class Contract:
    """Validates real answers against the published document and remembers which operations it saw."""

    def __init__(self, app: Any) -> None:
        self.doc = app.openapi()
        self.seen: set[tuple[str, str]] = set()

    def check(self, method: str, path: str, status: int, response: Any) -> Any:
        assert response.status_code == status, (method, path, response.text[:500])
        content = self.doc["paths"][path][method]["responses"][str(status)]["content"]
        assert response.headers["content-type"].startswith(JSON), response.headers["content-type"]
        body = response.json()
        schema = {**content[JSON]["schema"], "components": self.doc["components"]}
        jsonschema.Draft202012Validator(schema).validate(body)
        self.seen.add((method, path))
        return body


def _norm_table(folder: Path) -> None:
    """A norm table of a simulated sample, written where ``/v1/norms`` looks (the test's folder)."""
    iid = next(i for i, _ in instruments.available() if instruments.load(i).model == "holland")
    spec = instruments.scoring_spec(instruments.load(iid))
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
    research.write_norms(table, folder)


def _instruments_and_scoring(svc: Any, c: Contract) -> None:
    psy, reader = svc.client("psychologist"), svc.client("reader")
    listed = c.check("get", "/v1/instruments", 200, reader.get("/v1/instruments"))
    for inst in listed:
        c.check("get", "/v1/instruments/{instrument_id}", 200, reader.get(f"/v1/instruments/{inst['id']}?lang=en"))
        if inst["model"] == "intake":
            continue
        body = {"instrument": inst["id"], "administrations": [{"answers": answers_for(inst["id"], 1)}, {"answers": {}}]}
        for fmt in ("record", "flat"):
            c.check("post", "/v1/score", 200, psy.post(f"/v1/score?format={fmt}", json=body))
    schema = c.check("get", "/v1/schemas/record", 200, svc.client().get("/v1/schemas/record"))
    assert schema["discriminator"]["propertyName"] == "model"


def _case_work(svc: Any, c: Contract, norms: Path, monkeypatch: Any) -> None:
    """A person's case from registration to follow-up, and the reports and lists it feeds."""
    sw, psy, adm = svc.client("social_worker"), svc.client("psychologist"), svc.client("admin")
    officer = svc.client("employment_officer")
    made = c.check(
        "post", "/v1/beneficiaries", 201, sw.post("/v1/beneficiaries", json={"name": "ნინო", "gender": "female"})
    )
    code = made["code"]
    c.check("post", "/v1/beneficiaries", 201, psy.post("/v1/beneficiaries", json={}))
    c.check("get", "/v1/beneficiaries", 200, sw.get("/v1/beneficiaries?limit=2"))
    c.check("get", "/v1/beneficiaries/{code}", 200, sw.get(f"/v1/beneficiaries/{code}"))
    regions = c.check("get", "/v1/regions", 200, sw.get("/v1/regions"))
    moved = c.check(
        "patch",
        "/v1/beneficiaries/{code}",
        200,
        sw.patch(f"/v1/beneficiaries/{code}", json={"region": regions[0]["id"]}),
    )
    assert moved["region"] == regions[0]["id"]
    administer(sw, code, "intake", INTAKE)

    # administrations, a correction, a rescore, the respondent's code
    r = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "sds"})
    started = c.check("post", "/v1/administrations", 201, r)
    assert started["resume_token"]  # shown once
    aid = started["id"]
    saved = c.check(
        "patch",
        "/v1/administrations/{admin_id}/answers",
        200,
        psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": answers_for("sds", 4)}),
    )
    assert saved["answered"] == len(instruments.load("sds").item_ids)
    got = c.check("get", "/v1/administrations/{admin_id}", 200, psy.get(f"/v1/administrations/{aid}"))
    assert got["status"] == "in_progress"
    c.check("post", "/v1/administrations/{admin_id}/submit", 201, psy.post(f"/v1/administrations/{aid}/submit"))
    other = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
    gone = c.check(
        "post",
        "/v1/administrations/{admin_id}/discard",
        200,
        psy.post(f"/v1/administrations/{other['id']}/discard", json={"reason": "started by mistake"}),
    )
    assert gone["discard_reason"] == "started by mistake"
    first = administer(psy, code, "vdq", answers_for("vdq", 5))
    item = instruments.load("vdq").item_ids[0]
    fixed = c.check(
        "post",
        "/v1/results/{result_id}/corrections",
        201,
        psy.post(
            f"/v1/results/{first['id']}/corrections", json={"answers": {item: "1"}, "reason": "keyed in from paper"}
        ),
    )
    again = c.check("post", "/v1/results/{result_id}/rescore", 201, psy.post(f"/v1/results/{fixed['id']}/rescore"))
    old = c.check("get", "/v1/results/{result_id}", 200, psy.get(f"/v1/results/{first['id']}"))
    assert old["current"] is False and old["superseded_by"] == fixed["id"] and again["supersedes"] == fixed["id"]
    line = c.check("get", "/v1/beneficiaries/{code}/results", 200, psy.get(f"/v1/beneficiaries/{code}/results"))
    assert {r["id"] for r in line} >= {first["id"], fixed["id"], again["id"]}
    ppi = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "ppi"}).json()
    anon, token = svc.client(), ppi["resume_token"]
    state = c.check("get", "/v1/respond/{token}", 200, anon.get(f"/v1/respond/{token}"))
    assert state["answers"] == {}
    c.check(
        "patch",
        "/v1/respond/{token}/answers",
        200,
        anon.patch(f"/v1/respond/{token}/answers", json={"answers": answers_for("ppi", 2)}),
    )
    c.check("post", "/v1/respond/{token}/submit", 200, anon.post(f"/v1/respond/{token}/submit"))

    # reports as JSON: one result, the profile
    c.check(
        "get",
        "/v1/results/{result_id}/report",
        200,
        psy.get(f"/v1/results/{again['id']}/report", params={"format": "json", "lang": "en"}),
    )
    c.check(
        "get",
        "/v1/beneficiaries/{code}/profile",
        200,
        psy.get(f"/v1/beneficiaries/{code}/profile", params={"format": "json", "audience": "beneficiary"}),
    )
    batch = c.check(
        "post", "/v1/report-batches", 202, psy.post("/v1/report-batches", json={"format": "json", "lang": "en"})
    )
    c.check("get", "/v1/report-batches/{batch_id}", 200, psy.get(f"/v1/report-batches/{batch['id']}"))

    # consent, packet, sending, the addressee's side
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    given = c.check(
        "post",
        "/v1/beneficiaries/{code}/consents",
        201,
        sw.post(
            f"/v1/beneficiaries/{code}/consents",
            json={
                "addressee": "ssa-employment",
                "scope": ["intake_summary", "profile", "outcomes"],
                "expires_at": expires,
            },
        ),
    )
    listed = c.check("get", "/v1/beneficiaries/{code}/consents", 200, sw.get(f"/v1/beneficiaries/{code}/consents"))
    assert [x["id"] for x in listed] == [given["id"]]
    built = c.check(
        "post",
        "/v1/packets",
        201,
        sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]}),
    )
    c.check("get", "/v1/packets/{packet_id}", 200, sw.get(f"/v1/packets/{built['id']}"))
    sent = c.check("post", "/v1/packets/{packet_id}/send", 201, sw.post(f"/v1/packets/{built['id']}/send"))
    assert sent["consent"] == given["id"]
    c.check("get", "/v1/registry", 200, sw.get("/v1/registry"))
    inbox = c.check("get", "/v1/inbox", 200, officer.get("/v1/inbox"))
    assert built["id"] in {x["packet"] for x in inbox}
    c.check(
        "get",
        "/v1/packets/{packet_id}/report",
        200,
        officer.get(f"/v1/packets/{built['id']}/report", params={"format": "json", "lang": "en"}),
    )

    # outcomes after the packet
    start = dt.date.today() - dt.timedelta(days=100)
    training = c.check(
        "post",
        "/v1/beneficiaries/{code}/trainings",
        201,
        sw.post(
            f"/v1/beneficiaries/{code}/trainings", json={"activity": "career_counselling", "started_on": str(start)}
        ),
    )
    c.check(
        "post",
        "/v1/trainings/{training_id}/finish",
        200,
        sw.post(
            f"/v1/trainings/{training['id']}/finish",
            json={"outcome": "completed", "finished_on": str(start + dt.timedelta(days=30))},
        ),
    )
    placed = c.check(
        "post",
        "/v1/beneficiaries/{code}/placements",
        201,
        officer.post(
            f"/v1/beneficiaries/{code}/placements",
            json={"employer_kind": "private", "occupation": "7531", "start_date": str(start), "pay_band": "501_1000"},
        ),
    )
    c.check(
        "post",
        "/v1/placements/{placement_id}/follow-ups",
        201,
        sw.post(
            f"/v1/placements/{placed['id']}/follow-ups",
            json={"month": 1, "done_on": str(start + dt.timedelta(days=31)), "still_employed": True, "satisfaction": 3},
        ),
    )
    again_placed = c.check("get", "/v1/placements/{placement_id}", 200, sw.get(f"/v1/placements/{placed['id']}"))
    assert [f["month"] for f in again_placed["follow_ups"]] == [1]
    c.check("get", "/v1/beneficiaries/{code}/outcomes", 200, sw.get(f"/v1/beneficiaries/{code}/outcomes"))
    c.check("get", "/v1/follow-ups/schedule", 200, sw.get("/v1/follow-ups/schedule"))
    events = c.check(
        "get", "/v1/beneficiaries/{code}/timeline", 200, sw.get(f"/v1/beneficiaries/{code}/timeline?lang=ka")
    )["events"]
    assert {"intake", "assessment", "packet", "training", "training_end", "placement", "follow_up"} <= {
        e["kind"] for e in events
    }

    # what is held on the person: the access request, the admin's emergency read
    doc = c.check("get", "/v1/beneficiaries/{code}/export", 200, sw.get(f"/v1/beneficiaries/{code}/export"))
    assert doc["beneficiary"]["code"] == code and doc["placements"] and doc["follow_ups"]
    c.check(
        "post",
        "/v1/beneficiaries/{code}/break-glass",
        200,
        adm.post(
            f"/v1/beneficiaries/{code}/break-glass", json={"reason": "a court order asks for the whole file today"}
        ),
    )

    withdrawn = c.check(
        "post", "/v1/consents/{consent_id}/withdraw", 200, sw.post(f"/v1/consents/{given['id']}/withdraw")
    )
    assert withdrawn["valid_now"] is False and withdrawn["withdrawn_at"] is not None

    # research on what the cases hold
    res = svc.client("researcher")
    for k in range(4):
        administer(psy, code, "vdq", answers_for("vdq", 10 + k))
    page = c.check(
        "get",
        "/v1/research/results",
        200,
        res.get("/v1/research/results", params={"instrument": "vdq", "study": "contract"}),
    )
    assert page["total"] >= 4 and code not in str(page)
    c.check(
        "get", "/v1/research/item-analysis", 200, res.get("/v1/research/item-analysis", params={"instrument": "vdq"})
    )
    c.check("get", "/v1/research/retention", 200, res.get("/v1/research/retention"))
    _norm_table(norms)
    from api.domain import research as research_domain

    monkeypatch.setattr(research_domain, "norms_root", lambda: norms)
    tables = c.check("get", "/v1/norms", 200, res.get("/v1/norms"))
    assert [t["id"] for t in tables] == ["pilot"]
    one = tables[0]
    c.check("get", "/v1/norms/{instrument}/{norm_id}", 200, res.get(f"/v1/norms/{one['instrument']}/pilot"))


def _studies(svc: Any, c: Contract) -> None:
    res, sw = svc.client("researcher"), svc.client("social_worker")
    study = c.check("post", "/v1/studies", 201, res.post("/v1/studies", json=study_body()))
    c.check("get", "/v1/studies", 200, res.get("/v1/studies"))
    c.check("get", "/v1/studies/{study_id}", 200, res.get(f"/v1/studies/{study['id']}"))
    links = c.check(
        "post", "/v1/studies/{study_id}/links", 201, res.post(f"/v1/studies/{study['id']}/links", json={"count": 2})
    )
    assert len(links["codes"]) == 2
    person = new_beneficiary(sw)
    c.check(
        "post",
        "/v1/studies/{study_id}/enrolments",
        201,
        sw.post(f"/v1/studies/{study['id']}/enrolments", json={"beneficiary": person}),
    )
    c.check("get", "/v1/studies/{study_id}/norm-tables", 200, res.get(f"/v1/studies/{study['id']}/norm-tables"))
    # field submissions (KoboToolbox export) into a study of the VDQ version its XLSForm names
    field = res.post("/v1/studies", json=study_body(instruments=[{"id": "vdq", "version": VDQ.version}]))
    imported = c.check(
        "post",
        "/v1/studies/{study_id}/submissions",
        201,
        res.post(
            f"/v1/studies/{field.json()['id']}/submissions",
            files={"file": ("kobo.csv", kobo_csv(ANSWERS), "text/csv")},
            data={"instrument": "vdq"},
        ),
    )
    assert imported["imported"] == len(ANSWERS)


def _accounts(svc: Any, c: Contract) -> None:
    adm = svc.client("admin")
    c.check("get", "/v1/users", 200, adm.get("/v1/users"))
    made = c.check(
        "post",
        "/v1/users",
        201,
        adm.post("/v1/users", json={"username": "contract.user", "role": "psychologist", "password": "first-pass-123"}),
    )
    assert made["temporary_password"] is None
    temp = c.check(
        "post", "/v1/users", 201, adm.post("/v1/users", json={"username": "temp.user", "role": "social_worker"})
    )
    assert temp["temporary_password"]
    uid = made["id"]
    c.check("get", "/v1/users/{user_id}", 200, adm.get(f"/v1/users/{uid}"))
    c.check("patch", "/v1/users/{user_id}", 200, adm.patch(f"/v1/users/{uid}", json={"full_name": "ნინო ბერიძე"}))
    c.check("post", "/v1/users/{user_id}/disable", 200, adm.post(f"/v1/users/{uid}/disable"))
    c.check("post", "/v1/users/{user_id}/enable", 200, adm.post(f"/v1/users/{uid}/enable"))
    for method in ("link", "temporary"):
        c.check(
            "post",
            "/v1/users/{user_id}/reset-password",
            200,
            adm.post(f"/v1/users/{temp['id']}/reset-password", json={"method": method}),
        )
    me = svc.client()
    signed = c.check(
        "post",
        "/v1/auth/login",
        200,
        me.post("/v1/auth/login", json={"username": "contract.user", "password": "first-pass-123"}),
    )
    assert signed["password_change_required"] is False
    c.check("get", "/v1/auth/me", 200, me.get("/v1/auth/me"))
    c.check(
        "post",
        "/v1/auth/password",
        200,
        me.post("/v1/auth/password", json={"current_password": "first-pass-123", "new_password": "second-pass-456"}),
    )
    assert c.check("get", "/v1/auth/me", 200, svc.client("scorer").get("/v1/auth/me"))["scopes"] == ["score"]
    c.check("get", "/v1/api-clients", 200, adm.get("/v1/api-clients"))
    client = c.check(
        "post", "/v1/api-clients", 201, adm.post("/v1/api-clients", json={"name": "contract", "scopes": ["score"]})
    )
    assert client["key"]
    c.check("post", "/v1/api-clients/{client_id}/revoke", 200, adm.post(f"/v1/api-clients/{client['id']}/revoke"))
    c.check("get", "/v1/audit", 200, adm.get("/v1/audit?limit=20"))
    c.check("get", "/v1/audit/verify", 200, adm.get("/v1/audit/verify"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_real_answers_validate_against_the_published_schemas(service_for, backend, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    svc = service_for(backend, indicators_min_n=2)
    c = Contract(svc.app)
    indicators_fixture(svc)  # placements followed up: indicators and the retention study have data
    c.check("get", "/v1/indicators", 200, svc.client("manager").get("/v1/indicators"))
    _instruments_and_scoring(svc, c)
    _case_work(svc, c, tmp_path / "norms", monkeypatch)
    _studies(svc, c)
    _accounts(svc, c)
    json_operations = {
        (method, path) for method, path, _, response in operations(c.doc) if JSON in (response.get("content") or {})
    }
    assert json_operations - c.seen == set(NOT_CALLED)
