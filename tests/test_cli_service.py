"""The service's CLI: init-db, accounts, backup/restore (SQLite → PostgreSQL too),
key rotation, retention, audit verification, and serve's first start."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from tests.conftest import fresh_database, pg_url

EXE = str(Path(sys.executable).parent / "proforient")


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def env_for(tmp: Path, url: str, keys: str) -> dict[str, str]:
    return {
        **os.environ,
        "PROFORIENT_INSTANCE": str(tmp / "instance"),
        "PROFORIENT_DATABASE_URL": url,
        "PROFORIENT_SECRET_KEY": "c" * 40,
        "PROFORIENT_DATA_KEYS": keys,
        "COLUMNS": "200",
    }


def rows(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as c:
        n = c.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
    engine.dispose()
    return n


def test_accounts_backup_restore_rotate_and_verify(tmp_path):
    key = Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path / 'a.db'}"
    env = env_for(tmp_path, url, key)
    cli(env, "init-db")
    cli(env, "create-user", "sw", "--role", "social_worker", "--password", "social-worker-1")
    out = cli(env, "create-api-client", "partner", "--scope", "score", "--scope", "instruments:read").stdout
    assert re.search(r"key pfo_[0-9a-f]{8}_\S+", out)
    bad = cli(env, "create-user", "x", "--role", "wizard", check=False)
    assert bad.returncode == 2 and "role must be one of" in bad.stderr

    # some personal data through the domain, as the service would write it
    from api.db.session import make_engine, session_factory, transaction
    from api.domain import beneficiaries
    from api.domain.access import Principal
    from api.security import Vault

    engine = make_engine(url)
    sw = Principal(kind="user", id=1, name="sw", role="social_worker")
    with transaction(session_factory(engine)) as s:
        code = beneficiaries.create(s, sw, Vault([key.encode()]), "ლევან", "+995 599 11 22 33")["code"]
    engine.dispose()
    assert "audit log intact" in cli(env, "audit", "verify").stdout

    backup = tmp_path / "backup.json.gz"
    cli(env, "backup", str(backup))
    targets = [f"sqlite:///{tmp_path / 'b.db'}"]
    if pg_url():
        targets.append(fresh_database("postgresql", tmp_path))
    for target in targets:
        tenv = env_for(tmp_path, target, key)
        cli(tenv, "init-db")
        cli(tenv, "restore", str(backup))
        assert rows(target, "beneficiaries") == 1 and rows(target, "users") == 1
        assert "audit log intact" in cli(tenv, "audit", "verify").stdout
        again = cli(tenv, "restore", str(backup), check=False)
        assert again.returncode == 2 and "not empty" in again.stderr

    new = Fernet.generate_key().decode()
    renv = env_for(tmp_path, url, f"{new},{key}")
    assert "1 record(s) re-encrypted" in cli(renv, "rotate-key").stdout
    engine = make_engine(url)
    with session_factory(engine)() as s:
        view = beneficiaries.read(s, sw, Vault([new.encode()]), code)
    engine.dispose()
    assert view["name"] == "ლევან"  # readable with the new key alone

    assert "0 case(s) due" in cli(env, "retention").stdout


def test_audit_verify_fails_on_tampering(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    env = env_for(tmp_path, url, Fernet.generate_key().decode())
    cli(env, "init-db")
    cli(env, "create-user", "u1", "--role", "researcher", "--password", "researcher-11")
    cli(env, "create-user", "u2", "--role", "researcher", "--password", "researcher-22")
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP TRIGGER audit_no_update"))
        c.execute(text("UPDATE audit_log SET detail = '{}' WHERE seq = 1"))
    engine.dispose()
    r = cli(env, "audit", "verify", check=False)
    assert r.returncode == 1 and "entry 1 was altered" in r.stderr


def test_a_backup_s_signed_head_catches_a_truncated_log(tmp_path):
    """The log is emptied and its head reset (the triggers dropped first, as the database owner could):
    the chain alone looks intact, the head signed into an earlier backup does not hold."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    env = {**env_for(tmp_path, url, Fernet.generate_key().decode()), "PROFORIENT_AUDIT_KEY": "a" * 40}
    cli(env, "init-db")
    cli(env, "create-user", "u1", "--role", "researcher", "--password", "researcher-11")
    backup = tmp_path / "b.json.gz"
    cli(env, "backup", str(backup))
    engine = create_engine(url)
    with engine.begin() as c:
        for trigger in ("audit_no_delete", "audit_head_forward", "audit_checkpoints_no_delete"):
            c.execute(text(f"DROP TRIGGER {trigger}"))
        c.execute(text("DELETE FROM audit_log"))
        c.execute(text("DELETE FROM audit_checkpoints"))
        c.execute(text("UPDATE audit_head SET seq = 0, hash = :g"), {"g": "0" * 64})
    engine.dispose()
    assert "audit log intact" in cli(env, "audit", "verify").stdout  # nothing in the database shows it
    r = cli(env, "audit", "verify", "--against", str(backup), check=False)
    assert r.returncode == 1 and "truncated" in r.stderr
    forged = tmp_path / "forged.json"
    forged.write_text('{"audit_head": {"seq": 0, "hash": "' + "0" * 64 + '", "at": "x", "mac": "00"}}')
    r = cli(env, "audit", "verify", "--against", str(forged), check=False)
    assert r.returncode == 1 and "not genuine" in r.stderr


def test_serve_first_start_prints_an_admin_who_can_sign_in(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROFORIENT_")}
    env["PROFORIENT_INSTANCE"] = str(tmp_path / "instance")
    proc = subprocess.Popen(
        [EXE, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        line = ""
        deadline = time.time() + 60
        while "password" not in line and time.time() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r"user (\S+) password (\S+)", line)
        assert match, line
        settings = (tmp_path / "instance" / "settings.toml").read_text()
        assert "data_keys" in settings and oct((tmp_path / "instance" / "settings.toml").stat().st_mode)[-3:] == "600"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            for _ in range(100):
                try:
                    c.get("/healthz")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            r = c.post("/v1/auth/login", json={"username": match.group(1), "password": match.group(2)})
            assert r.status_code == 200 and r.json()["role"] == "admin"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
