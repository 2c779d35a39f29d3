"""Fixtures for the service tests: a fresh database on SQLite and on PostgreSQL,
one signed-in client per role, API clients with scopes."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError

from api.app import create_app
from api.db.session import migrate, transaction
from api.domain import accounts
from api.domain.access import SYSTEM
from api.settings import Organisation, Settings

_PG_BASE = os.environ.get("PROFORIENT_TEST_DATABASE_URL")
PG_URL: str | None = None
"""A database of this test run's own (several runs may share one server)."""


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    global PG_URL
    if _PG_BASE and not hasattr(config, "workerinput"):
        name = f"proforient_t_{os.getpid()}_{secrets.token_hex(3)}"
        try:
            admin = create_engine(_PG_BASE, isolation_level="AUTOCOMMIT")
        except ArgumentError:
            pytest.exit(f"PROFORIENT_TEST_DATABASE_URL is not a database URL: {_PG_BASE!r}", returncode=4)
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        PG_URL = _PG_BASE.rsplit("/", 1)[0] + "/" + name
        config._proforient_pg = name


def pg_url() -> str | None:
    return PG_URL


def pytest_unconfigure(config) -> None:  # type: ignore[no-untyped-def]
    name = getattr(config, "_proforient_pg", None)
    if name and _PG_BASE:
        admin = create_engine(_PG_BASE, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


BACKENDS = ["sqlite", "postgresql"]
ORGS = [
    Organisation(id="ssa-employment", name_ka="დასაქმების პროგრამების დეპარტამენტი", name_en="Employment department"),
    Organisation(id="other-agency", name_ka="სხვა უწყება", name_en="Another agency"),
]
PASSWORDS = {
    "admin": "keeper-of-accounts-1",
    "psychologist": "psych-pass-1",
    "social_worker": "social-pass-1",
    "employment_officer": "employ-pass-1",
    "other_officer": "other-pass-11",
    "researcher": "research-pass-1",
    "manager": "indicators-pass-1",
}


def fresh_database(backend: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        tmp_path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{tmp_path / 'test.db'}"
    if not PG_URL:
        pytest.fail("PROFORIENT_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh")
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return PG_URL


def one_connection_per_thread(engine: Engine) -> list[str]:
    """Watch ``engine``'s pool: the returned list receives a line whenever a thread takes a second
    connection while it still holds one. A request must never do that: the pool holds exactly one
    connection per request a process runs at once (``PROFORIENT_THREADS``, no overflow), so two
    requests that each held one and waited for a second would wait for each other until the pool's
    timeout."""
    held = threading.local()
    nested: list[str] = []

    @event.listens_for(engine, "checkout")
    def _out(*_: object) -> None:
        held.n = getattr(held, "n", 0) + 1
        if held.n > 1:
            nested.append(f"{threading.current_thread().name} holds {held.n} connections")

    @event.listens_for(engine, "checkin")
    def _in(*_: object) -> None:
        held.n = getattr(held, "n", 1) - 1

    return nested


@dataclass
class Service:
    settings: Settings
    app: object
    keys: dict[str, str]
    nested: list[str]
    """Lines from :func:`one_connection_per_thread`: checked empty when the test ends."""

    def close(self) -> None:
        self.app.state.engine.dispose()  # type: ignore[attr-defined]
        assert not self.nested, self.nested[:3]

    def client(self, who: str | None = None) -> TestClient:
        c = TestClient(self.app)  # type: ignore[arg-type]
        if who in PASSWORDS:
            r = c.post("/v1/auth/login", json={"username": who, "password": PASSWORDS[who]})
            assert r.status_code == 200, r.text
        elif who is not None:
            c.headers["Authorization"] = f"Bearer {self.keys[who]}"
        return c


def build_service(backend: str, tmp_path, **overrides: object) -> Service:  # type: ignore[no-untyped-def]
    """A migrated database with one user per role and three API clients, and an app on it."""
    url = fresh_database(backend, tmp_path)
    migrate(url)
    settings = Settings(
        **{
            "database_url": url,
            "secret_key": "s" * 40,
            "data_keys": Fernet.generate_key().decode(),
            "organisations": ORGS,
            "max_request_bytes": 200_000,
            **overrides,
        }
    )
    app = create_app(settings)
    nested = one_connection_per_thread(app.state.engine)
    keys: dict[str, str] = {}
    with transaction(app.state.sessions) as s:
        for name in PASSWORDS:
            role = "employment_officer" if name == "other_officer" else name
            org = {"employment_officer": "ssa-employment", "other_officer": "other-agency"}.get(name)
            accounts.create_user(s, SYSTEM, name, PASSWORDS[name], role, org)
        for name, scopes in {
            "scorer": ["score"],
            "reader": ["instruments:read"],
            "partner": ["packets:read"],
            "employer": ["outcomes:write"],  # an employment system reporting placements back
        }.items():
            _, keys[name] = accounts.create_api_client(
                s, SYSTEM, name, scopes, "ssa-employment" if name in ("partner", "employer") else None
            )
    return Service(settings, app, keys, nested)


@pytest.fixture(params=BACKENDS)
def service(request, tmp_path) -> Iterator[Service]:  # type: ignore[no-untyped-def]
    svc = build_service(request.param, tmp_path)
    yield svc
    svc.close()


@pytest.fixture
def service_for(tmp_path) -> Iterator[Callable[..., Service]]:  # type: ignore[no-untyped-def]
    """``service_for(backend, **settings)``: a service whose settings a test chooses."""
    made: list[Service] = []

    def make(backend: str, **overrides: object) -> Service:
        svc = build_service(backend, tmp_path / f"s{len(made)}", **overrides)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()
