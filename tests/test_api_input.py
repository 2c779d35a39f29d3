"""Bad input gets a clear 4xx problem+json naming the field, and nothing is written."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from api.db.tables import Answer, Beneficiary, IdempotencyRecord
from tests.api_helpers import answers_for


def count(service, table) -> int:  # type: ignore[no-untyped-def]
    with service.app.state.sessions() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def started(service, iid="vdq"):  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "თამარ"}).json()["code"]
    a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": iid}).json()
    return psy, code, a["id"]


def is_problem(r, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("urn:")
    return body


def test_out_of_range_answer_names_item_and_writes_nothing(service):
    psy, _, aid = started(service)
    psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": {"VDQ01": 3}})
    before = count(service, Answer)
    r = psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": {"VDQ02": 2, "VDQ03": 7, "VDQ04": 1}})
    body = is_problem(r, 422)
    assert body["field"] == "VDQ03" and body["value"] == 7
    assert count(service, Answer) == before  # VDQ02 and VDQ04 were not half-saved
    r = psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": {"NOPE": 1}})
    assert is_problem(r, 422)["field"] == "NOPE"
    state = psy.get(f"/v1/administrations/{aid}").json()
    assert state["answers"] == {"VDQ01": "3"}


def test_wrong_types_malformed_json_broken_unicode_and_size(service):
    psy, code, aid = started(service)
    r = psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": ["VDQ01", 3]})
    assert is_problem(r, 422)["errors"][0]["field"] == "answers"
    r = psy.post("/v1/beneficiaries", json={"name": "x", "birth_year": "nineteen"})
    assert any(e["field"] == "birth_year" for e in is_problem(r, 422)["errors"])
    r = psy.post("/v1/beneficiaries", content=b'{"name": "x",', headers={"content-type": "application/json"})
    is_problem(r, 400)
    r = psy.post("/v1/beneficiaries", content=b'{"name": "\xff\xfe bad"}', headers={"content-type": "application/json"})
    assert r.status_code in (400, 422) and r.headers["content-type"].startswith("application/problem+json")
    big = {"answers": {f"X{k}": "1" * 1000 for k in range(400)}}
    is_problem(psy.patch(f"/v1/administrations/{aid}/answers", json=big), 413)
    r = psy.post("/v1/beneficiaries", json={"name": "x", "colour": "blue"})
    assert any(e["field"] == "colour" for e in is_problem(r, 422)["errors"])
    r = psy.post("/v1/score", json={"instrument": "sds", "administrations": [{"answers": {"SDS_ACT_R1": "maybe"}}]})
    body = is_problem(r, 422)
    assert body["errors"][0]["item"] == "SDS_ACT_R1" and body["errors"][0]["value"] == "maybe"
    r = psy.post("/v1/score", json={"instrument": "nope", "administrations": [{"answers": {}}]})
    is_problem(r, 404)


def test_duplicate_submission_is_refused_and_result_kept(service):
    psy, code, aid = started(service)
    psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": answers_for("vdq")})
    first = psy.post(f"/v1/administrations/{aid}/submit")
    assert first.status_code == 201
    is_problem(psy.post(f"/v1/administrations/{aid}/submit"), 409)
    is_problem(psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": {"VDQ01": 1}}), 409)
    assert len(psy.get(f"/v1/beneficiaries/{code}/results").json()) == 1


def test_idempotency_key(service):
    sw = service.client("social_worker")
    h = {"Idempotency-Key": "create-tamar-1"}
    a = sw.post("/v1/beneficiaries", json={"name": "თამარ"}, headers=h)
    b = sw.post("/v1/beneficiaries", json={"name": "თამარ"}, headers=h)
    assert a.status_code == b.status_code == 201 and a.json()["code"] == b.json()["code"]
    assert count(service, Beneficiary) == 1
    body = is_problem(sw.post("/v1/beneficiaries", json={"name": "სხვა"}, headers=h), 409)
    assert body["field"] == "Idempotency-Key"
    assert count(service, Beneficiary) == 1 and count(service, IdempotencyRecord) == 1


def test_pagination(service):
    sw = service.client("social_worker")
    codes = [sw.post("/v1/beneficiaries", json={"name": f"n{k}"}).json()["code"] for k in range(5)]
    page = sw.get("/v1/beneficiaries", params={"limit": 2}).json()
    assert page["total"] == 5 and len(page["items"]) == 2 and page["next_offset"] == 2
    last = sw.get("/v1/beneficiaries", params={"limit": 2, "offset": 4}).json()
    assert len(last["items"]) == 1 and last["next_offset"] is None
    seen = {
        b["code"]
        for o in (0, 2, 4)
        for b in sw.get("/v1/beneficiaries", params={"limit": 2, "offset": o}).json()["items"]
    }
    assert seen == set(codes)
    assert sw.get("/v1/beneficiaries", params={"search": codes[0]}).json()["items"][0]["code"] == codes[0]
    is_problem(sw.get("/v1/beneficiaries", params={"limit": 0}), 422)


def test_concurrent_autosaves_lose_no_answer(service):
    psy, _, aid = started(service, "sds")
    answers = list(answers_for("sds", 9).items())
    chunks = [dict(answers[k::6]) for k in range(6)]
    errors: list[str] = []

    def save(chunk: dict[str, str]) -> None:
        c = service.client("psychologist")
        for item, value in chunk.items():
            r = c.patch(f"/v1/administrations/{aid}/answers", json={"answers": {item: value}})
            if r.status_code != 200:
                errors.append(r.text)

    threads = [threading.Thread(target=save, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    saved = psy.get(f"/v1/administrations/{aid}").json()["answers"]
    assert len(saved) == len(answers)
    assert psy.post(f"/v1/administrations/{aid}/submit").status_code == 201
    assert service.client("admin").get("/v1/audit/verify").json()["ok"]


def test_openapi_is_published(service):
    r = service.client().get("/openapi.json")
    assert r.status_code == 200 and "/v1/score" in r.json()["paths"]


def test_non_finite_numbers_are_refused_not_a_500(service):
    """Python's JSON parser accepts NaN and Infinity, JSON itself has neither."""
    psy = service.client("psychologist")
    body = b'{"instrument": "vdq", "administrations": [{"answers": {"VDQ01": 2}, "seconds": NaN}]}'
    r = psy.post("/v1/score", content=body, headers={"content-type": "application/json"})
    problem = is_problem(r, 422)
    assert any(e["field"].endswith("seconds") for e in problem["errors"])
    r = psy.post("/v1/score", content=body.replace(b"NaN", b"-Infinity"), headers={"content-type": "application/json"})
    is_problem(r, 422)
