"""Operations: the API documentation works with no network and loads nothing third-party; every
answer carries a request id that the problem body and the JSON log line name too; hand-over tokens
never reach the log; /healthz says whether the database answers."""

from __future__ import annotations

import io
import json
import logging
import re
from urllib.parse import urlparse

import pytest

from api.observability import JsonLines
from tests import web_live

live = web_live.live
browser = web_live.browser


def test_docs_render_with_every_outside_request_blocked(live, browser) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(**web_live.DESKTOP)
    outside: list[str] = []

    def guard(route) -> None:  # type: ignore[no-untyped-def]
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    try:
        page = ctx.new_page()
        page.route("**/*", guard)
        page.goto(f"{live.url}/docs")
        page.wait_for_selector(".opblock", timeout=30_000)  # Swagger UI drew the operations
        assert page.locator(".opblock").count() > 20
        page.goto(f"{live.url}/redoc")
        page.wait_for_selector("[data-section-id]", timeout=30_000)  # ReDoc drew its sections
    finally:
        ctx.close()
    assert outside == []


def test_the_openapi_document_names_auth_and_problems(service) -> None:  # type: ignore[no-untyped-def]
    doc = service.client().get("/openapi.json").json()
    assert set(doc["components"]["securitySchemes"]) == {"session", "apiKey"}
    assert doc["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    op = doc["paths"]["/v1/beneficiaries"]["post"]
    assert op["security"] == [{"session": []}, {"apiKey": []}]
    assert "application/problem+json" in op["responses"]["422"]["content"]
    assert "HTTPValidationError" not in json.dumps(doc)
    result = doc["paths"]["/v1/results/{result_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert result["schema"]["$ref"].endswith("/ResultPublic")


def test_request_ids_in_answers_problems_and_logs(service) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logging.getLogger("proforient").addHandler(handler)
    try:
        c = service.client()
        r = c.get("/v1/beneficiaries", headers={"X-Request-ID": "case-4711-abc"})
        assert r.status_code == 401
        assert r.headers["x-request-id"] == "case-4711-abc" == r.json()["request_id"]
        made = c.get("/v1/beneficiaries", headers={"X-Request-ID": "bad id with spaces"})
        assert re.fullmatch(r"[0-9a-f]{16}", made.headers["x-request-id"])  # an unusable id is replaced
        c.get("/v1/respond/ABCDEFGHJKLM2345")  # a hand-over token in the path
        c.get("/r/ABCDEFGHJKLM2345/part/1")
    finally:
        logging.getLogger("proforient").removeHandler(handler)
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    mine = next(x for x in lines if x.get("request_id") == "case-4711-abc")
    assert mine["logger"] == "proforient.access" and mine["status"] == 401 and mine["path"] == "/v1/beneficiaries"
    assert {"ts", "level", "msg", "method", "ms"} <= set(mine)
    assert "ABCDEFGHJKLM2345" not in stream.getvalue()
    assert any(x.get("path") == "/v1/respond/{token}" for x in lines)


def test_healthz_says_when_the_database_does_not_answer(service, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    c = service.client()
    ok = c.get("/healthz")
    assert ok.status_code == 200 and ok.json()["ok"] is True
    db = service.app.state.db

    def down():  # type: ignore[no-untyped-def]
        raise OSError("connection refused")

    monkeypatch.setattr(db, "read", down)
    r = c.get("/healthz")
    assert r.status_code == 503 and r.json() == {"ok": False, "database": "unreachable"}
