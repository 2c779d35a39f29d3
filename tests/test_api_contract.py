"""The OpenAPI document describes what the API really answers: the responses of the administration,
consent and packet endpoints are checked against the schemas the document publishes for them (every
property named, no undocumented one), on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema

from tests.api_helpers import INTAKE, administer, answers_for
from tests.test_api_flow import new_beneficiary


def _schema(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    op = doc["paths"][path][method]
    content = op["responses"][str(status)]["content"]["application/json"]
    return {**content["schema"], "components": doc["components"]}


def _properties(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    ref = schema["$ref"] if "$ref" in schema else schema["items"]["$ref"]
    return set(doc["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"])


def check(doc: dict[str, Any], path: str, method: str, status: int, response: Any) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    schema = _schema(doc, path, method, status)
    jsonschema.validate(body, schema)
    names = _properties(doc, schema)
    for row in body if isinstance(body, list) else [body]:
        assert set(row) == names, (path, method, set(row) ^ names)


def test_answers_match_the_published_schemas(service) -> None:  # type: ignore[no-untyped-def]
    doc = service.client().get("/openapi.json").json()
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = new_beneficiary(sw)
    administer(sw, code, "intake", INTAKE)

    r = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "sds"})
    check(doc, "/v1/administrations", "post", 201, r)
    started = r.json()
    assert started["resume_token"]  # shown once
    aid = started["id"]
    saved = psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": answers_for("sds", 4)})
    assert saved.status_code == 200, saved.text
    got = psy.get(f"/v1/administrations/{aid}")
    check(doc, "/v1/administrations/{admin_id}", "get", 200, got)
    assert got.json()["answers"] and got.json()["status"] == "in_progress"

    other = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
    gone = psy.post(f"/v1/administrations/{other['id']}/discard", json={"reason": "started by mistake"})
    check(doc, "/v1/administrations/{admin_id}/discard", "post", 200, gone)
    assert gone.json()["discard_reason"] == "started by mistake"
    administer(psy, code, "vdq", answers_for("vdq", 5))

    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    given = sw.post(
        f"/v1/beneficiaries/{code}/consents",
        json={"addressee": "ssa-employment", "scope": ["intake_summary", "profile"], "expires_at": expires},
    )
    check(doc, "/v1/beneficiaries/{code}/consents", "post", 201, given)
    listed = sw.get(f"/v1/beneficiaries/{code}/consents")
    check(doc, "/v1/beneficiaries/{code}/consents", "get", 200, listed)
    assert [c["id"] for c in listed.json()] == [given.json()["id"]]

    built = sw.post(
        "/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["intake_summary"]}
    )
    check(doc, "/v1/packets", "post", 201, built)
    read = sw.get(f"/v1/packets/{built.json()['id']}")
    check(doc, "/v1/packets/{packet_id}", "get", 200, read)

    withdrawn = sw.post(f"/v1/consents/{given.json()['id']}/withdraw")
    check(doc, "/v1/consents/{consent_id}/withdraw", "post", 200, withdrawn)
    assert withdrawn.json()["valid_now"] is False and withdrawn.json()["withdrawn_at"] is not None
