"""Accounts: users (full names, passwords, a second factor, disabling), API clients (scopes,
revocation, last use), signing in, and turning a session or a key into a ``Principal``.

- **Passwords** follow ``api.passwords`` (length and a check against common passwords, no
  composition rules), hashed with argon2. An account made without a password, or reset by an
  admin, gets a *temporary* one and must choose its own at the next sign-in. A reset can also be
  a one-time link (``password_resets``; valid ``reset_link_hours``, used once).
- **Signing in** takes as long for an unknown user name as for a known one (a dummy hash is
  checked), is throttled per typed account name and per address (``throttle``), and every
  failure is audited (without the typed name: it is sometimes a password in the wrong box).
- **Sessions** are rows (``sessions``): a disabled account, a password change or reset ends
  every session of the account at once.
- **Second factor** (TOTP, RFC 6238, ``pyotp``): optional for admins and psychologists; the
  secret is encrypted at rest with the data keys; a code is accepted once.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import pyotp
from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import passwords
from api.db.tables import ApiClient, PasswordReset, User, UserSession
from api.security import ROLES, SCOPES, Vault, hash_token, new_api_key, same, split_api_key, verify_password
from api.security import hash_password as _argon2

from . import audit, sessions, throttle
from .access import Principal
from .errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound, TooManyAttempts

MIN_LENGTH = "password_min_length"
"""``Session.info`` key of the shortest password accepted (set from the settings by the app)."""
TOTP_ISSUER = "proforient"
KEY_TOUCH_SECONDS = 60


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(d: dt.datetime | None) -> dt.datetime | None:
    return None if d is None else (d if d.tzinfo else d.replace(tzinfo=dt.UTC))


def min_length(session: Session) -> int:
    return int(session.info.get(MIN_LENGTH, 12))


# -- names ---------------------------------------------------------------------------------


def display_name(session: Session, user_id: int | None) -> str:
    """What pages and reports show for a user: the full name, else the login, else '' (no user)."""
    if user_id is None:
        return ""
    u = session.get(User, user_id)
    if u is None:
        return ""
    return u.full_name or u.username


def display_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """``display_name`` for several users in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        u.id: (u.full_name or u.username) for u in session.execute(select(User).where(User.id.in_(wanted))).scalars()
    }


# -- passwords -----------------------------------------------------------------------------


def check_password(session: Session, password: str, username: str = "", full_name: str = "") -> None:
    """Refuse (``Invalid`` with the reason code in ``reason``) a password the policy does not accept."""
    n = min_length(session)
    why = passwords.problem(password, n, username, full_name or "")
    if why is not None:
        raise Invalid(passwords.message(why, n), field="password", reason=why)


def _hash(password: str) -> str:
    return _argon2(password)


def temporary_password() -> str:
    """A random temporary password (4 groups of 4 letters/digits: easy to pass on, hard to guess)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real argon2 hash of a random password: checked for unknown users, so their sign-in takes
    as long as a known user's."""
    return _argon2(secrets.token_urlsafe(24))


# -- users -----------------------------------------------------------------------------------


def _check_role(role: str, organisation: str | None, known_orgs: set[str] | None) -> None:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role", value=role)
    if role == "employment_officer" and not organisation:
        raise Invalid("an employment officer belongs to an organisation", field="organisation")
    if organisation and known_orgs is not None and organisation not in known_orgs:
        raise Invalid(f"unknown organisation {organisation!r}", field="organisation", value=organisation)


def new_account(
    session: Session,
    actor: Principal,
    username: str,
    full_name: str | None,
    role: str,
    organisation: str | None = None,
    known_orgs: set[str] | None = None,
    password: str | None = None,
    ip: str | None = None,
) -> tuple[User, str | None]:
    """Create a user. Without ``password`` a temporary one is made (returned once, to hand over)
    and the person must choose their own at the first sign-in."""
    actor.require("accounts.manage")
    _check_role(role, organisation, known_orgs)
    full_name = (full_name or "").strip() or None
    temporary = None
    if password is None:
        temporary = password = temporary_password()
    else:
        check_password(session, password, username, full_name or "")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=_hash(password),
        role=role,
        organisation=organisation,
        must_change_password=temporary is not None,
        password_changed_at=None if temporary else _now(),
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"user {username!r} exists already", field="username") from exc
    audit.append(
        session,
        actor.actor,
        "create",
        "user",
        str(user.id),
        ip=ip,
        detail={"username": username, "role": role, "organisation": organisation, "temporary": temporary is not None},
    )
    return user, temporary


