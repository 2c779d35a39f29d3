"""FastAPI dependencies: settings, one transaction per request, the caller, idempotency."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.session import Busy, busy
from api.db.tables import IdempotencyRecord, User
from api.domain import accounts, audit, maintenance, sessions, throttle
from api.domain.access import Principal
from api.domain.errors import Conflict, NotAuthenticated
from api.security import Sessions, Vault
from api.settings import Settings

COOKIE = "pfo_session"
CSRF_COOKIE = "pfo_csrf"
__all__ = ["Busy", "busy"]  # re-exported: the web layer classifies errors without importing api.db
log = logging.getLogger("proforient")


def session_policy(settings: Settings) -> sessions.Policy:
    return sessions.Policy(settings.session_hours, settings.session_idle_minutes, settings.shared_device_idle_minutes)


def start_session(
    request: Request,
    response: Response,
    session: Session,
    user: User,
    *,
    stage: str = "full",
    shared: bool = False,
    ip: str | None = None,
) -> str:
    """Sign the user in on this browser: a session row, its token in the signed cookie (for the web
    pages and the API alike), and a fresh CSRF cookie (a token fixed before sign-in is not reused).
    A session this browser had before is ended. Returns the new session's id."""
    settings: Settings = request.app.state.settings
    old = request.cookies.get(COOKIE)
    if old and (token := request.app.state.cookies.read(old)):
        sessions.end(session, sessions.token_hash(token), "replaced")
    token = sessions.start(session, user, session_policy(settings), stage=stage, shared=shared, ip=ip)
    response.set_cookie(
        COOKIE,
        request.app.state.cookies.issue(token),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_hours * 3600,
    )
    csrf = secrets.token_urlsafe(24)
    request.state.new_csrf = csrf  # pages rendered in this response use it
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=settings.cookie_secure)
    return sessions.token_hash(token)


def end_session(request: Request, response: Response, session: Session, reason: str = "signed_out") -> None:
    """Sign out this browser: its session row ends at once (the cookie is worthless from now on)."""
    cookie = request.cookies.get(COOKIE)
    token = request.app.state.cookies.read(cookie) if cookie else None
    if token:
        sessions.end(session, sessions.token_hash(token), reason)
    response.delete_cookie(COOKIE)
    response.delete_cookie(CSRF_COOKIE)


# Plain accessors are async so FastAPI calls them inline instead of hopping to a thread.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _write_kept(db: Any, session: Session | None) -> None:
    """After a failed unit of work: write the records that must outlive it (failed sign-ins,
    wrong codes: audit entries and throttle counts) in a short transaction of their own."""
    if session is None:
        return
    entries, events = audit.drain_kept(session), throttle.drain_kept(session)
    if not entries and not events:
        return
    try:
        with db.write() as w:
            audit.write(w, entries)
            throttle.write(w, events)
    except Exception:  # the request fails anyway; its own error is the one to report
        log.exception("could not record a failed attempt")


def get_db(request: Request) -> Iterator[Session]:
    """The request's unit of work, committed **before the response is sent**: committed if the
    route returns, rolled back if it raises; a failed COMMIT becomes a 5xx problem, never a 2xx.

    A GET reads in a transaction that takes no lock; the audit entries (and throttle counts) it
    queued are then written in a short write transaction of their own, before anything is
    answered. Any other method is one write transaction from its first statement to its COMMIT.
    When the route fails, what was queued with ``keep`` (a failed sign-in, a wrong code) is still
    written, in a transaction of its own.
    (Declared with ``scope="function"``: FastAPI runs the teardown before sending the response.)"""
    db = request.app.state.db
    current: Session | None = None
    try:
        if request.method in READ_METHODS:
            with db.read() as session:
                current = session
                yield session
            pending, events = audit.drain(session), throttle.drain(session)
            if pending or events:
                with db.write() as w:
                    audit.write(w, pending)
                    throttle.write(w, events)
            return
        with db.write() as session:
            current = session
            yield session
    except Exception:
        _write_kept(db, current)
        raise


def get_write_db(request: Request) -> Iterator[Session]:
    """One write transaction whatever the method: for a page whose very visit changes something (a
    study participant's next step hands out a fresh respondent token and may start the next
    instrument). A GET's read transaction would write without the write lock: on SQLite two such
    visits at once fail to upgrade (503), on PostgreSQL they would not take turns. Committed before
    the response, like ``get_db``; what was queued with ``keep`` is still written when it fails."""
    db = request.app.state.db
    current: Session | None = None
    try:
        with db.write() as session:
            current = session
            yield session
    except Exception:
        _write_kept(db, current)
        raise


