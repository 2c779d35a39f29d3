"""Several API processes sharing one PostgreSQL: no in-process state, one audit chain."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from cryptography.fernet import Fernet

from api.db.session import make_engine, migrate, session_factory, transaction
from api.domain import accounts
from api.domain.access import SYSTEM
from tests.api_helpers import answers_for
from tests.conftest import fresh_database, pg_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_servers(tmp_path):  # type: ignore[no-untyped-def]
    if not pg_url():
        pytest.fail("PROFORIENT_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh")
    url = fresh_database("postgresql", tmp_path)
    migrate(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        accounts.create_user(s, SYSTEM, "psy", "listens-carefully-1", "psychologist")
        accounts.create_user(s, SYSTEM, "sw", "social-worker-1", "social_worker")
        accounts.create_user(s, SYSTEM, "boss", "keeps-the-accounts-1", "admin")
    engine.dispose()
    env = {
        **os.environ,
        "PROFORIENT_DATABASE_URL": url,
        "PROFORIENT_SECRET_KEY": "k" * 40,
        "PROFORIENT_DATA_KEYS": Fernet.generate_key().decode(),
        "PROFORIENT_INSTANCE": str(tmp_path),
    }
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--port",
                str(p),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for p in ports
    ]
    try:
        for p in ports:
            for _ in range(600):  # a loaded machine imports slowly
                try:
                    with httpx.Client(timeout=1) as probe:
                        if probe.get(f"http://127.0.0.1:{p}/healthz").status_code == 200:
                            break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise RuntimeError(f"server on {p} did not start")
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        while OPEN:
            OPEN.pop().close()
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stderr.close()  # type: ignore[union-attr]


OPEN: list[httpx.Client] = []


def login(base: str, user: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=20)
    OPEN.append(c)
    assert c.post("/v1/auth/login", json={"username": user, "password": password}).status_code == 200
    return c


def test_two_processes_share_state_and_one_audit_chain(two_servers):
    a, b = two_servers
    sw_a, psy_b = login(a, "sw", "social-worker-1"), login(b, "psy", "listens-carefully-1")
    code = sw_a.post("/v1/beneficiaries", json={"name": "მარიამ"}).json()["code"]
    adm = psy_b.post("/v1/administrations", json={"beneficiary": code, "instrument": "sds"}).json()
    items = list(answers_for("sds", 3).items())
    clients = [login(base, "psy", "listens-carefully-1") for base in (a, b, a, b)]

    def save(k: int) -> int:
        c = clients[k % 4]
        for item, value in items[k::8]:
            r = c.patch(f"/v1/administrations/{adm['id']}/answers", json={"answers": {item: value}})
            assert r.status_code == 200, r.text
        return k

    def create(k: int) -> str:
        return (
            login(a if k % 2 else b, "sw", "social-worker-1")
            .post("/v1/beneficiaries", json={"name": f"n{k}"})
            .json()["code"]
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(save, range(8)))
        codes = list(pool.map(create, range(12)))
    assert len(set(codes)) == 12
    # a session cookie issued by one process is good at the other (no in-process sessions)
    psy_on_a = httpx.Client(base_url=a, cookies=psy_b.cookies, timeout=20)
    OPEN.append(psy_on_a)
    state = psy_on_a.get(f"/v1/administrations/{adm['id']}").json()
    assert len(state["answers"]) == len(items)
    boss = login(b, "boss", "keeps-the-accounts-1")
    v = boss.get("/v1/audit/verify").json()
    assert v["ok"], v
    assert v["entries"] > 12 + len(items)