def create_user(
    session: Session,
    actor: Principal,
    username: str,
    password: str,
    role: str,
    organisation: str | None = None,
    known_orgs: set[str] | None = None,
    full_name: str | None = None,
) -> User:
    """Create a user with a password chosen for them (the CLI, test fixtures)."""
    user, _ = new_account(session, actor, username, full_name, role, organisation, known_orgs, password)
    return user


def get_user(session: Session, actor: Principal, user_id: int) -> User:
    actor.require("accounts.manage")
    u = session.get(User, user_id)
    if u is None:
        raise NotFound(f"no user {user_id}", field="user", value=user_id)
    return u


def list_users(session: Session, actor: Principal) -> list[User]:
    actor.require("accounts.manage")
    return list(session.execute(select(User).order_by(User.active.desc(), User.username)).scalars())


def user_view(u: User, open_sessions: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": u.id,
        "username": u.username,
        "full_name": u.full_name,
        "role": u.role,
        "organisation": u.organisation,
        "active": u.active,
        "must_change_password": u.must_change_password,
        "second_factor": u.totp_active,
        "created_at": u.created_at,
        "disabled_at": u.disabled_at,
        "last_sign_in_at": u.last_sign_in_at,
    }
    if open_sessions is not None:
        out["open_sessions"] = open_sessions
    return out


def update_user(session: Session, actor: Principal, user_id: int, full_name: str | None, ip: str | None = None) -> User:
    u = get_user(session, actor, user_id)
    u.full_name = (full_name or "").strip() or None
    audit.append(session, actor.actor, "update", "user", str(u.id), ip=ip, detail={"fields": ["full_name"]})
    return u


def set_active(session: Session, actor: Principal, user_id: int, active: bool, ip: str | None = None) -> User:
    """Disable (every session ends at once) or enable an account. An admin cannot disable
    themselves, nor the last active admin."""
    u = get_user(session, actor, user_id)
    if not active:
        if actor.kind == "user" and actor.id == u.id:
            raise Conflict("you cannot disable your own account", field="user")
        if u.role == "admin":
            admins = session.execute(
                select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
            ).scalar_one()
            if admins <= 1 and u.active:
                raise Conflict("the last active admin cannot be disabled", field="user")
    ended = 0
    if u.active and not active:
        u.active = False
        u.disabled_at = _now()
        ended = sessions.end_all(session, u.id, "disabled")
    elif active and not u.active:
        u.active = True
        u.disabled_at = None
    audit.append(
        session,
        actor.actor,
        "enable" if active else "disable",
        "user",
        str(u.id),
        ip=ip,
        detail={"sessions_ended": ended},
    )
    return u


def reset_password(session: Session, actor: Principal, user_id: int, ip: str | None = None) -> str:
    """A new temporary password (returned once): every session ends; the person chooses a new one
    at the next sign-in."""
    u = get_user(session, actor, user_id)
    temporary = temporary_password()
    u.password_hash = _hash(temporary)
    u.must_change_password = True
    ended = sessions.end_all(session, u.id, "password_reset")
    audit.append(session, actor.actor, "reset_password", "user", str(u.id), ip=ip, detail={"sessions_ended": ended})
    return temporary


def reset_link(session: Session, actor: Principal, user_id: int, hours: int = 24, ip: str | None = None) -> str:
    """A one-time token for a reset link (returned once; stored hashed). The old password keeps
    working until the link is used; an older unused link stops working."""
    u = get_user(session, actor, user_id)
    now = _now()
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == u.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            id=hash_token(token),
            user_id=u.id,
            created_by=actor.id if actor.kind == "user" else None,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    session.flush()
    audit.append(session, actor.actor, "reset_link", "user", str(u.id), ip=ip, detail={"hours": hours})
    return token


def reset_target(session: Session, token: str) -> User:
    """The user a reset link is for, if it is still valid (else ``NotFound``)."""
    r = session.get(PasswordReset, hash_token(token))
    if r is None or r.used_at is not None or _aware(r.expires_at) <= _now():  # type: ignore[operator]
        raise NotFound("this link is not valid (any more); ask the administrator for a new one")
    u = session.get(User, r.user_id)
    if u is None or not u.active:
        raise NotFound("this link is not valid (any more); ask the administrator for a new one")
    return u