async def get_vault(request: Request) -> Vault:
    return request.app.state.vault  # type: ignore[no-any-return]


async def get_cookies(request: Request) -> Sessions:
    return request.app.state.cookies  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_db, scope="function")]
VaultDep = Annotated[Vault, Depends(get_vault)]


async def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


IpDep = Annotated[str | None, Depends(client_ip)]


@dataclass(frozen=True)
class Identity:
    principal: Principal
    stage: str
    """'full' for API keys and signed-in sessions; 'password' or 'totp' for a sign-in half done."""


@dataclass(frozen=True)
class _Found:
    identity: Identity | None
    touch: Callable[[Session], None] | None
    """The last-use refresh due for this session or key (at most once a minute), else None."""


def _look_up(request: Request, keys: bool) -> _Found:
    """The read half of :func:`identify`: one indexed look-up in a short read-only transaction (none
    for a request with neither a key nor a signed session cookie)."""
    db = request.app.state.db
    auth = request.headers.get("authorization", "")
    key = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key")
    if key and keys:
        with db.connection() as conn:  # a plain connection: the hot path of other systems' calls
            found = accounts.client_for_key(conn, key)
        if found is None:
            raise NotAuthenticated("the API key is not valid")
        cid = found.principal.id
        return _Found(
            Identity(found.principal, "full"), (lambda w: accounts.touch_client(w, cid)) if found.touch else None
        )
    cookie = request.cookies.get(COOKIE)
    token = request.app.state.cookies.read(cookie) if cookie else None
    if not token:
        return _Found(None, None)
    with db.connection() as conn:
        sp = accounts.principal_for_session(conn, token)
    if sp is None:
        return _Found(None, None)
    sid = sp.session_id
    return _Found(Identity(sp.principal, sp.stage), (lambda w: sessions.touch(w, sid)) if sp.touch else None)


def _touch(request: Request, touch: Callable[[Session], None]) -> None:
    """The write half of :func:`identify`: the last use refreshed in a short write of its own."""
    try:
        with request.app.state.db.write() as w:
            touch(w)
    except Exception as exc:  # a busy database never refuses the request over a last-use time
        if busy(exc) is None:
            raise


def identify(request: Request, *, keys: bool = True) -> Identity | None:
    """Who is calling: an API key (``Authorization: Bearer`` or ``X-API-Key``; with ``keys``) or
    the session cookie, checked against the database on every request (a signed-out, disabled,
    idle or expired session is refused at once). Looked up in a short read-only transaction; the
    session's (or key's) last use is refreshed at most once a minute, in a short write of its own.
    Runs in a worker thread, as the routes and pages that use it do (stateless scoring, which works
    on the event loop, uses :func:`identify_on_loop`).

    Raises ``NotAuthenticated`` for a key that is not valid."""
    found = _look_up(request, keys)
    if found.touch is not None:
        _touch(request, found.touch)
    return found.identity


async def identify_on_loop(request: Request, *, keys: bool = True) -> Identity | None:
    """:func:`identify` with its read on the event loop (the refresh, a write that may wait for the
    write lock, still goes to a worker thread). Only for a route that does all its own work on the
    loop (stateless scoring, :data:`LoopPrincipalDep`).

    Why there: the look-up is one indexed row (≈ 1 ms). In a worker thread, on PostgreSQL, the
    thread that had sent its query sometimes got the interpreter back only 0.3–4 s after PostgreSQL
    had answered, while the event loop kept serving hundreds of other requests: stateless scoring at
    16 connections had requests of 1–2.5 s inside the server in every run, each stuck in this read
    (in taking a connection, the query or the commit, by turns). With the read on the loop, the
    slowest request of the same runs took 92 ms and the throughput rose by a quarter or more
    (``benchmarks/bench_service.py``; figures in the README). Why only there: where the route's own
    work runs in a thread (a submit), the loop's round trips to the database wait for the interpreter
    behind that busy thread instead, and every request of the process waits with the loop (submit
    188/s → 143/s in one paired run). The read takes no lock on either database (SQLite's write lock
    is for writes only), so it cannot hold the loop up waiting for one; and a request holds one
    pooled connection at a time, so one is free for it (the admission limit is the pool's size)."""
    found = _look_up(request, keys)
    if found.touch is not None:
        await run_in_threadpool(_touch, request, found.touch)
    return found.identity


HALF_SIGNED_IN = {
    "password": "the password is temporary: set a new one first (POST /v1/auth/password)",
    "totp": "the second factor is awaited: enter the one-time code first",
}


