"""FastAPI dependencies: settings, one transaction per request, the caller, idempotency."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.session import Busy, busy
from api.db.tables import IdempotencyRecord
from api.domain import accounts, audit
from api.domain.access import Principal
from api.domain.errors import Conflict, NotAuthenticated
from api.security import Sessions, Vault
from api.settings import Settings

COOKIE = "pfo_session"
__all__ = ["Busy", "busy"]  # re-exported: the web layer classifies errors without importing api.db


def start_session(request: Request, response: Response, settings: Settings, user_id: int) -> None:
    """Sign the user in on this browser: the signed session cookie, for the web pages and the API alike."""
    response.set_cookie(
        COOKIE,
        request.app.state.cookies.issue(user_id),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_hours * 3600,
    )


# Plain accessors are async so FastAPI calls them inline instead of hopping to a thread.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Iterator[Session]:
    """The request's unit of work, committed **before the response is sent**: committed if the
    route returns, rolled back if it raises; a failed COMMIT becomes a 5xx problem, never a 2xx.

    A GET reads in a transaction that takes no lock; the audit entries it queued are then
    written in a short write transaction of their own, before anything is answered. Any other
    method is one write transaction from its first statement to its COMMIT.
    (Declared with ``scope="function"``: FastAPI runs the teardown before sending the response.)"""
    db = request.app.state.db
    if request.method in READ_METHODS:
        with db.read() as session:
            yield session
        pending = audit.drain(session)
        if pending:
            with db.write() as w:
                audit.write(w, pending)
        return
    with db.write() as session:
        yield session


async def get_vault(request: Request) -> Vault:
    return request.app.state.vault  # type: ignore[no-any-return]


async def get_cookies(request: Request) -> Sessions:
    return request.app.state.cookies  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
VaultDep = Annotated[Vault, Depends(get_vault)]


async def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


IpDep = Annotated[str | None, Depends(client_ip)]


def get_principal(request: Request) -> Principal:
    """An API key (``Authorization: Bearer`` or ``X-API-Key``) or a signed session cookie.

    Looked up in a short read-only transaction of its own, so a stateless
    request (scoring) never waits for the write lock."""
    with request.app.state.db.read() as session:
        return _principal(request, session)


def _principal(request: Request, session: Session) -> Principal:
    auth = request.headers.get("authorization", "")
    key = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key")
    if key:
        p = accounts.principal_for_key(session, key)
        if p is None:
            raise NotAuthenticated("the API key is not valid")
        return p
    cookie = request.cookies.get(COOKIE)
    if cookie:
        uid = request.app.state.cookies.read(cookie)
        if uid is not None and (p := accounts.principal_for_user_id(session, uid)) is not None:
            return p
    raise NotAuthenticated("sign in, or send an API key")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


class Idempotency:
    """``Idempotency-Key`` on creating POSTs: the same key and body replays the first
    response; the same key with another body is refused."""

    def __init__(self, request: Request, session: SessionDep, principal: PrincipalDep) -> None:
        self.key = request.headers.get("idempotency-key")
        self.session = session
        self.principal = principal
        self.route = f"{request.method} {request.url.path}"

    def run(self, body: Any, work: Callable[[], Any], status: int = 201) -> tuple[int, Any]:
        if not self.key:
            return status, jsonable_encoder(work())
        if len(self.key) > 200:
            raise Conflict("Idempotency-Key is longer than 200 characters", field="Idempotency-Key")
        digest = hashlib.sha256((self.route + json.dumps(jsonable_encoder(body), sort_keys=True)).encode()).hexdigest()
        who = self.principal.actor
        old = self.session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.principal == who, IdempotencyRecord.key == self.key)
        ).scalar_one_or_none()
        if old is not None:
            if old.request_hash != digest:
                raise Conflict("this Idempotency-Key was used with a different request", field="Idempotency-Key")
            return old.status, old.body["body"]
        result = jsonable_encoder(work())
        try:
            with self.session.begin_nested():
                self.session.add(
                    IdempotencyRecord(
                        principal=who, key=self.key, request_hash=digest, status=status, body={"body": result}
                    )
                )
        except IntegrityError as exc:  # the same key raced in from another request
            raise Conflict("a request with this Idempotency-Key is being processed", field="Idempotency-Key") from exc
        return status, result


IdempotencyDep = Annotated[Idempotency, Depends(Idempotency)]