def redeem_reset(session: Session, token: str, new_password: str, ip: str | None = None) -> User:
    """Set a new password with a reset link (used once); every session of the account ends."""
    u = reset_target(session, token)
    check_password(session, new_password, u.username, u.full_name or "")
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == hash_token(token))
        .values(used_at=_now())
        .execution_options(synchronize_session=False)
    )
    _set_password(session, u, new_password, "password_reset_link")
    audit.append(session, f"user:{u.username}", "set_password", "user", str(u.id), ip=ip, detail={"by": "link"})
    return u


def _set_password(session: Session, u: User, new_password: str, reason: str) -> int:
    u.password_hash = _hash(new_password)
    u.must_change_password = False
    u.password_changed_at = _now()
    return sessions.end_all(session, u.id, reason)


def change_password(
    session: Session, principal: Principal, current: str, new_password: str, ip: str | None = None
) -> User:
    """One's own new password: the current one is asked for; every session of the account ends
    (the caller starts a new one for this browser)."""
    if principal.kind != "user":
        raise Forbidden("only a person signed in can change their password")
    u = session.get(User, principal.id)
    if u is None or not u.active:
        raise NotAuthenticated("sign in first")
    if not verify_password(u.password_hash, current):
        audit.append(session, principal.actor, "change_password_failed", "user", str(u.id), ip=ip, keep=True)
        throttle.hit(session, "signin_account", u.username.lower(), keep=True)
        raise Invalid("the current password is not right", field="current_password", reason="current")
    if hmac.compare_digest(current.encode(), new_password.encode()):
        raise Invalid("the new password must differ from the current one", field="password", reason="same")
    check_password(session, new_password, u.username, u.full_name or "")
    ended = _set_password(session, u, new_password, "password_changed")
    audit.append(
        session, principal.actor, "change_password", "user", str(u.id), ip=ip, detail={"sessions_ended": ended}
    )
    return u


# -- signing in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    user: User
    stage: str
    """'full', 'password' (must choose a new password first) or 'totp' (second factor awaited)."""


def _fail(session: Session, typed: str, ip: str | None, user: User | None, why: str, via: str) -> None:
    audit.append(
        session,
        "anonymous",
        "login_failed",
        "user",
        str(user.id) if user is not None else None,
        ip=ip,
        detail={"via": via, "reason": why},
        keep=True,
    )
    throttle.hit(session, "signin_account", typed, keep=True)
    throttle.hit(session, "signin_address", ip, keep=True)


def sign_in(
    session: Session,
    username: str,
    password: str,
    ip: str | None,
    *,
    via: str = "web",
    totp: str | None = None,
    vault: Vault | None = None,
) -> SignIn:
    """Check a user name and password (and, through the API, the second factor).

    Throttled per typed account name and per address; unknown names take as long as known ones;
    every failure is audited and counted even though the request fails."""
    typed = username.strip().lower()[:200]
    try:
        throttle.check(session, ("signin_account", typed), ("signin_address", ip), what="failed sign-ins")
    except TooManyAttempts:
        audit.append(session, "anonymous", "login_paused", "user", ip=ip, detail={"via": via}, keep=True)
        raise
    user = session.execute(select(User).where(User.username == username.strip())).scalar_one_or_none()
    stored = user.password_hash if user is not None else _dummy_hash()
    good = verify_password(stored, password)  # always one argon2 verification
    if user is None or not good or not user.active:
        why = "unknown_user" if user is None else ("disabled" if not user.active else "password")
        _fail(session, typed, ip, user, why, via)
        raise NotAuthenticated("wrong user name or password")
    stage = "password" if user.must_change_password else "full"
    if user.totp_active and stage == "full":
        if via == "web":
            stage = "totp"
        elif not totp:
            raise NotAuthenticated(
                "this account has a second factor: send the one-time code from the authenticator app as 'totp'",
                totp_required=True,
            )
        elif vault is None or not check_totp(session, user, vault, totp):
            _fail(session, typed, ip, user, "totp", via)
            raise NotAuthenticated("the one-time code is not right", totp_required=True)
    throttle.clear(session, "signin_account", typed)
    if stage == "full":
        user.last_sign_in_at = _now()
    audit.append(
        session, f"user:{user.username}", "login", "user", str(user.id), ip=ip, detail={"via": via, "stage": stage}
    )
    return SignIn(user, stage)