def get_principal(request: Request) -> Principal:
    """An API key or a signed-in session (a half-done sign-in does not count)."""
    return _principal(identify(request))


async def get_principal_on_loop(request: Request) -> Principal:
    """:func:`get_principal` for a route that does all its work on the event loop."""
    return _principal(await identify_on_loop(request))


def _principal(ident: Identity | None) -> Principal:
    if ident is None:
        raise NotAuthenticated("sign in, or send an API key")
    if ident.stage != "full":
        raise NotAuthenticated(HALF_SIGNED_IN[ident.stage], stage=ident.stage)
    return ident.principal


def get_identity(request: Request) -> Identity:
    """Like ``get_principal``, but a half-done sign-in counts (the password-change endpoint)."""
    ident = identify(request)
    if ident is None:
        raise NotAuthenticated("sign in, or send an API key")
    return ident


PrincipalDep = Annotated[Principal, Depends(get_principal)]
LoopPrincipalDep = Annotated[Principal, Depends(get_principal_on_loop)]
"""The caller, looked up on the event loop: only for a route that does all its work there."""
IdentityDep = Annotated[Identity, Depends(get_identity)]


def resource_id(body: Any) -> str | None:
    """The id of what a creating request made, from its response body."""
    if isinstance(body, dict):
        for k in ("id", "code", "packet"):
            if body.get(k) is not None:
                return str(body[k])
    return None


class Idempotency:
    """``Idempotency-Key`` on creating POSTs, remembered for 24 hours.

    What is stored: HMACs (with the secret key) of the key and of the route and body, the
    response's status and the id of the resource it made. Never a body: no names, contacts,
    API keys or resume tokens in this table.

    A retry with the same key and body answers the first status with the resource **as it is
    now**, read again by the route's ``replay`` (so a retry sees later changes, e.g. a consent
    withdrawn since); a secret that is shown only once (an API key, a resume token, a temporary
    password) is not shown again: that field is null. Without a ``replay`` the answer is
    ``{"id": …}``. The same key with another body is refused (409). Records older than 24 hours
    are deleted on the next write (and by ``maintenance.purge``); such a key counts as new."""

    def __init__(self, request: Request, session: SessionDep, principal: PrincipalDep) -> None:
        self.key = request.headers.get("idempotency-key")
        self.session = session
        self.principal = principal
        self.route = f"{request.method} {request.url.path}"
        self.secret = request.app.state.settings.secret_key.encode()

    def _mac(self, text: str) -> str:
        return hmac.new(self.secret, f"idempotency|{text}".encode(), hashlib.sha256).hexdigest()

    def run(
        self,
        body: Any,
        work: Callable[[], Any],
        status: int = 201,
        replay: Callable[[str], Any] | None = None,
    ) -> tuple[int, Any]:
        if not self.key:
            return status, jsonable_encoder(work())
        if len(self.key) > 200:
            raise Conflict("Idempotency-Key is longer than 200 characters", field="Idempotency-Key")
        digest = self._mac(self.route + "|" + json.dumps(jsonable_encoder(body), sort_keys=True))
        key = self._mac(self.key)
        who = self.principal.actor
        now = dt.datetime.now(dt.UTC)
        cutoff = now - dt.timedelta(hours=maintenance.IDEMPOTENCY_HOURS)
        old = self.session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.principal == who, IdempotencyRecord.key == key)
        ).scalar_one_or_none()
        if old is not None:
            created = old.created_at if old.created_at.tzinfo else old.created_at.replace(tzinfo=dt.UTC)
            if created < cutoff:  # forgotten: the key counts as new
                self.session.delete(old)
                self.session.flush()
            else:
                if not hmac.compare_digest(old.request_hash, digest):
                    raise Conflict("this Idempotency-Key was used with a different request", field="Idempotency-Key")
                if old.resource_id is None:
                    return old.status, None
                if replay is None:
                    return old.status, {"id": old.resource_id}
                return old.status, jsonable_encoder(replay(old.resource_id))
        result = jsonable_encoder(work())
        self.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
        try:
            with self.session.begin_nested():
                self.session.add(
                    IdempotencyRecord(
                        principal=who,
                        key=key,
                        request_hash=digest,
                        status=status,
                        resource_id=resource_id(result),
                        created_at=now,
                    )
                )
        except IntegrityError as exc:  # the same key raced in from another request
            raise Conflict("a request with this Idempotency-Key is being processed", field="Idempotency-Key") from exc
        return status, result


IdempotencyDep = Annotated[Idempotency, Depends(Idempotency)]
