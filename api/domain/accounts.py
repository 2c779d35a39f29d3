"""Users, API clients, and turning a cookie or a key into a ``Principal``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.tables import ApiClient, User
from api.security import ROLES, SCOPES, hash_password, hash_token, new_api_key, same, split_api_key, verify_password

from . import audit
from .access import Principal
from .errors import Conflict, Invalid, NotAuthenticated


def create_user(
    session: Session,
    actor: Principal,
    username: str,
    password: str,
    role: str,
    organisation: str | None = None,
    known_orgs: set[str] | None = None,
) -> User:
    actor.require("accounts.manage")
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role", value=role)
    if role == "employment_officer" and not organisation:
        raise Invalid("an employment officer belongs to an organisation", field="organisation")
    if organisation and known_orgs is not None and organisation not in known_orgs:
        raise Invalid(f"unknown organisation {organisation!r}", field="organisation", value=organisation)
    try:
        pw = hash_password(password)
    except ValueError as exc:
        raise Invalid(str(exc), field="password") from exc
    user = User(username=username, password_hash=pw, role=role, organisation=organisation)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"user {username!r} exists already", field="username") from exc
    audit.append(session, actor.actor, "create", "user", str(user.id), detail={"username": username, "role": role})
    return user


def create_api_client(
    session: Session, actor: Principal, name: str, scopes: list[str], organisation: str | None = None
) -> tuple[ApiClient, str]:
    """Returns the client and its key; the key is shown this once and stored only as a hash."""
    actor.require("accounts.manage")
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise Invalid(f"scopes must be chosen from {', '.join(SCOPES)}", field="scopes", value=bad)
    key, prefix, digest = new_api_key()
    client = ApiClient(
        name=name, key_prefix=prefix, key_hash=digest, scopes=sorted(set(scopes)), organisation=organisation
    )
    session.add(client)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"API client {name!r} exists already", field="name") from exc
    audit.append(
        session, actor.actor, "create", "api_client", str(client.id), detail={"name": name, "scopes": client.scopes}
    )
    return client, key


def login(session: Session, username: str, password: str, ip: str | None) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active or not verify_password(user.password_hash, password):
        audit.append(session, f"anonymous:{username[:60]}", "login_failed", "user", ip=ip)
        raise NotAuthenticated("wrong user name or password")
    audit.append(session, f"user:{user.username}", "login", "user", str(user.id), ip=ip)
    return user


def user_principal(user: User) -> Principal:
    return Principal(kind="user", id=user.id, name=user.username, role=user.role, organisation=user.organisation)


def principal_for_user_id(session: Session, user_id: int) -> Principal | None:
    user = session.get(User, user_id)
    return user_principal(user) if user is not None and user.active else None


def principal_for_key(session: Session, key: str) -> Principal | None:
    prefix = split_api_key(key)
    if prefix is None:
        return None
    client = session.execute(select(ApiClient).where(ApiClient.key_prefix == prefix)).scalar_one_or_none()
    if client is None or not client.active or not same(client.key_hash, hash_token(key)):
        return None
    return Principal(
        kind="client", id=client.id, name=client.name, organisation=client.organisation, scopes=frozenset(client.scopes)
    )