def second_factor(session: Session, principal: Principal, code: str, vault: Vault, ip: str | None) -> tuple[User, bool]:
    """The web sign-in's second step: the one-time code of a session waiting for it. A wrong code
    counts as a failed sign-in. Returns the user and whether the device was marked shared."""
    u = session.get(User, principal.id)
    if u is None or not u.active:
        raise NotAuthenticated("sign in first")
    typed = u.username.lower()
    throttle.check(session, ("signin_account", typed), ("signin_address", ip), what="failed sign-ins")
    if not check_totp(session, u, vault, code):
        _fail(session, typed, ip, u, "totp", "web")
        raise NotAuthenticated("the one-time code is not right")
    row = session.get(UserSession, principal.session_id) if principal.session_id else None
    shared = bool(row and row.shared_device)
    throttle.clear(session, "signin_account", typed)
    u.last_sign_in_at = _now()
    audit.append(
        session, f"user:{u.username}", "login", "user", str(u.id), ip=ip, detail={"via": "web", "stage": "full"}
    )
    return u, shared


def own(session: Session, principal: Principal) -> User:
    """One's own account."""
    principal.require("account.own")
    u = session.get(User, principal.id) if principal.kind == "user" else None
    if u is None:
        raise NotAuthenticated("sign in first")
    return u


class UserColumns(Protocol):
    """What a principal is made of: a ``User``, or a row of its columns (the session look-up)."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def organisation(self) -> str | None: ...
    @property
    def full_name(self) -> str | None: ...


def user_principal(user: UserColumns, session_id: str | None = None) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=user.role,
        organisation=user.organisation,
        full_name=user.full_name,
        session_id=session_id,
    )


def principal_for_user_id(session: Session, user_id: int) -> Principal | None:
    user = session.get(User, user_id)
    return user_principal(user) if user is not None and user.active else None


@dataclass(frozen=True)
class SessionPrincipal:
    principal: Principal
    stage: str
    session_id: str
    touch: bool


def principal_for_session(conn: Connection, token: str) -> SessionPrincipal | None:
    """The principal of a session token (any stage), or None if the session is not live; read on a
    plain read connection (``Database.connection``)."""
    found = sessions.lookup(conn, token)
    if found is None:
        return None
    row = found.row
    return SessionPrincipal(user_principal(row, row.session_id), row.stage, row.session_id, found.touch)


@dataclass(frozen=True)
class KeyPrincipal:
    principal: Principal
    touch: bool


_KEY_LOOKUP = select(
    ApiClient.id,
    ApiClient.name,
    ApiClient.organisation,
    ApiClient.scopes,
    ApiClient.active,
    ApiClient.key_hash,
    ApiClient.last_used_at,
).where(ApiClient.key_prefix == bindparam("prefix"))
"""Built once: building a statement and its cache key costs more than running this one (an indexed
row), and every request with an API key runs it."""


def client_for_key(conn: Connection, key: str) -> KeyPrincipal | None:
    """The client of an API key, if the key is valid and the client active; read with a prebuilt
    statement on a plain read connection (``Database.connection``)."""
    prefix = split_api_key(key)
    if prefix is None:
        return None
    client = conn.execute(_KEY_LOOKUP, {"prefix": prefix}).one_or_none()
    if client is None or not client.active or not same(client.key_hash, hash_token(key)):
        return None
    last = _aware(client.last_used_at)
    touch = last is None or (_now() - last).total_seconds() >= KEY_TOUCH_SECONDS
    return KeyPrincipal(
        Principal(
            kind="client",
            id=client.id,
            name=client.name,
            organisation=client.organisation,
            scopes=frozenset(client.scopes),
        ),
        touch,
    )


def touch_client(session: Session, client_id: int) -> None:
    session.execute(
        update(ApiClient)
        .where(ApiClient.id == client_id)
        .values(last_used_at=_now())
        .execution_options(synchronize_session=False)
    )


# -- second factor ---------------------------------------------------------------------------


def check_totp(session: Session, user: User, vault: Vault, code: str, *, pending: bool = False) -> bool:
    """Whether ``code`` is the current (±30 s) code of the user's secret, not used before.
    Records the time step, so the same code is refused a second time."""
    if user.totp_secret_enc is None or (not pending and not user.totp_active):
        return False
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    secret = vault.open(user.totp_secret_enc)
    totp = pyotp.TOTP(secret)  # type: ignore[arg-type]
    now = time.time()
    for offset in (0, -30, 30):
        t = dt.datetime.fromtimestamp(now + offset, dt.UTC)
        step = totp.timecode(t)
        if hmac.compare_digest(totp.at(t), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


def totp_begin(session: Session, principal: Principal, vault: Vault, ip: str | None = None) -> tuple[str, str]:
    """A new secret (not yet active) and its ``otpauth://`` URI for the authenticator app."""
    principal.require("account.totp")
    u = session.get(User, principal.id)
    if u is None:
        raise NotAuthenticated("sign in first")
    if u.totp_active:
        raise Conflict("a second factor is set up already; remove it first to set up a new one")
    secret = pyotp.random_base32()
    u.totp_secret_enc = vault.seal(secret)
    u.totp_last_step = None
    audit.append(session, principal.actor, "totp_begin", "user", str(u.id), ip=ip)
    uri = pyotp.TOTP(secret).provisioning_uri(name=u.username, issuer_name=TOTP_ISSUER)
    return secret, uri


