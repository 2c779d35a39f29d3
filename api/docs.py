"""The API's documentation pages, from files shipped with the package (Swagger UI and ReDoc from
the ``fastapi-offline`` package, MIT-licensed): they work on the fund's offline network and load
no third-party script on the origin that serves special-category data.

The OpenAPI document names how callers authenticate (``securitySchemes``: the session cookie of a
signed-in user, or an API key sent as ``Authorization: Bearer``) and documents every refusal as
the RFC 9457 problem+json it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
STATIC = "/static-docs"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'"
)
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` lists every field or answer that was refused.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:proforient:problem:invalid"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string", "description": "the X-Request-ID of the request, as in the logs"},
        "field": {"type": "string"},
        "value": {},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
REFUSALS = {
    "401": "not signed in, or the API key is not valid",
    "403": "the caller's role or scope does not allow this",
    "404": "no such record (or the caller may not know it exists)",
    "409": "the request clashes with the record's state (e.g. no valid consent, submitted already)",
    "422": "a field, an answer or a parameter is not acceptable; each is named",
    "503": "busy: nothing was done; send the same request again after Retry-After",
}


def openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with the security schemes and the problem+json refusals."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    components = doc.setdefault("components", {})
    components["schemas"] = {**components.get("schemas", {}), "Problem": PROBLEM_SCHEMA}
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    components["securitySchemes"] = {
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": "pfo_session",
            "description": "a signed-in user (POST /v1/auth/login sets it)",
        },
        "apiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API client's key: `Authorization: Bearer pfo_…` (X-API-Key is accepted too)",
        },
    }
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, ops in doc.get("paths", {}).items():
        for op in ops.values():
            public = path.startswith("/v1/respond") or path.startswith("/v1/schemas") or path == "/v1/auth/login"
            if not public:
                op["security"] = [{"session": []}, {"apiKey": []}]
            responses = op.setdefault("responses", {})
            for code, why in REFUSALS.items():
                if public and code in ("401", "403"):
                    continue
                responses[code] = {"description": why, "content": problem}
    app.openapi_schema = doc
    return doc


def install(app: FastAPI) -> None:
    app.mount(STATIC, StaticFiles(directory=ASSETS), name="docs-static")
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · API",
            swagger_js_url=f"{root}{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC}/favicon.png",
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · API",
            redoc_js_url=f"{root}{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page
