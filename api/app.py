"""The FastAPI application: routers aggregated, nothing else. ``create_app`` builds
everything from settings; nothing is created at import time."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import docs, errors, web
from api.admission import Admission
from api.db.session import Database
from api.domain import accounts, audit, throttle
from api.observability import RequestIds, configure_logging
from api.routes import (
    admin,
    administrations,
    auth,
    batches,
    beneficiaries,
    outcomes,
    packets,
    research,
    respond,
    results,
    schemas,
    studies,
)
from api.routes import instruments as instruments_routes
from api.routes import scoring as scoring_routes
from api.security import Sessions, Vault
from api.settings import Settings, get_settings

log = logging.getLogger("proforient")


UPLOAD_PATHS = re.compile(r"^(/v1)?/studies/[^/]+/submissions$|^/datasets$")
"""Where a researcher uploads a data file: these bodies may reach ``max_upload_bytes`` (plus the form)."""
FORM_SLACK = 64_000
"""Room for the form's other fields and the multipart framing around an uploaded file."""


class BodyLimit:
    """Refuse bodies larger than the limit before reading them (413: problem+json, or an error page
    for a web page). Uploads (``UPLOAD_PATHS``) have a limit of their own."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None) -> None:
        self.app, self.limit = app, limit
        self.upload_limit = max(limit, (upload_limit or 0) + FORM_SLACK)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int, length: int | None) -> None:
        req = Request(scope)
        said = f"at most {limit} bytes are accepted"
        if length:
            said = f"the body has {length} bytes; {said}"
        if not errors.is_api(req):
            from api.web.core import PageError, handle_page_error  # the web layer sits above this module

            resp = await handle_page_error(req, PageError(413, "too_large", said))
        else:
            resp = errors.problem(413, "too-large", "Request too large", said, req)
        await resp(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limit = self.upload_limit if UPLOAD_PATHS.match(scope.get("path", "")) else self.limit
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                await self._refuse(scope, receive, send, limit, int(length))
                return
            received = 0

            async def limited() -> Message:
                nonlocal received
                message = await receive()
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge()
                return message

            try:
                await self.app(scope, limited, send)
            except _TooLarge:
                await self._refuse(scope, receive, send, limit, None)
            return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    """Raised inside BodyLimit when a streamed body passes the limit."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # as many worker threads as the admission limit lets requests run at once
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, settings.threads)
        yield

    configure_logging(settings.log_level)
    app = FastAPI(
        lifespan=lifespan,
        title="proforient",
        version="1",
        summary="Career-guidance scoring, reports and consent-gated packets for the State Fund (Georgia)",
        openapi_url="/openapi.json",
        docs_url=None,  # served below from files shipped with the package: no CDN, nothing third-party
        redoc_url=None,
    )
    db = Database(
        settings.database_url,
        pool_size=settings.threads,
        pool_timeout=settings.db_pool_timeout,
        lock_timeout=settings.lock_timeout,
        **{
            audit.KEY: settings.audit_mac_key,
            audit.FILE: settings.audit_checkpoint_file or None,
            throttle.LIMITS: throttle.Limits(
                signin_account=settings.signin_failures_account,
                signin_address=settings.signin_failures_address,
                code_address=settings.code_failures_address,
                code_administration=settings.code_requests_administration,
                window_minutes=settings.throttle_window_minutes,
                block_minutes=settings.throttle_block_minutes,
            ),
            accounts.MIN_LENGTH: settings.password_min_length,
        },
    )
    app.state.settings = settings
    app.state.db = db
    app.state.engine = db.engine
    app.state.sessions = db.writes
    app.state.readonly = db.reads
    app.state.vault = Vault(settings.fernet_keys, reload=settings.key_loader())
    app.state.cookies = Sessions(settings.secret_key, settings.session_hours * 3600)
    errors.install(app)
    for module in (
        auth,
        instruments_routes,
        scoring_routes,
        beneficiaries,
        administrations,
        respond,
        results,
        batches,
        packets,
        outcomes,
        research,
        studies,
        admin,
        schemas,
    ):
        app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """Alive and the database answering (503 otherwise): for load balancers and monitoring."""
        try:
            with db.read() as s:
                s.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not healthy"; the reason goes to the log
            log.exception("health check: the database does not answer")
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True, "database": db.backend})

    docs.install(app)

    app.add_middleware(BodyLimit, limit=settings.max_request_bytes, upload_limit=settings.max_upload_bytes)
    app.add_middleware(Admission, limit=settings.threads, queue=settings.max_queue, timeout=settings.queue_timeout)
    app.add_middleware(RequestIds)  # outermost: every answer, a 503 of the admission queue too, has its id
    web.install(app)
    return app