def totp_confirm(session: Session, principal: Principal, vault: Vault, code: str, ip: str | None = None) -> None:
    """Activate the second factor with a first code from the app (proves the app has the secret)."""
    principal.require("account.totp")
    u = session.get(User, principal.id)
    if u is None or u.totp_secret_enc is None:
        raise Conflict("start the set-up first")
    if not check_totp(session, u, vault, code, pending=True):
        raise Invalid("the code is not right; check the time on the phone and try the next code", field="code")
    u.totp_active = True
    audit.append(session, principal.actor, "totp_on", "user", str(u.id), ip=ip)


def totp_remove(session: Session, actor: Principal, user_id: int, ip: str | None = None) -> None:
    """Remove a user's second factor: the admin (a lost phone) or the person themselves."""
    if not (actor.kind == "user" and actor.id == user_id):
        actor.require("accounts.manage")
    u = session.get(User, user_id)
    if u is None:
        raise NotFound(f"no user {user_id}", field="user", value=user_id)
    u.totp_secret_enc = None
    u.totp_active = False
    u.totp_last_step = None
    audit.append(session, actor.actor, "totp_off", "user", str(u.id), ip=ip)


# -- API clients -----------------------------------------------------------------------------


def create_api_client(
    session: Session,
    actor: Principal,
    name: str,
    scopes: list[str],
    organisation: str | None = None,
    ip: str | None = None,
) -> tuple[ApiClient, str]:
    """Returns the client and its key; the key is shown this once and stored only as a hash."""
    actor.require("accounts.manage")
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise Invalid(f"scopes must be chosen from {', '.join(SCOPES)}", field="scopes", value=bad)
    key, prefix, digest = new_api_key()
    client = ApiClient(
        name=name,
        key_prefix=prefix,
        key_hash=digest,
        scopes=sorted(set(scopes)),
        organisation=organisation,
        created_by=actor.id if actor.kind == "user" else None,
    )
    try:
        with session.begin_nested():
            session.add(client)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"API client {name!r} exists already", field="name") from exc
    audit.append(
        session,
        actor.actor,
        "create",
        "api_client",
        str(client.id),
        ip=ip,
        detail={"name": name, "scopes": client.scopes},
    )
    return client, key


def list_api_clients(session: Session, actor: Principal) -> list[ApiClient]:
    actor.require("accounts.manage")
    return list(session.execute(select(ApiClient).order_by(ApiClient.active.desc(), ApiClient.name)).scalars())


def get_api_client(session: Session, actor: Principal, client_id: int) -> ApiClient:
    actor.require("accounts.manage")
    c = session.get(ApiClient, client_id)
    if c is None:
        raise NotFound(f"no API client {client_id}", field="client", value=client_id)
    return c


def client_view(c: ApiClient) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "key_prefix": c.key_prefix,
        "scopes": c.scopes,
        "organisation": c.organisation,
        "active": c.active,
        "created_at": c.created_at,
        "last_used_at": c.last_used_at,
        "revoked_at": c.revoked_at,
    }


def revoke_api_client(session: Session, actor: Principal, client_id: int, ip: str | None = None) -> ApiClient:
    """The key stops working at once, in every process (it is checked on every request)."""
    c = get_api_client(session, actor, client_id)
    if c.active:
        c.active = False
        c.revoked_at = _now()
    audit.append(session, actor.actor, "revoke", "api_client", str(c.id), ip=ip)
    return c
