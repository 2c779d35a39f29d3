"""Every error leaves as RFC 9457 problem+json, naming the offending field or item.

Domain errors carry no status code; this one table maps them. Unexpected
errors give a plain 500 problem: no stack trace ever reaches a user.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

import instruments
import scoring
from api.db.session import Busy, busy
from api.domain.errors import (
    Conflict,
    ConsentRequired,
    DomainError,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from api.observability import request_id

log = logging.getLogger("proforient")
PROBLEM = "application/problem+json"

STATUS: list[tuple[type[DomainError], int, str, str]] = [
    (NotAuthenticated, 401, "not-authenticated", "Sign-in required"),
    (Forbidden, 403, "forbidden", "Not allowed"),
    (NotFound, 404, "not-found", "Not found"),
    (TooManyAttempts, 429, "too-many-attempts", "Too many attempts"),
    (ConsentRequired, 409, "consent-required", "No valid consent"),
    (Conflict, 409, "conflict", "Conflict with the current state"),
    (Invalid, 422, "invalid", "Invalid request"),
]


def _json_safe(value: Any) -> Any:
    """JSON has no NaN or Infinity, yet Python's parser accepts them in a body:
    echo such a rejected value as text instead of failing to encode it."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def problem(status: int, slug: str, title: str, detail: str, request: Request, **extra: Any) -> JSONResponse:
    body = {
        "type": f"urn:proforient:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": str(request.url.path),
        "request_id": request_id(),
        **{k: v for k, v in extra.items() if v is not None},
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(_json_safe(jsonable_encoder(body)), status_code=status, media_type=PROBLEM, headers=headers)


def busy_problem(exc: Busy, request: Request) -> JSONResponse:
    """503 with ``Retry-After``: nothing was done; the same request may simply be sent again."""
    resp = problem(503, "busy", "Service busy", f"{exc.detail}; nothing was saved", request)
    resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


def is_api(request: Request) -> bool:
    """The REST API or its documentation (answers are problem+json), as opposed to a web page."""
    return not _is_page(request)


def _is_page(request: Request) -> bool:
    """A web page (HTML), as opposed to the REST API and its documentation."""
    path = request.url.path
    return not (path.startswith("/v1/") or path.startswith("/openapi") or path.startswith("/docs"))


async def _page(request: Request, status: int, kind: str, retry_after: int | None = None) -> Response:
    from api.web.core import PageError, handle_page_error  # the web layer sits above this module

    resp = await handle_page_error(request, PageError(status, kind))
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        for cls, status, slug, title in STATUS:
            if isinstance(exc, cls):
                resp = problem(status, slug, title, exc.detail, request, **exc.extra)
                if isinstance(exc, TooManyAttempts):
                    resp.headers["Retry-After"] = str(exc.retry_after)
                return resp
        return problem(400, "bad-request", "Bad request", exc.detail, request, **exc.extra)

    @app.exception_handler(scoring.ResponseValidationError)
    async def _answers(request: Request, exc: scoring.ResponseValidationError) -> JSONResponse:
        errors = [
            {"row": p.row or None, "id": p.respondent, "item": p.item, "value": p.value, "reason": p.reason}
            for p in exc.problems
        ]
        first = exc.problems[0]
        return problem(
            422,
            "invalid-answers",
            "Answers do not fit the instrument",
            f"{exc.total} answer(s) rejected; first: {first}",
            request,
            errors=errors,
        )

    @app.exception_handler(instruments.InstrumentError)
    async def _instrument(request: Request, exc: instruments.InstrumentError) -> JSONResponse:
        status = 404 if isinstance(exc, instruments.UnknownInstrument) else 422
        return problem(status, "instrument", "Instrument problem", "; ".join(str(p) for p in exc.problems), request)

    @app.exception_handler(scoring.ScoringError)
    async def _scoring(request: Request, exc: scoring.ScoringError) -> JSONResponse:
        return problem(422, "invalid", "Invalid request", str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            return problem(400, "malformed-json", "Malformed JSON", "the request body is not valid JSON", request)
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p != "body"),
                "reason": e["msg"],
                "value": e.get("input") if not isinstance(e.get("input"), dict | list) else None,
            }
            for e in errs
        ]
        first = errors[0]
        return problem(
            422, "invalid", "Invalid request", f"{first['field']}: {first['reason']}", request, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(exc.status_code, "http")
        return problem(exc.status_code, slug, str(exc.detail), str(exc.detail), request)

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy) -> Response:
        if _is_page(request):
            return await _page(request, 503, "busy", exc.retry_after)
        return busy_problem(exc, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        b = busy(exc)
        if b is not None:
            return await _busy(request, b)
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if _is_page(request):
            return await _page(request, 500, "internal")
        return problem(
            500, "internal", "Internal error", "something went wrong on our side; nothing was saved", request
        )
