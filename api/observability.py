"""Request ids and structured logs.

Every request gets an id (the caller's ``X-Request-ID`` when it is a sane token, else a new
one): it is answered in the ``X-Request-ID`` header, put into every problem+json body
(``request_id``) and into every log line of that request, so a complaint ("it said error
3f2a…") leads to the log line. Logs are JSON lines on stderr: one object per line with
``ts``, ``level``, ``logger``, ``msg``, ``pid`` (the worker process), ``request_id`` and, for
the access log, ``method``, ``path``, ``status``, ``ms``, ``queued_ms`` (of those ``ms``, the
time it waited for a slot in the admission queue, ``api/admission.py``; absent for requests that
do not queue, such as ``/healthz``) and ``client``. Query strings, bodies,
names and codes typed into a search are never logged.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import secrets
import sys
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("proforient_request_id", default=None)
_SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_SECRET_PATHS = re.compile(r"^(/r|/v1/respond)/[^/]+")
"""Paths whose next segment is a hand-over token (a key to a person's answers): never logged."""
access = logging.getLogger("proforient.access")
QUEUED_MS = "queued_ms"
"""The key in a request's ``scope["state"]`` under which the admission queue leaves how long the
request waited for a slot (milliseconds); the access log reports it as ``queued_ms``."""


def request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return REQUEST_ID.get()


class JsonLines(logging.Formatter):
    """One JSON object per log record."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        rid = getattr(record, "request_id", None) or REQUEST_ID.get()
        if rid:
            out["request_id"] = rid
        for key in ("method", "path", "status", "ms", QUEUED_MS, "client"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr for proforient's loggers (idempotent)."""
    root = logging.getLogger("proforient")
    if any(isinstance(h.formatter, JsonLines) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False


class RequestIds:
    """ASGI middleware: the request id for this request, the response header, one access-log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SANE.match(given) else secrets.token_hex(8)
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client")
            path = _SECRET_PATHS.sub(lambda m: m.group(1) + "/{token}", scope["path"])
            fields = {
                "request_id": rid,
                "method": scope["method"],
                "path": path,
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "client": client[0] if client else None,
            }
            queued = (scope.get("state") or {}).get(QUEUED_MS)
            if queued is not None:  # only requests that went through the admission queue
                fields[QUEUED_MS] = queued
            access.info("%s %s %s", scope["method"], path, status, extra=fields)
            REQUEST_ID.reset(token)
